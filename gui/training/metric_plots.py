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
per run.  Points are kept in bounded tables (``gui.training.columns``, built on
``engine.training.reservoir``: the last 65,536 points of each at full resolution, older ones
folded into min/max buckets, so a run of 1e8 steps holds as few rows as one of 200,000;
appending m points costs O(m) amortized, the smoothing is continued from its saved
state), and each curve is a :class:`~gui.widgets.plotting.ChunkedCurve`: consecutive
chunks of at most ``CHUNK`` points, of which only the last, growing one is ever set
again, each drawn downsampled to the screen and clipped to the view, so a
million-step run stays smooth.

This module holds the view (:class:`MetricPlots`); its parts have their own modules:
what is drawn (``gui.training.plot_series``), the controls row (``plot_controls``), a run's
points and curves (``plot_runs``), diverged runs cut and marked (``divergence_marks``), the shared
x range (``x_range``), the axes (``plot_axes``) and the legend (``plot_legend``).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QVBoxLayout, QWidget

from engine.status import RunStatus
from engine.training.updates import RunUpdate
from gui.training.divergence_marks import DivergenceMarks, note_peaks
from gui.training.plot_axes import AlignedAxis, set_up_axes
from gui.training.plot_bands import BAND_KINDS, BANDS, RunBands
from gui.training.plot_controls import DEFAULT_SMOOTHING, MAX_SMOOTHING, X_AXES, PlotControls
from gui.training.plot_legend import MetricLegend
from gui.training.plot_runs import PlottedRun
from gui.training.plot_series import PLOTS, SERIES, SERIES_BY_KEY
from gui.training.x_range import SharedXRange
from gui.widgets.plotting import ChunkedCurve, ThemedPlotWidget, no_si_prefix, set_title

DEFAULT_LINE_WIDTH = 1.5
EVAL_SYMBOL_LIMIT = 200     # evaluation markers are drawn while a run has at most this many evaluations


