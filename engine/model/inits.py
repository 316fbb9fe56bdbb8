"""Weight initializations: where the descent starts.

Before the first step every weight has to hold some number, and that choice
decides whether a deep network can learn at all.  A layer with ``fan_in``
inputs sums ``fan_in`` products, so for inputs of variance ``Var(x)`` and
independent zero-mean weights

    Var(y) = fan_in * Var(W) * Var(x).

If ``fan_in * Var(W)`` is above 1 the signal grows geometrically with depth
(exploding activations and gradients); below 1 it shrinks to nothing
(vanishing).  The schemes here pick ``Var(W)`` to keep that factor near 1:

* Xavier/Glorot: ``Var(W) = 2 / (fan_in + fan_out)``, a compromise between
  keeping the forward signal (``fan_in``) and the backward gradient
  (``fan_out``) steady, for units that are roughly linear near 0 (tanh,
  sigmoid, identity).
* He/Kaiming: ``Var(W) = 2 / fan_in``.  ReLU zeroes the negative half of its
  input, which halves the second moment, so the variance is doubled.

``normal`` ignores the layer's size on purpose, to show both failures, and
``zeros`` shows the symmetry problem: units that start equal get equal
gradients and stay equal.

Every scheme calls the ``torch.nn.init`` function itself, in module order, so a
network initialized here equals, bit for bit, one initialized by hand with
torch under the same seed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

#: The layers whose weights an init scheme sets.  Norm layers are left alone:
#: they start as the identity map (weight 1, bias 0), which is what they should be.
INIT_LAYERS: tuple[type[nn.Linear], type[nn.Conv2d]] = (nn.Linear, nn.Conv2d)

WeightInit = Callable[[torch.Tensor, float], object]


@dataclass(frozen=True)
class InitInfo:
    """One initialization scheme.

    ``init_weight(weight, std)`` fills a weight tensor in place; ``None`` means
    "leave PyTorch's own values".  ``zero_bias`` sets the biases of the same
    layers to 0.  ``uses_std`` tells the form and validator that the scheme
    reads ``model.init_std`` (only ``normal`` does).  ``variance`` is the
    formula shown next to the name.
    """

    name: str
    description: str
    variance: str
    init_weight: WeightInit | None
    zero_bias: bool = True
    uses_std: bool = False


def _he_uniform(w: torch.Tensor, std: float):
    return nn.init.kaiming_uniform_(w, mode="fan_in", nonlinearity="relu")


def _he_normal(w: torch.Tensor, std: float):
    return nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu")


INITS: dict[str, InitInfo] = {info.name: info for info in (
    InitInfo(
        "default",
        "PyTorch's own: weights and biases uniform in ±1/√fan_in. Fine for shallow networks, "
        "but its variance is a third of He's, so signals fade in deep ReLU stacks.",
        "Var(W) = 1/(3·fan_in)",
        None, zero_bias=False),
    InitInfo(
        "xavier_uniform",
        "Glorot: uniform in ±√(6/(fan_in+fan_out)), so Var = 2/(fan_in+fan_out). Derived for units "
        "that are linear near zero: steady for linear units, roughly steady for tanh (it fades slowly "
        "with depth); not for sigmoid, whose gradients still vanish (its outputs are not centred on 0).",
        "Var(W) = 2/(fan_in+fan_out)",
        lambda w, std: nn.init.xavier_uniform_(w)),
    InitInfo(
        "xavier_normal",
        "Glorot: W ~ N(0, 2/(fan_in+fan_out)). Derived for units that are linear near zero: steady "
        "for linear units, roughly steady for tanh (it fades slowly with depth); not for sigmoid, whose "
        "gradients still vanish (its outputs are not centred on 0).",
        "Var(W) = 2/(fan_in+fan_out)",
        lambda w, std: nn.init.xavier_normal_(w)),
    InitInfo(
        "he_uniform",
        "Kaiming: uniform in ±√(6/fan_in), so Var = 2/fan_in. ReLU kills half the signal, so the "
        "variance is doubled to keep activations from shrinking layer after layer.",
        "Var(W) = 2/fan_in",
        _he_uniform),
    InitInfo(
        "he_normal",
        "Kaiming: W ~ N(0, 2/fan_in). ReLU kills half the signal, so the variance is doubled to "
        "keep activations from shrinking layer after layer.",
        "Var(W) = 2/fan_in",
        _he_normal),
    InitInfo(
        "orthogonal",
        "A random orthogonal matrix (a conv kernel is flattened to one row per output channel): "
        "it keeps the length of every vector it multiplies, so a linear layer neither grows nor "
        "shrinks the signal.",
        "WᵀW = I (gain 1)",
        lambda w, std: nn.init.orthogonal_(w)),
    InitInfo(
        "normal",
        "W ~ N(0, init_std²) whatever the layer's size. Too small and the signal vanishes layer "
        "by layer, too large and it explodes: try 0.01 and 1 on a deep network.",
        "Var(W) = init_std²",
        lambda w, std: nn.init.normal_(w, mean=0.0, std=std), uses_std=True),
    InitInfo(
        "zeros",
        "Every weight and bias 0. All units of a layer compute the same thing and receive the "
        "same gradient, so they stay identical forever: the symmetry never breaks.",
        "W = 0",
        lambda w, std: nn.init.zeros_(w)),
)}


def init_info(name: str) -> InitInfo:
    """The registry entry, or the error a user reads in the experiment file."""
    try:
        return INITS[name]
    except (KeyError, TypeError):
        raise ValueError(f"model.init: unknown init {name!r} "
                         f"(choose from {', '.join(INITS)})") from None


def apply_init(model: nn.Module, name: str, std: float = 0.01) -> nn.Module:
    """Initialize every Linear and Conv2d weight of ``model`` with scheme ``name``.

    Layers are visited in ``model.modules()`` order (forward order for a
    Sequential), so the random numbers are drawn in the same order as a
    hand-written loop.  Except for ``default``, which leaves PyTorch's values
    untouched, the biases of those layers are set to 0: a bias has no fan to
    balance, and a nonzero one would only shift the signal.  ``std`` is read
    by ``normal`` only.  Returns ``model`` for chaining.
    """
    info = init_info(name)
    if info.init_weight is None:
        return model
    for module in model.modules():
        if isinstance(module, INIT_LAYERS):
            info.init_weight(module.weight, std)
            if info.zero_bias and module.bias is not None:
                nn.init.zeros_(module.bias)
    return model
