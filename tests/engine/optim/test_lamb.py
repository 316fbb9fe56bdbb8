"""engine.optim.lamb: the LAMB step checked against the paper's formula, computed by hand.

The reference (`paper_lamb`) is Algorithm 2 of You et al. 2019 written out
with numpy float64, independent of torch.  Tests that guard one point of the
formula (bias correction, weight decay inside the trust ratio, the clamp) also
compute the step a wrong implementation would take and check that it differs,
so each test fails when the point it guards is missing.
"""
from __future__ import annotations

import ast
import io
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.optim.lamb import Lamb

TIGHT = dict(rtol=1e-12, atol=1e-14)


def paper_lamb(x0, grads, lrs, beta1s, beta2, eps, wd):
    """Algorithm 2 of the paper, one step at a time, in numpy float64.

    ``lrs`` and ``beta1s`` give one value per step, as a scheduler would.
    Returns the weights after every step and the trust ratio of every step.
    """
    x = np.array(x0, dtype=np.float64)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    xs, trusts = [], []
    for t, (g, lr, b1) in enumerate(zip(grads, lrs, beta1s), start=1):
        g = np.asarray(g, dtype=np.float64)
        m = b1 * m + (1 - b1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - beta2 ** t)
        r = m_hat / (np.sqrt(v_hat) + eps)
        u = r + wd * x
        phi = min(max(float(np.linalg.norm(x)), 0.0), 10.0)
        u_norm = float(np.linalg.norm(u))
        trust = phi / u_norm if phi > 0 and u_norm > 0 else 1.0
        x = x - lr * trust * u
        xs.append(x.copy())
        trusts.append(trust)
    return xs, trusts


def tensor(values, dtype=torch.float64):
    return torch.tensor(values, dtype=dtype, requires_grad=True)


def step_with(opt, params, grads):
    """Set each parameter's gradient by hand and take one step."""
    for p, g in zip(params, grads):
        p.grad = torch.as_tensor(np.asarray(g), dtype=p.dtype).clone()
    opt.step()


# --- the update rule, step by step --------------------------------------------------

def test_four_steps_match_the_paper_for_three_kinds_of_tensor():
    # A matrix with norm < 10, a vector with norm > 10 (clamped), a zero bias.
    rng = np.random.default_rng(7)
    starts = [rng.normal(size=(2, 3)), np.array([8.0, -9.0, 4.0]), np.zeros(3)]
    steps = 4
    grads = [[rng.normal(scale=s, size=x.shape) for x in starts] for s in (1.0, 0.3, 2.0, 0.05)]
    lr, betas, eps, wd = 0.05, (0.8, 0.95), 1e-3, 0.1

    params = [tensor(x) for x in starts]
    opt = Lamb(params, lr=lr, betas=betas, eps=eps, weight_decay=wd)
    got = [[], [], []]
    got_trust = [[], [], []]
    for t in range(steps):
        step_with(opt, params, grads[t])
        for i, p in enumerate(params):
            got[i].append(p.detach().numpy().copy())
            got_trust[i].append(opt.state[p]["trust_ratio"])

    for i, x0 in enumerate(starts):
        want, want_trust = paper_lamb(x0, [g[i] for g in grads], [lr] * steps,
                                      [betas[0]] * steps, betas[1], eps, wd)
        for t in range(steps):
            np.testing.assert_allclose(got[i][t], want[t], **TIGHT)
        np.testing.assert_allclose(got_trust[i], want_trust, **TIGHT)
        state = opt.state[params[i]]
        assert state["step"].item() == steps
        assert isinstance(state["trust_ratio"], float)
    assert got_trust[2][0] == 1.0          # the zero bias's first step
    assert got_trust[1][0] == pytest.approx(10.0 / np.linalg.norm(
        (grads[0][1] / (np.abs(grads[0][1]) + eps)) + wd * starts[1]), rel=1e-12)


def test_float32_parameters_follow_the_paper_too():
    rng = np.random.default_rng(3)
    x0 = rng.normal(size=5)
    grads = [rng.normal(size=5) for _ in range(3)]
    p = tensor(x0, dtype=torch.float32)
    opt = Lamb([p], lr=0.1, betas=(0.7, 0.9), eps=1e-2, weight_decay=0.2)
    for g in grads:
        step_with(opt, [p], [g])
    want, _ = paper_lamb(x0, grads, [0.1] * 3, [0.7] * 3, 0.9, 1e-2, 0.2)
    assert p.dtype == torch.float32 and opt.state[p]["exp_avg"].dtype == torch.float32
    np.testing.assert_allclose(p.detach().numpy(), want[-1], rtol=2e-6, atol=1e-6)


