"""The four training curves (loss, accuracy, learning rate, gradient norm) of every run, drawn live.

What each plot teaches:

* **Loss** - the mini-batch loss is noisy because each step sees a different
  batch; it is drawn faint, with its smoothed trend solid on top, and the loss
  on the *full* training and validation sets at each evaluation as lines with
  markers.  The gap between train and val is overfitting, seen as it opens.
* **Accuracy** - on the full training and validation sets, at each evaluation.
* **Learning rate** - what the schedule did, step by step (warm-up, decay).
* **Gradient norm** - the global L2 norm before clipping; red dots mark the
  steps grad_clip scaled down, and the clip threshold is a dashed line.

Cost: a view receives a :class:`~engine.training.updates.RunUpdate` 20-30 times a second
per run.  Points are kept in columns that double when full (``gui.training.columns``:
appending m points costs O(m) amortized, the smoothing is continued from its saved
state), and each curve is a :class:`~gui.widgets.plotting.ChunkedCurve`: consecutive
chunks of at most ``CHUNK`` points, of which only the last, growing one is ever set
again, each drawn downsampled to the screen and clipped to the view, so a
million-step run stays smooth.

This module holds what is drawn (``SERIES``, ``PLOTS``), the controls row above the
plots (:class:`PlotControls`) and the view (:class:`MetricPlots`).
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGraphicsItem,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from engine.status import RunStatus
from engine.training.updates import RunUpdate
from gui.style.palette import CLIPPED_MARK, NEUTRAL, with_alpha
from gui.training.columns import GrowingColumns, RunPoints
from gui.widgets.plotting import (
    CHUNK,
    GLYPHS,
    ChunkedCurve,
    LegendRow,
    LogFriendlyAxis,
    ThemedPlotWidget,
    label_size,
    legend_glyph_html,
    no_si_prefix,
    plain_text,
    set_title,
    unique_entries,
)

# CHUNK, GrowingColumns and the plot pieces are re-exported: other views imported them from here
# before they had their own modules (gui.widgets.plotting, gui.training.columns).
__all__ = ["CHUNK", "DEFAULT_LINE_WIDTH", "DEFAULT_SMOOTHING", "EVAL_SYMBOL_LIMIT", "MAX_SMOOTHING", "PLOTS",
           "SERIES", "X_AXES", "GrowingColumns", "LogFriendlyAxis", "MetricPlots", "PlotControls", "PlotInfo",
           "SeriesInfo", "ThemedPlotWidget", "no_si_prefix", "set_title"]

X_AXES = ("step", "epoch")
DEFAULT_SMOOTHING = 0.6
MAX_SMOOTHING = 0.99
DEFAULT_LINE_WIDTH = 1.5
EVAL_SYMBOL_LIMIT = 200     # evaluation markers are drawn while a run has at most this many evaluations
KEY_FAINT_ALPHA = 110       # opacity of the mini-batch entry of the legend (a little stronger, to be read)
HEADROOM = 2.0              # a diverged run is drawn while it stays below this many times the healthy runs' peak
X_STOPS = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)   # the x range ends at one of these x 10^k (a few a decade)
DIVERGED_SYMBOL = "t1"      # a triangle pointing up: the run went off the top here


# -- what is drawn ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SeriesInfo:
    """One curve of a run: where its points come from and how it looks.

    ``table`` is ``steps`` (one point per optimizer step), ``evals`` (one per
    evaluation on the full sets) or ``clips`` (the clipped steps only), a table
    of :class:`~gui.training.columns.RunPoints`; ``column`` the y values;
    ``style`` a :func:`~gui.widgets.plotting.curve_style`; ``color`` a colour of its
    own, or None for the run's.
    """
    plot: str
    name: str
    table: str
    column: str
    style: str
    z: float
    color: str | None = None

    def color_of(self, run_color: QColor) -> QColor:
        return run_color if self.color is None else QColor(self.color)


SERIES: tuple[SeriesInfo, ...] = (
    SeriesInfo("loss", "batch", "steps", "loss", "faint", 0),
    SeriesInfo("loss", "smoothed", "steps", "ema", "solid", 1),
    SeriesInfo("loss", "train", "evals", "train_loss", "train", 2),
    SeriesInfo("loss", "val", "evals", "val_loss", "val", 2),
    SeriesInfo("accuracy", "train", "evals", "train_acc", "train", 2),
    SeriesInfo("accuracy", "val", "evals", "val_acc", "val", 2),
    SeriesInfo("lr", "lr", "steps", "lr", "solid", 1),
    SeriesInfo("grad_norm", "grad_norm", "steps", "grad_norm", "solid", 1),
    SeriesInfo("grad_norm", "clipped", "clips", "grad_norm", "marks", 3, CLIPPED_MARK),
)
_SERIES = {(s.plot, s.name): s for s in SERIES}


@dataclass(frozen=True)
class PlotInfo:
    key: str
    title: str
    y_label: str
    legend_style: str      # how the run's entry in the legend is drawn
    key_entries: str       # HTML after the runs: what each line style means


def _keys(*entries: tuple[QColor | str, str, str]) -> str:
    return " &nbsp;".join(legend_glyph_html(color, GLYPHS[glyph], text) for color, glyph, text in entries)


PLOTS: tuple[PlotInfo, ...] = (
    PlotInfo("loss", "Loss", "cross-entropy", "solid",
             _keys((with_alpha(QColor(NEUTRAL), KEY_FAINT_ALPHA), "solid", "mini-batch"), (NEUTRAL, "solid", "smoothed"),
                   (NEUTRAL, "train", "train set"), (NEUTRAL, "val", "val set"))),
    PlotInfo("accuracy", "Accuracy", "fraction correct", "train",
             _keys((NEUTRAL, "train", "train set"), (NEUTRAL, "val", "val set"))),
    PlotInfo("lr", "Learning rate", "learning rate", "solid", ""),
    PlotInfo("grad_norm", "Gradient norm", "L2 norm (pre-clip)", "solid",
             _keys((CLIPPED_MARK, "dot", "clipped step"), (NEUTRAL, "dash", "clip threshold"))),
)


@dataclass
class _Run:
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

    @property
    def diverged(self) -> bool:
        return self.status == RunStatus.DIVERGED


# The plots a diverged run must not flatten, and the values (table, column) each one draws.
CAPPED: dict[str, tuple[tuple[str, str], ...]] = {
    "loss": (("steps", "loss"), ("evals", "train_loss"), ("evals", "val_loss")),
    "grad_norm": (("steps", "grad_norm"),),
}


def _finite_max(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if len(finite) else -math.inf


def x_stop_above(x: float) -> float:
    """The smallest ``X_STOPS[i] x 10^k`` above ``x`` (> 0): where the x range ends while runs take steps.

    Growing the range by stops instead of with every update keeps the axes still between stops (an axis
    laid out again on every update was most of a redraw, see ``set_planned_extent``): about eight
    relayouts a decade of steps, and the curves always fill more than half of the width.
    """
    if x <= 0:
        return 1.0
    decade = 10.0 ** math.floor(math.log10(x))
    for factor in (*X_STOPS, 10.0):
        if factor * decade > x * (1 + 1e-12):
            return factor * decade
    return 10.0 * decade


class _AlignedAxis(LogFriendlyAxis):
    """A left axis as wide as the widest of its group, so the plots of a column start at the same pixel.

    pyqtgraph lines linked views up by their screen position: a plot with wider tick labels (the learning
    rate's "1e-05") had a narrower view box, and its x range started at step ~147 instead of 0.
    """

    def __init__(self, group: list[_AlignedAxis]):
        self._group: list[_AlignedAxis] = []      # the base class sizes itself before it is filled in
        self._natural = 0.0
        super().__init__("left")
        self._group = group
        group.append(self)

    def _updateWidth(self) -> None:
        super()._updateWidth()
        self._natural = self.minimumWidth()
        width = max((axis._natural for axis in self._group), default=self._natural)
        for axis in self._group:
            if axis.minimumWidth() != width or axis.maximumWidth() != width:
                axis.setMinimumWidth(width)
                axis.setMaximumWidth(width)


# -- the controls row -------------------------------------------------------------------------------

class PlotControls(QWidget):
    """The row above the plots: the smoothing slider, the log-loss box and the x-axis choice.

    It only asks (its signals); :class:`MetricPlots` decides and shows the result here with the
    ``show_*`` methods, which emit nothing, so a setting changed from Python and one changed by a
    click end the same way.
    """
    smoothing_requested = Signal(float)
    log_requested = Signal(bool)
    x_axis_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, round(MAX_SMOOTHING * 100))
        self.slider.setValue(round(DEFAULT_SMOOTHING * 100))
        self.slider.setMinimumWidth(40)     # shrinks first, so the window fits a 1024-pixel projector
        self.slider.setMaximumWidth(160)
        self.slider.setToolTip("Weight w of the exponential moving average drawn over the mini-batch loss: "
                               "0 shows the raw loss, 0.99 averages over about 100 steps.")
        self.smoothing_label = QLabel()
        # always "0.00"-shaped: its own text width is its minimum, in any font size
        self.log_box = QCheckBox("log loss")
        self.log_box.setToolTip("Logarithmic y axis on the loss plot: equal ratios look equal, so late "
                                "progress stays visible.")
        self.x_combo = QComboBox()
        for axis in X_AXES:                 # "x: step" needs no label beside it: narrower on a projector
            self.x_combo.addItem(f"x: {axis}", axis)
        self.x_combo.setToolTip("What the shared x axis counts: optimizer steps or passes over the training set.")
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(60)   # while the slider is dragged, recompute once it rests
        self._debounce.timeout.connect(self._slider_rested)
        self.slider.valueChanged.connect(self._on_slider)
        self.log_box.toggled.connect(self.log_requested)
        self.x_combo.currentIndexChanged.connect(self._on_x_combo)

        bar = QHBoxLayout(self)
        bar.setContentsMargins(2, 2, 2, 2)
        bar.addWidget(QLabel("Smoothing"))
        bar.addWidget(self.slider)
        bar.addWidget(self.smoothing_label)
        bar.addSpacing(3)
        bar.addWidget(self.log_box)
        bar.addSpacing(3)
        bar.addWidget(self.x_combo)
        bar.addStretch(1)
        self.show_smoothing(DEFAULT_SMOOTHING)
        self._fit_x_combo()

    def show_smoothing(self, weight: float) -> None:
        self._debounce.stop()
        if round(weight * 100) != self.slider.value():
            self.slider.blockSignals(True)
            self.slider.setValue(round(weight * 100))
            self.slider.blockSignals(False)
        self.smoothing_label.setText(f"{weight:.2f}")

    @Slot(bool)
    def show_log(self, on: bool) -> None:
        if self.log_box.isChecked() != on:
            self.log_box.blockSignals(True)
            self.log_box.setChecked(on)
            self.log_box.blockSignals(False)

    def show_x_axis(self, axis: str) -> None:
        if self.x_combo.currentData() != axis:
            self.x_combo.blockSignals(True)
            self.x_combo.setCurrentIndex(self.x_combo.findData(axis))
            self.x_combo.blockSignals(False)

    @Slot(int)
    def _on_slider(self, value: int) -> None:
        self.smoothing_label.setText(f"{value / 100:.2f}")
        self._debounce.start()

    @Slot()
    def _slider_rested(self) -> None:
        self.smoothing_requested.emit(self.slider.value() / 100)

    @Slot(int)
    def _on_x_combo(self, index: int) -> None:
        self.x_axis_requested.emit(self.x_combo.itemData(index))

    def _fit_x_combo(self) -> None:
        """Room for "x: epoch" in the current font: a combo sizes itself once, at its first show, so in
        presenter mode's larger type it would cut its own text."""
        self.x_combo.setMinimumWidth(self.x_combo.fontMetrics().horizontalAdvance("x: epoch") + 30)

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.FontChange:
            self._fit_x_combo()
        super().changeEvent(event)


# -- the view ---------------------------------------------------------------------------------------

class MetricPlots(QWidget):
    """Loss, accuracy, learning rate and gradient norm of every run, sharing one x axis.

    Drive it from Python as the window does: ``add_run``, then ``append`` each
    :class:`~engine.training.updates.RunUpdate`; the controls row asks for the same
    setters (``set_smoothing``, ``set_log_loss``, ``set_x_axis``).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._runs: dict[str, _Run] = {}
        self._pending: dict[str, set[tuple[str, tuple[str, str]]]] = {}   # plot -> (run id, curve key) to draw
        self._x_axis = "step"
        self._smoothing = DEFAULT_SMOOTHING
        self._width = DEFAULT_LINE_WIDTH
        self._planned: dict[str, float] = {}
        self._x_end: float | None = None          # where the x range ends now (None: not set yet)
        self._linking = False
        self._left_axes: list[_AlignedAxis] = []

        self.controls = PlotControls()
        self.controls.smoothing_requested.connect(self.set_smoothing)
        self.controls.log_requested.connect(self.set_log_loss)
        self.controls.x_axis_requested.connect(self.set_x_axis)

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        self._widgets: dict[str, pg.PlotWidget] = {}
        self._legends: dict[str, LegendRow] = {}
        for index, info in enumerate(PLOTS):
            widget = ThemedPlotWidget(axisItems={"left": _AlignedAxis(self._left_axes)})
            item = widget.getPlotItem()
            widget.setToolTip(f"{info.title}: {info.y_label}")   # the title says what is plotted; no y label to clip
            no_si_prefix(item)
            item.showGrid(y=True, alpha=0.15)    # a grid redraws on every range change: ~7 ms a plot with both
            legend = LegendRow()
            item.layout.addItem(legend, 4, 1)    # a row below the x axis: never over a curve, and exported with the plot
            legend.set_collapsed(True)              # shown in exports only: the window has one legend for all
            self._legends[info.key] = legend
            self._widgets[info.key] = widget
            widget.background_changed.connect(self._restyle_soon)
            grid.addWidget(widget, index // 2, index % 2)
        self._set_up_axes()

        # The runs' colours, once for all four plots (the same colour is the same run in each).
        self._run_legend = QLabel(" ")
        self._run_legend.setWordWrap(True)
        self._run_legend.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._run_legend.setTextFormat(Qt.TextFormat.RichText)
        self._run_legend.setMinimumWidth(80)   # wraps instead of widening the window

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.controls)
        layout.addWidget(self._run_legend)
        layout.addLayout(grid, 1)
        self._restyle_timer = QTimer(self)
        self._restyle_timer.setSingleShot(True)
        self._restyle_timer.setInterval(0)
        self._restyle_timer.timeout.connect(self._restyle_labels)
        self._update_x_labels()
        self._restyle_labels()

    def _set_up_axes(self) -> None:
        """One shared x axis; each plot's y axis as its quantity reads best; axes cached as pixmaps.

        The x ranges are linked by value (:meth:`_follow_x`), not with pyqtgraph's ``setXLink``, which
        lines views up by screen position and so shifts a plot whose axis is wider.
        """
        loss = self._widgets["loss"].getPlotItem()
        for key, widget in self._widgets.items():
            plot = widget.getPlotItem()
            plot.getViewBox().sigXRangeChanged.connect(self._follow_x)
            plot.setDownsampling(auto=True, mode="peak")   # the context menu shows what the curves do
            plot.setClipToView(True)
            for name in ("left", "bottom"):
                # Axes (and the grid, which the left axis draws) are replayed from a QPicture on every
                # paint: measured, that was the largest cost of a redraw.  Cached as a pixmap, they
                # are blitted instead, and redrawn only when their range or look changes.
                plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            if key == "accuracy":
                plot.setYRange(0.0, 1.0, padding=0.05)   # 0..1 always: chance level and 100% stay in place
            elif key == "lr":
                # Rates are always > 0 and schedules span decades (one-cycle ends 250,000x below its
                # peak); on a log axis a constant rate also gets a readable range around its value.
                plot.setLogMode(y=True)
                plot.getViewBox().setAutoVisible(y=True)
            else:
                plot.getViewBox().setAutoVisible(y=True)  # zooming into x rescales y to what is shown
        # the loss plot's own context menu can switch log mode too; keep the checkbox in step
        loss.ctrl.logYCheck.toggled.connect(self.controls.show_log)

    # -- runs -------------------------------------------------------------------------------------

    def add_run(self, run_id: str, name: str, color: QColor) -> None:
        if run_id in self._runs:
            raise ValueError(f"run {run_id!r} is already plotted")
        run = _Run(run_id, name, QColor(color))
        for info in SERIES:
            run.curves[(info.plot, info.name)] = ChunkedCurve(self._widgets[info.plot].getPlotItem(), info.style,
                                                              info.color_of(run.color), self._width, info.z, run.visible)
        self._runs[run_id] = run
        self._update_legends()

    def remove_run(self, run_id: str) -> None:
        run = self._runs.pop(run_id, None)
        if run is None:
            return
        for curve in run.curves.values():
            curve.remove()
        if run.clip_line is not None:
            self._widgets["grad_norm"].getPlotItem().removeItem(run.clip_line)
        self._drop_marks(run)
        self._review_divergence()
        self._extend_x()
        self._update_legends()

    def clear_run(self, run_id: str) -> None:
        """Forget the run's points (it restarts); its curves, colour and clip line stay."""
        run = self._runs[run_id]
        run.points.clear()
        run.status = RunStatus.QUEUED
        run.peaks.clear()
        self._drop_marks(run)
        for key, curve in run.curves.items():
            curve.set_symbols(True)
            curve.reset(*self._xy(run, _SERIES[key]))
        self._review_divergence()
        self._update_legends()

    def set_run_visible(self, run_id: str, visible: bool) -> None:
        run = self._runs[run_id]
        run.visible = bool(visible)
        for curve in run.curves.values():
            curve.set_visible(run.visible)
        if run.clip_line is not None:
            run.clip_line.setVisible(run.visible)
        for mark in run.marks.values():
            mark.setVisible(run.visible)
        self._update_legends()

    def rename_run(self, run_id: str, name: str) -> None:
        self._runs[run_id].name = name
        self._update_legends()

    def set_clip_threshold(self, run_id: str, value: float | None) -> None:
        """Draw the run's grad_clip as a dashed horizontal line in its colour (None removes it)."""
        run = self._runs[run_id]
        plot = self._widgets["grad_norm"].getPlotItem()
        run.clip_value = None if value is None else float(value)
        if run.clip_value is None:
            if run.clip_line is not None:
                plot.removeItem(run.clip_line)
                run.clip_line = None
            return
        if run.clip_line is None:
            run.clip_line = pg.InfiniteLine(angle=0, movable=False)
            run.clip_line.setZValue(4)
            plot.addItem(run.clip_line)
        run.clip_line.setPos(run.clip_value)
        run.clip_line.setPen(self._clip_pen(run))
        run.clip_line.setVisible(run.visible)

    def _clip_pen(self, run: _Run):
        return pg.mkPen(run.color, width=self._width, style=Qt.PenStyle.DashLine)

    # -- data -------------------------------------------------------------------------------------

    def append(self, update: RunUpdate, draw: bool = True) -> None:
        """Add the update's new points and redraw only what grew.  Updates of unknown runs are ignored
        (a run removed while its last update was on the way).

        ``draw=False`` only stores the points and marks the grown curves; the
        window then draws one plot per event-loop turn with :meth:`draw_pending`,
        so no single turn paints all four plots (see ``gui.training.tab.DrawScheduler``).
        """
        run = self._runs.get(update.run_id)
        if run is None:
            return
        status_changed = update.status != run.status
        run.status = update.status
        grown = run.points.extend(update, self._smoothing)
        for plot, sources in CAPPED.items():
            for table, column in sources:
                values = getattr(update.steps if table == "steps" else update.evals, column)
                if len(values):
                    run.peaks[plot] = max(run.peaks.get(plot, -math.inf), _finite_max(values))
        for key in run.curves:
            if _SERIES[key].table in grown:
                self._pending.setdefault(key[0], set()).add((run.run_id, key))
        if grown or status_changed:
            self._review_divergence()
            self._extend_x()
        if status_changed:
            self._update_legends()
        if draw:
            for plot in list(self._pending):
                self.draw_pending(plot)

    def pending_plots(self) -> list[str]:
        """The plots with points stored but not drawn yet, in display order."""
        return [info.key for info in PLOTS if self._pending.get(info.key)]

    def draw_pending(self, plot: str) -> None:
        """Draw the grown curves of one plot (the points are already stored)."""
        for run_id, key in self._pending.pop(plot, ()):
            run = self._runs.get(run_id)
            if run is None:
                continue  # removed since
            curve, info = run.curves[key], _SERIES[key]
            if info.table == "evals":
                curve.set_symbols(len(run.points.evals) <= EVAL_SYMBOL_LIMIT)
            curve.update(*self._xy(run, info))

    def _xy(self, run: _Run, info: SeriesInfo, drawn: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The curve's points; ``drawn``: a diverged run's only up to where it left the plot."""
        table = run.points.table(info.table)
        x, y = table[self._x_axis], table[info.column]
        cut = run.cuts.get(info.plot) if drawn else None
        if cut is not None:
            n = int(np.searchsorted(table["step"], cut[1]))
            x, y = x[:n], y[:n]
        return x, y

    # -- diverged runs ------------------------------------------------------------------------------

    def _ceiling(self, plot: str) -> float | None:
        """The top of the sane range of a capped plot: the largest value of the runs that did not diverge
        (of the diverged runs' first values when every run diverged)."""
        healthy = [r.peaks[plot] for r in self._runs.values()
                   if not r.diverged and math.isfinite(r.peaks.get(plot, -math.inf))]
        if healthy:
            return max(healthy)
        column = CAPPED[plot][0][1]
        firsts = [float(r.points.steps[column][0]) for r in self._runs.values()
                  if r.diverged and len(r.points.steps) and math.isfinite(r.points.steps[column][0])]
        return max(firsts) if firsts else None

    def _review_divergence(self) -> None:
        """Cut each diverged run where it left the sane range (``HEADROOM`` x :meth:`_ceiling`) and mark it.

        The autorange then follows the runs still finite and sane, so one run at 1.5e7 no longer turns the
        healthy ones into a line at 0.  Recomputed only when a limit or a status changes.
        """
        for plot in CAPPED:
            ceiling = self._ceiling(plot)
            limit = None if ceiling is None else HEADROOM * max(ceiling, 0.0)
            for run in self._runs.values():
                old = run.cuts.get(plot)
                if not run.diverged or limit is None:
                    new = None
                elif old is not None and old[0] == limit:
                    continue
                else:
                    new = self._exit(run, plot, limit)
                if new == old:
                    continue
                if new is None:
                    run.cuts.pop(plot, None)
                else:
                    run.cuts[plot] = new
                for key, curve in run.curves.items():
                    if key[0] == plot:
                        curve.reset(*self._xy(run, _SERIES[key]))
            self._place_marks(plot, ceiling)

    def _exit(self, run: _Run, plot: str, limit: float) -> tuple[float, int] | None:
        """``(limit, first step not drawn)``: the first step with a value above ``limit`` or not finite."""
        exit_step: int | None = None
        kept = -math.inf
        for table_name, column in CAPPED[plot]:
            table = run.points.table(table_name)
            values = table[column]
            bad = ~np.isfinite(values) | (values > limit)
            if bad.any():
                step = int(table["step"][int(np.argmax(bad))])
                exit_step = step if exit_step is None else min(exit_step, step)
        if exit_step is None:
            run.kept_peaks.pop(plot, None)
            return None
        for table_name, column in CAPPED[plot]:
            table = run.points.table(table_name)
            kept = max(kept, _finite_max(table[column][:int(np.searchsorted(table["step"], exit_step))]))
        run.kept_peaks[plot] = kept
        return (limit, exit_step)

    def _place_marks(self, plot: str, ceiling: float | None) -> None:
        """A triangle in the run's colour at the top edge of the plot, at the run's last sane step."""
        cut_runs = [r for r in self._runs.values() if plot in r.cuts]
        tops = [r.kept_peaks.get(plot, -math.inf) for r in cut_runs] + [ceiling if ceiling is not None else -math.inf]
        top = max(tops)
        item = self._widgets[plot].getPlotItem()
        for run in self._runs.values():
            if plot not in run.cuts or not math.isfinite(top):
                mark = run.marks.pop(plot, None)
                if mark is not None:
                    item.removeItem(mark)
                continue
            steps = run.points.steps
            n = int(np.searchsorted(steps["step"], run.cuts[plot][1]))
            index = max(n - 1, 0)
            x = float(steps[self._x_axis][index]) if len(steps) else 0.0
            mark = run.marks.get(plot)
            if mark is None:
                mark = pg.PlotDataItem(pen=None, symbol=DIVERGED_SYMBOL, symbolSize=13,
                                       symbolBrush=run.color, symbolPen=pg.mkPen(run.color))
                mark.setZValue(5)
                item.addItem(mark)
                run.marks[plot] = mark
            mark.setData([x], [top])
            mark.setVisible(run.visible)
            step = int(steps["step"][index]) if len(steps) else 0
            mark.setToolTip(f"{run.name} diverged: it left the plot after step {step:,}")

    def _drop_marks(self, run: _Run) -> None:
        for plot, mark in run.marks.items():
            self._widgets[plot].getPlotItem().removeItem(mark)
        run.marks.clear()
        run.cuts.clear()
        run.kept_peaks.clear()

    def diverged_mark(self, run_id: str, plot: str) -> tuple[float, float] | None:
        """Where a diverged run's mark sits on a capped plot (x in the current unit, y), or None."""
        mark = self._runs[run_id].marks.get(plot)
        if mark is None:
            return None
        x, y = mark.getOriginalDataset()
        return float(x[0]), float(y[0])

    def curve_data(self, run_id: str, plot: str, series: str) -> tuple[np.ndarray, np.ndarray]:
        """Every point held for one curve, as copies, x in the current x-axis unit.

        ``plot``/``series``: loss/batch, loss/smoothed, loss/train, loss/val,
        accuracy/train, accuracy/val, lr/lr, grad_norm/grad_norm, grad_norm/clipped.
        """
        info = _SERIES[(plot, series)]
        x, y = self._xy(self._runs[run_id], info, drawn=False)
        return x.copy(), y.copy()

    def curve_items(self, run_id: str, plot: str, series: str) -> list[pg.PlotDataItem]:
        """The items that draw one curve (its chunks), for tests and inspection."""
        return list(self._runs[run_id].curves[(plot, series)].items)

    def threshold_line(self, run_id: str) -> pg.InfiniteLine | None:
        return self._runs[run_id].clip_line

    def plot_widgets(self) -> dict[str, pg.PlotWidget]:
        """"loss", "accuracy", "lr", "grad_norm": each exportable on its own (its legend is inside)."""
        return dict(self._widgets)

    # -- view settings ----------------------------------------------------------------------------

    @Slot(str)
    def set_x_axis(self, axis: str) -> None:
        if axis not in X_AXES:
            raise ValueError(f"x axis must be one of {', '.join(X_AXES)}, got {axis!r}")
        self.controls.show_x_axis(axis)
        if axis == self._x_axis:
            return
        self._x_axis = axis
        self._update_x_labels()
        for run in self._runs.values():
            for key, curve in run.curves.items():
                curve.reset(*self._xy(run, _SERIES[key]))
        for plot in CAPPED:
            self._place_marks(plot, self._ceiling(plot))
        self._x_end = None
        self._extend_x()

    def set_planned_extent(self, steps: float, epochs: float) -> None:
        """The planned length of the runs (0: none): the x range never goes past it.

        Before any step the x range is the plan; then it follows the steps *taken*, from 0 to the next of the stops
        (:func:`x_stop_above`) past the furthest run, capped by the plan: a run
        of 1e8 planned steps does not squeeze the others against x = 0, and runs
        that end at their plan fill the width.  Fixed between stops, the axes
        are not laid out again on every update; with the x range growing on
        every update, pyqtgraph lays out and repaints every axis each time.
        Measured with benchmarks/gui_bench.py under Xvfb (a fixed range):
        GUI-thread stall p99 380 -> 56 ms, refresh 23 -> 28 per second.
        """
        self._planned = {"step": float(steps), "epoch": float(epochs)}
        self._x_end = None
        self._extend_x()

    def _taken(self) -> float:
        """The furthest x any run has reached, in the current unit."""
        ends = [float(table[self._x_axis][-1]) for run in self._runs.values()
                for table in (run.points.steps, run.points.evals) if len(table)]
        return max(ends, default=0.0)

    def _extend_x(self) -> None:
        planned = self._planned.get(self._x_axis, 0.0)
        taken = self._taken()
        if taken <= 0 and planned <= 0:
            end = None
        elif taken <= 0:
            end = planned       # before any step, the plan shows how long the runs will be
        else:
            end = x_stop_above(taken)
            if planned >= taken:
                end = min(end, planned)
        if end == self._x_end and end is not None:
            return
        self._x_end = end
        for widget in self._widgets.values():
            item = widget.getPlotItem()
            if end is None:
                item.enableAutoRange(x=True)
            else:
                item.enableAutoRange(x=False)
        if end is not None:
            self._widgets["loss"].getPlotItem().setXRange(0, end, padding=0.02)

    def x_range(self) -> tuple[float, float]:
        """The shared x range of the four plots."""
        x0, x1 = self._widgets["loss"].getPlotItem().getViewBox().viewRange()[0]
        return float(x0), float(x1)

    @Slot(object, object)
    def _follow_x(self, view, x_range) -> None:
        """The x range of one plot becomes every plot's, value for value (zoom, pan, or set here)."""
        if self._linking:
            return
        self._linking = True
        try:
            x0, x1 = (float(v) for v in x_range)
            for widget in self._widgets.values():
                box = widget.getPlotItem().getViewBox()
                if box is not view:
                    box.setXRange(x0, x1, padding=0)
        finally:
            self._linking = False

    def x_axis(self) -> str:
        return self._x_axis

    @Slot(bool)
    def set_log_loss(self, on: bool) -> None:
        on = bool(on)
        self.controls.show_log(on)
        self._widgets["loss"].getPlotItem().setLogMode(y=on)

    @Slot(float)
    def set_smoothing(self, weight: float) -> None:
        """EMA weight in [0, 0.99]: recomputes every run's smoothed loss once, vectorized."""
        weight = float(min(max(weight, 0.0), MAX_SMOOTHING))
        self.controls.show_smoothing(weight)
        if weight == self._smoothing:
            return
        self._smoothing = weight
        for run in self._runs.values():
            run.points.resmooth(weight)
            run.curves[("loss", "smoothed")].reset(*self._xy(run, _SERIES[("loss", "smoothed")]))

    def smoothing(self) -> float:
        return self._smoothing

    def set_line_width(self, width: float) -> None:
        """Pen width of every curve (presenter mode: thicker lines for the back row)."""
        self._width = float(width)
        for run in self._runs.values():
            for key, curve in run.curves.items():
                curve.restyle(_SERIES[key].color_of(run.color), self._width)
            if run.clip_line is not None:
                run.clip_line.setPen(self._clip_pen(run))
        self._update_legends()

    # -- labels -----------------------------------------------------------------------------------

    def _update_x_labels(self) -> None:
        for widget in self._widgets.values():
            widget.getPlotItem().setLabel("bottom", self._x_axis)

    @Slot()
    def _restyle_soon(self) -> None:
        self._restyle_timer.start()

    @Slot()
    def _restyle_labels(self) -> None:
        """Titles and legends again, in the current foreground colour and label size."""
        for info in PLOTS:
            plot = self._widgets[info.key].getPlotItem()
            set_title(plot, info.title)
        self._update_legends()

    def _run_entries(self) -> list[str]:
        return [legend_glyph_html(r.color, GLYPHS["solid"], r.name + (" (diverged: \u25b2 where it left the plot)"
                                                                      if r.diverged else ""))
                for r in self._runs.values() if r.visible]

    def _update_legends(self) -> None:
        """One legend for the four plots, above them: the runs' colours, then what each line style means.

        A legend under each plot repeated every run four times, and in presenter
        mode on a 1024x768 projector the legends took more height than the
        curves.  Entries wrap only between entries.  An exported plot carries its
        own legend row (:meth:`exporting`), since it leaves the window alone.
        """
        keys = [info.key_entries for info in PLOTS if info.key_entries]
        self._run_legend.setText(" &nbsp; ".join(self._run_entries()) + "<br>" + " &nbsp; ".join(unique_entries(keys)))
        for info in PLOTS:
            self._set_legend_row(info, "")

    def _set_legend_row(self, info: PlotInfo, text: str) -> None:
        plot = self._widgets[info.key].getPlotItem()
        row = self._legends[info.key]
        row.setText(text or " ", size=f"{label_size(plot):.0f}pt", color=pg.getConfigOption("foreground"))
        row.set_collapsed(not text)

    @contextmanager
    def exporting(self, key: str):
        """While a plot is exported to a file, its own legend row names the runs as well."""
        info = next(info for info in PLOTS if info.key == key)
        self._set_legend_row(info, " &nbsp; ".join([*self._run_entries(), *filter(None, [info.key_entries])]))
        try:
            yield self._widgets[key]
        finally:
            self._set_legend_row(info, info.key_entries)

    def legend_text(self, plot: str) -> str:
        """What a student reads as the legend of one plot: the runs and line styles above the plots."""
        return plain_text(self._run_legend.text().replace("<br>", "\n"))
