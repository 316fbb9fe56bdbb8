"""The step each parameter takes: an optimizer's per-parameter effective learning rate, read from its own state.

An optimizer's update of parameter i can be written ``dtheta_i = -rate_i * direction_i``, where the direction
is the gradient (SGD, RMSprop, Adagrad, LARS) or its first moment (momentum, Adam, RAdam, LAMB).  The *rate*
is what the lesson's Check question 1 is about: for SGD it is ``lr`` for every parameter; for Adam it is

    rate_i = lr / (sqrt(v_hat_i) + eps),    v_hat_i = v_i / (1 - beta2^t)

so a parameter whose gradients are small or rare (small ``v``) takes a larger rate, by orders of magnitude.
It is read from the optimizer's own state after its step (``v`` is the one that step used), never recomputed
from gradients, so what is shown is what torch did.  Each entry of :data:`RATES` gives its formula; the
layer-wise ones (LARS, LAMB) read the ratio their step stored (``local_lr``, ``trust_ratio``).

:func:`effective_rates` looks the optimizer's class up in :data:`RATES`; an optimizer without an entry has no
closed-form rate and the measurement falls back to what its update gave (``|dtheta_i| / |g_i|`` where
``g_i != 0``, :mod:`engine.training.measurements`).  Adafactor has none: its step is
``alpha / max(1, RMS(u) / d) * g / sqrt(V_hat)`` with ``alpha = max(eps2, RMS(theta_{t-1})) * min(lr,
1/sqrt(t))`` and ``u = g / sqrt(V_hat)``; the factored ``V_hat = row_var col_var / mean(row_var)`` is in its
state, but the two scalars are not (they read the weights before the step and the step's gradient), and
with ``weight_decay = 0`` the fallback ``|dtheta_i| / |g_i|`` is exactly that rate.

The rate uses the param group's ``lr`` as it is when read: a schedule that has already moved it for the next
step shifts every rate by the same factor (``lr_next / lr_used``).
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch

from engine.optim.lamb import Lamb
from engine.optim.lars import Lars

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


def _rmsprop(group: dict, state: dict, param: torch.Tensor) -> torch.Tensor:
    """RMSprop: ``lr / (sqrt(s) + eps)`` with ``s <- alpha s + (1 - alpha) g^2``; centred, the running
    variance instead, ``lr / (sqrt(s - gbar^2) + eps)`` with ``gbar <- alpha gbar + (1 - alpha) g``.
    (With momentum the buffer sums ``g / (sqrt(s) + eps)``; the rate is what multiplies each gradient.)"""
    s = state["square_avg"]
    if group.get("centered"):
        s = s - state["grad_avg"] ** 2
    return float(group["lr"]) / (s.sqrt() + group["eps"])


def _adagrad(group: dict, state: dict, param: torch.Tensor) -> torch.Tensor:
    """Adagrad: ``clr / (sqrt(S) + eps)``, ``S`` the sum of every squared gradient so far (from
    ``initial_accumulator_value``) and ``clr = lr / (1 + (t - 1) lr_decay)``: the rates only ever shrink."""
    step = float(state["step"])
    clr = float(group["lr"]) / (1.0 + (step - 1.0) * group.get("lr_decay", 0.0))
    return clr / (state["sum"].sqrt() + group["eps"])


def _radam(group: dict, state: dict, param: torch.Tensor) -> torch.Tensor:
    """RAdam (torch's): with ``rho_inf = 2 / (1 - beta2) - 1`` and ``rho_t = rho_inf - 2 t beta2^t / (1 -
    beta2^t)``, while ``rho_t <= 5`` the variance estimate is not trusted and the step is ``lr * m_hat``
    (rate ``lr``); after, ``lr * r_t * sqrt(1 - beta2^t) / (sqrt(v) + eps)``, i.e. ``lr r_t / (sqrt(v_hat) +
    eps / sqrt(1 - beta2^t))``, with the rectification ``r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf /
    ((rho_inf - 4)(rho_inf - 2) rho_t))``: the built-in warm-up."""
    beta2 = group["betas"][1]
    step = float(state["step"])
    lr = float(group["lr"])
    correction = 1.0 - beta2 ** step
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = rho_inf - 2.0 * step * beta2 ** step / correction
    if rho_t <= 5.0:
        return torch.full_like(param, lr)
    rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    return lr * rect * math.sqrt(correction) / (state["exp_avg_sq"].sqrt() + group["eps"])


def _lars(group: dict, state: dict, param: torch.Tensor) -> torch.Tensor:
    """LARS: ``lr * local_lr`` for the whole tensor, ``local_lr = eta ||w|| / (||g|| + beta ||w|| + eps)``
    as its step stored it; biases and normalization parameters take the plain ``lr`` (their stored
    ``local_lr`` is 1)."""
    return torch.full_like(param, float(group["lr"]) * float(state["local_lr"]))


def _lamb(group: dict, state: dict, param: torch.Tensor) -> torch.Tensor:
    """LAMB: the layer's trust ratio times Adam's rate, ``lr * trust / (sqrt(v_hat) + eps)``, the trust
    ratio ``phi(||x||) / ||u||`` its step stored: every coordinate keeps Adam's relative rate, the layer's
    step its fixed length ``lr * min(||x||, 10)``."""
    v = state["exp_avg_sq"]
    correction = 1.0 - group["betas"][1] ** float(state["step"])
    return float(group["lr"]) * float(state["trust_ratio"]) / ((v / correction).sqrt() + group["eps"])


RATES: dict[type, Rate] = {
    torch.optim.SGD: _lr,
    torch.optim.Adam: _adam,
    torch.optim.AdamW: _adam,
    torch.optim.NAdam: _adam,
    torch.optim.RMSprop: _rmsprop,
    torch.optim.Adagrad: _adagrad,
    torch.optim.RAdam: _radam,
    Lars: _lars,
    Lamb: _lamb,
}


@torch.no_grad()
def effective_rates(optimizer: torch.optim.Optimizer,
                    params: Sequence[torch.Tensor] | None = None) -> list[torch.Tensor | None] | None:
    """Each parameter's effective rate (None for a parameter it has not stepped yet), in the optimizer's
    parameter order, or in the order of ``params`` when given (its param groups may order them otherwise);
    None when the optimizer has no entry in :data:`RATES`."""
    rate = RATES.get(type(optimizer))
    if rate is None:
        return None
    found: dict[int, torch.Tensor | None] = {}
    order: list[torch.Tensor] = []
    for group in optimizer.param_groups:
        for param in group["params"]:
            state = optimizer.state.get(param, {})
            needs_state = rate is not _lr
            found[id(param)] = rate(group, state, param).clone() if (state or not needs_state) else None
            order.append(param)
    return [found.get(id(p)) for p in (params if params is not None else order)]
