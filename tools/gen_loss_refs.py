#!/usr/bin/python3
"""Writes tests/functional/fixtures/losses.safetensors: for each case of tests/functional/
test_loss.cpp, the inputs, PyTorch's loss and the gradient of the input (float64).

    /usr/bin/python3 tools/gen_loss_refs.py     (Debian: apt-get install python3-torch)

Key layout: "<case>/input", "<case>/target", optional "<case>/weight", "<case>/pos_weight",
"<case>/grad_out" (for reduction none), and the results "<case>/out", "<case>/grad_input".
"""
import os

import torch
import torch.nn.functional as F

from fixture_writer import safetensors_bytes

torch.manual_seed(7)
torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "functional",
                   "fixtures", "losses.safetensors")
entries = {}


def put(name, t):
    entries[name] = t.detach().contiguous()


def case(name, fn, inp, target, **extra):
    x = inp.clone().requires_grad_()
    out = fn(x, target, **extra)
    put(f"{name}/input", inp)
    put(f"{name}/target", target)
    for k, v in extra.items():
        if isinstance(v, torch.Tensor):
            put(f"{name}/{k}", v)
    if out.dim() == 0:
        out.backward()
    else:
        g = torch.randn(out.shape)
        put(f"{name}/grad_out", g)
        out.backward(g)
    put(f"{name}/out", out)
    put(f"{name}/grad_input", x.grad)


logits = torch.randn(4, 5)
idx = torch.tensor([1, 0, 4, 2])
w5 = torch.rand(5) + 0.5
case("ce_basic", F.cross_entropy, logits, idx)
case("ce_weight_ignore", lambda x, t, weight: F.cross_entropy(x, t, weight=weight, ignore_index=2),
     logits, idx, weight=w5)
case("ce_smooth_weight", lambda x, t, weight: F.cross_entropy(x, t, weight=weight, label_smoothing=0.1),
     logits, idx, weight=w5)
case("ce_sum", lambda x, t: F.cross_entropy(x, t, reduction="sum"), logits, idx)
case("ce_none_smooth", lambda x, t: F.cross_entropy(x, t, reduction="none", label_smoothing=0.3),
     logits, idx)
case("ce_probs_smooth", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2), logits,
     torch.softmax(torch.randn(4, 5), 1))
case("ce_spatial", F.cross_entropy, torch.randn(2, 3, 2, 2), torch.randint(0, 3, (2, 2, 2)))
case("ce_large_logits", F.cross_entropy, logits * 1000.0, idx)
case("nll_weight", lambda x, t, weight: F.nll_loss(x, t, weight=weight), torch.log_softmax(logits, 1),
     idx, weight=w5)
a, b = torch.randn(3, 4), torch.randn(3, 4)
case("mse", F.mse_loss, a, b)
case("l1_sum", lambda x, t: F.l1_loss(x, t, reduction="sum"), a, b)
case("smooth_l1_beta", lambda x, t: F.smooth_l1_loss(x, t, beta=0.5), a, b)
case("huber_none", lambda x, t: F.huber_loss(x, t, reduction="none", delta=0.7), a, b)
p = torch.rand(3, 4) * 0.98 + 0.01
y = (torch.rand(3, 4) > 0.5).double()
case("bce_weight", lambda x, t, weight: F.binary_cross_entropy(x, t, weight=weight), p, y,
     weight=torch.rand(3, 4))
case("bce_logits_pos_weight",
     lambda x, t, pos_weight: F.binary_cross_entropy_with_logits(x, t, pos_weight=pos_weight),
     a * 5, y, pos_weight=torch.rand(4) * 2)
q = torch.log_softmax(torch.randn(3, 4), 1)
pt = torch.softmax(torch.randn(3, 4), 1)
pt[0, 1] = 0.0  # a zero target probability contributes 0
case("kl_batchmean", lambda x, t: F.kl_div(x, t, reduction="batchmean"), q, pt)
case("kl_log_target_sum", lambda x, t: F.kl_div(x, t, reduction="sum", log_target=True), q,
     torch.log_softmax(torch.randn(3, 4), 1))

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "wb") as f:
    f.write(safetensors_bytes(sorted(entries.items())))
print(f"wrote {len(entries)} tensors to {os.path.normpath(OUT)}")
