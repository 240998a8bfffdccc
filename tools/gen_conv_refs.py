#!/usr/bin/python3
"""Writes PyTorch reference values for ember's conv and pooling ops to tests/functional/fixtures/conv/
(run: /usr/bin/python3 tools/gen_conv_refs.py). Tests read them; they never need torch.

Each case stores, in float64: the inputs (x, w, b), a fixed upstream gradient gy, PyTorch's output
y and the gradients gx, gw, gb of sum(y * gy). The case names (keys "<case>/<tensor>") and the
arguments below are repeated in tests/functional/test_conv_parity.cpp.
"""
import os

import torch
import torch.nn.functional as F

from fixture_writer import safetensors_bytes

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "functional",
                   "fixtures", "conv")



def case(out, name, fn, x_shape, w_shape=None, bias=False, seed=0):
    """bias: False, True (size w_shape[0]) or the bias size."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(x_shape, generator=g, dtype=torch.float64) * 2 - 1).requires_grad_()
    inputs = [("x", x)]
    w = b = None
    if w_shape is not None:
        w = (torch.rand(w_shape, generator=g, dtype=torch.float64) * 2 - 1).requires_grad_()
        inputs.append(("w", w))
    if bias:
        b = (torch.rand(bias if bias is not True else w_shape[0], generator=g,
                        dtype=torch.float64) * 2 - 1).requires_grad_()
        inputs.append(("b", b))
    y = fn(x, w, b)
    gy = torch.rand(y.shape, generator=g, dtype=torch.float64) * 2 - 1
    (y * gy).sum().backward()
    for key, t in inputs:
        out.append((name + "/" + key, t))
        out.append((name + "/g" + key, t.grad))
    out.append((name + "/gy", gy))
    out.append((name + "/y", y))


def conv_t(x, w, b, **kw):
    return F.conv_transpose2d(x, w, b, **kw)


def write(name, tensors):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(safetensors_bytes(tensors))


def main():
    os.makedirs(OUT, exist_ok=True)
    conv = []
    case(conv, "conv2d_plain", lambda x, w, b: F.conv2d(x, w, b), [2, 3, 6, 6], [4, 3, 3, 3], True, 1)
    case(conv, "conv2d_stride2_pad1", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
         [2, 3, 7, 6], [4, 3, 3, 3], True, 2)
    case(conv, "conv2d_same_even", lambda x, w, b: F.conv2d(x, w, b, padding="same"),
         [2, 2, 5, 6], [3, 2, 2, 4], True, 3)
    case(conv, "conv2d_dil2_groups2", lambda x, w, b: F.conv2d(x, w, b, padding=2, dilation=2, groups=2),
         [2, 4, 7, 7], [6, 2, 3, 3], False, 4)
    case(conv, "conv2d_depthwise", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, groups=3),
         [2, 3, 6, 5], [6, 1, 3, 3], True, 5)
    case(conv, "conv2d_1x1", lambda x, w, b: F.conv2d(x, w, b), [3, 5, 4, 4], [7, 5, 1, 1], True, 6)
    case(conv, "conv1d_stride2_pad1", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1),
         [2, 3, 11], [4, 3, 3], True, 7)
    case(conv, "conv1d_same_dil2_groups3", lambda x, w, b: F.conv1d(x, w, b, padding="same", dilation=2, groups=3),
         [2, 3, 9], [6, 1, 4], True, 8)
    case(conv, "conv_transpose2d_plain", lambda x, w, b: conv_t(x, w, b), [2, 3, 4, 4], [3, 2, 3, 3], 2, 9)
    case(conv, "conv_transpose2d_s2_p1_op1", lambda x, w, b: conv_t(x, w, b, stride=2, padding=1, output_padding=1),
         [2, 4, 3, 4], [4, 3, 3, 3], 3, 10)
    case(conv, "conv_transpose2d_groups2_dil2", lambda x, w, b: conv_t(x, w, b, groups=2, dilation=2, padding=1),
         [1, 4, 3, 3], [4, 2, 3, 2], False, 11)
    write("conv.safetensors", conv)

    pool = []
    case(pool, "max_pool2d_2", lambda x, w, b: F.max_pool2d(x, 2), [2, 3, 6, 6], seed=20)
    case(pool, "max_pool2d_3_s2_p1_ceil", lambda x, w, b: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
         [2, 2, 8, 7], seed=21)
    case(pool, "max_pool2d_dil2", lambda x, w, b: F.max_pool2d(x, (2, 3), 1, 1, dilation=2), [1, 2, 7, 7], seed=22)
    case(pool, "max_pool1d_3_s2_p1", lambda x, w, b: F.max_pool1d(x, 3, 2, 1), [2, 3, 10], seed=23)
    case(pool, "avg_pool2d_3_s2_p1", lambda x, w, b: F.avg_pool2d(x, 3, 2, 1), [2, 2, 7, 7], seed=24)
    case(pool, "avg_pool2d_3_s2_p1_ceil_nopad",
         lambda x, w, b: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), [2, 2, 8, 7], seed=25)
    case(pool, "avg_pool1d_4_s3_p2_ceil", lambda x, w, b: F.avg_pool1d(x, 4, 3, 2, ceil_mode=True), [2, 2, 11], seed=26)
    case(pool, "adaptive_avg_pool2d_3x2", lambda x, w, b: F.adaptive_avg_pool2d(x, (3, 2)), [2, 2, 7, 5], seed=27)
    case(pool, "adaptive_avg_pool2d_5x4_up", lambda x, w, b: F.adaptive_avg_pool2d(x, (5, 4)), [1, 2, 3, 3], seed=28)
    write("pool.safetensors", pool)


if __name__ == "__main__":
    main()
