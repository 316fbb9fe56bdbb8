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
