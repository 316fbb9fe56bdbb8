"""The histogram heatmap's data: one tensor's histograms over training on one common grid of value bins.

Each histogram has its own bins (the tensor's own min..max), so they are rebinned (:func:`rebin`)
onto one common grid of ``HEATMAP_BINS`` bins spanning the smallest and largest value seen so far.
A source bin's count is spread evenly over its width; with the cumulative count C(v) interpolated
linearly between a histogram's edges, a grid bin [g_j, g_j+1) gets C(g_j+1) - C(g_j).  Every count
lands somewhere on the grid, so a column sums to the tensor's element count.  The grid is rebuilt
(and everything rebinned, vectorized) only when it changes: a new histogram reaches outside it, or
(on a symmetric-log grid) the linear threshold moves a decade; otherwise only the new columns are
computed.

Gradients shrink over training, often by 100-1000x after the first steps.  On a linear grid spanning
the first steps' values, a late gradient's whole histogram falls into the one or two bins around 0:
a single line, its spread invisible.  So the gradient heatmap's rows are evenly spaced in the
symmetric log of the value (:class:`ValueScale`),

    y(v) = sign(v) log10(1 + |v| / c),     v(y) = sign(y) c (10^|y| - 1),

linear within about c of 0 and logarithmic beyond, so a histogram shrunk k times moves log10(k) decades
inward and keeps its width in rows: equal ratios look equal, as on the log-loss axis.  A histogram of
both signs shows as two mirrored bands, the magnitudes of its negative and of its positive values,
with little between them (the rows near 0 are narrow in value).  The threshold c follows the data:

    c = 10^floor(log10(LINEAR_FRACTION * P10(a))),   a_t = max(|lowest edge_t|, |highest edge_t|),

P10 the 10th percentile over the histograms that hold any finite count, so the smallest gradients
still span several rows, and one near-zero tick (a dead unit, an underflow) cannot squeeze the rest.
Weights keep a linear grid: their scale changes little, and a linear value axis reads most directly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

from gui.widgets.plotting import fitted_tick_values

HEATMAP_BINS = 60
LINEAR_FRACTION = 0.1       # the linear part of a symmetric-log grid: this fraction of a small tensor's extent
THRESHOLD_PERCENTILE = 10   # ... the small tensor: this percentile of the ticks' extents


# -- rebinning --------------------------------------------------------------------------------------

def rebin(counts: np.ndarray, edges: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Counts of T histograms, (T, b) over their own sorted edges (T, b + 1), onto one grid (G + 1,).

    Returns (T, G): the cumulative count of each histogram, interpolated
    linearly between its edges (uniform density inside a bin), read at the
    grid edges, differenced.  All rows at once: the grid positions are found
    in every row's edges by one ``searchsorted`` over keys ``2 t + u``, where u
    in [0, 1] is the position in the grid's span, so the rows cannot mix.
    Values outside the grid count in its end bins, so each row keeps its total.
    The grid need not be evenly spaced, only sorted.
    """
    counts = np.asarray(counts, np.float64)
    edges = np.asarray(edges, np.float64)
    t, b = counts.shape
    if t == 0:
        return np.zeros((0, len(grid) - 1))
    lo, span = grid[0], grid[-1] - grid[0]
    rows = 2.0 * np.arange(t)[:, None]
    edge_keys = rows + np.clip((edges - lo) / span, 0.0, 1.0)
    grid_keys = rows + np.clip((grid[None, :] - lo) / span, 0.0, 1.0)
    # k: the last edge at or below each grid point, -1 when the grid point is below the row's first edge
    k = np.searchsorted(edge_keys.ravel(), grid_keys.ravel(), side="right").reshape(grid_keys.shape)
    k -= (b + 1) * np.arange(t)[:, None] + 1
    cumulative = np.zeros((t, b + 1))
    np.cumsum(counts, axis=1, out=cumulative[:, 1:])
    inside = (k >= 0) & (k < b)
    kk = np.clip(k, 0, b - 1)
    left = np.take_along_axis(edges, kk, 1)
    width = np.take_along_axis(edges, kk + 1, 1) - left
    fraction = np.where(width > 0, (grid[None, :] - left) / np.where(width > 0, width, 1.0), 1.0)
    at_grid = np.take_along_axis(cumulative, kk, 1) + np.clip(fraction, 0.0, 1.0) * np.take_along_axis(counts, kk, 1)
    at_grid = np.where(inside, at_grid, np.where(k < 0, 0.0, cumulative[:, -1:]))
    at_grid[:, 0] = 0.0                       # whatever lies below the grid counts in its first bin,
    at_grid[:, -1] = cumulative[:, -1]        # whatever lies above in its last: no count is lost
    return np.diff(at_grid, axis=1)


def _held(counts: np.ndarray) -> np.ndarray:
    """The histograms that hold any count (empty ones, from a diverged run, shape nothing)."""
    held = counts.sum(axis=1) > 0
    return held if held.any() else np.ones(len(counts), bool)


def _value_range(counts: np.ndarray, edges: np.ndarray) -> tuple[float, float]:
    """Smallest and largest edge of the histograms that hold any count (empty ones do not stretch the grid)."""
    held = _held(counts)
    return float(edges[held, 0].min()), float(edges[held, -1].max())


