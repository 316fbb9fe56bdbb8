"""The run's gradient as one flat buffer, with each parameter's ``.grad`` a view into it.

Autograd accumulates into an existing ``.grad`` in place, so after ``backward()`` the whole gradient is
one tensor ``g``: its norm ``||g|| = sqrt(sum_i g_i^2)``, the value plotted every step, is one reduction
instead of one per layer plus a stack, and a snapshot copies it in one go.  Parameter ``k``'s gradient
is the slice ``g[o_k : o_k + n_k]``, ``n_k`` its size and ``o_k`` the sizes before it summed.
"""
from __future__ import annotations

import torch


class FlatGradients:
    """The gradients of ``params`` (in their order) as views into ``flat``."""

    def __init__(self, params: list[torch.nn.Parameter]):
        self.params = params
        self.flat = torch.zeros(sum(p.numel() for p in params))

    def zero(self) -> None:
        """Zero the gradients, pointing every ``.grad`` at its slice of ``flat`` again if it is not."""
        self.flat.zero_()
        if self.params[0].grad is None or self.params[0].grad.data_ptr() != self.flat.data_ptr():
            offset = 0
            for p in self.params:
                p.grad = self.flat[offset:offset + p.numel()].view_as(p)
                offset += p.numel()

    def norm(self) -> float:
        """``||g||``, the L2 norm of the whole gradient."""
        return torch.linalg.vector_norm(self.flat).item()
