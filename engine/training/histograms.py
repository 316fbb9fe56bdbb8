"""The histogram of a tensor: what the window draws of each layer's weights and gradients.

:func:`histogram` counts over the tensor's own range in ``HIST_BINS`` equal bins and gives its mean and
standard deviation too; a run takes one per layer on each histogram tick.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from engine.training.events import Histogram

HIST_BINS = 40

_UNIT_EDGES = np.linspace(0.0, 1.0, HIST_BINS + 1)


def histogram(tensor: torch.Tensor, bins: int = HIST_BINS) -> Histogram:
    """Counts over the tensor's own range; non-finite values are left out of the counts.

    Done in numpy on a zero-copy view with one ``bincount``, because this runs
    for every layer on every histogram tick and numpy's per-call cost is a
    fraction of torch's on arrays this small.
    """
    a = tensor.detach().float().reshape(-1).numpy()
    lo, hi = float(a.min()), float(a.max())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        a = a[np.isfinite(a)]
        if a.size == 0:
            return Histogram(np.zeros(bins, dtype=np.int64), np.linspace(-1.0, 1.0, bins + 1), math.nan, math.nan)
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:  # e.g. the zeros init: centre one-unit-wide bins on the value
        lo, hi = lo - 0.5, hi + 0.5
    index = ((a - lo) * (bins / (hi - lo))).astype(np.intp)
    np.minimum(index, bins - 1, out=index)  # the maximum belongs to the last bin
    counts = np.bincount(index, minlength=bins)
    mean = float(a.mean(dtype=np.float64))
    centred = a - mean
    std = math.sqrt(float(np.dot(centred, centred)) / a.size)
    unit = _UNIT_EDGES if bins == HIST_BINS else np.linspace(0.0, 1.0, bins + 1)
    return Histogram(counts.astype(np.int64, copy=False), lo + (hi - lo) * unit, mean, std)
