"""Seed bands: a multi-seed run's curves drawn as their mean with a translucent band of its members.

A run of ``train.seeds: K`` sends each banded series as the members' mean (drawn as the curve, as for one
run) and a :class:`~engine.training.updates.Spread` per series.  Here each curve with a spread gets a band
in the run's colour between the members' minimum and maximum, or, with the ``"middle"`` kind, between
their 25th and 75th percentiles (the middle half).  Two runs' bands then either separate or overlap, and
the class sees whether a difference between two optimizers is larger than the seed's.

A band never disagrees with its curve: its edges are held in the same bounded tables
(:class:`~engine.training.reservoir.BoundedColumns`, appended in the same batches, so they fold into the
same buckets at the same rows), drawn in the same x unit, cut where a diverged run's curve is cut, and the
smoothed loss's band is the same debiased EMA (``engine.smoothing.debiased_ema``, weight w) of each edge:
``edge_t = (w * avg_{t-1} + (1 - w) * v_t) / (1 - w**t)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from engine.smoothing import debiased_ema
from engine.training.reservoir import BoundedColumns
from engine.training.updates import EVAL_BANDS, STEP_BANDS, RunUpdate
from gui.style.palette import with_alpha

BAND_ALPHA = 56     # ~0.22 opacity: two runs' bands overlap visibly, on a light or a dark background
BAND_KINDS: dict[str, tuple[str, str, str]] = {   # kind -> (lower edge, upper edge, what the controls say)
    "range": ("minimum", "maximum", "band: min\u2013max"),
    "middle": ("q25", "q75", "band: middle half"),
}
EDGES = ("minimum", "maximum", "q25", "q75")
CLEAR_PEN = pg.mkPen((0, 0, 0, 0))


@dataclass(frozen=True)
class BandInfo:
    """Which curve a band belongs to and where its edges come from: ``field`` of the ``table`` spreads."""
    plot: str
    series: str
    table: str          # "steps" or "evals"
    field: str          # a StepSeries / EvalSeries field with a Spread
    smoothed: bool = False


BANDS: tuple[BandInfo, ...] = (
    BandInfo("loss", "smoothed", "steps", "loss", smoothed=True),
    BandInfo("loss", "train", "evals", "train_loss"),
    BandInfo("loss", "val", "evals", "val_loss"),
    BandInfo("accuracy", "train", "evals", "train_acc"),
    BandInfo("accuracy", "val", "evals", "val_acc"),
    BandInfo("grad_norm", "grad_norm", "steps", "grad_norm"),
)


def _edge_columns(fields: tuple[str, ...]) -> dict[str, type]:
    return {f"{f}_{e}": np.float64 for f in fields for e in EDGES}


class RunBands:
    """One multi-seed run's band edges (bounded like its points) and the items drawing them."""

    def __init__(self, plots: dict[str, pg.PlotItem], color: QColor, visible: bool = True):
        self.steps = BoundedColumns(step=np.int64, epoch=np.float64, **_edge_columns(STEP_BANDS))
        self.evals = BoundedColumns(step=np.int64, epoch=np.float64, **_edge_columns(EVAL_BANDS))
        self._plots = plots
        self.items: dict[tuple[str, str], tuple[pg.PlotDataItem, pg.PlotDataItem, pg.FillBetweenItem]] = {}
        for band in BANDS:
            # edges drawn with a clear pen, not none: a PlotDataItem without a pen builds no path, and
            # the fill between two empty paths is empty (the band was never seen)
            lower, upper = pg.PlotDataItem(pen=CLEAR_PEN), pg.PlotDataItem(pen=CLEAR_PEN)
            fill = pg.FillBetweenItem(lower, upper, brush=pg.mkBrush(with_alpha(color, BAND_ALPHA)))
            fill.setZValue(-1)          # under every curve
            for item in (lower, upper, fill):
                plots[band.plot].addItem(item)
                item.setVisible(visible)
            self.items[(band.plot, band.series)] = (lower, upper, fill)

    def clear(self) -> None:
        self.steps.clear()
        self.evals.clear()

    def extend(self, update: RunUpdate) -> set[str]:
        """Hold the update's spreads; the tables that grew (none for a one-seed update)."""
        grown = set()
        for name, series, spreads, fields in (("steps", update.steps, update.step_spread, STEP_BANDS),
                                              ("evals", update.evals, update.eval_spread, EVAL_BANDS)):
            if not len(series) or not spreads:
                continue
            cols = {f"{f}_{e}": (getattr(spreads[f], e) if f in spreads else np.full(len(series), np.nan))
                    for f in fields for e in EDGES}
            getattr(self, name).extend(step=series.step, epoch=series.epoch, **cols)
            grown.add(name)
        return grown

    def edges(self, band: BandInfo, kind: str, x_axis: str, smoothing: float,
              cut_step: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x (in ``x_axis``), lower and upper edge of one band, as its curve is drawn."""
        table = getattr(self, band.table)
        low, high = BAND_KINDS[kind][:2]
        x, lo, hi = table[x_axis], table[f"{band.field}_{low}"], table[f"{band.field}_{high}"]
        if band.smoothed:
            lo, hi = debiased_ema(lo, smoothing, 0.0, 0)[0], debiased_ema(hi, smoothing, 0.0, 0)[0]
        if cut_step is not None:
            n = int(np.searchsorted(table["step"], cut_step))
            x, lo, hi = x[:n], lo[:n], hi[:n]
        return np.array(x, dtype=np.float64), np.array(lo), np.array(hi)

    def draw(self, band: BandInfo, kind: str, x_axis: str, smoothing: float, cut_step: int | None) -> None:
        x, lo, hi = self.edges(band, kind, x_axis, smoothing, cut_step)
        lower, upper, _ = self.items[(band.plot, band.series)]
        finite = np.isfinite(lo) & np.isfinite(hi)
        lower.setData(x[finite], lo[finite])
        upper.setData(x[finite], hi[finite])

    def set_visible(self, visible: bool) -> None:
        for trio in self.items.values():
            for item in trio:
                item.setVisible(visible)

    def restyle(self, color: QColor) -> None:
        for _, _, fill in self.items.values():
            fill.setBrush(pg.mkBrush(with_alpha(color, BAND_ALPHA)))

    def remove(self) -> None:
        for (plot, _), trio in self.items.items():
            for item in trio:
                self._plots[plot].removeItem(item)
        self.items.clear()
