"""The LR finder tab's plot: the sweep's loss against the rate, the four suggestions, the check runs.

Drawing only: the tab (``gui/labs/finder/__init__.py``) decides what to show and hands it over.  The
x axis is the rate on a log scale; y is the loss, optionally on a log scale too (the check runs of the
failing preset end far below the sweep's curve).
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from engine.labs.lrfinder import SUGGESTION_NAMES, FinderSettings, format_lr
from gui.style.palette import MARK_FILL, RUN_COLORS, with_alpha
from gui.widgets.plotting import set_title

CURVE_COLOR = RUN_COLORS[0]
CHECK_COLOR = RUN_COLORS[1]
DIVERGED_COLOR = RUN_COLORS[5]
MARK_COLORS = {"valley": RUN_COLORS[2], "slide": RUN_COLORS[4], "minimum": RUN_COLORS[7], "steep": RUN_COLORS[6]}
MARK_SYMBOLS = {"valley": "o", "slide": "t", "minimum": "s", "steep": "d"}
LEGEND_OFFSET = (10, 5)        # the legend's place from the view's top left corner, px
LEGEND_GAP = 3                 # px between a legend entry's columns (pyqtgraph's own spacing)
MAX_LEGEND_COLUMNS = 4


class FinderPlot:
    """The plot widget (``widget``) and its items."""

    def __init__(self) -> None:
        self._fitted: tuple | None = None          # what fit() last fitted the view to
        self.widget = pg.PlotWidget()
        item = self.widget.getPlotItem()
        set_title(item, "Loss vs learning rate")
        item.setLabel("bottom", "learning rate (log scale)")
        item.setLabel("left", "loss (cross-entropy)")
        item.setLogMode(x=True, y=False)
        item.showGrid(x=True, y=True, alpha=0.25)
        self.legend = item.addLegend(offset=LEGEND_OFFSET, colCount=4)
        self.raw_curve = item.plot([], [], pen=pg.mkPen(with_alpha(CURVE_COLOR, 70), width=1), name="batch loss")
        self.smooth_curve = item.plot([], [], pen=pg.mkPen(CURVE_COLOR, width=2.5), name="smoothed loss")
        self.marks = {name: item.plot([], [], pen=None, symbol=MARK_SYMBOLS[name], symbolSize=11,
                                      symbolBrush=pg.mkBrush(MARK_COLORS[name]), symbolPen=pg.mkPen(MARK_FILL),
                                      name=name)
                      for name in SUGGESTION_NAMES}
        self.check_scatter = item.plot([], [], pen=pg.mkPen(with_alpha(CHECK_COLOR, 140), width=1,
                                                            style=Qt.PenStyle.DashLine),
                                       symbol="o", symbolSize=9, symbolBrush=pg.mkBrush(CHECK_COLOR),
                                       symbolPen=pg.mkPen(CHECK_COLOR), name="check: final val loss")
        self.diverged_scatter = item.plot([], [], pen=None, symbol="x", symbolSize=13,
                                          symbolBrush=pg.mkBrush(DIVERGED_COLOR), symbolPen=pg.mkPen(DIVERGED_COLOR),
                                          name="check: diverged")
        self.pick_line = pg.InfiniteLine(angle=90, movable=False,
                                         pen=pg.mkPen(MARK_COLORS["valley"], width=1.5, style=Qt.PenStyle.DashLine))
        self.pick_line.setVisible(False)
        item.addItem(self.pick_line, ignoreBounds=True)
        self.pick_text = pg.TextItem("", anchor=(0, 1), color=MARK_COLORS["valley"])
        self.pick_text.setVisible(False)
        item.addItem(self.pick_text, ignoreBounds=True)
        item.getViewBox().sigResized.connect(self.fit_legend)
        self.widget.setToolTip("Bold: the smoothed loss of the sweep. Marks: the four suggestions. "
                               "Orange dots: each check run's final validation loss at its rate.")

    def fit_legend(self, *_args) -> None:
        """As many legend columns as fit the view's width (four at the desk, two on a 1024x768 projector).

        Entries fill rows left to right, so with ``n`` columns column ``j`` holds entries ``j, j+n, ...``
        and is as wide as its widest; the legend fits when the columns and the offset on both sides do.
        """
        legend = self.legend
        entries = [sample.boundingRect().width() + label.itemRect().width() + 2 * LEGEND_GAP
                   for sample, label in legend.items]
        if not entries:
            return
        room = self.widget.getPlotItem().getViewBox().width() - 2 * LEGEND_OFFSET[0]
        columns = 1
        for n in range(min(MAX_LEGEND_COLUMNS, len(entries)), 0, -1):
            if sum(max(entries[j::n]) for j in range(n)) <= room:
                columns = n
                break
        if columns != legend.columnCount:
            legend.setColumnCount(columns)
            if self._fitted is not None:
                self.fit(*self._fitted)          # the headroom of the legend's new number of rows

    def draw_curve(self, curve) -> None:
        if curve is None or len(curve.lrs) == 0:
            self.raw_curve.setData([], [])
            self.smooth_curve.setData([], [])
            return
        self.raw_curve.setData(np.asarray(curve.lrs), np.nan_to_num(curve.losses, nan=0.0, posinf=0.0))
        self.smooth_curve.setData(np.asarray(curve.lrs), np.nan_to_num(curve.smoothed, nan=0.0, posinf=0.0))

    def set_log_y(self, on: bool) -> None:
        self.widget.getPlotItem().setLogMode(x=True, y=on)

    @staticmethod
    def _y(loss: float, log_y: bool) -> float:
        """A loss in the view's coordinates (log10 when the loss axis is logarithmic)."""
        return math.log10(max(loss, 1e-12)) if log_y else loss

    def fit(self, curve, settings: FinderSettings, check_points, log_y: bool) -> None:
        """x: the whole planned sweep; y: the smoothed curve up to its stop factor times its best (the
        blow-up clips) and the checks, with headroom above them for the legend.

        The legend takes a share ``f`` of the view's height at its top, so the data's span ``s`` gets a
        range of ``s / (1 - f)``: the curve ends just under the legend, however many rows it has.
        """
        self._fitted = (curve, settings, check_points, log_y)
        view = self.widget.getPlotItem()
        view.setXRange(math.log10(settings.start_lr), math.log10(settings.end_lr), padding=0.02)
        values = [] if curve is None else list(np.asarray(curve.smoothed)[np.isfinite(curve.smoothed)])
        checks = [p.val_loss for p in check_points if math.isfinite(p.val_loss)]
        if not values and not checks:
            return
        top = min(max(values), settings.stop_factor * min(values)) if values else max(checks)
        top = max([top] + checks) * 1.12
        room = 1.0 - self._legend_share()
        if log_y:
            low = math.log10(max(min(values + checks), 1e-12)) - 0.15
            view.setYRange(low, low + (math.log10(top) - low) / room, padding=0)
        else:
            view.setYRange(0, top / room, padding=0)

    def _legend_share(self) -> float:
        """The share of the view's height the legend covers (at least 0.13, at most a half)."""
        height = self.widget.getPlotItem().getViewBox().height()
        if height <= 0 or not self.legend.items:
            return 0.13
        return min(0.5, max(0.13, (self.legend.boundingRect().height() + LEGEND_OFFSET[1] + 4) / height))

    def draw_marks(self, result, pick, log_y: bool) -> None:
        """The four suggestions' marks, and the picked one's line and label."""
        for name, mark in self.marks.items():
            s = result.suggestion(name) if result is not None else None
            mark.setData([s.mark_lr] if s else [], [s.mark_loss] if s else [])
        if pick is None:
            self.pick_line.setVisible(False)
            self.pick_text.setVisible(False)
            return
        color = MARK_COLORS[pick.name]
        self.pick_line.setPen(pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine))
        self.pick_line.setValue(math.log10(pick.lr))
        self.pick_line.setVisible(True)
        self.pick_text.setColor(color)
        self.pick_text.setText(f" {pick.name}: lr {format_lr(pick.lr)}")
        self.pick_text.setPos(math.log10(pick.lr), self._y(pick.mark_loss, log_y))
        self.pick_text.setVisible(True)

    def draw_checks(self, check_points, log_y: bool) -> None:
        """Each check run's final validation loss at its rate; a diverged one as an x at the top edge."""
        ok = [p for p in check_points if math.isfinite(p.val_loss)]
        bad = [p for p in check_points if not math.isfinite(p.val_loss)]
        self.check_scatter.setData([p.lr for p in ok], [p.val_loss for p in ok])
        top = self.widget.getPlotItem().getViewBox().viewRange()[1][1]
        edge = 10 ** (top - 0.03) if log_y else top * 0.97
        self.diverged_scatter.setData([p.lr for p in bad], [edge] * len(bad))
