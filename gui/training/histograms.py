"""Weights and gradients layer by layer: their histogram now, and how it moved over training.

What it teaches: a good initialization keeps every layer's weights, and the
signal passing through them, at a healthy scale.  The current histogram shows
one weight tensor's values (or its gradient's); the heatmap below shows every
histogram taken so far side by side, as TensorBoard's distributions do (x the
step, y the value, colour the count), so a student sees weights spread, shrink
under weight decay, or gradients vanish.  The small plot on the right shows
each layer's activation standard deviation, layer after layer: with a bad
init it shrinks (or explodes) with depth, with He or Xavier it holds.

The heatmap's data (the common grid of value bins, the rebinning, the symmetric-log rows that keep
shrinking gradients visible) live in ``gui.training.heatmap``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from engine.training.events import ActivationStats, Histogram
from engine.training.updates import RunUpdate
from gui.style.palette import with_alpha
from gui.training.columns import GrowingColumns
from gui.training.heatmap import HEATMAP_BINS, Heatmap, HeatmapValueAxis, ValueScale, rebin
from gui.widgets.common import swatch
from gui.widgets.plotting import GLYPHS, LogFriendlyAxis, ThemedPlotWidget, legend_glyph_html, no_si_prefix, set_title

HEATMAP_COLORMAP = "viridis"     # perceptually uniform, readable in grey, on light and dark themes
WEIGHTS, GRADIENTS = "weight", "grad"


# -- storage ----------------------------------------------------------------------------------------

class _LayerStore:
    """Every histogram of one weight tensor and of its gradient, one row per histogram tick."""

    def __init__(self, bins: int):
        self.bins = bins
        self.rows = GrowingColumns(step=np.int64, w_counts=(np.float64, (bins,)), w_edges=(np.float64, (bins + 1,)),
                                   g_counts=(np.float64, (bins,)), g_edges=(np.float64, (bins + 1,)),
                                   has_grad=bool)
        self.latest: dict[str, Histogram | None] = {WEIGHTS: None, GRADIENTS: None}
        self.latest_step = 0

    def add(self, step: int, weight: Histogram, grad: Histogram | None) -> None:
        wc, we = self._fit(weight)
        gc, ge = self._fit(grad) if grad is not None else (np.zeros(self.bins), np.linspace(-1, 1, self.bins + 1))
        self.rows.extend(step=[step], w_counts=wc[None], w_edges=we[None], g_counts=gc[None], g_edges=ge[None],
                         has_grad=[grad is not None])
        self.latest = {WEIGHTS: weight, GRADIENTS: grad}
        self.latest_step = step

    def _fit(self, h: Histogram) -> tuple[np.ndarray, np.ndarray]:
        """The histogram with ``self.bins`` bins (the engine always sends the same count; rebin if not)."""
        counts, edges = np.asarray(h.counts, np.float64), np.asarray(h.edges, np.float64)
        if len(counts) != self.bins:
            own = np.linspace(edges[0], edges[-1], self.bins + 1)
            counts, edges = rebin(counts[None], edges[None], own)[0], own
        return counts, edges

    def series(self, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, counts, edges) of the ticks that have this kind (gradients start after the first step)."""
        prefix = "w" if kind == WEIGHTS else "g"
        steps, counts, edges = self.rows["step"], self.rows[f"{prefix}_counts"], self.rows[f"{prefix}_edges"]
        if kind == GRADIENTS:
            keep = self.rows["has_grad"]
            steps, counts, edges = steps[keep], counts[keep], edges[keep]
        return steps, counts, edges


@dataclass
class _Run:
    run_id: str
    name: str
    color: QColor
    layers: dict[str, _LayerStore] = field(default_factory=dict)
    activations: tuple[ActivationStats, ...] = ()
    activations_step: int = 0
    heatmaps: dict[tuple[str, str], Heatmap] = field(default_factory=dict)


NARROW = 560
"""Narrower than this (px), the Weights tab stacks its plots in one column (:meth:`HistogramView._arrange`)."""


def _key_label() -> QLabel:
    """A key under a plot, as a plain label: it wraps to any width and the layout gives it its height
    (inside the plot's scene, a wrapped row could outgrow a short plot and be cut off)."""
    label = QLabel(" ")
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setMinimumWidth(60)
    return label


