"""A per-layer plot of the Weights tab: one number per layer, input side first, a curve per run.

Two use it: the activation standard deviation of each layer's output (a bad init shrinks it by a factor
a layer: a straight line on the log axis) and each layer's step ``||dtheta|| / ||theta||`` on the last
histogram tick (LAMB's is lr in every layer; Adam's and SGD's differ).  The run shown in the tab's other
plots is drawn thicker, each run with its colour and marker; the key under the plot names the runs and
the step the values are from.
"""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from gui.style.palette import run_marker_of
from gui.training.histogram_layer import key_label
from gui.widgets.plotting import GLYPHS, LogFriendlyAxis, ThemedPlotWidget, legend_glyph_html, set_title

#: (layer names, one value per layer (NaN: none), the step they are from) of a run
Values = tuple[Sequence[str], Sequence[float], int]


def short_layer_name(name: str) -> str:
    """``hidden2.linear.weight`` -> ``hidden2``: the module, as the activation statistics name it."""
    return name.split(".")[0]


class ByLayerPlot:
    """The plot widget, its curves by run id and its key (a label under it)."""

    def __init__(self, title: str, left: str, tip: str = ""):
        self.title = title
        self.widget = ThemedPlotWidget(axisItems={"left": LogFriendlyAxis("left")})
        plot = self.widget.getPlotItem()
        plot.setLabel("left", left)
        plot.setLabel("bottom", "layer (input side first)")
        plot.setLogMode(y=True)
        plot.showGrid(x=True, y=True, alpha=0.15)
        if tip:
            self.widget.setToolTip(tip)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.legend = key_label()

    def add_run(self, run_id: str) -> None:
        curve = pg.PlotDataItem()
        self.widget.getPlotItem().addItem(curve)
        self.curves[run_id] = curve

    def remove_run(self, run_id: str) -> None:
        self.widget.getPlotItem().removeItem(self.curves.pop(run_id))

    def draw(self, runs: Iterable, selected_id: str | None, values_of: Callable[[object], Values]) -> None:
        """Every run's values (``values_of(run)``; a run has ``run_id``, ``name`` and ``color``); only the
        positive finite ones are drawn (the axis is logarithmic)."""
        plot = self.widget.getPlotItem()
        names: list[str] = []
        entries = []
        steps: set[int] = set()
        for run in runs:
            curve = self.curves[run.run_id]
            layer_names, values, step = values_of(run)
            ys = np.array(values, np.float64)
            shown = np.isfinite(ys) & (ys > 0)
            if len(layer_names) > len(names):
                names = [short_layer_name(n) for n in layer_names]
            selected = run.run_id == selected_id
            color = QColor(run.color)
            marker = run_marker_of(color)       # the run's shape, as on its evaluation points
            xs = np.arange(1, len(ys) + 1, dtype=np.float64)
            curve.setData(xs[shown], ys[shown], pen=pg.mkPen(color, width=2.5 if selected else 1.2),
                          symbol=marker.symbol, symbolSize=8 if selected else 6, symbolBrush=color,
                          symbolPen=color)
            curve.setZValue(2 if selected else 1)
            if shown.any():
                steps.add(step)
                line = GLYPHS["solid"][0]
                entries.append(legend_glyph_html(color, f"{line}{marker.glyph}{line}", run.name))
        plot.getAxis("bottom").setTicks([[(i + 1, name) for i, name in enumerate(names)]])
        if names:
            plot.setXRange(0.5, len(names) + 0.5, padding=0.05)
        set_title(plot, self.title)
        if entries:
            entries.insert(0, f"step {min(steps)}:" if len(steps) == 1 else "latest:")
        self.legend.setText(" &nbsp;".join(entries) or " ")
