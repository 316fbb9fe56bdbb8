"""The step each parameter takes: an optimizer's per-parameter effective learning rate, read from its own state.

An optimizer's update of parameter i can be written ``dtheta_i = -rate_i * direction_i``, where the direction
is the gradient (SGD) or its first moment (momentum, Adam).  The *rate* is what the lesson's Check question 1
is about: for SGD it is ``lr`` for every parameter; for Adam it is

    rate_i = lr / (sqrt(v_hat_i) + eps),    v_hat_i = v_i / (1 - beta2^t)

so a parameter whose gradients are small or rare (small ``v``) takes a larger rate, by orders of magnitude.
It is read from the optimizer's own state after its step (``v`` is the one that step used), never recomputed
from gradients, so what is shown is what torch did.

:func:`effective_rates` looks the optimizer's class up in :data:`RATES`; an optimizer without an entry has no
closed-form rate and the measurement falls back to what its update gave (``|dtheta| / |g|``).
"""
from __future__ import annotations

from typing import Callable

import torch

Rate = Callable[[dict, dict, torch.Tensor], torch.Tensor]   # (param group, the parameter's state, param) -> rates


def _lr(group: dict, state: dict, param: torch.Tensor) -> torch.Tensor:
    """SGD, with or without momentum: every parameter's rate is ``lr``."""
    return torch.full_like(param, float(group["lr"]))


def _adam(group: dict, state: dict, param: torch.Tensor) -> torch.Tensor:
    """Adam, AdamW and NAdam divide by the same bias-corrected second moment:
    ``lr / (sqrt(v / (1 - beta2^t)) + eps)`` (``max_exp_avg_sq`` in place of ``v`` with amsgrad)."""
    v = state.get("max_exp_avg_sq", state["exp_avg_sq"]) if group.get("amsgrad") else state["exp_avg_sq"]
    step = float(state["step"])
    correction = 1.0 - group["betas"][1] ** step
    return float(group["lr"]) / ((v / correction).sqrt() + group["eps"])


RATES: dict[type, Rate] = {
    torch.optim.SGD: _lr,
    torch.optim.Adam: _adam,
    torch.optim.AdamW: _adam,
    torch.optim.NAdam: _adam,
}


@torch.no_grad()
def effective_rates(optimizer: torch.optim.Optimizer) -> list[torch.Tensor | None] | None:
    """Each parameter's effective rate, in the optimizer's parameter order (None for a parameter it has not
    stepped yet); None when the optimizer has no entry in :data:`RATES`."""
    rate = RATES.get(type(optimizer))
    if rate is None:
        return None
    out: list[torch.Tensor | None] = []
    for group in optimizer.param_groups:
        for param in group["params"]:
            state = optimizer.state.get(param, {})
            needs_state = rate is not _lr
            out.append(rate(group, state, param).clone() if (state or not needs_state) else None)
    return out
