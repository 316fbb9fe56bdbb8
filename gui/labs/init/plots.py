"""The init lab's four plots, each with its legend underneath.

* **Activation std by layer** (forward pass) and **gradient std by layer**
  (backward pass), on a log y axis, one curve per scheme: a scheme that loses
  a constant factor per layer draws a straight falling line; exact zeros lie
  on a dashed floor labelled "exactly 0" (:mod:`gui.labs.init.curves`).
* **Histogram of the activations at one layer** (the slider under it), on the
  engine's common bins; exact zeros are left out of the bars and given as a
  percentage in the legend.
* **Train each**: the loss curves, drawn as they grow.

Legends sit under the plots, not on them: a legend box inside would hide the
very curves (the falling ones end bottom right, the histograms' tails run to
the right).
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from engine.labs.initprobe import LayerHistograms, ProbeConfig, ProbeResult, TrainProgress
from engine.status import RunStatus
from gui.labs.init.curves import fmt_std, legend_html, log_curve, log_floor, scheme_color, scheme_label, scheme_pen
from gui.style.palette import NEUTRAL, with_alpha
from gui.widgets.plotting import set_title

MAX_DEPTH_WITH_SYMBOLS = 25      # deeper curves are lines only: the dots would merge
PLOT_MIN_LINES = 12              # a plot is at least this many lines of text high: its title, its x axis and
                                 # a view of some six lines; a short screen scrolls the grid (InitTab) instead


def _plot(title: str, left: str, bottom: str, log_y: bool) -> pg.PlotWidget:
    widget = pg.PlotWidget()
    item = widget.getPlotItem()
    set_title(item, title)
    item.setLabel("left", left)
    item.setLabel("bottom", bottom)
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setLogMode(y=log_y)
    item.setMenuEnabled(False)
    item.getAxis("left").enableAutoSIPrefix(False)   # no "(x1e+21)" on a log axis
    widget.setMinimumWidth(200)
    return widget


def _legend() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.RichText)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.9)
    label.setFont(font)
    return label


def _box(plot: pg.PlotWidget, legend: QLabel, extra=None) -> QWidget:
    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(plot, 1)
    if extra is not None:
        layout.addLayout(extra)
    layout.addWidget(legend)
    return widget


class InitPlots(QWidget):
    """The 2 × 2 grid. The curves are dicts by scheme: ``activation_curves``, ``gradient_curves``,
    ``histogram_curves``, ``loss_curves``; ``legends`` and ``floor_lines`` are by plot key."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.activation_curves: dict[str, pg.PlotDataItem] = {}
        self.gradient_curves: dict[str, pg.PlotDataItem] = {}
        self.histogram_curves: dict[str, pg.PlotDataItem] = {}
        self.loss_curves: dict[str, pg.PlotDataItem] = {}
        self.activation_plot = _plot("Forward: activation std by layer", "std", "layer", True)
        self.gradient_plot = _plot("Backward: gradient std by layer", "std", "layer", True)
        self.histogram_plot = _plot("Activations at layer", "fraction", "activation value", False)
        self.loss_plot = _plot("Train each: loss on the training set", "loss", "step", False)
        self.legends: dict[str, QLabel] = {key: _legend() for key in ("activation", "gradient", "histogram", "loss")}
        self.loss_hint = pg.TextItem("Press “Train each”", anchor=(0.5, 0.5), color=NEUTRAL)
        self.loss_plot.getPlotItem().addItem(self.loss_hint, ignoreBounds=True)
        self.loss_hint.setPos(0.5, 0.5)
        self.floor_lines: dict[str, pg.InfiniteLine] = {}
        for key, widget in (("activation", self.activation_plot), ("gradient", self.gradient_plot)):
            line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(NEUTRAL, width=1, style=Qt.DashLine),
                                   label="exactly 0", labelOpts={"position": 0.5, "color": NEUTRAL})
            line.hide()
            widget.getPlotItem().addItem(line, ignoreBounds=True)
            self.floor_lines[key] = line

        self.layer_slider = QSlider(Qt.Horizontal)
        self.layer_slider.setRange(1, 20)
        self.layer_slider.setValue(1)
        self.layer_slider.setToolTip("The hidden layer whose activations the histogram shows.")
        self.layer_label = QLabel("layer 1")
        self.layer_label.setMinimumWidth(64)
        slider_row = QHBoxLayout()
        slider_row.addWidget(self.layer_label)
        slider_row.addWidget(self.layer_slider, 1)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        grid.addWidget(_box(self.activation_plot, self.legends["activation"]), 0, 0)
        grid.addWidget(_box(self.gradient_plot, self.legends["gradient"]), 0, 1)
        grid.addWidget(_box(self.histogram_plot, self.legends["histogram"], slider_row), 1, 0)
        grid.addWidget(_box(self.loss_plot, self.legends["loss"]), 1, 1)
        self._fit_heights()

    def plots(self) -> tuple[pg.PlotWidget, ...]:
        return self.activation_plot, self.gradient_plot, self.histogram_plot, self.loss_plot

    def _fit_heights(self) -> None:
        """Each plot at least PLOT_MIN_LINES lines of the type size now high (larger in presenter mode), so
        the legends under the plots never flatten them (the histogram's was 60 px on a projector)."""
        height = PLOT_MIN_LINES * QFontMetrics(self.font()).lineSpacing()
        for plot in self.plots():
            plot.setMinimumHeight(height)

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.FontChange:
            self._fit_heights()
        super().changeEvent(event)

    def set_depth(self, depth: int) -> None:
        """The slider spans a new network's layers and starts halfway down (without a signal)."""
        self.layer_slider.blockSignals(True)
        self.layer_slider.setRange(1, depth)
        self.layer_slider.setValue(max(1, min(depth, depth // 2)))
        self.layer_slider.blockSignals(False)

    def draw_depth_curves(self, result: ProbeResult | None, gradient_field: str) -> None:
        """Both std-by-layer plots; the gradient one shows ``gradient_field`` of each scheme's probe."""
        for key, plot, curves, field in (
                ("activation", self.activation_plot, self.activation_curves, "activation_std"),
                ("gradient", self.gradient_plot, self.gradient_curves, gradient_field)):
            item = plot.getPlotItem()
            for curve in curves.values():
                item.removeItem(curve)
            curves.clear()
            entries = []
            if result is None:
                self.legends[key].setText("")
                continue
            arrays = [getattr(p, field) for p in result.schemes]
            floor = log_floor(arrays)
            any_zero = False
            for p, values in zip(result.schemes, arrays):
                y, note = log_curve(values, floor)
                any_zero |= bool(np.any(values == 0))
                name = scheme_label(p.scheme, result.config.init_std) + (f" {note}" if note else "")
                entries.append((p.scheme, name))
                symbols = result.config.depth <= MAX_DEPTH_WITH_SYMBOLS
                curve = pg.PlotDataItem(result.layers, y, pen=scheme_pen(p.scheme), connect="finite",
                                        symbol="o" if symbols else None, symbolSize=4,
                                        symbolPen=None, symbolBrush=scheme_color(p.scheme))
                curve.setToolTip(f"{p.scheme}: first layer {fmt_std(values[0])}, last {fmt_std(values[-1])}")
                item.addItem(curve)
                curves[p.scheme] = curve
            self.legends[key].setText(legend_html(entries))
            line = self.floor_lines[key]
            line.setPos(math.log10(floor))
            line.setVisible(any_zero)
            item.setXRange(1, result.config.depth, padding=0.02)
            item.enableAutoRange(axis="y")

    def draw_histogram(self, hist: LayerHistograms | None, layer: int) -> None:
        self.layer_label.setText(f"layer {layer}")
        item = self.histogram_plot.getPlotItem()
        set_title(item, f"Activations at layer {layer}")
        for curve in self.histogram_curves.values():
            item.removeItem(curve)
        self.histogram_curves.clear()
        if hist is None:
            self.legends["histogram"].setText("")
            return
        entries = []
        for i, scheme in enumerate(hist.schemes):
            zero = hist.zero_fraction[i]
            name = f"{scheme}: std {fmt_std(hist.std[i])}" + (f", {zero:.0%} = 0" if zero > 0 else "")
            entries.append((scheme, name))
            curve = pg.PlotDataItem(hist.edges, hist.counts[i], stepMode="center", fillLevel=0,
                                    brush=with_alpha(QColor(scheme_color(scheme)), 40), pen=scheme_pen(scheme, 1.5))
            item.addItem(curve)
            self.histogram_curves[scheme] = curve
        self.legends["histogram"].setText(legend_html(entries) + f"<br><span style='color:{NEUTRAL}'>"
                                          "bars: values that are not exactly 0, as a fraction of all</span>")
        item.enableAutoRange()

    def start_losses(self, cfg: ProbeConfig, steps: int) -> None:
        """An empty loss plot for training ``cfg``'s network ``steps`` steps."""
        self.draw_losses(None, cfg.init_std)
        item = self.loss_plot.getPlotItem()
        item.setXRange(0, steps, padding=0.02)
        set_title(item, f"Train each: loss, {cfg.depth}×{cfg.width} {cfg.activation}")

    def draw_losses(self, progress: TrainProgress | None, init_std: float) -> None:
        item = self.loss_plot.getPlotItem()
        if progress is None:
            for curve in self.loss_curves.values():
                item.removeItem(curve)
            self.loss_curves.clear()
            self.legends["loss"].setText("")
            return
        self.loss_hint.hide()
        entries = []
        for c in progress.curves:
            curve = self.loss_curves.get(c.scheme)
            last = f"{c.train_loss[-1]:.3g}" if c.train_loss.size else "…"
            name = f"{scheme_label(c.scheme, init_std)}: {last}"
            if c.status not in (None, RunStatus.FINISHED):
                name += f" ({c.status})"
            entries.append((c.scheme, name))
            if curve is None:
                curve = pg.PlotDataItem(pen=scheme_pen(c.scheme), connect="finite")
                item.addItem(curve)
                self.loss_curves[c.scheme] = curve
            y = np.where(np.isfinite(c.train_loss), c.train_loss, np.nan)
            curve.setData(c.steps, y)
        self.legends["loss"].setText(legend_html(entries))