def test_first_step_is_bias_corrected():
    # After bias correction m_hat = g and v_hat = g^2, so r = g / (|g| + eps).
    # Worked with plain floats: x = (3, 4), ||x|| = 5, g = (0.5, -2), eps = 0.1,
    # weight decay 0.1, lr 0.01.
    eps, wd, lr = 0.1, 0.1, 0.01
    x, g = [3.0, 4.0], [0.5, -2.0]
    r = [gi / (abs(gi) + eps) for gi in g]                   # (0.8333.., -0.9524..)
    u = [ri + wd * xi for ri, xi in zip(r, x)]               # (1.1333.., -0.5524..)
    trust = 5.0 / math.hypot(*u)
    want = [xi - lr * trust * ui for xi, ui in zip(x, u)]

    p = tensor(x)
    opt = Lamb([p], lr=lr, betas=(0.9, 0.99), eps=eps, weight_decay=wd)
    step_with(opt, [p], [g])
    np.testing.assert_allclose(p.detach().numpy(), want, **TIGHT)
    assert opt.state[p]["trust_ratio"] == pytest.approx(trust, rel=1e-12)

    # Without bias correction r would be 0.1 g / (0.1 |g| + eps) = (1/3, -2/3):
    # a different direction once weight decay is added.  Make sure it shows.
    r_raw = [0.1 * gi / (math.sqrt(0.01 * gi * gi) + eps) for gi in g]
    u_raw = [ri + wd * xi for ri, xi in zip(r_raw, x)]
    wrong = [xi - lr * 5.0 / math.hypot(*u_raw) * ui for xi, ui in zip(x, u_raw)]
    assert not np.allclose(wrong, want, rtol=1e-4, atol=0)


def test_weight_decay_is_inside_the_trust_ratio():
    x, g = np.array([3.0, 4.0]), np.array([1.0, -0.25])
    lr, wd, eps = 0.01, 0.5, 1e-6
    p = tensor(x)
    opt = Lamb([p], lr=lr, betas=(0.9, 0.999), eps=eps, weight_decay=wd)
    step_with(opt, [p], [g])
    delta = p.detach().numpy() - x

    r = g / (np.abs(g) + eps)
    u = r + wd * x
    np.testing.assert_allclose(delta, -lr * 5.0 / np.linalg.norm(u) * u, **TIGHT)
    # Decay inside the ratio: the whole step, decay included, has length lr * ||x||.
    assert np.linalg.norm(delta) == pytest.approx(lr * 5.0, rel=1e-12)

    # Two ways of putting the decay outside, and the steps they would take.
    ratio_from_r_only = -lr * 5.0 / np.linalg.norm(r) * u
    decoupled = -lr * 5.0 / np.linalg.norm(r) * r - lr * wd * x
    for wrong in (ratio_from_r_only, decoupled):
        assert np.linalg.norm(wrong - delta) > 1e-3 * np.linalg.norm(delta)


@pytest.mark.parametrize("x, step_norm", [
    ([30.0, 40.0, 0.0], 10.0),     # ||x|| = 50 is clamped to 10
    ([6.0, 8.0, 0.0], 10.0),       # ||x|| = 10 exactly
    ([0.3, 0.4, 0.0], 0.5),        # below the clamp: the step follows ||x||
])
def test_weight_norm_is_clamped_to_ten(x, step_norm):
    x, g = np.array(x), np.array([0.2, -1.0, 3.0])
    lr, wd, eps = 0.1, 0.01, 1e-6
    p = tensor(x)
    opt = Lamb([p], lr=lr, weight_decay=wd, eps=eps)
    step_with(opt, [p], [g])
    delta = p.detach().numpy() - x
    assert np.linalg.norm(delta) == pytest.approx(lr * step_norm, rel=1e-12)
    u = g / (np.abs(g) + eps) + wd * x
    assert opt.state[p]["trust_ratio"] == pytest.approx(step_norm / np.linalg.norm(u), rel=1e-12)


