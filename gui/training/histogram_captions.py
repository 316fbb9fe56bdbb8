"""What each Weights plot shows, in words: the caption an exported Weights plot carries inside it.

In the window the Weights tab names its plots from around them: the run in its picker, the layer
highlighted in the list, the histogram's numbers and the activation plot's runs in keys under the plots.
A file of one plot alone lost all of that (a histogram titled "step 40": of what, whose?), so while a
plot is exported a row under its x axis says what it is, as the metric plots' and the boundary's
export rows do; :meth:`~gui.training.histograms.HistogramView.legend_text` reads the same words.
"""
from __future__ import annotations

import html
from contextlib import contextmanager
from dataclasses import dataclass

import pyqtgraph as pg

from engine.training.events import Histogram
from gui.training.histogram_history import KINDS
from gui.widgets.plotting import LegendRow, label_size

PLOTS = ("histogram", "heatmap", "activations", "steps")


@dataclass(frozen=True)
class Shown:
    """What the Weights tab shows now: the run and layer picked, weights or gradients, the newest
    histogram of that layer (None before one) and its step, and the activation plot's key (rich text)."""
    run: str | None
    layer: str | None
    kind: str
    latest: Histogram | None
    step: int
    activation_key: str
    step_key: str = ""


def captions(shown: Shown) -> dict[str, str]:
    """Each plot's caption as rich text (names escaped; the activation key keeps its coloured glyphs)."""
    info = KINDS[shown.kind]
    what = info.what
    whose = html.escape(", ".join(filter(None, [shown.run and f"run {shown.run}", shown.layer])) or "no run")
    if shown.latest is None:
        now = f"{whose}: no {what} histogram yet"
    else:
        h = shown.latest
        now = (f"{whose}: {what}s at step {shown.step}, mean {h.mean:.3g}, std {h.std:.3g}, "
               f"{int(h.counts.sum()):,} values")
    scale = " (symmetric log)" if info.symlog else ""
    key = shown.activation_key.strip()
    return {
        "histogram": f"Histogram of {now}",
        "heatmap": f"{whose}: {what}s over training: x the step, y the {info.axis}{scale}, colour the count "
                   "per bin",
        "activations": "Activation std of each layer's output, input side first (log scale)"
                       + (f": {key}" if key else ": no run has reported yet"),
        "steps": "Step size of each layer, ||Δθ|| / ||θ|| on the last histogram step, input side first (log scale)"
                 + (f": {shown.step_key.strip()}" if shown.step_key.strip() else ": no step measured yet"),
    }


class ExportRows:
    """A caption row inside each plot, below its x axis, shown only while that plot is exported."""

    def __init__(self, widgets: dict[str, pg.PlotWidget]):
        self._widgets = widgets
        self._rows: dict[str, LegendRow] = {}
        for name, widget in widgets.items():
            row = LegendRow()
            widget.getPlotItem().layout.addItem(row, 4, 1)
            row.set_collapsed(True)
            self._rows[name] = row

    @contextmanager
    def exporting(self, name: str, caption: str):
        """While plot ``name`` is exported it carries ``caption`` (a context manager yielding its widget)."""
        widget, row = self._widgets[name], self._rows[name]
        row.setText(caption, size=f"{label_size(widget.getPlotItem()):.0f}pt", color=pg.getConfigOption("foreground"))
        row.set_collapsed(False)
        try:
            yield widget
        finally:
            row.set_collapsed(True)
