#!/usr/bin/python3
"""Writes the PyTorch reference trajectories of tests/optim/fixtures/ (run:
/usr/bin/python3 tools/gen_optim_refs.py). Needs python3-torch; the tests never do.

Optimizers: two parameters p0 [3, 4] and p1 [5] (initial values, and the a, b of the gradient rule,
stored in problem.safetensors) follow 20 steps of
    grad_t = a * (p - b) + 0.05 * sin(0.37 * (t + 1) * (k + 1))     (k: flat element index)
in float64. traj_<Optimizer>.safetensors holds "<case>/p0" [20, 3, 4] and "<case>/p1" [20, 5]: the
parameters after each step. The cases (hyper-parameters, param groups) are also written as a C++
table, tests/optim/optim_cases.inc, so the test runs exactly what was generated.

NAdam: PyTorch 1.13 (Debian's) multiplies mu_t twice into its second bias correction, a bug fixed in
PyTorch 2.0; the reference here is PyTorch 2.x's _single_tensor_nadam written out in torch ops.
Lion is not in torch.optim: the reference is the paper's (google/automl lion_pytorch.py).

Schedulers: schedulers.safetensors holds "<case>/lr" [21, groups]: get_last_lr() after construction
and after each of 20 steps, on SGD with groups of lr 0.1 and 0.05 (momentum 0.9), and for
OneCycleLR also "<case>/momentum".
"""
import math
import os

import torch

from fixture_writer import safetensors_bytes

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "optim", "fixtures")
CASES_INC = os.path.join(HERE, "..", "tests", "optim", "optim_cases.inc")
STEPS = 20



def write(name, tensors):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(safetensors_bytes(sorted(tensors.items())))


# ---- the problem ---------------------------------------------------------------------------------
def problem():
    g = torch.Generator().manual_seed(1234)
    shapes = [(3, 4), (5,)]
    init = [torch.rand(s, generator=g, dtype=torch.float64) * 2 - 1 for s in shapes]
    a = [torch.rand(s, generator=g, dtype=torch.float64) * 1.5 + 0.5 for s in shapes]
    b = [torch.rand(s, generator=g, dtype=torch.float64) * 2 - 1 for s in shapes]
    return init, a, b


def grad_of(p, a, b, t):
    k = torch.arange(p.numel(), dtype=torch.float64).reshape(p.shape)
    return a * (p - b) + 0.05 * torch.sin(0.37 * (t + 1) * (k + 1))


