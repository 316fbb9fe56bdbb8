"""The members' gradients, optimizer steps and schedules, for the vectorized trainer.

The gradient of K stacked members is one buffer ``G`` of shape ``(K, N)``: row ``k`` is member k's flat
gradient, laid out as its single run's (:mod:`engine.training.gradients`), and each stacked parameter's
``.grad`` is a view into it.  So member k's norm ``||g_k|| = sqrt(sum_i G[k, i]^2)`` is one reduction along
the rows for all K, and clipping scales each row by its own ``min(1, c / (||g_k|| + 1e-6))``.

An optimizer whose update of each number reads only that number's gradient and state and scalars shared
by every member (the step count, the rate) gives the same numbers on the stacked tensors as on each
member's alone: :data:`ELEMENTWISE_OPTIMIZERS` (SGD with or without momentum or Nesterov, Adagrad,
RMSprop, Adam, AdamW, NAdam, RAdam) step the stacked parameters as one torch.optim optimizer, under one
schedule.  Any other optimizer (Adafactor's factored second moment per matrix, LAMB's and LARS's per-layer
trust ratios, an entry added later) is built once per member, exactly as its single run builds it, over
per-member parameters that share storage with slice ``k`` of the stacked ones (their ``.grad`` the row
``k`` views), each with its own schedule: per member in Python, but with no code here per optimizer.
"""
from __future__ import annotations

import warnings

import torch

from engine.config import Experiment
from engine.optim.optimizers import OPTIMIZERS, build_optimizer
from engine.optim.rates import effective_rates
from engine.optim.schedules import LRSchedule
from engine.training.divergence import numeric_failure

# The views of the (K, N) buffer have a member stride of N, not the parameter's: autograd notes (once) that
# this "may impair performance". It is the layout the per-member norms and the exact sums need.
warnings.filterwarnings("ignore", message="grad and param do not obey the gradient layout contract")

#: torch.optim classes whose update is elementwise (their per-parameter state is per number too).
ELEMENTWISE_OPTIMIZERS: frozenset[type] = frozenset({
    torch.optim.SGD, torch.optim.Adagrad, torch.optim.RMSprop, torch.optim.Adam, torch.optim.AdamW,
    torch.optim.NAdam, torch.optim.RAdam})


class StackedGradients:
    """The gradients of stacked parameters ``(K, *shape)`` as views into one ``(K, N)`` buffer."""

    def __init__(self, params: list[torch.Tensor]):
        self.params = params
        self.K = params[0].shape[0]
        sizes = [p[0].numel() for p in params]
        self.flat = torch.zeros(self.K, sum(sizes))
        self.views: list[torch.Tensor] = []
        offset = 0
        for p, n in zip(params, sizes):
            self.views.append(self.flat[:, offset:offset + n].view(p.shape))
            offset += n

    def zero(self) -> None:
        """Zero every gradient, pointing each ``.grad`` at its view again if it is not."""
        self.flat.zero_()
        for p, view in zip(self.params, self.views):
            if p.grad is None or p.grad.data_ptr() != view.data_ptr():
                p.grad = view

    def norms(self) -> torch.Tensor:
        """``||g_k||`` of every member, shape ``(K,)``."""
        return torch.linalg.vector_norm(self.flat, dim=1)

    def clip(self, norms: torch.Tensor, clip: float) -> torch.Tensor:
        """Scale row k by torch's ``clip_grads_with_norm_`` coefficient where ``||g_k|| > c`` (as
        ``reciprocal(||g_k|| + 1e-6) * c``, which is how torch evaluates ``c / t``); returns the mask."""
        clipped = norms > clip
        coef = torch.where(clipped, ((norms + 1e-6).reciprocal() * clip).clamp(max=1.0), 1.0)
        self.flat.mul_(coef[:, None])
        return clipped


class MemberOptimizers:
    """Every member's optimizer and schedule: one over the stacked tensors where that is exact, else K."""

    def __init__(self, params: list[torch.Tensor], grads: StackedGradients, experiment: Experiment,
                 total_steps: int):
        cfg = experiment.optimizer
        self.elementwise = OPTIMIZERS[cfg.name].cls in ELEMENTWISE_OPTIMIZERS
        self.params = params
        self.own: list[list[torch.Tensor]] = []     # member k's parameters, when it has its own optimizer
        if self.elementwise:
            self.optimizers = [build_optimizer(params, cfg)]
        else:
            self.optimizers = []
            for k in range(grads.K):
                own: list[torch.Tensor] = [torch.nn.Parameter(p.detach()[k]) for p in params]  # slice k
                for p, view in zip(own, grads.views):
                    p.grad = view[k]
                self.own.append(own)
                self.optimizers.append(build_optimizer(own, cfg))
        self.schedules = [LRSchedule(opt, experiment.schedule, total_steps) for opt in self.optimizers]

    @property
    def lr(self) -> float:
        return self.optimizers[0].param_groups[0]["lr"]

    def rates(self, members: list[int]) -> dict[int, list[torch.Tensor | None] | None]:
        """Each listed member's effective rates per parameter (:func:`~engine.optim.rates.effective_rates`,
        in the stacked parameters' order; None for an optimizer without a closed form): the stacked
        optimizer's rates sliced at row k (its update is elementwise, so row k is member k's own), or
        member k's own optimizer's."""
        if self.elementwise:
            stacked = effective_rates(self.optimizers[0], self.params)
            if stacked is None:
                return {k: None for k in members}
            return {k: [r[k] if r is not None else None for r in stacked] for k in members}
        return {k: effective_rates(self.optimizers[k], self.own[k]) for k in members}

    def step(self, update: list[bool]) -> dict[int, str]:
        """Step the members marked in ``update``; returns ``{k: why}`` for members whose step failed in
        the arithmetic (as a single run's :func:`~engine.training.divergence.numeric_failure`).  The
        stacked optimizer steps every member (the caller puts back the ones that have ended) and raises."""
        if self.elementwise:
            self.optimizers[0].step()
            return {}
        failed = {}
        for k, (opt, go) in enumerate(zip(self.optimizers, update)):
            if go:
                try:
                    opt.step()
                except Exception as err:   # from the numbers: member k diverged; anything else is a bug
                    why = numeric_failure(err)
                    if why is None:
                        raise
                    failed[k] = why
        return failed

    def schedule_step(self) -> None:
        for schedule in self.schedules:
            if schedule.active:
                schedule.step()
