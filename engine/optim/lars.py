"""LARS: SGD with momentum, its step scaled per layer by the ratio of the weights' norm to the gradient's.

torch.optim has no LARS, so this is a reference implementation of Algorithm 1
of You, Gitman and Ginsburg 2017, "Large Batch Training of Convolutional
Networks" (arXiv:1708.03888), written, like :mod:`engine.optim.lamb`, one
parameter tensor at a time with the paper's quantities named as in the paper.
``tests/engine/optim/test_lars.py`` checks its steps against numbers computed by
hand.
"""
from __future__ import annotations

from typing import Callable, Iterable

import torch

from engine.optim.trust import layer_ratio


class Lars(torch.optim.Optimizer):
    r"""Layer-wise Adaptive Rate Scaling (LARS), You, Gitman and Ginsburg 2017, Algorithm 1.

    Why: with very large batches the global learning rate that suits one layer
    is too large for another, because the ratio ``||w|| / ||g||`` differs by
    orders of magnitude between layers (and between weights and biases).  LARS
    gives each layer (each parameter tensor here) a *local* learning rate that
    makes its step a fixed fraction (the trust coefficient) of its weights'
    norm, whatever the scale of its gradient.

    For each parameter tensor :math:`w` with gradient :math:`g` (norms are L2
    norms over the whole tensor; :math:`\eta` the trust coefficient,
    :math:`\beta` the weight decay, :math:`m` the momentum, :math:`\gamma`
    the learning rate of this step, as the schedule sets it):

    .. math::
        \begin{aligned}
            \lambda &= \begin{cases}
                \eta \, \lVert w \rVert / (\lVert g \rVert + \beta \lVert w \rVert + \epsilon)
                    & \text{if } \lVert w \rVert > 0 \text{ and } \lVert g \rVert > 0 \\
                1 & \text{otherwise}
            \end{cases}
                && \text{(the local learning rate)} \\
            v &\leftarrow m \, v + \gamma \, \lambda \, (g + \beta w)
                && (v_0 = 0) \\
            w &\leftarrow w - v
        \end{aligned}

    The momentum buffer :math:`v` holds the step itself (learning rate
    included), as in the paper, not the gradient's running sum as in
    torch.optim.SGD, so a schedule that lowers :math:`\gamma` slows the
    velocity gradually.  :math:`\lambda` is 1 where a norm is zero: a tensor at
    zero has no size to be relative to, and a zero gradient no step to scale.

    Biases and normalization parameters (BatchNorm's and LayerNorm's scale and
    shift) are excluded from the layer adaptation *and* from the weight decay,
    as is common practice (Goyal et al. 2017; the SimCLR and MLPerf LARS), and
    take the plain momentum step :math:`v \leftarrow m v + \gamma g`: their
    norms are tiny or zero at the start, so :math:`\lambda` would freeze them
    or blow up.  They are told apart by shape: in a set of parameters that
    holds a weight of two or more dimensions (a matrix, a filter bank), every
    tensor of fewer than two dimensions is a bias or a normalization
    parameter.  A set of vectors only (the Trajectories lab's point, one
    2-element tensor) has no such split, so every tensor is a weight.  A
    parameter group may say so itself with ``layer_adaptation=True`` or
    ``False``.

    It is deterministic: per-tensor norms and elementwise arithmetic, no
    atomics, the same numbers on every run.

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: the global learning rate :math:`\gamma` (default ``1.0``, which
            with the trust coefficient moves a layer by 0.1% of its norm).
        momentum: :math:`m` (default ``0.9``); 0 keeps no buffer.
        weight_decay: :math:`\beta` (default ``0``), inside the local rate's
            denominator and added to the gradient, as in the paper.
        trust_coefficient: :math:`\eta` (default ``0.001``): the fraction of
            the weight norm a step moves at ``lr = 1``.
        eps: :math:`\epsilon`, keeps the denominator away from zero
            (default ``1e-8``).

    State per parameter: ``"momentum_buffer"`` (:math:`v`, when momentum is
    not 0) and ``"local_lr"`` (a Python float: the :math:`\lambda` of the last
    step, for display; 1 for the excluded tensors).
    """

    def __init__(self, params: Iterable, lr: float = 1.0, momentum: float = 0.9, weight_decay: float = 0.0,
                 trust_coefficient: float = 0.001, eps: float = 1e-8):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 < trust_coefficient:
            raise ValueError(f"Invalid trust_coefficient value: {trust_coefficient}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                        trust_coefficient=trust_coefficient, eps=eps, layer_adaptation=None)
        super().__init__(params, defaults)

    def _has_matrix(self) -> bool:
        return any(p.ndim >= 2 for group in self.param_groups for p in group["params"])

    @torch.no_grad()
    # torch types the closure as returning a float, but a real closure returns the loss tensor.
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:  # type: ignore[override]
        """Take one LARS step for every parameter that has a gradient (``closure`` as in torch.optim).

        Parameters whose ``grad`` is ``None`` are skipped and get no state.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        has_matrix = self._has_matrix()
        for group in self.param_groups:
            # Read from the group every step: schedulers rewrite lr and momentum.
            lr, momentum = group["lr"], group["momentum"]
            weight_decay, trust, eps = group["weight_decay"], group["trust_coefficient"], group["eps"]
            adapt = group["layer_adaptation"]

            for w in group["params"]:
                if w.grad is None:
                    continue
                g = w.grad
                if g.is_sparse:
                    raise RuntimeError("Lars does not support sparse gradients")
                state = self.state[w]
                is_weight = adapt if adapt is not None else (w.ndim >= 2 or not has_matrix)

                if is_weight:
                    w_norm = torch.linalg.vector_norm(w)
                    g_norm = torch.linalg.vector_norm(g)
                    local_lr = layer_ratio(trust * w_norm, g_norm + weight_decay * w_norm + eps,
                                           (w_norm > 0) & (g_norm > 0))
                    d = g.add(w, alpha=weight_decay) if weight_decay != 0 else g
                    step = d * (local_lr * lr)              # lr * local_lr * (g + wd * w)
                    state["local_lr"] = local_lr.item()
                else:                                       # bias / norm parameter: plain momentum step
                    step = g * lr
                    state["local_lr"] = 1.0

                if momentum != 0:
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = torch.zeros_like(w, memory_format=torch.preserve_format)
                    v = state["momentum_buffer"]
                    v.mul_(momentum).add_(step)             # v = m * v + step
                    w.sub_(v)
                else:
                    w.sub_(step)

        return loss
