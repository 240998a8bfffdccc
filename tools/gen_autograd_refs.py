#!/usr/bin/python3
"""Writes tests/autograd/fixtures/composite.safetensors: composite expressions of Tensor ops
(matmul, broadcasting arithmetic, activations, views, cat, where, gather, index_select,
reductions), evaluated by PyTorch in float64 with the gradients of every input. The test
tests/autograd/test_composite.cpp builds the same expressions with ember's ops.

    /usr/bin/python3 tools/gen_autograd_refs.py     (Debian: apt-get install python3-torch)

Keys: "<case>/<input>" for the inputs, "<case>/out" and "<case>/grad_<input>" for the results.
"""
import os

import torch

from fixture_writer import safetensors_bytes

torch.manual_seed(11)
torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "autograd",
                   "fixtures", "composite.safetensors")
entries = []


def case(name, fn, inputs, consts=None):
    """inputs: dict of float64 leaves (gradients recorded); consts: dict of int64 tensors."""
    leaves = {k: v.clone().requires_grad_() for k, v in inputs.items()}
    out = fn(**leaves, **(consts or {}))
    out.backward()
    for k, v in list(inputs.items()) + list((consts or {}).items()):
        entries.append((f"{name}/{k}", v))
    entries.append((f"{name}/out", out))
    for k, v in leaves.items():
        entries.append((f"{name}/grad_{k}", v.grad))


# An MLP-like expression with broadcasting, views, cat and a where.
def mlp(x, w, b, v):
    h = torch.tanh(x @ w + b)                            # [4,5]
    g = h * v - h.pow(2) / 3                             # v: [4,1] broadcasts
    r = torch.log(g.exp().sum(1, keepdim=True))          # [4,1]
    m = torch.cat([g.narrow(1, 1, 2), r], 1)             # [4,3]
    p = m.transpose(0, 1).reshape(12)
    q = torch.where(p > 0, p, p * 0.1)
    return q.pow(2).mean() + p.logsumexp(0) + torch.sigmoid(m).prod(1).sum()


case("mlp", mlp, {"x": torch.randn(4, 3), "w": torch.randn(3, 5), "b": torch.randn(5),
                  "v": torch.randn(4, 1)})


# Indexing: gather, index_select, masked_fill, a strided slice, max over a dim, var and norm.
def indexing(a, c, idx, rows):
    s = a.gather(1, idx)                                 # [3,2]
    t = c.index_select(0, rows)                          # [4,4]
    u = t[:, ::2] * s.sum()                              # [4,2]
    mf = u.masked_fill(u < -0.5, 0.0)
    mx = t.max(1).values                                 # [4]
    return (mf.relu() + 1).log().sum() + (mx * mx).sum() + a.var(1).sum() + c.norm()


case("indexing", indexing, {"a": torch.randn(3, 5), "c": torch.randn(3, 4)},
     {"idx": torch.tensor([[0, 4], [2, 2], [1, 3]]), "rows": torch.tensor([2, 0, 2, 1])})


# Batched matmul with a broadcast batch dim, permute, softmax written from its parts, std, clamp.
def batched(p, q, r):
    y = torch.matmul(p, q)                               # [2,3,4] @ [4,2] -> [2,3,2]
    z = y.permute(2, 0, 1) + r                           # r: [3] broadcasts on the last dim
    e = (z - z.amax(2, keepdim=True)).exp()
    sm = e / e.sum(2, keepdim=True)
    st = torch.stack([y.sigmoid().sum(), (y * y).mean()])
    return (sm * z).sum() + z.std(0).mean() + z.clamp(-0.5, 0.7).abs().sum() + (st * st).sum()


case("batched", batched, {"p": torch.randn(2, 3, 4), "q": torch.randn(4, 2), "r": torch.randn(3)})

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "wb") as f:
    f.write(safetensors_bytes(entries))
print(f"wrote {len(entries)} tensors to {os.path.normpath(OUT)}")
