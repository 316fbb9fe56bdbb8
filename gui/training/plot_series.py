"""What the training plots draw: the four plots (:data:`PLOTS`) and the curves each run has on them (:data:`SERIES`).

A curve is named by its plot and series, ``("loss", "smoothed")``; its points are one column of one
table of the run's :class:`~gui.training.columns.RunPoints`, so adding a curve is one line here and
no code in the view (:class:`~gui.training.metric_plots.MetricPlots`).
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor

from gui.style.palette import CLIPPED_MARK, NEUTRAL, with_alpha
from gui.widgets.plotting import GLYPHS, legend_glyph_html

KEY_FAINT_ALPHA = 110       # opacity of the mini-batch entry of the legend (a little stronger, to be read)


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
SERIES_BY_KEY: dict[tuple[str, str], SeriesInfo] = {(s.plot, s.name): s for s in SERIES}


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