class MetricPlots(QWidget):
    """Loss, accuracy, learning rate and gradient norm of every run, sharing one x axis.

    Drive it from Python as the window does: ``add_run``, then ``append`` each
    :class:`~engine.training.updates.RunUpdate`; the controls row asks for the same
    setters (``set_smoothing``, ``set_log_loss``, ``set_x_axis``).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._runs: dict[str, PlottedRun] = {}
        self._pending: dict[str, set[tuple[str, tuple[str, str]]]] = {}   # plot -> (run id, curve key) to draw
        self._x_axis = "step"
        self._smoothing = DEFAULT_SMOOTHING
        self._width = DEFAULT_LINE_WIDTH
        self._left_axes: list[AlignedAxis] = []
        self._bands: dict[str, RunBands] = {}     # run id -> its seed bands (multi-seed runs only)
        self._band_kind = "range"

        self.controls = PlotControls()
        self.controls.smoothing_requested.connect(self.set_smoothing)
        self.controls.log_requested.connect(self.set_log_loss)
        self.controls.x_axis_requested.connect(self.set_x_axis)
        self.controls.band_requested.connect(self.set_band_kind)

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        self._widgets: dict[str, pg.PlotWidget] = {}
        for index, info in enumerate(PLOTS):
            widget = ThemedPlotWidget(axisItems={"left": AlignedAxis(self._left_axes)})
            item = widget.getPlotItem()
            widget.setToolTip(f"{info.title}: {info.y_label}")   # the title says what is plotted; no y label to clip
            no_si_prefix(item)
            item.showGrid(y=True, alpha=0.15)    # a grid redraws on every range change: ~7 ms a plot with both
            self._widgets[info.key] = widget
            widget.background_changed.connect(self._restyle_soon)
            grid.addWidget(widget, index // 2, index % 2)
        self._legend = MetricLegend(self._runs, self._widgets)
        self._x = SharedXRange(self._runs, self._widgets)
        set_up_axes(self._widgets)
        # the loss plot's own context menu can switch log mode too; keep the checkbox in step
        self._widgets["loss"].getPlotItem().ctrl.logYCheck.toggled.connect(self.controls.show_log)
        self._divergence = DivergenceMarks(self._runs, self._widgets)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.controls)
        layout.addWidget(self._legend.label)
        layout.addLayout(grid, 1)
        self._restyle_timer = QTimer(self)
        self._restyle_timer.setSingleShot(True)
        self._restyle_timer.setInterval(0)
        self._restyle_timer.timeout.connect(self._restyle_labels)
        self._update_x_labels()
        self._restyle_labels()

    # -- runs -------------------------------------------------------------------------------------

    def add_run(self, run_id: str, name: str, color: QColor) -> None:
        if run_id in self._runs:
            raise ValueError(f"run {run_id!r} is already plotted")
        run = PlottedRun(run_id, name, QColor(color))
        for info in SERIES:
            run.curves[(info.plot, info.name)] = ChunkedCurve(self._widgets[info.plot].getPlotItem(), info.style,
                                                              info.color_of(run.color), self._width, info.z, run.visible)
        self._runs[run_id] = run
        self._legend.update()

    def remove_run(self, run_id: str) -> None:
        run = self._runs.pop(run_id, None)
        if run is None:
            return
        bands = self._bands.pop(run_id, None)
        if bands is not None:
            bands.remove()
            self.controls.show_band_choice(bool(self._bands))
        for curve in run.curves.values():
            curve.remove()
        if run.clip_line is not None:
            self._widgets["grad_norm"].getPlotItem().removeItem(run.clip_line)
        self._divergence.drop(run)
        self._divergence.review(self._x_axis)
        self._x.extend(self._x_axis)
        self._legend.update()

    def clear_run(self, run_id: str) -> None:
        """Forget the run's points (it restarts); its curves, colour and clip line stay."""
        run = self._runs[run_id]
        run.points.clear()
        if run_id in self._bands:
            self._bands[run_id].clear()
            self._draw_bands(run)
        run.status = RunStatus.QUEUED
        run.peaks.clear()
        self._divergence.drop(run)
        for curve in run.curves.values():
            curve.set_symbols(True)
        run.redraw(self._x_axis)
        self._divergence.review(self._x_axis)
        self._legend.update()

    def set_run_visible(self, run_id: str, visible: bool) -> None:
        run = self._runs[run_id]
        run.visible = bool(visible)
        for curve in run.curves.values():
            curve.set_visible(run.visible)
        if run.clip_line is not None:
            run.clip_line.setVisible(run.visible)
        if run_id in self._bands:
            self._bands[run_id].set_visible(run.visible)
        for mark in run.marks.values():
            mark.setVisible(run.visible)
        self._legend.update()

    def rename_run(self, run_id: str, name: str) -> None:
        self._runs[run_id].name = name
        self._legend.update()

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

    def _clip_pen(self, run: PlottedRun):
        return pg.mkPen(run.color, width=self._width, style=Qt.PenStyle.DashLine)

    # -- data -------------------------------------------------------------------------------------

    def append(self, update: RunUpdate, draw: bool = True) -> None:
        """Add the update's new points and redraw only what grew.  Updates of unknown runs are ignored
        (a run removed while its last update was on the way).

        ``draw=False`` only stores the points and marks the grown curves; the
        window then draws one plot per event-loop turn with :meth:`draw_pending`,
        so no single turn paints all four plots (see ``gui.training.drawing.DrawScheduler``).
        """
        run = self._runs.get(update.run_id)
        if run is None:
            return
        status_changed = update.status != run.status
        run.status = update.status
        grown = run.points.extend(update, self._smoothing)
        if update.members > 1:
            self._extend_bands(run, update)
        note_peaks(run, update)
        for key in run.curves:
            if SERIES_BY_KEY[key].table in grown:
                self._pending.setdefault(key[0], set()).add((run.run_id, key))
        if grown or status_changed:
            self._divergence.review(self._x_axis)
            self._x.extend(self._x_axis)
        if status_changed:
            self._legend.update()
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
            curve, info = run.curves[key], SERIES_BY_KEY[key]
            if info.table == "evals":
                curve.set_symbols(len(run.points.evals) <= EVAL_SYMBOL_LIMIT)
            run.draw(key, self._x_axis)
        run_ids = {run_id for run_id in self._bands if run_id in self._runs}
        for run_id in run_ids:
            self._draw_bands(self._runs[run_id], plot)

    # -- seed bands (gui.training.plot_bands) ----------------------------------------------------------

    def _extend_bands(self, run: PlottedRun, update: RunUpdate) -> None:
        if run.members != update.members:
            run.members = update.members
            self._legend.update()
        bands = self._bands.get(run.run_id)
        if bands is None:
            plots = {key: widget.getPlotItem() for key, widget in self._widgets.items()}
            bands = self._bands[run.run_id] = RunBands(plots, run.color, run.visible)
            self.controls.show_band_choice(True)
        bands.extend(update)

    def _draw_bands(self, run: PlottedRun, plot: str | None = None) -> None:
        bands = self._bands.get(run.run_id)
        if bands is None:
            return
        for band in BANDS:
            if plot is None or band.plot == plot:
                cut = run.cuts.get(band.plot)
                bands.draw(band, self._band_kind, self._x_axis, self._smoothing, None if cut is None else cut[1])

    @Slot(str)
    def set_band_kind(self, kind: str) -> None:
        """``"range"``: bands from the members' minimum to maximum; ``"middle"``: their 25th to 75th percentile."""
        if kind not in BAND_KINDS:
            raise ValueError(f"band must be one of {', '.join(BAND_KINDS)}, got {kind!r}")
        self.controls.show_band(kind)
        self._band_kind = kind
        for run in self._runs.values():
            self._draw_bands(run)

    def band_kind(self) -> str:
        return self._band_kind

    def band_data(self, run_id: str, plot: str, series: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The band drawn around one curve: x (current unit), lower and upper edge, as the items hold them."""
        lower, upper, _ = self._bands[run_id].items[(plot, series)]
        x, lo = lower.getData()
        _, hi = upper.getData()
        empty = np.empty(0)
        return (empty, empty, empty) if x is None else (np.asarray(x), np.asarray(lo), np.asarray(hi))

    # -- what is shown, for tests and inspection ------------------------------------------------------

    def diverged_mark(self, run_id: str, plot: str) -> tuple[float, float] | None:
        """Where a diverged run's mark sits on a capped plot (x in the current unit, y), or None."""
        return self._divergence.position(run_id, plot)

    def curve_data(self, run_id: str, plot: str, series: str) -> tuple[np.ndarray, np.ndarray]:
        """Every point held for one curve, as copies, x in the current x-axis unit.

        ``plot``/``series``: loss/batch, loss/smoothed, loss/train, loss/val,
        accuracy/train, accuracy/val, lr/lr, grad_norm/grad_norm, grad_norm/clipped.
        """
        info = SERIES_BY_KEY[(plot, series)]
        x, y = self._runs[run_id].xy(info, self._x_axis, drawn=False)
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
            run.redraw(axis)
            self._draw_bands(run)
        self._divergence.replace(axis)
        self._x.restart(axis)

    def set_planned_extent(self, steps: float, epochs: float) -> None:
        """The planned length of the runs (0: none): the x range never goes past it, and before any
        step it is the plan (how the range then follows the steps taken: ``gui.training.x_range``)."""
        self._x.plan(steps, epochs, self._x_axis)

    def x_range(self) -> tuple[float, float]:
        """The shared x range of the four plots."""
        return self._x.x_range()

    def x_axis(self) -> str:
        return self._x_axis

    @Slot(bool)
    def set_log_loss(self, on: bool) -> None:
        on = bool(on)
        self.controls.show_log(on)
        self._widgets["loss"].getPlotItem().setLogMode(y=on)

    def log_loss(self) -> bool:
        return self._widgets["loss"].getPlotItem().ctrl.logYCheck.isChecked()

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
            run.curves[("loss", "smoothed")].reset(*run.xy(SERIES_BY_KEY[("loss", "smoothed")], self._x_axis),
                                                   version=run.points.steps.version)
            self._draw_bands(run, "loss")

    def smoothing(self) -> float:
        return self._smoothing

    def set_line_width(self, width: float) -> None:
        """Pen width of every curve (presenter mode: thicker lines for the back row)."""
        self._width = float(width)
        for run in self._runs.values():
            for key, curve in run.curves.items():
                curve.restyle(SERIES_BY_KEY[key].color_of(run.color), self._width)
            if run.clip_line is not None:
                run.clip_line.setPen(self._clip_pen(run))
            if run.run_id in self._bands:
                self._bands[run.run_id].restyle(run.color)
        self._legend.update()

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
            set_title(self._widgets[info.key].getPlotItem(), info.title)
        self._legend.update()

    def exporting(self, key: str):
        """While a plot is exported to a file, its own legend row names the runs as well (a context
        manager yielding the plot widget)."""
        return self._legend.exporting(key)

    def legend_text(self, plot: str) -> str:
        """What a student reads as the legend of one plot: the runs and line styles above the plots."""
        return self._legend.text()
