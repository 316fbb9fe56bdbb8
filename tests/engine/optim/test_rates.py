"""The effective rates read from an optimizer's state equal the ones computed by hand from the gradients."""
from __future__ import annotations

import math

import pytest
import torch

from engine.optim.rates import effective_rates


def _stepped(cls, grads, **kwargs):
    param = torch.nn.Parameter(torch.zeros(len(grads[0]), dtype=torch.float64))
    opt = cls([param], **kwargs)
    for g in grads:
        param.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    return opt


GRADS = [[1e-4, 0.5, -3.0], [2e-4, -0.25, 1.0], [0.0, 0.75, -2.0]]


@pytest.mark.parametrize("cls", [torch.optim.Adam, torch.optim.AdamW, torch.optim.NAdam])
def test_adam_family_rate_is_lr_over_root_v_hat(cls):
    lr, beta2, eps = 0.01, 0.999, 1e-8
    opt = _stepped(cls, GRADS, lr=lr, betas=(0.9, beta2), eps=eps)
    (rates,) = effective_rates(opt)
    for i in range(3):
        v = 0.0
        for g in GRADS:
            v = beta2 * v + (1 - beta2) * g[i] ** 2
        v_hat = v / (1 - beta2 ** len(GRADS))
        assert rates[i].item() == pytest.approx(lr / (math.sqrt(v_hat) + eps), rel=1e-12)
    # the small-gradient parameter takes a rate orders of magnitude larger
    assert rates[0] > 1000 * rates[2]


def test_sgd_rate_is_lr_for_every_parameter():
    opt = _stepped(torch.optim.SGD, GRADS, lr=0.3, momentum=0.9)
    (rates,) = effective_rates(opt)
    assert rates.tolist() == [0.3, 0.3, 0.3]


def test_an_optimizer_without_an_entry_has_no_closed_form():
    assert effective_rates(_stepped(torch.optim.Rprop, GRADS)) is None


def test_a_parameter_not_yet_stepped_has_no_rate():
    param = torch.nn.Parameter(torch.zeros(2))
    assert effective_rates(torch.optim.Adam([param])) == [None]


@pytest.mark.parametrize("centered", [False, True])
def test_rmsprop_rate_is_lr_over_root_of_its_running_square(centered):
    lr, alpha, eps = 0.01, 0.99, 1e-8
    opt = _stepped(torch.optim.RMSprop, GRADS, lr=lr, alpha=alpha, eps=eps, centered=centered)
    (rates,) = effective_rates(opt)
    for i in range(3):
        s = gbar = 0.0
        for g in GRADS:
            s = alpha * s + (1 - alpha) * g[i] ** 2
            gbar = alpha * gbar + (1 - alpha) * g[i]
        var = s - gbar ** 2 if centered else s
        assert rates[i].item() == pytest.approx(lr / (math.sqrt(var) + eps), rel=1e-10)
    assert rates[0] > 100 * rates[2]


def test_adagrad_rate_is_the_decayed_lr_over_the_root_of_the_sum_of_squares():
    lr, decay, eps = 0.1, 0.5, 1e-10
    opt = _stepped(torch.optim.Adagrad, GRADS, lr=lr, lr_decay=decay, eps=eps)
    (rates,) = effective_rates(opt)
    clr = lr / (1 + (len(GRADS) - 1) * decay)
    for i in range(3):
        total = sum(g[i] ** 2 for g in GRADS)
        assert rates[i].item() == pytest.approx(clr / (math.sqrt(total) + eps), rel=1e-12)


def _radam_by_hand(grads, i, lr, beta2, eps):
    v, t = 0.0, len(grads)
    for g in grads:
        v = beta2 * v + (1 - beta2) * g[i] ** 2
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
    if rho_t <= 5:
        return lr
    r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    return lr * r * math.sqrt(1 - beta2 ** t) / (math.sqrt(v) + eps)


def test_radam_rate_is_lr_until_rho_t_passes_5_then_the_rectified_adam_rate():
    lr, beta2, eps = 0.01, 0.999, 1e-8
    early = _stepped(torch.optim.RAdam, GRADS, lr=lr, betas=(0.9, beta2), eps=eps)   # t = 3: rho_t < 5
    assert effective_rates(early)[0].tolist() == [lr] * 3
    many = GRADS * 4                                                                   # t = 12: rho_t > 5
    late = _stepped(torch.optim.RAdam, many, lr=lr, betas=(0.9, beta2), eps=eps)
    (rates,) = effective_rates(late)
    for i in range(3):
        hand = _radam_by_hand(many, i, lr, beta2, eps)
        assert hand != lr and rates[i].item() == pytest.approx(hand, rel=1e-10)
    # and it is the step torch took: dtheta = -rate * m_hat
    param = late.param_groups[0]["params"][0]
    before = param.detach().clone()
    param.grad = torch.tensor(GRADS[0], dtype=torch.float64)
    late.step()
    (rates,) = effective_rates(late)
    m_hat = late.state[param]["exp_avg"] / (1 - 0.9 ** 13)
    assert torch.allclose(before - param.detach(), rates * m_hat, rtol=1e-10, atol=0)


def _matrix_stepped(cls, steps, **kwargs):
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(3, 4, dtype=torch.float64))
    b = torch.nn.Parameter(torch.randn(4, dtype=torch.float64))
    opt = cls([w, b], **kwargs)
    grads = [(torch.randn(3, 4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)) for _ in range(steps)]
    history = []
    for gw, gb in grads:
        history.append((w.detach().clone(), gw, b.detach().clone(), gb))
        w.grad, b.grad = gw, gb
        opt.step()
    return opt, history


def test_lars_rate_is_lr_times_its_local_rate_and_plain_lr_for_the_bias():
    from engine.optim.lars import Lars
    lr, trust, eps = 0.5, 0.001, 1e-8
    opt, history = _matrix_stepped(Lars, 2, lr=lr, trust_coefficient=trust, eps=eps)
    w_before, gw, _, _ = history[-1]
    local = trust * w_before.norm().item() / (gw.norm().item() + eps)
    rate_w, rate_b = effective_rates(opt)
    assert torch.allclose(rate_w, torch.full((3, 4), lr * local, dtype=torch.float64), rtol=1e-12)
    assert rate_b.tolist() == [lr] * 4


def test_lamb_rate_is_the_trust_ratio_times_adams_rate():
    from engine.optim.lamb import Lamb
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-6, 0.0
    opt, history = _matrix_stepped(Lamb, 3, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    rate_w, _ = effective_rates(opt)
    t = len(history)
    m = sum((1 - b1) * b1 ** (t - 1 - s) * h[1] for s, h in enumerate(history))
    v = sum((1 - b2) * b2 ** (t - 1 - s) * h[1] ** 2 for s, h in enumerate(history))
    m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
    u = m_hat / (v_hat.sqrt() + eps)
    x_before = history[-1][0]
    trust = min(x_before.norm().item(), 10.0) / u.norm().item()
    assert torch.allclose(rate_w, lr * trust / (v_hat.sqrt() + eps), rtol=1e-10, atol=0)
    # its layer's step is rate * m_hat, of length lr * ||x||
    assert (rate_w * m_hat).norm().item() == pytest.approx(lr * x_before.norm().item(), rel=1e-10)


def test_every_registered_optimizer_has_a_rate_or_is_adafactor():
    from engine.optim.optimizers import OPTIMIZERS
    from engine.optim.rates import RATES
    assert {name for name, info in OPTIMIZERS.items() if info.cls not in RATES} == {"adafactor"}
