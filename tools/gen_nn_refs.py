#!/usr/bin/python3
"""Writes the PyTorch reference fixtures of tests/nn/fixtures/ (run: /usr/bin/python3 tools/gen_nn_refs.py).

For every case (a layer or activation in one configuration) it stores, in float64:
  <case>.x / <case>.idx   the input (int64 indices for Embedding)
  <case>.state.<key>      the module's state dict before the forward (parameters and buffers)
  <case>.gy               the gradient fed to backward
  <case>.y, <case>.gx     the output and the gradient w.r.t. the input
  <case>.grad.<param>     the gradients w.r.t. the parameters
  <case>.after.<buffer>   the buffers after the forward (BatchNorm's running statistics)
The C++ test (tests/nn/test_parity.cpp) builds the same module, loads <case>.state, runs forward
and backward in float and double, and compares. The metadata holds the repr and the state-dict
keys and shapes of a composite model. The safetensors writer is the same independent one as in
tools/gen_io_fixtures.py.
"""
import os
from collections import OrderedDict

import torch
from torch import nn

from fixture_writer import safetensors_bytes

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "nn", "fixtures")



def randomize(module, gen):
    """Parameters and float buffers get random values so that no default hides a bug."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.rand(p.shape, generator=gen, dtype=torch.float64) * 1.5 + 0.25
                    if name.endswith("weight") and not isinstance(module, (nn.Linear, nn.Embedding))
                    else torch.randn(p.shape, generator=gen, dtype=torch.float64))
        for name, b in module.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=gen, dtype=torch.float64) * 0.5)
            elif name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=gen, dtype=torch.float64) + 0.5)
            elif name.endswith("num_batches_tracked"):
                b.fill_(3)


def case(out, gen, name, module, shape, train=True, lo=-3.0, hi=3.0, idx=None):
    module = module.double()
    randomize(module, gen)
    module.train(train)
    for k, v in module.state_dict().items():
        out[name + ".state." + k] = v.clone()
    if idx is not None:
        out[name + ".idx"] = idx
        y = module(idx)
    else:
        x = (torch.rand(shape, generator=gen, dtype=torch.float64) * (hi - lo) + lo).requires_grad_()
        out[name + ".x"] = x.detach().clone()
        y = module(x)
    gy = torch.randn(y.shape, generator=gen, dtype=torch.float64)
    y.backward(gy)
    out[name + ".gy"] = gy
    out[name + ".y"] = y.detach()
    if idx is None:
        out[name + ".gx"] = x.grad
    for k, p in module.named_parameters():
        out[name + ".grad." + k] = p.grad if p.grad is not None else torch.zeros_like(p)
    for k, b in module.named_buffers():
        out[name + ".after." + k] = b.clone()


def layer_cases(gen):
    out = OrderedDict()
    case(out, gen, "linear", nn.Linear(5, 3), [4, 5])
    case(out, gen, "linear_nobias_3d", nn.Linear(4, 2, bias=False), [2, 3, 4])
    case(out, gen, "linear_1d", nn.Linear(3, 2), [3])
    case(out, gen, "identity", nn.Identity(), [2, 3])
    case(out, gen, "flatten", nn.Flatten(), [2, 3, 4])
    case(out, gen, "flatten_0_1", nn.Flatten(0, 1), [2, 3, 4])
    case(out, gen, "unflatten", nn.Unflatten(1, (2, 3)), [2, 6, 2])
    case(out, gen, "embedding", nn.Embedding(10, 3), None, idx=torch.tensor([[1, 4, 9, 4], [0, 2, 2, 7]]))
    case(out, gen, "embedding_pad", nn.Embedding(10, 3, padding_idx=2), None,
         idx=torch.tensor([[1, 2, 9, 2], [0, 2, 5, 7]]))
    case(out, gen, "dropout_eval", nn.Dropout(0.3), [3, 4], train=False)
    case(out, gen, "bn1d_train", nn.BatchNorm1d(3), [6, 3])
    case(out, gen, "bn1d_train_3d", nn.BatchNorm1d(3), [4, 3, 5])
    case(out, gen, "bn1d_momentum_none", nn.BatchNorm1d(3, momentum=None), [5, 3])
    case(out, gen, "bn1d_eval", nn.BatchNorm1d(3), [4, 3, 2], train=False)
    case(out, gen, "bn1d_no_affine", nn.BatchNorm1d(3, affine=False), [5, 3])
    case(out, gen, "bn1d_no_stats_eval", nn.BatchNorm1d(3, track_running_stats=False), [5, 3], train=False)
    case(out, gen, "bn2d_train", nn.BatchNorm2d(2, momentum=0.3, eps=1e-3), [3, 2, 4, 4])
    case(out, gen, "bn2d_eval", nn.BatchNorm2d(2), [2, 2, 3, 3], train=False)
    case(out, gen, "layernorm", nn.LayerNorm(5), [3, 5])
    case(out, gen, "layernorm_2d", nn.LayerNorm([3, 4], eps=1e-3), [2, 3, 4])
    case(out, gen, "layernorm_no_affine", nn.LayerNorm(4, elementwise_affine=False), [2, 2, 4])
    case(out, gen, "groupnorm", nn.GroupNorm(2, 4), [2, 4, 3])
    case(out, gen, "groupnorm_4d_no_affine", nn.GroupNorm(3, 6, affine=False), [2, 6, 2, 2])
    case(out, gen, "groupnorm_1", nn.GroupNorm(1, 4, eps=1e-2), [3, 4])
    return out


def activation_cases(gen):
    out = OrderedDict()
    acts = [
        ("relu", nn.ReLU()), ("leaky_relu", nn.LeakyReLU(0.2)), ("elu", nn.ELU(0.7)),
        ("gelu", nn.GELU()), ("gelu_tanh", nn.GELU(approximate="tanh")), ("silu", nn.SiLU()),
        ("mish", nn.Mish()), ("tanh", nn.Tanh()), ("sigmoid", nn.Sigmoid()),
        ("softplus", nn.Softplus()), ("softplus_b2_t3", nn.Softplus(beta=2, threshold=3)),
        ("hardtanh", nn.Hardtanh()), ("hardtanh_m05_2", nn.Hardtanh(-0.5, 2.0)),
        ("softmax_1", nn.Softmax(dim=1)), ("log_softmax_1", nn.LogSoftmax(dim=1)),
    ]
    for name, m in acts:
        case(out, gen, name, m, [3, 7])
        # Wide inputs: saturation, softplus's threshold, exp overflow guards.
        case(out, gen, name + "_wide", m, [2, 9], lo=-40.0, hi=40.0)
    case(out, gen, "softmax_0_3d", nn.Softmax(dim=0), [3, 2, 4])
    case(out, gen, "softmax_m1_3d", nn.Softmax(dim=-1), [2, 3, 5])
    case(out, gen, "log_softmax_1_3d", nn.LogSoftmax(dim=1), [2, 3, 4])
    return out


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.25),
                                      nn.Linear(16, 8, bias=False), nn.GELU(approximate="tanh"))
        self.emb = nn.Embedding(10, 8, padding_idx=0)
        self.norm = nn.LayerNorm(8)
        self.heads = nn.ModuleList([nn.Linear(8, 2), nn.Linear(8, 3)])
        self.blocks = nn.ModuleDict(OrderedDict([("gn", nn.GroupNorm(2, 8)), ("bn", nn.BatchNorm2d(4, momentum=None))]))
        self.acts = nn.Sequential(nn.LeakyReLU(0.1), nn.Softplus(beta=2, threshold=10), nn.Hardtanh(-2.0, 2.0),
                                  nn.ELU(), nn.Softmax(dim=1), nn.LogSoftmax(dim=-1), nn.Flatten(),
                                  nn.Unflatten(1, (2, 4)), nn.Identity(), nn.SiLU(), nn.Mish(), nn.Tanh(),
                                  nn.Sigmoid(), nn.Dropout(p=0.1))


def composite_metadata():
    net = Net()
    keys = "\n".join("%s %s" % (k, list(v.shape)) for k, v in net.state_dict().items())
    return {"repr": repr(net), "state_dict": keys, "torch_version": torch.__version__}


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(20261122)
    for fname, tensors, meta in [("layers.safetensors", layer_cases(gen), composite_metadata()),
                                 ("activations.safetensors", activation_cases(gen), None)]:
        data = safetensors_bytes(tensors.items(), meta)
        with open(os.path.join(OUT, fname), "wb") as f:
            f.write(data)
        print(fname, len(data), "bytes,", len(tensors), "tensors")