# ---- hand-written references (see the docstring) ----------------------------------------------------
class NAdam2(torch.optim.Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, maximize=maximize))

    @torch.no_grad()
    def step(self):
        for gr in self.param_groups:
            beta1, beta2 = gr["betas"]
            for p in gr["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if gr["maximize"] else p.grad
                st = self.state[p]
                if not st:
                    st["step"], st["mu_product"] = 0, 1.0
                    st["exp_avg"], st["exp_avg_sq"] = torch.zeros_like(p), torch.zeros_like(p)
                st["step"] += 1
                step = st["step"]
                bias_correction2 = 1 - beta2 ** step
                if gr["weight_decay"] != 0:
                    grad = grad.add(p, alpha=gr["weight_decay"])
                mu = beta1 * (1. - 0.5 * (0.96 ** (step * gr["momentum_decay"])))
                mu_next = beta1 * (1. - 0.5 * (0.96 ** ((step + 1) * gr["momentum_decay"])))
                st["mu_product"] *= mu
                st["exp_avg"].lerp_(grad, 1 - beta1)
                st["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = st["exp_avg_sq"].div(bias_correction2).sqrt().add_(gr["eps"])
                mu_product_next = st["mu_product"] * mu_next
                p.addcdiv_(grad, denom, value=(-gr["lr"] * (1. - mu) / (1. - st["mu_product"])))
                p.addcdiv_(st["exp_avg"], denom, value=(-gr["lr"] * mu_next) / (1. - mu_product_next))


class Lion(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self):
        for gr in self.param_groups:
            beta1, beta2 = gr["betas"]
            for p in gr["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if gr["maximize"] else p.grad
                st = self.state[p]
                if not st:
                    st["exp_avg"] = torch.zeros_like(p)
                exp_avg = st["exp_avg"]
                p.data.mul_(1 - gr["lr"] * gr["weight_decay"])
                update = exp_avg * beta1 + grad * (1 - beta1)
                p.add_(torch.sign(update), alpha=-gr["lr"])
                exp_avg.mul_(beta2).add_(grad, alpha=1 - beta2)


TORCH = {
    "SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW,
    "RMSprop": torch.optim.RMSprop, "Adagrad": torch.optim.Adagrad, "Adamax": torch.optim.Adamax,
    "NAdam": NAdam2, "Lion": Lion,
}

# (case, optimizer, options in ember's names, groups: [(param indices, overrides)] or None)
CASES = [
    ("sgd_plain", "SGD", {"lr": 0.1}, None),
    ("sgd_momentum", "SGD", {"lr": 0.1, "momentum": 0.9}, None),
    ("sgd_dampening", "SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}, None),
    ("sgd_nesterov", "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": 1}, None),
    ("sgd_weight_decay", "SGD", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.1}, None),
    ("sgd_maximize", "SGD", {"lr": 0.05, "momentum": 0.9, "maximize": 1}, None),
    ("sgd_groups", "SGD", {"lr": 0.1, "momentum": 0.9},
     [([1], {"lr": 0.01, "nesterov": 1}), ([0], {"weight_decay": 0.2})]),
    ("adam_default", "Adam", {"lr": 0.05}, None),
    ("adam_amsgrad", "Adam", {"lr": 0.05, "amsgrad": 1}, None),
    ("adam_weight_decay", "Adam", {"lr": 0.05, "weight_decay": 0.1}, None),
    ("adam_maximize", "Adam", {"lr": 0.02, "maximize": 1}, None),
    ("adam_betas_eps", "Adam", {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3}, None),
    ("adam_groups", "Adam", {"lr": 0.05}, [([1], {}), ([0], {"lr": 0.01, "weight_decay": 0.1, "amsgrad": 1})]),
    ("adamw_default", "AdamW", {"lr": 0.05}, None),
    ("adamw_amsgrad_decay", "AdamW", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": 1}, None),
    ("adamw_maximize", "AdamW", {"lr": 0.02, "maximize": 1}, None),
    ("rmsprop_default", "RMSprop", {"lr": 0.01}, None),
    ("rmsprop_centered", "RMSprop", {"lr": 0.01, "centered": 1}, None),
    ("rmsprop_momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9}, None),
    ("rmsprop_all", "RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": 1, "momentum": 0.5,
                                "weight_decay": 0.1, "eps": 1e-4}, None),
    ("rmsprop_maximize", "RMSprop", {"lr": 0.01, "maximize": 1}, None),
    ("adagrad_default", "Adagrad", {"lr": 0.1}, None),
    ("adagrad_all", "Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1,
                                "initial_accumulator_value": 0.1, "eps": 1e-6}, None),
    ("adagrad_maximize", "Adagrad", {"lr": 0.05, "maximize": 1}, None),
    ("adamax_default", "Adamax", {"lr": 0.05}, None),
    ("adamax_weight_decay", "Adamax", {"lr": 0.05, "weight_decay": 0.1, "beta1": 0.8}, None),
    ("adamax_maximize", "Adamax", {"lr": 0.02, "maximize": 1}, None),
    ("nadam_default", "NAdam", {"lr": 0.05}, None),
    ("nadam_weight_decay", "NAdam", {"lr": 0.05, "weight_decay": 0.1, "momentum_decay": 0.01}, None),
    ("nadam_maximize", "NAdam", {"lr": 0.02, "maximize": 1}, None),
    ("lion_default", "Lion", {"lr": 0.01}, None),
    ("lion_weight_decay", "Lion", {"lr": 0.01, "weight_decay": 0.5, "beta1": 0.95, "beta2": 0.98}, None),
    ("lion_maximize", "Lion", {"lr": 0.005, "maximize": 1}, None),
]

BOOLS = {"nesterov", "maximize", "amsgrad", "centered"}


def torch_kwargs(opts):
    kw = {}
    for k, v in opts.items():
        if k in ("beta1", "beta2"):
            continue
        kw[k] = bool(v) if k in BOOLS else v
    if "beta1" in opts or "beta2" in opts:
        kw["betas"] = (opts.get("beta1", 0.9), opts.get("beta2", 0.999 if "Lion" not in opts else 0.99))
    return kw


def run_case(name, opt_name, opts, groups, init, a, b):
    params = [t.clone().requires_grad_(True) for t in init]
    kw = torch_kwargs(opts)
    if opt_name == "Lion" and ("beta1" in opts or "beta2" in opts):
        kw["betas"] = (opts.get("beta1", 0.9), opts.get("beta2", 0.99))
    if groups is None:
        opt = TORCH[opt_name](params, **kw)
    else:
        lr = kw.pop("lr")
        opt = TORCH[opt_name]([dict(params=[params[i] for i in idx], **torch_kwargs(ov))
                               for idx, ov in groups], lr=lr, **kw)
    traj = [[] for _ in params]
    for t in range(STEPS):
        for p, ai, bi in zip(params, a, b):
            p.grad = grad_of(p.detach(), ai, bi, t)
        opt.step()
        for i, p in enumerate(params):
            traj[i].append(p.detach().clone())
    return {"%s/p%d" % (name, i): torch.stack(tr) for i, tr in enumerate(traj)}


def cpp_options(opts):
    return "{" + ", ".join('{"%s", %r}' % (k, float(v)) for k, v in sorted(opts.items())) + "}"


def write_cases_inc():
    lines = ["// Generated by tools/gen_optim_refs.py: the optimizer cases of the fixtures.",
             "// {case, optimizer, options, groups ({param indices, overrides}; empty: one group of all)}"]
    for name, opt_name, opts, groups in CASES:
        g = "{}" if groups is None else "{" + ", ".join(
            "{{%s}, %s}" % (", ".join(str(i) for i in idx), cpp_options(ov)) for idx, ov in groups) + "}"
        lines.append('{"%s", "%s", %s, %s},' % (name, opt_name, cpp_options(opts), g))
    with open(CASES_INC, "w") as f:
        f.write("\n".join(lines) + "\n")


# ---- schedulers ---------------------------------------------------------------------------------
def sched_optimizer():
    p0 = torch.zeros(2, requires_grad=True)
    p1 = torch.zeros(2, requires_grad=True)
    return torch.optim.SGD([{"params": [p0], "lr": 0.1}, {"params": [p1], "lr": 0.05}], lr=0.1, momentum=0.9)


def plateau_metric(t):
    # improves, stalls, improves a little, stalls: exercises patience, threshold and cooldown
    return max(0.5, 1.0 - 0.1 * t) if t < 12 else 0.5 - 1e-6 * (t - 11)


S = torch.optim.lr_scheduler
SCHEDULERS = {
    "StepLR": lambda o: S.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda o: S.MultiStepLR(o, milestones=[2, 5, 5, 11], gamma=0.3),
    "ExponentialLR": lambda o: S.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001),
    "CosineAnnealingWarmRestarts_mult1": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=4),
    "LinearLR": lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=6),
    "LinearLR_decay": lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=10),
    "LambdaLR": lambda o: S.LambdaLR(o, lr_lambda=lambda e: 0.95 ** e / (1 + 0.1 * e)),
    "OneCycleLR": lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=20),
    "OneCycleLR_linear_three_phase": lambda o: S.OneCycleLR(
        o, max_lr=0.5, total_steps=21, pct_start=0.25, anneal_strategy="linear", three_phase=True,
        div_factor=10.0, final_div_factor=100.0),
    "SequentialLR_warmup_cosine": lambda o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=15)], milestones=[5]),
    "SequentialLR_three": lambda o: S.SequentialLR(
        o, [S.ExponentialLR(o, gamma=0.8), S.StepLR(o, step_size=2, gamma=0.5),
            S.MultiStepLR(o, milestones=[3], gamma=0.1)], milestones=[4, 12]),
    "ReduceLROnPlateau": lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1),
    "ReduceLROnPlateau_max_abs": lambda o: S.ReduceLROnPlateau(
        o, mode="max", factor=0.3, patience=1, threshold=0.05, threshold_mode="abs", min_lr=0.004),
}


