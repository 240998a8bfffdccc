#!/usr/bin/python3
"""PyTorch side of the Fashion-MNIST comparison: the same CNN, batch size, optimizer and thread
count as examples/fashion_mnist, on the files of Debian's dataset-fashion-mnist.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/peers/fashion_mnist.py --threads 2 --epochs 1

Prints one line per epoch: seconds of training, test accuracy. No torchvision needed.
"""
import argparse
import gzip
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    _, _, dtype, rank = struct.unpack(">BBBB", data[:4])
    assert dtype == 0x08, path
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def model():
    # Keys match ember's Sequential: 0.weight, 3.weight, 7.weight, 9.weight.
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=2)  # as examples/fashion_mnist
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lr", type=float, default=1e-3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    def load(kind):
        x = read_idx(f"{DATA}/{kind}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
        y = read_idx(f"{DATA}/{kind}-labels-idx1-ubyte.gz").astype(np.int64)
        # Same normalisation as the ember example.
        return torch.from_numpy((x - 0.2860) / 0.3530).unsqueeze(1), torch.from_numpy(y)

    xtr, ytr = load("train")
    xte, yte = load("t10k")
    net = model()
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    gen = torch.Generator().manual_seed(a.seed)
    for epoch in range(1, a.epochs + 1):
        net.train()
        t0 = time.perf_counter()
        perm = torch.randperm(len(xtr), generator=gen)
        for i in range(0, len(xtr), a.batch_size):
            idx = perm[i:i + a.batch_size]
            opt.zero_grad()
            loss = F.cross_entropy(net(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        train_s = time.perf_counter() - t0
        net.eval()
        with torch.no_grad():
            correct = sum((net(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item()
                          for i in range(0, len(xte), 1000))
        print(f"epoch {epoch}: train {train_s:.2f} s, test accuracy {correct / len(xte):.4f}",
              flush=True)


if __name__ == "__main__":
    main()
