"""One weight tensor's histograms over training, held in bounded memory however long the run.

A 5,000,000-step run with a histogram every 50 steps takes 100,000 ticks per tensor; kept whole, that is
100,000 rows of 81 floats (65 MB) per tensor and kind, for a heatmap a few hundred pixels wide.  So a
:class:`HistogramHistory` keeps

    the last ``recent`` to ``recent + fold`` ticks exactly, one row each, and
    every older tick in at most ``max_buckets`` buckets of ``width`` consecutive ticks,

folding the oldest ``fold`` exact ticks into buckets when the exact part is full, and merging neighbouring
buckets pairwise (``width`` doubles) when there would be more than ``max_buckets``.  So it never holds more
than ``cap = max_buckets + recent + fold`` rows whatever the run's length, its rows start at the run's first
tick and end at its newest one, and its buckets hold ``width`` ticks each but the last (partly filled): the
older part of the run is drawn at one even resolution, 129 to 256 buckets once it has been halved.

A bucket is the *mixture* of its k ticks: their counts summed on one grid of ``bins`` equal bins over the
bucket's whole range (lowest first edge .. highest last edge), each tick's counts spread evenly inside its
own bins (:func:`gui.training.heatmap.rebin`),

    C_bucket[g_j, g_j+1) = sum_t (C_t(g_j+1) - C_t(g_j)),      drawn as the mean histogram C_bucket / k,

so its heatmap column is what the ticks' own columns average to when the heatmap is shrunk to fewer
pixels than ticks: the time average of the distribution, every value at the place it had, and the column
still sums to the tensor's element count.  (Averaging the ticks' edges instead draws a distribution no tick
had: one tick whose gradient is 1000 times wider widens the mean of 512 ticks' edges threefold.)  Merging a
bucket again onto the same range changes nothing, so a stable layer loses no detail by repeated halving.

Weights and gradients have a history each (:class:`LayerHistory`): the first tick (step 0) has no gradient.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.training.events import Histogram
from gui.training.heatmap import rebin

WEIGHTS, GRADIENTS, RATES = "weight", "grad", "rate"


@dataclass(frozen=True)
class Kind:
    """What a layer's histogram can count: its weights, its gradient, or each weight's effective rate
    (``engine.optim.rates``, as log10: Adam's rates span orders of magnitude)."""
    key: str
    menu: str            # the Show picker's item
    what: str            # singular noun: "weight", "gradient", "effective rate"
    axis: str            # the value axis' label
    symlog: bool         # the heatmap's value rows on a symmetric-log grid (gradients shrink over training)
    missing: str         # why a layer has none yet
    tip: str


KINDS: dict[str, Kind] = {k.key: k for k in (
    Kind(WEIGHTS, "weights", "weight", "weight value", False, "no histogram yet",
         "Each weight tensor's values."),
    Kind(GRADIENTS, "gradients", "gradient", "gradient value", True, "no gradient before the first step",
         "The gradient of each tensor at the histogram step."),
    Kind(RATES, "effective rates", "effective rate", "log10 effective rate", False,
         "no rate before the first step (a multi-seed run does not measure it)",
         "The step each weight takes per unit of its gradient direction, lr / (sqrt(v_hat) + eps) for "
         "Adam, lr for SGD: log10, so one unit is a factor of ten between two weights' rates."),
)}
FIRST_WIDTH = 4           # ticks per bucket before the first doubling: a fold of 256 ticks makes 64 buckets


@dataclass(frozen=True)
class HistorySizes:
    """How many rows one kind of one tensor keeps (module docstring)."""
    recent: int = 512         # exact ticks kept at least: a plot's width of the newest, tick by tick
    fold: int = 256           # exact ticks folded at a time (each fold rebuilds the heatmap: not often)
    max_buckets: int = 256    # buckets of the older ticks: one per few pixels of a heatmap

    def __post_init__(self):
        if self.recent < 1 or self.fold < FIRST_WIDTH or self.max_buckets < 2:
            raise ValueError(f"history sizes need recent >= 1, fold >= {FIRST_WIDTH} and max_buckets >= 2")

    @property
    def cap(self) -> int:
        """Rows held at most, for any number of ticks."""
        return self.max_buckets + self.recent + self.fold


HISTORY = HistorySizes()
"""The Weights tab's sizes: at most 1,024 rows a kind, 664 bytes each at 40 bins (two rows' steps and
ticks, 40 counts, 41 edges): ~0.7 MB per tensor and kind, ~1.4 MB per tensor, for any run length."""


def mixture(counts: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Histograms (r, b) over their edges (r, b + 1) summed on b equal bins over their whole range (module
    docstring).  Empty histograms (a diverged tensor's) add nothing and do not stretch the range."""
    held = counts.sum(axis=1) > 0
    ranged = edges[held] if held.any() else edges
    grid = np.linspace(float(ranged[:, 0].min()), float(ranged[:, -1].max()), counts.shape[1] + 1)
    return rebin(counts, edges, grid).sum(axis=0), grid


class HistogramHistory:
    """One kind (weights or gradient) of one tensor's histograms, one row per tick or bucket, bounded.

    Row r holds its first step, how many ticks it holds, their counts summed and the edges they are on;
    rows [0, buckets) are buckets, the rest exact ticks.  Arrays grow by doubling up to ``sizes.cap``.
    ``version`` counts the folds: columns drawn before a fold must be drawn again (the old rows changed).
    """

    def __init__(self, bins: int, sizes: HistorySizes = HISTORY):
        self.bins, self.sizes = int(bins), sizes
        self.n = 0                # rows filled
        self.buckets = 0          # rows [0, buckets) are buckets
        self.width = FIRST_WIDTH  # ticks a full bucket holds
        self.version = 0          # folds so far
        self.total = 0            # ticks ever added
        self._steps = np.empty(0, np.int64)
        self._ticks = np.empty(0, np.int64)
        self._counts = np.empty((0, self.bins))
        self._edges = np.empty((0, self.bins + 1))
        self._series: tuple[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    def __len__(self) -> int:
        return self.n

    @property
    def nbytes(self) -> int:
        """Bytes of the rows' arrays (what grows with the run, and stops growing at ``sizes.cap`` rows)."""
        return sum(a.nbytes for a in (self._steps, self._ticks, self._counts, self._edges))

    @property
    def ticks(self) -> np.ndarray:
        """How many ticks each row holds (1 for an exact tick)."""
        return self._ticks[:self.n]

    def extend(self, steps: np.ndarray, counts: np.ndarray, edges: np.ndarray) -> None:
        """Ticks (m,) with their counts (m, bins) and edges (m, bins + 1), in step order; folds as it goes."""
        steps, counts, edges = np.asarray(steps, np.int64), np.asarray(counts, np.float64), np.asarray(edges, np.float64)
        limit = self.sizes.recent + self.sizes.fold
        done = 0
        while done < len(steps):
            take = min(len(steps) - done, limit - (self.n - self.buckets))
            self._reserve(self.n + take)
            rows = slice(self.n, self.n + take)
            self._steps[rows], self._ticks[rows] = steps[done:done + take], 1
            self._counts[rows], self._edges[rows] = counts[done:done + take], edges[done:done + take]
            self.n += take
            self.total += take
            done += take
            if self.n - self.buckets >= limit:
                self._fold()

    def series(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, counts, edges) of every row, oldest first: a bucket at its first step as its mean
        histogram (counts / ticks), then the exact ticks.  Each count row sums to the element count."""
        seen = (self.version, self.total)
        if self._series is None or self._series[0] != seen:
            n = self.n
            result = (self._steps[:n].copy(), self._counts[:n] / self._ticks[:n, None], self._edges[:n].copy())
            self._series = (seen, result)
        return self._series[1]

    # -- folding ------------------------------------------------------------------------------------

    def _reserve(self, rows: int) -> None:
        held = len(self._steps)
        if rows <= held:
            return
        size = min(max(rows, 2 * held, 16), self.sizes.cap)
        for name in ("_steps", "_ticks", "_counts", "_edges"):
            old = getattr(self, name)
            new = np.empty((size, *old.shape[1:]), old.dtype)
            new[:self.n] = old[:self.n]
            setattr(self, name, new)

    def _fold(self) -> None:
        """The oldest ``fold`` exact ticks into buckets (topping up a partly filled last one first), the
        exact ticks after them moved down; then halve while there are too many buckets."""
        b, k = self.buckets, self.sizes.fold
        lo, hi = b, b + k
        start = lo
        if b and self._ticks[b - 1] < self.width:
            end = min(hi, start + self.width - int(self._ticks[b - 1]))
            self._merge(b - 1, start, end)
            start = end
        groups = [(s, min(s + self.width, hi)) for s in range(start, hi, self.width)]
        for i, (s, e) in enumerate(groups):             # row b + i is written after rows >= b + i are read
            self._merge_rows(b + i, s, e)
        b += len(groups)
        tail = self.n - hi
        for a in (self._steps, self._ticks, self._counts, self._edges):
            a[b:b + tail] = a[hi:self.n]
        self.n, self.buckets = b + tail, b
        while self.buckets > self.sizes.max_buckets:
            self._halve()
        self.version += 1

    def _merge(self, row: int, start: int, end: int) -> None:
        """Rows [start, end) mixed into bucket ``row`` (they come after its ticks)."""
        rows = np.r_[row, start:end]
        self._counts[row], self._edges[row] = mixture(self._counts[rows], self._edges[rows])
        self._ticks[row] = int(self._ticks[rows].sum())

    def _merge_rows(self, row: int, start: int, end: int) -> None:
        """Rows [start, end) mixed into one bucket written at ``row`` (row <= start)."""
        counts, edges = mixture(self._counts[start:end], self._edges[start:end])
        ticks, step = int(self._ticks[start:end].sum()), int(self._steps[start])
        self._counts[row], self._edges[row], self._ticks[row], self._steps[row] = counts, edges, ticks, step

    def _halve(self) -> None:
        """Neighbouring buckets mixed pairwise: half as many, each twice as wide."""
        b = self.buckets
        pairs = b // 2
        for i in range(pairs):
            self._merge_rows(i, 2 * i, 2 * i + 2)
        kept = pairs + b % 2              # an odd last bucket stays as it is (now partly filled)
        tail = self.n - b
        for a in (self._steps, self._ticks, self._counts, self._edges):
            a[pairs:kept] = a[b - 1:b][:kept - pairs]
            a[kept:kept + tail] = a[b:self.n]
        self.n, self.buckets = kept + tail, kept
        self.width *= 2


class LayerHistory:
    """A weight tensor's histograms over training, one :class:`HistogramHistory` per :data:`KINDS` entry
    (weights, gradient, effective rate), and the newest tick as it came (the histogram plot draws its own
    bins and mean and std), with its ``||dtheta|| / ||theta||``."""

    def __init__(self, bins: int, sizes: HistorySizes = HISTORY):
        self.bins = int(bins)
        self.kinds = {kind: HistogramHistory(self.bins, sizes) for kind in KINDS}
        self.latest: dict[str, Histogram | None] = dict.fromkeys(KINDS)
        self.latest_step = 0
        self.update_ratio: float | None = None
        self.zero_grad: float | None = None        # the newest tick's share of exactly-0 gradients

    def add(self, ticks: list[tuple[int, Histogram, Histogram | None]]
            | list[tuple[int, Histogram, Histogram | None, Histogram | None]]) -> None:
        """``ticks`` (step, weight histogram, gradient histogram or None[, rate histogram or None]), in step
        order: one extend a kind."""
        if not ticks:
            return
        rows = [(*t, None)[:4] for t in ticks]
        for which, kind in enumerate(KINDS, start=1):
            had = [(r[0], r[which]) for r in rows if r[which] is not None]
            if had:
                fitted = [self._fit(h) for _, h in had]
                self.kinds[kind].extend(np.array([s for s, _ in had], np.int64),
                                        np.stack([c for c, _ in fitted]), np.stack([e for _, e in fitted]))
        step, *latest = rows[-1]
        self.latest = dict(zip(KINDS, latest))
        self.latest_step = step

    def _fit(self, h: Histogram) -> tuple[np.ndarray, np.ndarray]:
        """The histogram with ``self.bins`` bins (the engine always sends the same count; rebin if not)."""
        counts, edges = np.asarray(h.counts, np.float64), np.asarray(h.edges, np.float64)
        if len(counts) != self.bins:
            own = np.linspace(edges[0], edges[-1], self.bins + 1)
            counts, edges = rebin(counts[None], edges[None], own)[0], own
        return counts, edges

    def series(self, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.kinds[kind].series()

    def version(self, kind: str) -> int:
        return self.kinds[kind].version

    @property
    def nbytes(self) -> int:
        return sum(h.nbytes for h in self.kinds.values())