def run_scheduler(name, make):
    opt = sched_optimizer()
    sched = make(opt)
    plateau = isinstance(sched, S.ReduceLROnPlateau)
    lrs = [[g["lr"] for g in opt.param_groups]]
    moms = [[g["momentum"] for g in opt.param_groups]]
    for t in range(STEPS):
        opt.step()
        if plateau:
            m = plateau_metric(t)
            sched.step(-m if "max" in name else m)
        else:
            sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append([g["momentum"] for g in opt.param_groups])
        if not plateau:
            assert sched.get_last_lr() == lrs[-1]
    out = {name + "/lr": torch.tensor(lrs, dtype=torch.float64)}
    if name.startswith("OneCycleLR"):
        out[name + "/momentum"] = torch.tensor(moms, dtype=torch.float64)
    return out


def main():
    import warnings
    warnings.filterwarnings("ignore")
    torch.set_default_dtype(torch.float64)
    os.makedirs(OUT, exist_ok=True)
    init, a, b = problem()
    write("problem.safetensors", {"init/p0": init[0], "init/p1": init[1], "a/p0": a[0], "a/p1": a[1],
                                  "b/p0": b[0], "b/p1": b[1]})
    by_opt = {}
    for name, opt_name, opts, groups in CASES:
        by_opt.setdefault(opt_name, {}).update(run_case(name, opt_name, opts, groups, init, a, b))
    for opt_name, tensors in by_opt.items():
        write("traj_%s.safetensors" % opt_name, tensors)
    write_cases_inc()
    sched = {}
    for name, make in SCHEDULERS.items():
        sched.update(run_scheduler(name, make))
    write("schedulers.safetensors", sched)


if __name__ == "__main__":
    main()
