"""Weights and gradients layer by layer: their histogram now, and how it moved over training.

What it teaches: a good initialization keeps every layer's weights, and the
signal passing through them, at a healthy scale.  The current histogram shows
one weight tensor's values (or its gradient's); the heatmap below shows every
histogram taken so far side by side, as TensorBoard's distributions do (x the
step, y the value, colour the count), so a student sees weights spread, shrink
under weight decay, or gradients vanish.  The small plot on the right shows
each layer's activation standard deviation, layer after layer: with a bad
init it shrinks (or explodes) with depth, with He or Xavier it holds.

This module is the widget: the run and layer pickers, the layout, the runs' stores and the activation
plot.  What it is made of lives beside it: ``gui.training.histogram_history`` each tensor's histograms
over training in bounded memory (a 5,000,000-step run costs what a 50,000-step one does), plain data
with no widget; ``gui.training.histogram_layer`` the drawing of one layer's histogram and heatmap; and
``gui.training.heatmap`` the heatmap's data (the common grid of value bins, the rebinning, the
symmetric-log rows that keep shrinking gradients visible).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
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
from gui.training.heatmap import HEATMAP_BINS, Heatmap
from gui.training.histogram_captions import ExportRows, Shown, captions
from gui.training.histogram_history import GRADIENTS, KINDS, WEIGHTS, LayerHistory
from gui.training.histogram_layer import LayerPlots, PlotScroll, fit_heights, synced_heatmap
from gui.training.layer_plot import ByLayerPlot
from gui.widgets.common import swatch
from gui.widgets.plotting import (
    no_si_prefix,
    plain_text,
)


@dataclass
class _Run:
    run_id: str
    name: str
    color: QColor
    layers: dict[str, LayerHistory] = field(default_factory=dict)
    activations: tuple[ActivationStats, ...] = ()
    activations_step: int = 0
    update_ratios: tuple[tuple[str, float | None], ...] = ()      # the newest tick's, layer by layer
    ratios_step: int = 0
    heatmaps: dict[tuple[str, str], tuple[int, Heatmap]] = field(default_factory=dict)   # (store version, heatmap)


NARROW = 560
"""Narrower than this (px), the Weights tab stacks its plots in one column (:meth:`HistogramView._arrange`)."""


class HistogramView(QWidget):
    """Per-layer weight (or gradient) histograms of one run, over time, and activation scale by depth."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._runs: dict[str, _Run] = {}
        self._run_id: str | None = None
        self._layer: str | None = None
        self._kind_key = WEIGHTS
        self._stale = self._new_layers = False

        self._run_combo = QComboBox()
        self._run_combo.setToolTip("Whose weights to show.")
        # A few characters wide at least, whatever the run names, so a long name cannot widen the window.
        self._run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._run_combo.setMinimumContentsLength(5)
        self._kind_combo = QComboBox()
        for kind in KINDS.values():
            self._kind_combo.addItem(kind.menu, kind.key)
            self._kind_combo.setItemData(self._kind_combo.count() - 1, kind.tip, Qt.ItemDataRole.ToolTipRole)
        # a few characters wide whatever its items, so "effective rates" cannot widen a 1024 px window
        self._kind_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._kind_combo.setMinimumContentsLength(8)
        self._kind_combo.setToolTip("What the histogram and the heatmap count: each tensor's values, its "
                                    "gradient, or each weight's effective rate.")
        self._layer_list = QListWidget()
        self._layer_list.setToolTip("Weight tensors of the network, input side first.")
        self._layer_list.setMinimumWidth(150)
        self._run_combo.currentIndexChanged.connect(self._on_run_combo)
        self._kind_combo.currentIndexChanged.connect(lambda i: self.set_kind(self._kind_combo.itemData(i)))
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
        layer_side.addWidget(self._kind_combo)
        layer_side.addStretch(1)
        layer_row.addLayout(layer_side)
        layer_row.addWidget(self._layer_list, 1)
        side.addLayout(layer_row)
        side_widget = QWidget()
        side_widget.setLayout(side)

        self._layer_plots = LayerPlots()
        # the names the tests and the exports reach the drawn items by
        self._hist_widget, self._heat_widget = self._layer_plots.hist_widget, self._layer_plots.heat_widget
        self._hist_curve, self._hist_stats = self._layer_plots.hist_curve, self._layer_plots.hist_stats
        self._image, self._heat_axis = self._layer_plots.image, self._layer_plots.heat_axis
        self._act = ByLayerPlot("Activation std", "activation std")   # a bad init: a straight line down
        self._steps = ByLayerPlot("Step size by layer", "||Δθ|| / ||θ||",
                                  "How far the optimizer moved each layer on the last histogram step, relative to "
                                  "the layer's size. SGD moves layers with large gradients most; LARS and LAMB "
                                  "set this ratio per layer (LAMB: lr in every layer).")
        # the names the tests and the layout reach them by
        self._act_widget, self._act_curves, self._act_legend = self._act.widget, self._act.curves, self._act.legend
        self._step_widget, self._step_curves, self._step_legend = (self._steps.widget, self._steps.curves,
                                                                    self._steps.legend)
        self._widgets = {"histogram": self._hist_widget, "heatmap": self._heat_widget,
                         "activations": self._act_widget, "steps": self._step_widget}
        for widget in self._widgets.values():
            no_si_prefix(widget.getPlotItem())
        self._export_rows = ExportRows(self._widgets)

        self._plots = QGridLayout()
        self._plots.setContentsMargins(0, 0, 0, 0)
        self._plots.setSpacing(4)
        self._narrow: bool | None = None
        self._arrange(narrow=False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(side_widget)
        plots = QWidget()
        plots.setLayout(self._plots)
        layout.addWidget(PlotScroll(plots), 1)      # plots keep a readable height and scroll on a short screen
        fit_heights(self._widgets.values(), self.font())

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
        for widget in (self._hist_widget, self._act_widget, self._hist_stats, self._act_legend, self._heat_widget,
                       self._step_widget, self._step_legend):
            grid.removeWidget(widget)
        for row in range(7):
            grid.setRowStretch(row, 0)
        for column in range(2):
            grid.setColumnStretch(column, 0)
        if narrow:
            for row, widget in enumerate((self._hist_widget, self._hist_stats, self._act_widget,
                                          self._act_legend, self._heat_widget, self._step_widget,
                                          self._step_legend)):
                grid.addWidget(widget, row, 0, 1, 2)
            for row in (0, 2, 4, 5):
                grid.setRowStretch(row, 1)
        else:
            grid.addWidget(self._hist_widget, 0, 0)
            grid.addWidget(self._act_widget, 0, 1)
            grid.addWidget(self._hist_stats, 1, 0)
            grid.addWidget(self._act_legend, 1, 1)
            grid.addWidget(self._heat_widget, 2, 0, 2, 1)
            grid.addWidget(self._step_widget, 2, 1)
            grid.addWidget(self._step_legend, 3, 1)
            grid.setRowStretch(0, 1)
            grid.setRowStretch(2, 1)
            grid.setColumnStretch(0, 3)
            grid.setColumnStretch(1, 2)

    def resizeEvent(self, event) -> None:
        self._arrange(narrow=event.size().width() < NARROW)
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:   # noqa: N802 (Qt's name)
        if event.type() == event.Type.FontChange:
            fit_heights(self._widgets.values(), self.font())
        super().changeEvent(event)

    # -- runs -------------------------------------------------------------------------------------

    def add_run(self, run_id: str, name: str, color: QColor) -> None:
        if run_id in self._runs:
            raise ValueError(f"run {run_id!r} is already shown")
        self._runs[run_id] = _Run(run_id, name, QColor(color))
        self._run_combo.blockSignals(True)
        self._run_combo.addItem(swatch(color, 12), name, run_id)
        self._run_combo.blockSignals(False)
        self._act.add_run(run_id)
        self._steps.add_run(run_id)
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
        self._act.remove_run(run_id)
        self._steps.remove_run(run_id)
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
        run.update_ratios, run.ratios_step = (), 0
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
        """Show the gradients (or, off, the weights)."""
        self.set_kind(GRADIENTS if on else WEIGHTS)

    def set_kind(self, kind: str) -> None:
        """Show one of :data:`~gui.training.histogram_history.KINDS`: weights, gradients, effective rates."""
        if kind not in KINDS:
            raise KeyError(kind)
        self._kind_key = kind
        index = self._kind_combo.findData(kind)
        if self._kind_combo.currentIndex() != index:
            self._kind_combo.blockSignals(True)
            self._kind_combo.setCurrentIndex(index)
            self._kind_combo.blockSignals(False)
        self._redraw()

    def kind(self) -> str:
        return self._kind_key

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
        new_layers = self.store(update)
        if update.run_id == self._run_id and update.histograms:
            self.refresh(new_layers)
        elif update.run_id in self._runs and update.histograms:
            self._draw_activations()

    def store(self, update: RunUpdate) -> bool:
        """Keep the update's histograms without drawing (the tab is hidden: its drawing waits for
        :meth:`refresh`); True when they brought a layer not seen before.  One extend per layer."""
        run = self._runs.get(update.run_id)
        if run is None or not update.histograms:
            return False
        ticks: dict[str, list[tuple[int, Histogram, Histogram | None, Histogram | None]]] = {}
        for event in update.histograms:
            for layer in event.layers:
                ticks.setdefault(layer.name, []).append((event.step, layer.weight, layer.grad, layer.rate))
        last_layers = {layer.name: layer for layer in update.histograms[-1].layers}
        new_layers = False
        for name, rows in ticks.items():
            layer_store = run.layers.get(name)
            if layer_store is None:
                layer_store = run.layers[name] = LayerHistory(len(rows[0][1].counts))
                new_layers = True
            layer_store.add(rows)
            if name in last_layers:
                layer_store.update_ratio = last_layers[name].update_ratio
                layer_store.zero_grad = last_layers[name].zero_grad
        run.update_ratios = tuple((layer.name, layer.update_ratio) for layer in update.histograms[-1].layers)
        if any(ratio is not None for _, ratio in run.update_ratios):
            run.ratios_step = update.histograms[-1].step
        last = update.histograms[-1]
        if last.activations:
            run.activations, run.activations_step = last.activations, last.step
        self._stale = True
        self._new_layers = self._new_layers or (new_layers and update.run_id == self._run_id)
        return new_layers

    @property
    def stale(self) -> bool:
        """Histograms were stored since the last drawing."""
        return self._stale

    def refresh(self, new_layers: bool = False) -> None:
        """Draw what was stored: the run shown, its layers if new ones came, and every run's activations."""
        if new_layers or self._new_layers:
            self._fill_layer_list()
        self._redraw()
        self._draw_activations()
        self._stale = self._new_layers = False

    def _kind(self) -> str:
        return self._kind_key

    def _store(self) -> LayerHistory | None:
        run = self._runs.get(self._run_id) if self._run_id is not None else None
        if run is None or self._layer is None:
            return None
        return run.layers.get(self._layer)

    def _heatmap(self) -> Heatmap | None:
        store = self._store()
        if store is None or self._layer is None or self._run_id is None:
            return None
        return synced_heatmap(self._runs[self._run_id].heatmaps, self._layer, self._kind(), store)

    def heatmap_image(self) -> np.ndarray:
        """The heatmap shown now, (HEATMAP_BINS, columns): row i the value bin of ``heatmap_edges()[i:i+2]``,
        one column per row of the layer's history (a bucket of older ticks as their mean histogram, then
        the newest ticks one by one: :mod:`gui.training.histogram_history`)."""
        heatmap = self._heatmap()
        if heatmap is None:
            return np.zeros((HEATMAP_BINS, 0))
        return heatmap.columns.T.copy()

    def heatmap_edges(self) -> np.ndarray | None:
        """Value edges of the heatmap's rows (HEATMAP_BINS + 1), or None before any histogram."""
        heatmap = self._heatmap()
        return None if heatmap is None or heatmap.grid is None else heatmap.grid.copy()

    def heatmap_steps(self) -> np.ndarray:
        """The first step of each of :meth:`heatmap_image`'s columns."""
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
        """"histogram", "heatmap", "activations", "steps"."""
        return dict(self._widgets)

    def legend_text(self, plot: str) -> str:
        """What plot ``plot`` (one of :meth:`plot_widgets`) is, in words: the run, the layer, weights or
        gradients and the histogram's numbers, or the activation plot's runs; an export carries it."""
        return plain_text(self._captions()[plot])

    def exporting(self, plot: str):
        """While ``plot`` is exported to a file, a row inside it says what it shows (a context manager
        yielding the plot widget): the window's pickers and keys around the plots are not in the file."""
        return self._export_rows.exporting(plot, self._captions()[plot])

    def _captions(self) -> dict[str, str]:
        run = self._runs.get(self._run_id) if self._run_id is not None else None
        store = self._store()
        return captions(Shown(run.name if run else None, self._layer if store else None, self._kind(),
                              store.latest[self._kind()] if store else None, store.latest_step if store else 0,
                              self._act_legend.text(), self._step_legend.text()))

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
        run = self._runs.get(self._run_id) if self._run_id is not None else None
        self._layer_plots.draw(self._store(), self._heatmap(), self._kind(), self._layer,
                               run.color if run is not None else None)

    def _draw_activations(self) -> None:
        """Activation std against depth, and each layer's ``||dtheta|| / ||theta||``, for every run."""
        runs = list(self._runs.values())
        self._act.draw(runs, self._run_id, lambda run: ([a.name for a in run.activations],
                                                        [a.std for a in run.activations], run.activations_step))
        self._steps.draw(runs, self._run_id, lambda run: ([name for name, _ in run.update_ratios],
                                                          [math.nan if r is None else r for _, r in run.update_ratios],
                                                          run.ratios_step))

    @Slot()
    def _restyle_labels(self) -> None:
        self._redraw()
        self._draw_activations()

    def activation_data(self, run_id: str) -> tuple[list[str], np.ndarray]:
        """Layer names and activation std of a run's latest histogram tick."""
        run = self._runs[run_id]
        return [a.name for a in run.activations], np.array([a.std for a in run.activations])