def symlog_threshold(counts: np.ndarray, edges: np.ndarray) -> float | None:
    """c of the module's docstring, or None (a linear grid) when no histogram has a finite, non-zero extent."""
    held = edges[_held(counts)]
    extent = np.maximum(np.abs(held[:, 0]), np.abs(held[:, -1]))
    extent = extent[np.isfinite(extent) & (extent > 0)]
    if not len(extent):
        return None
    return 10.0 ** math.floor(math.log10(LINEAR_FRACTION * float(np.percentile(extent, THRESHOLD_PERCENTILE))))


# -- the value axis -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ValueScale:
    """How a value maps to the heatmap's y: linear (``threshold`` None) or symmetric log with threshold c."""
    threshold: float | None = None

    def to_y(self, value):
        if self.threshold is None:
            return value
        return np.sign(value) * np.log10(1.0 + np.abs(value) / self.threshold)

    def to_value(self, y):
        if self.threshold is None:
            return y
        return np.sign(y) * self.threshold * (10.0 ** np.abs(y) - 1.0)


class HeatmapValueAxis(pg.AxisItem):
    """The heatmap's left axis: plain fitted ticks on a linear grid; on a symmetric-log one, ticks at 0 and
    +-10^k labelled with the value (every second or third decade when they would crowd)."""

    def __init__(self, orientation: str = "left"):
        super().__init__(orientation)
        self.value_scale = ValueScale()
        self.setStyle(maxTextLevel=0)

    def set_scale(self, scale: ValueScale) -> None:
        if scale != self.value_scale:
            self.value_scale = scale
            self.picture = None
            self.update()

    def tickValues(self, minVal, maxVal, size):
        c = self.value_scale.threshold
        lo, hi = sorted((minVal, maxVal))
        if c is None or not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo or size <= 0:
            return fitted_tick_values(self, minVal, maxVal, size)
        top = float(np.max(np.abs(self.value_scale.to_value(np.array([lo, hi])))))
        decades = 10.0 ** np.arange(math.floor(math.log10(c)), math.ceil(math.log10(max(top, c))) + 1)
        label_px = QFontMetricsF(self.style["tickFont"] or self.font()).height() * 1.5
        ys = self.value_scale.to_y(decades)
        per_decade = size / (hi - lo) * float(np.min(np.diff(ys))) if len(ys) > 1 else size
        every = max(1, math.ceil(label_px / max(per_decade, 1e-9)))
        picked = decades[::-1][::every][::-1]      # the largest decade always labelled
        values = np.concatenate([-picked[::-1], [0.0], picked])
        ys = self.value_scale.to_y(values)
        return [(1.0, [float(y) for y in ys if lo <= y <= hi])]

    def tickStrings(self, values, scale, spacing):
        if self.value_scale.threshold is None:
            return super().tickStrings(values, scale, spacing)
        return [f"{float(v):g}" for v in self.value_scale.to_value(np.asarray(values, np.float64))]


# -- one tensor's heatmap -------------------------------------------------------------------------------

class Heatmap:
    """One tensor's histograms rebinned onto a common grid, kept up to date incrementally.

    ``symlog``: rows evenly spaced in the symmetric log of the value (gradients), else in the value.
    """

    def __init__(self, symlog: bool = False):
        self.symlog = symlog
        self.grid: np.ndarray | None = None     # (HEATMAP_BINS + 1,) value edges
        self.columns = np.zeros((0, HEATMAP_BINS))
        self.steps = np.zeros(0, np.int64)
        self.value_scale = ValueScale()
        self._span: tuple[float, float] = (0.0, 0.0)   # the grid's first and last edge, exactly

    def sync(self, steps: np.ndarray, counts: np.ndarray, edges: np.ndarray) -> None:
        done = len(self.columns)
        if len(steps) == done:
            return
        if len(steps) < done:     # the run was cleared and refilled: start over
            self.grid, done = None, 0
        new_counts, new_edges = counts[done:], edges[done:]
        lo, hi = _value_range(new_counts, new_edges)
        scale = ValueScale(symlog_threshold(counts, edges)) if self.symlog else ValueScale()
        outside = self.grid is None or lo < self._span[0] or hi > self._span[1]
        if not outside and scale == self.value_scale:
            self.columns = np.concatenate([self.columns, rebin(new_counts, new_edges, self.grid)])
        else:
            if self.grid is not None and done:
                lo, hi = min(lo, self._span[0]), max(hi, self._span[1])
            if not hi > lo:
                lo, hi = lo - 0.5, lo + 0.5
            self.value_scale, self._span = scale, (lo, hi)
            if scale.threshold is None:
                self.grid = np.linspace(lo, hi, HEATMAP_BINS + 1)
            else:
                self.grid = scale.to_value(np.linspace(scale.to_y(lo), scale.to_y(hi), HEATMAP_BINS + 1))
                self.grid[0], self.grid[-1] = lo, hi        # exactly the data's ends, whatever the rounding
            self.columns = rebin(counts, edges, self.grid)
        self.steps = np.array(steps)

    def y_span(self) -> tuple[float, float]:
        """Where the grid's first and last edge sit on the heatmap's y axis."""
        assert self.grid is not None
        return float(self.value_scale.to_y(self.grid[0])), float(self.value_scale.to_y(self.grid[-1]))
