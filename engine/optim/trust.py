"""The layer-wise ratio LARS and LAMB scale a tensor's step by, with the rule both use where it is undefined.

LARS's local rate ``eta ||w|| / (||g|| + beta ||w|| + eps)`` and LAMB's trust ratio ``phi(||x||) / ||u||`` are
both a ratio of norms over the whole tensor, and both are 1 where it means nothing: a tensor at zero has no
size to be relative to, and a zero gradient (or update) no step to scale.  Computed as a 0-dim tensor with
``torch.where``, no branch on a Python float, so the step never waits on a ``.item()``.
"""
from __future__ import annotations

import torch


def layer_ratio(top: torch.Tensor, bottom: torch.Tensor, defined: torch.Tensor) -> torch.Tensor:
    """``top / bottom`` where ``defined`` holds, else 1 (0-dim tensors, as the norms are)."""
    return torch.where(defined, top / bottom, torch.ones_like(top))