def test_zero_weights_take_trust_ratio_one():
    g, lr, eps = np.array([1.0, -2.0, 3.0]), 0.1, 0.01
    p = tensor([0.0, 0.0, 0.0])
    opt = Lamb([p], lr=lr, eps=eps, weight_decay=0.3)
    step_with(opt, [p], [g])
    assert opt.state[p]["trust_ratio"] == 1.0
    # u = r + 0.3 * 0 = g / (|g| + eps), taken unscaled.
    want = [-lr * 1.0 / 1.01, -lr * -2.0 / 2.01, -lr * 3.0 / 3.01]
    np.testing.assert_allclose(p.detach().numpy(), want, **TIGHT)


def test_zero_update_gives_trust_ratio_one_and_no_nan():
    p = tensor([1.0, 2.0])
    opt = Lamb([p], lr=0.1, weight_decay=0.0)
    step_with(opt, [p], [[0.0, 0.0]])
    assert opt.state[p]["trust_ratio"] == 1.0
    assert p.detach().tolist() == [1.0, 2.0]


# --- groups, skipping, closure, state -------------------------------------------------

def test_param_groups_use_their_own_lr_and_weight_decay():
    x, g = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.1, -0.7])
    a, b, c = tensor(x), tensor(x), tensor(x)
    opt = Lamb([{"params": [a], "lr": 0.1},
                {"params": [b]},
                {"params": [c], "weight_decay": 0.5}], lr=0.01, eps=1e-4, weight_decay=0.05)
    step_with(opt, [a, b, c], [g, g, g])
    for p, lr, wd in ((a, 0.1, 0.05), (b, 0.01, 0.05), (c, 0.01, 0.5)):
        want, _ = paper_lamb(x, [g], [lr], [0.9], 0.999, 1e-4, wd)
        np.testing.assert_allclose(p.detach().numpy(), want[0], **TIGHT)
    np.testing.assert_allclose(a.detach().numpy() - x, 10 * (b.detach().numpy() - x), **TIGHT)


def test_parameters_without_gradient_are_skipped():
    p, q = tensor([1.0, 2.0]), tensor([3.0, 4.0])
    opt = Lamb([p, q], lr=0.1)
    p.grad = torch.tensor([0.5, -0.5], dtype=torch.float64)
    opt.step()
    assert q.detach().tolist() == [3.0, 4.0]
    assert q not in opt.state
    assert opt.state[p]["step"].item() == 1


def test_closure_is_evaluated_and_its_loss_returned():
    A = torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=torch.float64)
    b = torch.tensor([1.0, 0.0], dtype=torch.float64)
    p = tensor([0.5, 0.5])
    opt = Lamb([p], lr=0.1, eps=1e-3)

    def closure():
        opt.zero_grad()
        loss = ((A @ p - b) ** 2).sum()
        loss.backward()
        return loss

    x0 = p.detach().numpy().copy()
    g = 2 * A.numpy().T @ (A.numpy() @ x0 - b.numpy())
    loss = opt.step(closure)
    assert loss.item() == pytest.approx(float(((A.numpy() @ x0 - b.numpy()) ** 2).sum()), rel=1e-12)
    want, _ = paper_lamb(x0, [g], [0.1], [0.9], 0.999, 1e-3, 0.01)
    np.testing.assert_allclose(p.detach().numpy(), want[0], **TIGHT)


def test_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(11)
    starts = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    grads = [[rng.normal(size=x.shape) for x in starts] for _ in range(6)]
    kw = dict(lr=0.05, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.1)

    params = [tensor(x) for x in starts]
    opt = Lamb(params, **kw)
    for t in range(3):
        step_with(opt, params, grads[t])

    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed_params = [tensor(p.detach().numpy()) for p in params]
    fresh_params = [tensor(p.detach().numpy()) for p in params]
    resumed = Lamb(resumed_params, lr=123.0, betas=(0.1, 0.2), eps=9.0, weight_decay=9.0)
    resumed.load_state_dict(saved)
    fresh = Lamb(fresh_params, **kw)

    assert resumed.param_groups[0]["lr"] == 0.05 and resumed.param_groups[0]["betas"] == (0.8, 0.9)
    for p in resumed_params:
        assert set(resumed.state[p]) == {"step", "exp_avg", "exp_avg_sq", "trust_ratio"}
        assert resumed.state[p]["step"].item() == 3
    for t in range(3, 6):
        step_with(opt, params, grads[t])
        step_with(resumed, resumed_params, grads[t])
        step_with(fresh, fresh_params, grads[t])
        for p, q in zip(params, resumed_params):
            assert torch.equal(p, q)
            assert opt.state[p]["trust_ratio"] == resumed.state[q]["trust_ratio"]
    # Control: an optimizer that forgot its moments ends elsewhere.
    assert not torch.allclose(params[0], fresh_params[0], rtol=1e-6, atol=0)


