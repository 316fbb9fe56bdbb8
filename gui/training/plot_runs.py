"""One run as the training plots hold it: its points, its curves, its clip line and its divergence marks.

The points (:class:`~gui.training.columns.RunPoints`) are the whole run, smoothed loss included (the
last 65,536 of each table at full resolution, older ones as a min/max envelope); a
curve draws a column of them (:data:`~gui.training.plot_series.SERIES`), in the x unit asked for,
and a diverged run's curves only up to where it left the plot (``cuts``, set by
:class:`~gui.training.divergence_marks.DivergenceMarks`).  Its evaluation points (train set filled,
val set open) take the run's marker (:func:`~gui.style.palette.run_marker_of` its colour), so runs
stay apart in grey.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from engine.status import RunStatus
from gui.style.palette import RunMarker, run_marker_of
from gui.training.columns import RunPoints
from gui.training.plot_series import SERIES_BY_KEY, SeriesInfo
from gui.widgets.plotting import ChunkedCurve

EVAL_STYLES = ("train", "val")     # the curve styles with a marker per point: the evaluations


@dataclass
class PlottedRun:
    run_id: str
    name: str
    color: QColor
    points: RunPoints = field(default_factory=RunPoints)
    visible: bool = True
    curves: dict[tuple[str, str], ChunkedCurve] = field(default_factory=dict)
    clip_value: float | None = None
    clip_line: pg.InfiniteLine | None = None
    status: str = RunStatus.QUEUED
    peaks: dict[str, float] = field(default_factory=dict)     # capped plot -> largest finite value held
    cuts: dict[str, tuple[float, int]] = field(default_factory=dict)  # capped plot -> (limit, first step not drawn)
    kept_peaks: dict[str, float] = field(default_factory=dict)  # capped plot -> largest value drawn (diverged)
    marks: dict[str, pg.PlotDataItem] = field(default_factory=dict)
    members: int = 1          # train.seeds: its curves are the members' mean when > 1 (gui.training.plot_bands)

    @property
    def marker(self) -> RunMarker:
        return run_marker_of(self.color)

    def mark_evaluations(self) -> None:
        """The run's marker on its evaluation curves' points.

        A curve's look (:func:`~gui.widgets.plotting.curve_style`) gives every evaluation curve a circle,
        again whenever it is restyled; so after each drawing (and each legend update, which follows a
        restyle) the points get the run's shape back.  Only where markers are drawn (a curve with
        thousands of evaluations has none), and only when they differ: re-setting a symbol redraws it.
        """
        symbol = self.marker.symbol
        for key, curve in self.curves.items():
            if SERIES_BY_KEY[key].style in EVAL_STYLES:
                for item in curve.items:
                    if item.opts["symbol"] not in (None, symbol):
                        item.setSymbol(symbol)

    @property
    def diverged(self) -> bool:
        return self.status == RunStatus.DIVERGED

    def xy(self, info: SeriesInfo, x_axis: str, drawn: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The curve's points, x in ``x_axis``; ``drawn``: a diverged run's only up to where it left the plot."""
        table = self.points.table(info.table)
        x, y = table[x_axis], table[info.column]
        cut = self.cuts.get(info.plot) if drawn else None
        if cut is not None:
            n = int(np.searchsorted(table["step"], cut[1]))
            x, y = x[:n], y[:n]
        return x, y

    def draw(self, key: tuple[str, str], x_axis: str) -> None:
        """One curve brought up to date: only its new points, or all of them when its table folded."""
        info = SERIES_BY_KEY[key]
        self.curves[key].update(*self.xy(info, x_axis), version=self.points.table(info.table).version)
        if info.style in EVAL_STYLES:
            self.mark_evaluations()

    def redraw(self, x_axis: str, plot: str | None = None) -> None:
        """Every curve of the run drawn again from its points (only those of ``plot`` if given)."""
        for key, curve in self.curves.items():
            if plot is None or key[0] == plot:
                info = SERIES_BY_KEY[key]
                curve.reset(*self.xy(info, x_axis), version=self.points.table(info.table).version)
        self.mark_evaluations()
