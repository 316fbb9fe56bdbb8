"""LAMB: Adam's direction, scaled per layer to the size of the layer's weights.

torch.optim has no LAMB, so this is a reference implementation of Algorithm 2
of You et al. 2019, "Large Batch Optimization for Deep Learning: Training BERT
in 76 minutes" (arXiv:1904.00962).  It is written to be read: one parameter
tensor at a time, every quantity of the paper named as in the paper.

Several widely copied third-party LAMBs take a different step from the paper's:
they drop Adam's bias correction, compute the trust ratio from the Adam
direction alone and add the weight decay afterwards, or leave the weight norm
unclamped.  None of that is done here, and ``tests/engine/optim/test_lamb.py`` checks each
point against numbers computed by hand.
"""
from __future__ import annotations

from typing import Callable, Iterable

import torch

from engine.optim.trust import layer_ratio

#: Upper end of the clamp ``phi(z) = min(max(z, 0), MAX_WEIGHT_NORM)`` applied to
#: a layer's weight norm before it becomes the length of the step (the paper's
#: scaling function phi, with the bounds its experiments use: gamma_l = 0,
#: gamma_u = 10).
MAX_WEIGHT_NORM = 10.0


class Lamb(torch.optim.Optimizer):
    r"""Layer-wise Adaptive Moments optimizer for Batch training (LAMB).

    Why: with very large batches one learning rate does not suit every layer.
    A step that is small for a layer with large weights can wreck a layer with
    small ones.  LAMB keeps Adam's per-coordinate direction but rescales each
    layer's step (each parameter tensor here) so that its length is
    ``lr * phi(||x||)``: proportional to the size of the weights it changes.
    The ratio ``phi(||x||) / ||u||`` is the *trust ratio*.

    For each parameter tensor :math:`x` with gradient :math:`g` at step
    :math:`t = 1, 2, \dots` (all operations elementwise, norms are L2 norms
    over the whole tensor):

    .. math::
        \begin{aligned}
            m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
            v_t  = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
            \hat m_t &= m_t / (1 - \beta_1^t), \qquad
            \hat v_t  = v_t / (1 - \beta_2^t)
                && \text{(bias correction: } m_0 = v_0 = 0\text{)} \\
            r_t &= \hat m_t / (\sqrt{\hat v_t} + \epsilon)
                && \text{(Adam's direction)} \\
            u_t &= r_t + \lambda x_{t-1}
                && \text{(weight decay inside the trust ratio)} \\
            \phi_t &= \min(\max(\lVert x_{t-1} \rVert, 0), 10) \\
            \text{trust}_t &= \begin{cases}
                \phi_t / \lVert u_t \rVert & \text{if } \phi_t > 0
                    \text{ and } \lVert u_t \rVert > 0 \\
                1 & \text{otherwise}
            \end{cases} \\
            x_t &= x_{t-1} - \eta_t \, \text{trust}_t \, u_t
        \end{aligned}

    So every step of a tensor whose weights and update are non-zero has length
    exactly ``lr * min(||x||, 10)``, whatever the scale of the gradient.  Weight
    decay is part of ``u`` and so shares that length with Adam's direction;
    it is not a separate, unscaled pull as in AdamW.  A tensor at zero (fresh
    biases) has no length to be relative to, so it takes a plain Adam-like
    step ``lr * u``.

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate :math:`\eta` (default ``1e-3``).  With LAMB it is a
            *relative* step: the fraction of the weight norm moved per step.
        betas: :math:`(\beta_1, \beta_2)`, decay rates of the running means of
            the gradient and of its square (default ``(0.9, 0.999)``).  They
            live in each param group and are read every step, so
            ``OneCycleLR(cycle_momentum=True)`` can cycle :math:`\beta_1`.
        eps: :math:`\epsilon`, added to :math:`\sqrt{\hat v}` so that
            coordinates with tiny gradients do not divide by zero
            (default ``1e-6``).
        weight_decay: :math:`\lambda`, pull of the weights toward zero,
            applied inside the trust ratio (default ``0.01``).

    State per parameter: ``"step"`` (a 0-dim float32 tensor, as in
    torch.optim.Adam), ``"exp_avg"`` (:math:`m`), ``"exp_avg_sq"``
    (:math:`v`) and ``"trust_ratio"`` (a Python float: the trust ratio of
    the last step, for display).
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-6,
                 weight_decay: float = 0.01):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if len(betas) != 2:
            raise ValueError(f"Invalid betas: {betas} (need two values)")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    # torch types the closure as returning a float, but a real closure returns the loss tensor.
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:  # type: ignore[override]
        """Take one LAMB step for every parameter that has a gradient.

        ``closure``, if given, re-evaluates the model and returns the loss (it
        runs with gradients enabled); its loss is returned.  Parameters whose
        ``grad`` is ``None`` are skipped and get no state.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            # Read from the group every step: schedulers rewrite lr and betas.
            lr = group["lr"]
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]

            for x in group["params"]:
                if x.grad is None:
                    continue
                g = x.grad
                if g.is_sparse:
                    raise RuntimeError("Lamb does not support sparse gradients")

                state = self.state[x]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0, dtype=torch.float32)
                    state["exp_avg"] = torch.zeros_like(x, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(x, memory_format=torch.preserve_format)
                m, v = state["exp_avg"], state["exp_avg_sq"]

                state["step"] += 1
                t = state["step"].item()

                # Running moments of the gradient and of its square.
                m.mul_(beta1).add_(g, alpha=1 - beta1)           # m = b1*m + (1-b1)*g
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)    # v = b2*v + (1-b2)*g^2

                # Bias correction: m and v start at zero, so early on they
                # underestimate the moments by the factors (1 - beta^t).
                m_hat = m / (1 - beta1 ** t)
                v_hat = v / (1 - beta2 ** t)

                r = m_hat / (v_hat.sqrt() + eps)             # Adam's direction
                u = r.add(x, alpha=weight_decay) if weight_decay != 0 else r

                # Layer-wise trust ratio phi(||x||) / ||u||, 1 when undefined.
                phi = torch.linalg.vector_norm(x).clamp(0.0, MAX_WEIGHT_NORM)
                u_norm = torch.linalg.vector_norm(u)
                trust = layer_ratio(phi, u_norm, (phi > 0) & (u_norm > 0))

                x.sub_(u * (trust * lr))
                state["trust_ratio"] = trust.item()

        return loss