# --- schedulers ---------------------------------------------------------------------

def run_scheduled(make_scheduler, x0, grads, **kw):
    """Step optimizer and scheduler; record the lr and beta1 each step used."""
    p = tensor(x0)
    opt = Lamb([p], **kw)
    sched = make_scheduler(opt)
    lrs, beta1s = [], []
    for g in grads:
        lrs.append(opt.param_groups[0]["lr"])
        beta1s.append(opt.param_groups[0]["betas"][0])
        step_with(opt, [p], [g])
        sched.step()
    return p.detach().numpy(), lrs, beta1s


def test_step_lr_scheduler_sets_the_step_size():
    rng = np.random.default_rng(5)
    x0 = rng.normal(size=4)
    grads = [rng.normal(size=4) for _ in range(5)]
    x, lrs, _ = run_scheduled(
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
        x0, grads, lr=0.1, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.02)
    assert lrs == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025], rel=1e-15)
    want, _ = paper_lamb(x0, grads, lrs, [0.8] * 5, 0.99, 1e-4, 0.02)
    np.testing.assert_allclose(x, want[-1], **TIGHT)
    constant, _ = paper_lamb(x0, grads, [0.1] * 5, [0.8] * 5, 0.99, 1e-4, 0.02)
    assert not np.allclose(constant[-1], want[-1], rtol=1e-6)


def test_one_cycle_lr_cycles_lr_and_beta1():
    rng = np.random.default_rng(6)
    x0 = rng.normal(size=4)
    grads = [rng.normal(size=4) for _ in range(6)]
    x, lrs, beta1s = run_scheduled(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o, max_lr=0.2, total_steps=6, cycle_momentum=True,
            base_momentum=0.8, max_momentum=0.95),
        x0, grads, lr=0.1, betas=(0.9, 0.99), eps=1e-4, weight_decay=0.02)
    assert len(set(lrs)) > 3 and len(set(beta1s)) > 3
    assert beta1s[0] == pytest.approx(0.95) and min(beta1s) < 0.85
    want, _ = paper_lamb(x0, grads, lrs, beta1s, 0.99, 1e-4, 0.02)
    np.testing.assert_allclose(x, want[-1], **TIGHT)
    fixed_beta, _ = paper_lamb(x0, grads, lrs, [0.95] * 6, 0.99, 1e-4, 0.02)
    assert not np.allclose(fixed_beta[-1], want[-1], rtol=1e-6)


# --- arguments, behaviour, layering -------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-1e-3), "learning rate"),
    (dict(eps=-1e-8), "epsilon"),
    (dict(betas=(1.0, 0.999)), "index 0"),
    (dict(betas=(-0.1, 0.999)), "index 0"),
    (dict(betas=(0.9, 1.0)), "index 1"),
    (dict(betas=(0.9, -0.5)), "index 1"),
    (dict(weight_decay=-0.01), "weight_decay"),
])
def test_invalid_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Lamb([tensor([1.0])], **kwargs)


def test_boundary_arguments_are_accepted():
    opt = Lamb([tensor([1.0])], lr=0.0, betas=(0.0, 0.0), eps=0.0, weight_decay=0.0)
    assert opt.defaults == dict(lr=0.0, betas=(0.0, 0.0), eps=0.0, weight_decay=0.0)


def test_lamb_decreases_a_least_squares_loss():
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(64, 5, generator=gen, dtype=torch.float64)
    b = A @ torch.randn(5, generator=gen, dtype=torch.float64) \
        + 0.1 * torch.randn(64, generator=gen, dtype=torch.float64)
    x = torch.randn(5, generator=gen, dtype=torch.float64).requires_grad_()
    opt = Lamb([x], lr=0.02)

    def loss_fn():
        return ((A @ x - b) ** 2).mean()

    best = ((A @ torch.linalg.lstsq(A, b).solution - b) ** 2).mean().item()
    first = loss_fn().item()
    for _ in range(300):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
    last = loss_fn().item()
    assert last - best < 0.01 * (first - best)


def test_engine_lamb_imports_torch_and_its_own_package_only():
    """A reference implementation stands alone: torch, the standard library and engine.optim's trust ratio."""
    source = Path(__file__).resolve().parents[3] / "engine" / "optim" / "lamb.py"
    imported = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert imported <= {"__future__", "typing", "math", "torch", "engine.optim.trust"}