class HistogramView(QWidget):
    """Per-layer weight (or gradient) histograms of one run, over time, and activation scale by depth."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._runs: dict[str, _Run] = {}
        self._run_id: str | None = None
        self._layer: str | None = None
        self._gradients = False

        self._run_combo = QComboBox()
        self._run_combo.setToolTip("Whose weights to show.")
        # A few characters wide at least, whatever the run names, so a long name cannot widen the window.
        self._run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._run_combo.setMinimumContentsLength(5)
        self._grad_box = QCheckBox("gradients")
        self._grad_box.setToolTip("Show the gradient of each tensor (at the histogram step) instead of its values.")
        self._layer_list = QListWidget()
        self._layer_list.setToolTip("Weight tensors of the network, input side first.")
        self._layer_list.setMinimumWidth(150)
        self._run_combo.currentIndexChanged.connect(self._on_run_combo)
        self._grad_box.toggled.connect(self.set_gradients)
        self._layer_list.currentTextChanged.connect(self._on_layer_row)

        # Controls across the top, layers in a compact wrapping list: the tab shares the window with
        # the curves, so every pixel of width goes to the plots.
        self._layer_list.setMinimumWidth(0)
        self._layer_list.setFlow(QListView.LeftToRight)
        self._layer_list.setWrapping(True)
        self._layer_list.setSpacing(2)
        self._layer_list.setMaximumHeight(64)
        controls = QHBoxLayout()
        controls.setContentsMargins(4, 4, 4, 0)
        controls.addWidget(QLabel("Run"))
        controls.addWidget(self._run_combo, 1)
        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addLayout(controls)
        layer_row = QHBoxLayout()
        layer_row.setContentsMargins(4, 0, 4, 0)
        # "Layer" with the gradients switch under it, left of the list: the layer names get the width
        # and the tab stays narrow enough for a 1024 px projector
        layer_side = QVBoxLayout()
        layer_side.setContentsMargins(0, 0, 0, 0)
        layer_side.addWidget(QLabel("Layer"))
        layer_side.addWidget(self._grad_box)
        layer_side.addStretch(1)
        layer_row.addLayout(layer_side)
        layer_row.addWidget(self._layer_list, 1)
        side.addLayout(layer_row)
        side_widget = QWidget()
        side_widget.setLayout(side)

        self._hist_widget = ThemedPlotWidget()
        self._heat_axis = HeatmapValueAxis("left")   # symmetric log for gradients (gui.training.heatmap)
        self._heat_widget = ThemedPlotWidget(axisItems={"left": self._heat_axis})
        self._act_widget = ThemedPlotWidget(axisItems={"left": LogFriendlyAxis("left")})
        self._widgets = {"histogram": self._hist_widget, "heatmap": self._heat_widget,
                         "activations": self._act_widget}
        for widget in self._widgets.values():
            no_si_prefix(widget.getPlotItem())

        hist = self._hist_widget.getPlotItem()
        hist.setLabel("left", "count")
        hist.showGrid(x=True, y=True, alpha=0.15)
        self._hist_curve = pg.PlotDataItem(stepMode="center", fillLevel=0)
        hist.addItem(self._hist_curve)
        self._hist_stats = _key_label()

        heat = self._heat_widget.getPlotItem()
        heat.setLabel("bottom", "step")
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setAutoDownsample(True)
        heat.addItem(self._image)
        self._colorbar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get(HEATMAP_COLORMAP),
                                         label="count per bin", interactive=False, width=12)
        self._colorbar.setImageItem(self._image, insert_in=heat)

        act = self._act_widget.getPlotItem()
        act.setLabel("left", "activation std")
        act.setLabel("bottom", "layer (input side first)")
        act.setLogMode(y=True)   # a bad init shrinks the signal by a factor per layer: a straight line here
        act.showGrid(x=True, y=True, alpha=0.15)
        self._act_curves: dict[str, pg.PlotDataItem] = {}
        self._act_legend = _key_label()

        self._plots = QGridLayout()
        self._plots.setContentsMargins(0, 0, 0, 0)
        self._plots.setSpacing(4)
        self._narrow: bool | None = None
        self._arrange(narrow=False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(side_widget)
        layout.addLayout(self._plots, 1)

        self._restyle_timer = QTimer(self)
        self._restyle_timer.setSingleShot(True)
        self._restyle_timer.setInterval(0)
        self._restyle_timer.timeout.connect(self._restyle_labels)
        for widget in self._widgets.values():
            widget.background_changed.connect(self._restyle_timer.start)
        self._redraw()

    # -- layout -----------------------------------------------------------------------------------

    def _arrange(self, narrow: bool) -> None:
        """Histogram and activations side by side above the heatmap, or (narrower than ``NARROW`` px,
        the tab beside the curves on a 1024 px projector) one above the other, so neither is cut off."""
        if narrow == self._narrow:
            return
        self._narrow = narrow
        grid = self._plots
        for widget in (self._hist_widget, self._act_widget, self._hist_stats, self._act_legend, self._heat_widget):
            grid.removeWidget(widget)
        for row in range(5):
            grid.setRowStretch(row, 0)
        for column in range(2):
            grid.setColumnStretch(column, 0)
        if narrow:
            for row, widget in enumerate((self._hist_widget, self._hist_stats, self._act_widget,
                                          self._act_legend, self._heat_widget)):
                grid.addWidget(widget, row, 0, 1, 2)
            for row in (0, 2, 4):
                grid.setRowStretch(row, 1)
        else:
            grid.addWidget(self._hist_widget, 0, 0)
            grid.addWidget(self._act_widget, 0, 1)
            grid.addWidget(self._hist_stats, 1, 0)
            grid.addWidget(self._act_legend, 1, 1)
            grid.addWidget(self._heat_widget, 2, 0, 1, 2)
            grid.setRowStretch(0, 1)
            grid.setRowStretch(2, 1)
            grid.setColumnStretch(0, 3)
            grid.setColumnStretch(1, 2)

    def resizeEvent(self, event) -> None:
        self._arrange(narrow=event.size().width() < NARROW)
        super().resizeEvent(event)

    # -- runs -------------------------------------------------------------------------------------

    def add_run(self, run_id: str, name: str, color: QColor) -> None:
        if run_id in self._runs:
            raise ValueError(f"run {run_id!r} is already shown")
        self._runs[run_id] = _Run(run_id, name, QColor(color))
        self._run_combo.blockSignals(True)
        self._run_combo.addItem(swatch(color, 12), name, run_id)
        self._run_combo.blockSignals(False)
        curve = pg.PlotDataItem()
        self._act_widget.getPlotItem().addItem(curve)
        self._act_curves[run_id] = curve
        if self._run_id is None:
            self.select_run(run_id)
        self._draw_activations()

    def remove_run(self, run_id: str) -> None:
        if self._runs.pop(run_id, None) is None:
            return
        index = self._run_combo.findData(run_id)
        self._run_combo.blockSignals(True)
        self._run_combo.removeItem(index)
        self._run_combo.blockSignals(False)
        self._act_widget.getPlotItem().removeItem(self._act_curves.pop(run_id))
        if self._run_id == run_id:
            self._run_id = None
            self.select_run(next(iter(self._runs), None))
        self._draw_activations()

    def rename_run(self, run_id: str, name: str) -> None:
        self._runs[run_id].name = name
        self._run_combo.setItemText(self._run_combo.findData(run_id), name)
        self._draw_activations()

    def clear_run(self, run_id: str) -> None:
        run = self._runs[run_id]
        run.layers.clear()
        run.heatmaps.clear()
        run.activations, run.activations_step = (), 0
        if run_id == self._run_id:
            self._fill_layer_list()
            self._redraw()
        self._draw_activations()

    def select_run(self, run_id: str | None) -> None:
        if run_id is not None and run_id not in self._runs:
            raise KeyError(run_id)
        self._run_id = run_id
        index = self._run_combo.findData(run_id) if run_id is not None else -1
        if self._run_combo.currentIndex() != index:
            self._run_combo.blockSignals(True)
            self._run_combo.setCurrentIndex(index)
            self._run_combo.blockSignals(False)
        self._fill_layer_list()
        self._redraw()
        self._draw_activations()

    def select_layer(self, name: str) -> None:
        self._layer = name
        items = self._layer_list.findItems(name, Qt.MatchFlag.MatchExactly)
        if items and self._layer_list.currentItem() is not items[0]:
            self._layer_list.blockSignals(True)
            self._layer_list.setCurrentItem(items[0])
            self._layer_list.blockSignals(False)
        self._redraw()

    def set_gradients(self, on: bool) -> None:
        self._gradients = bool(on)
        if self._grad_box.isChecked() != self._gradients:
            self._grad_box.blockSignals(True)
            self._grad_box.setChecked(self._gradients)
            self._grad_box.blockSignals(False)
        self._redraw()

    @Slot(int)
    def _on_run_combo(self, index: int) -> None:
        self.select_run(self._run_combo.itemData(index) if index >= 0 else None)

    @Slot(str)
    def _on_layer_row(self, name: str) -> None:
        if name:
            self.select_layer(name)

    # -- data -------------------------------------------------------------------------------------

    def append(self, update: RunUpdate) -> None:
        """Store the update's histograms; redraw only if they belong to the run shown."""
        run = self._runs.get(update.run_id)
        if run is None or not update.histograms:
            return
        new_layers = False
        for event in update.histograms:
            for layer in event.layers:
                store = run.layers.get(layer.name)
                if store is None:
                    store = run.layers[layer.name] = _LayerStore(len(layer.weight.counts))
                    new_layers = True
                store.add(event.step, layer.weight, layer.grad)
        last = update.histograms[-1]
        if last.activations:
            run.activations, run.activations_step = last.activations, last.step
        if update.run_id == self._run_id:
            if new_layers:
                self._fill_layer_list()
            self._redraw()
        self._draw_activations()

    def _kind(self) -> str:
        return GRADIENTS if self._gradients else WEIGHTS

    def _store(self) -> _LayerStore | None:
        run = self._runs.get(self._run_id) if self._run_id is not None else None
        if run is None or self._layer is None:
            return None
        return run.layers.get(self._layer)

    def _heatmap(self) -> Heatmap | None:
        store = self._store()
        if store is None:
            return None
        run = self._runs[self._run_id]
        heatmap = run.heatmaps.setdefault((self._layer, self._kind()), Heatmap(symlog=self._kind() == GRADIENTS))
        heatmap.sync(*store.series(self._kind()))
        return heatmap

    def heatmap_image(self) -> np.ndarray:
        """The heatmap shown now, (HEATMAP_BINS, ticks): row i the value bin of ``heatmap_edges()[i:i+2]``, one column per histogram tick."""
        heatmap = self._heatmap()
        if heatmap is None:
            return np.zeros((HEATMAP_BINS, 0))
        return heatmap.columns.T.copy()

    def heatmap_edges(self) -> np.ndarray | None:
        """Value edges of the heatmap's rows (HEATMAP_BINS + 1), or None before any histogram."""
        heatmap = self._heatmap()
        return None if heatmap is None or heatmap.grid is None else heatmap.grid.copy()

    def heatmap_steps(self) -> np.ndarray:
        heatmap = self._heatmap()
        return np.zeros(0, np.int64) if heatmap is None else heatmap.steps.copy()

    def current_histogram(self) -> tuple[np.ndarray, np.ndarray]:
        """(edges, counts) drawn in the histogram plot now."""
        x, y = self._hist_curve.getData()
        if x is None:
            return np.zeros(0), np.zeros(0)
        return np.array(x), np.array(y)

    def layer_names(self) -> list[str]:
        return [self._layer_list.item(i).text() for i in range(self._layer_list.count())]

    def plot_widgets(self) -> dict[str, pg.PlotWidget]:
        """"histogram", "heatmap", "activations"."""
        return dict(self._widgets)

    # -- drawing ----------------------------------------------------------------------------------

    def _fill_layer_list(self) -> None:
        run = self._runs.get(self._run_id) if self._run_id is not None else None
        names = list(run.layers) if run is not None else []
        self._layer_list.blockSignals(True)
        self._layer_list.clear()
        self._layer_list.addItems(names)
        self._layer_list.blockSignals(False)
        if names:
            keep = self._layer if self._layer in names else names[0]
            self._layer = None
            self.select_layer(keep)

    def _redraw(self) -> None:
        kind = self._kind()
        what = "gradient" if kind == GRADIENTS else "weight"
        hist = self._hist_widget.getPlotItem()
        heat = self._heat_widget.getPlotItem()
        hist.setLabel("bottom", f"{what} value")
        heat.setLabel("left", f"{what} value" + (" (symmetric log)" if kind == GRADIENTS else ""))
        store = self._store()
        run = self._runs.get(self._run_id) if self._run_id is not None else None
        latest = store.latest[kind] if store is not None else None
        if latest is None:
            self._hist_curve.setData([], [])
            why = "no histogram yet" if kind == WEIGHTS or store is None else "no gradient before the first step"
            set_title(hist, f"{self._layer or 'Histogram'}: {why}")
            self._set_stats(" ")
        else:
            color = run.color
            self._hist_curve.setData(np.asarray(latest.edges), np.asarray(latest.counts, np.float64),
                                     stepMode="center", fillLevel=0, pen=pg.mkPen(color, width=1.5),
                                     brush=with_alpha(color, 90))
            set_title(hist, f"step {store.latest_step}")  # the layer is named right above, in the list
            self._set_stats(f"{what}s: mean {latest.mean:.3g}, std {latest.std:.3g}, "
                            f"{int(np.sum(latest.counts)):,} values")
        heatmap = self._heatmap()
        if heatmap is None or heatmap.grid is None or not len(heatmap.columns):
            self._image.clear()
            self._heat_axis.set_scale(ValueScale())
            set_title(heat, f"{what.capitalize()}s over training")
            return
        set_title(heat, f"{what.capitalize()}s over training")   # the layer is highlighted in the list above
        image = heatmap.columns.T
        steps = heatmap.steps
        dx = float(steps[-1] - steps[0]) / (len(steps) - 1) if len(steps) > 1 else 1.0
        dx = dx or 1.0
        top = float(image.max()) or 1.0
        self._image.setImage(image, autoLevels=False, levels=(0.0, top))
        y0, y1 = heatmap.y_span()
        self._heat_axis.set_scale(heatmap.value_scale)
        self._image.setRect(QRectF(float(steps[0]) - dx / 2, y0, dx * len(steps), y1 - y0))
        self._colorbar.setLevels((0.0, top))

    def _set_stats(self, text: str) -> None:
        self._hist_stats.setText(text)

    def _draw_activations(self) -> None:
        """Activation std against depth for every run; the run shown in the other plots drawn thicker."""
        plot = self._act_widget.getPlotItem()
        names: list[str] = []
        entries = []
        for run in self._runs.values():
            curve = self._act_curves[run.run_id]
            stds = np.array([a.std for a in run.activations], np.float64)
            if len(run.activations) > len(names):
                names = [a.name for a in run.activations]
            selected = run.run_id == self._run_id
            width = 2.5 if selected else 1.2
            curve.setData(np.arange(1, len(stds) + 1, dtype=np.float64), stds, pen=pg.mkPen(run.color, width=width),
                          symbol="o", symbolSize=8 if selected else 6, symbolBrush=run.color, symbolPen=run.color)
            curve.setZValue(2 if selected else 1)
            if len(stds):
                entries.append(legend_glyph_html(run.color, GLYPHS["train"], run.name))
        plot.getAxis("bottom").setTicks([[(i + 1, name) for i, name in enumerate(names)]])
        if names:
            plot.setXRange(0.5, len(names) + 0.5, padding=0.05)
        set_title(plot, "Activation std")
        steps = sorted({run.activations_step for run in self._runs.values() if run.activations})
        if entries:
            entries.insert(0, f"step {steps[0]}:" if len(steps) == 1 else "latest:")
        self._act_legend.setText(" &nbsp;".join(entries) or " ")

    @Slot()
    def _restyle_labels(self) -> None:
        self._redraw()
        self._draw_activations()

    def activation_data(self, run_id: str) -> tuple[list[str], np.ndarray]:
        """Layer names and activation std of a run's latest histogram tick."""
        run = self._runs[run_id]
        return [a.name for a in run.activations], np.array([a.std for a in run.activations])
