#!/usr/bin/python3
"""PyTorch peer of benchmarks/bench_conv.cpp: the same layers, forward + backward, float.

Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/peers/conv_torch.py [--filter NAME]
     [--threads 1 2] [--reps 5]
Prints the median of 5 repetitions (each the mean over enough iterations to last ~0.5 s) in
microseconds per iteration, at 1 and 2 threads (torch.set_num_threads).
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F


def timeit(fn, min_time=0.5):
    fn()  # warm up
    n, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - t0
        if t >= min_time:
            return t / n
        n = max(n * 2, int(n * min_time / max(t, 1e-9)) + 1)


def layer(xs, ws, padding, input_grad):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(xs, generator=g).requires_grad_(input_grad)
    w = (torch.randn(ws, generator=g) * 0.1).requires_grad_()
    b = torch.randn(ws[0], generator=g).requires_grad_()

    def step():
        y = F.conv2d(x, w, b, padding=padding)
        y.backward(torch.ones_like(y))
        w.grad = None
        b.grad = None
        x.grad = None
    return step


def lenet():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(64, 1, 28, 28, generator=g)
    w1 = (torch.randn(6, 1, 5, 5, generator=g) * 0.2).requires_grad_()
    b1 = torch.zeros(6).requires_grad_()
    w2 = (torch.randn(16, 6, 5, 5, generator=g) * 0.1).requires_grad_()
    b2 = torch.zeros(16).requires_grad_()

    def step():
        h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2)), 2)
        h.sum().backward()
        for p in (w1, b1, w2, b2):
            p.grad = None
    return step


def train_step(model):
    """One training step (cross entropy, Adam) at batch 64 on random data, as in bench_conv."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(64, 1, 28, 28, generator=g)
    y = torch.arange(64) % 10
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def fmnist_model():
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def lenet5_model():
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filter", default="", help="run only cases whose name contains this")
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2],
                        help="thread counts (default: 1 2)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions per case (median)")
    args = parser.parse_args()
    cases = {
        "lenet_conv1": layer((64, 1, 28, 28), (6, 1, 5, 5), 0, False),
        "lenet_conv2": layer((64, 6, 12, 12), (16, 6, 5, 5), 0, True),
        "fmnist_conv1": layer((64, 1, 28, 28), (32, 1, 3, 3), 1, False),
        "fmnist_conv2": layer((64, 32, 14, 14), (64, 32, 3, 3), 1, True),
        "resnet_conv3x3": layer((32, 64, 32, 32), (64, 64, 3, 3), 1, True),
        "lenet_features": lenet(),
        "fmnist_train_step": train_step(fmnist_model()),
        "lenet5_train_step": train_step(lenet5_model()),
    }
    print("torch", torch.__version__)
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name, fn in cases.items():
            if args.filter not in name:
                continue
            runs = [timeit(fn) * 1e6 for _ in range(args.reps)]
            print("%-16s threads:%d  median %10.1f us" % (name, threads, statistics.median(runs)))


if __name__ == "__main__":
    main()
