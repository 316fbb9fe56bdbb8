"""The Weights tab's drawing of one layer: its newest histogram, and its histograms over training as a heatmap.

The heatmap's columns come from a :class:`~gui.training.histogram_history.LayerHistory`: older ticks in
buckets of many ticks, then the newest ticks one by one, so they are not evenly spaced in step, while an
image's columns are; :func:`evenly_spaced` resamples them, each column drawn over the steps it covers.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QWidget

from engine.training.events import Histogram
from gui.style.palette import with_alpha
from gui.training.heatmap import Heatmap, HeatmapValueAxis, ValueScale
from gui.training.histogram_history import GRADIENTS, KINDS, RATES, Kind, LayerHistory
from gui.widgets.plotting import ThemedPlotWidget, set_title

HEATMAP_COLORMAP = "viridis"     # perceptually uniform, readable in grey, on light and dark themes
PLOT_MIN_LINES = 10
"""A Weights plot is at least this many lines of the type size high (its title, its x axis and a view of some
five lines); a short panel (beside the curves on a 1024x768 projector) scrolls the plots instead, where they
were squeezed to strips of 60 px and their axis labels cut."""
DRAWN_COLUMNS = 2048
"""At most this many heatmap columns are drawn when the ticks are unevenly spaced (more than a plot's pixels)."""


def evenly_spaced(steps: np.ndarray, columns: np.ndarray, limit: int = DRAWN_COLUMNS
                  ) -> tuple[float, float, np.ndarray]:
    """(first x, column width, columns) for an image, whose columns are evenly spaced.

    Column i of the history starts at step s_i and covers the steps to s_(i+1) (a bucket covers its
    ticks).  Unevenly spaced, they are resampled onto n even columns centred on

        x_j = s_0 + j dx,   dx = (s_last - s_0) / (n - 1),   n = min(limit, (s_last - s_0) / (smallest gap) + 1):

    column j is the mean of the history's columns that start nearest to x_j, or, when none does, the last
    one before it (which covers it).  Uncapped, every history column has an image column of its own; capped
    (more columns than ``limit``), neighbours share one as their mean, as a shrunk image averages them.
    Evenly spaced columns are drawn as they are.
    """
    steps = np.asarray(steps, np.float64)
    if len(steps) < 2:
        return (float(steps[0]) if len(steps) else 0.0), 1.0, columns
    gaps = np.diff(steps)
    span = float(steps[-1] - steps[0])
    if span <= 0 or np.ptp(gaps) <= 1e-9 * span:
        return float(steps[0]), (span / (len(steps) - 1)) or 1.0, columns
    n = int(min(limit, math.ceil(span / max(float(gaps[gaps > 0].min()), 1e-12)) + 1))
    dx = span / (n - 1)
    at = np.clip(np.rint((steps - steps[0]) / dx).astype(np.intp), 0, n - 1)
    sums = np.zeros((n, *columns.shape[1:]))
    np.add.at(sums, at, columns)
    hits = np.bincount(at, minlength=n)
    last = np.maximum.accumulate(np.where(hits > 0, np.arange(n), 0))    # column 0 always has one
    return float(steps[0]), dx, sums[last] / hits[last].reshape(-1, *([1] * (columns.ndim - 1)))


def stats_text(info: Kind, latest: Histogram, update_ratio: float | None, zero_grad: float | None = None) -> str:
    """The line under the histogram: its mean, std and count; for the gradients the share that is exactly 0
    (dead ReLUs, or fp16's underflow without loss scaling); for the rates in words (a factor of ten per
    unit) with the layer's ``||dtheta|| / ||theta||``."""
    n = f"{int(np.sum(latest.counts)):,} values"
    if info.key == GRADIENTS and zero_grad:
        n += f", {zero_grad:.0%} exactly 0" if zero_grad >= 0.01 else f", {zero_grad:.1%} exactly 0"
    if info.key != RATES:
        return f"{info.what}s: mean {latest.mean:.3g}, std {latest.std:.3g}, {n}"
    lo, hi = latest.value_range()
    step = f"; the layer's step ||Δθ||/||θ|| = {update_ratio:.2g}" if update_ratio is not None else ""
    if lo == hi:
        return f"one rate for every weight, {10 ** lo:.3g}; {n}{step}"
    return (f"rates {10 ** lo:.2g} to {10 ** hi:.2g} (a factor of {10 ** (hi - lo):.3g}), "
            f"typical {10 ** latest.mean:.2g}; {n}{step}")


def synced_heatmap(cache: dict[tuple[str, str], tuple[int, Heatmap]], name: str, kind: str,
                   layer: LayerHistory) -> Heatmap:
    """The layer's heatmap of ``kind`` from ``cache``, brought up to date: new columns added, or built
    again when the history folded since (its old columns changed)."""
    version, heatmap = cache.get((name, kind), (None, None))
    if heatmap is None or version != layer.version(kind):
        heatmap = Heatmap(symlog=KINDS[kind].symlog)
        cache[(name, kind)] = (layer.version(kind), heatmap)
    heatmap.sync(*layer.series(kind))
    return heatmap


def fit_heights(widgets, font) -> None:
    """Each plot at least :data:`PLOT_MIN_LINES` lines of ``font`` high (larger in presenter mode)."""
    height = PLOT_MIN_LINES * QFontMetrics(font).lineSpacing()
    for widget in widgets:
        widget.setMinimumHeight(height)


class PlotScroll(QScrollArea):
    """The plots in a frameless area that scrolls up and down when their heights do not fit, and asks for
    the width they ask for (a plain scroll area asks for almost none, and the window's splitter gave the
    Weights tab a third of its width)."""

    def __init__(self, inner: QWidget):
        super().__init__()
        self.setWidget(inner)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def _wide(self, hint: QSize, inner: QSize) -> QSize:
        return QSize(inner.width() + self.verticalScrollBar().sizeHint().width(), hint.height())

    def sizeHint(self) -> QSize:   # noqa: N802 (Qt's name)
        return self._wide(super().sizeHint(), self.widget().sizeHint())

    def minimumSizeHint(self) -> QSize:   # noqa: N802 (Qt's name)
        return self._wide(super().minimumSizeHint(), self.widget().minimumSizeHint())


def key_label() -> QLabel:
    """A key under a plot, as a plain label: it wraps to any width and the layout gives it its height
    (inside the plot's scene, a wrapped row could outgrow a short plot and be cut off)."""
    label = QLabel(" ")
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setMinimumWidth(60)
    return label


class LayerPlots:
    """The histogram plot (the newest tick, with its numbers in a key under it) and the heatmap plot
    (every tick kept, x the step, y the value, colour the count) of the layer shown."""

    def __init__(self):
        self.hist_widget = ThemedPlotWidget()
        self.heat_axis = HeatmapValueAxis("left")   # symmetric log for gradients (gui.training.heatmap)
        self.heat_widget = ThemedPlotWidget(axisItems={"left": self.heat_axis})

        hist = self.hist_widget.getPlotItem()
        hist.setLabel("left", "count")
        hist.showGrid(x=True, y=True, alpha=0.15)
        self.hist_curve = pg.PlotDataItem(stepMode="center", fillLevel=0)
        hist.addItem(self.hist_curve)
        self.hist_stats = key_label()

        heat = self.heat_widget.getPlotItem()
        heat.setLabel("bottom", "step")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setAutoDownsample(True)
        heat.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get(HEATMAP_COLORMAP),
                                        label="count per bin", interactive=False, width=12)
        self.colorbar.setImageItem(self.image, insert_in=heat)

    def draw(self, layer: LayerHistory | None, heatmap: Heatmap | None, kind: str, name: str | None,
             color: QColor | None) -> None:
        """Both plots of ``layer`` (None: nothing to show yet) for ``kind``, in the run's colour."""
        info = KINDS[kind]
        what = info.what
        hist = self.hist_widget.getPlotItem()
        heat = self.heat_widget.getPlotItem()
        hist.setLabel("bottom", info.axis)
        heat.setLabel("left", info.axis + (" (symmetric log)" if info.symlog else ""))
        latest = layer.latest[kind] if layer is not None else None
        if latest is None or color is None:
            self.hist_curve.setData([], [])
            why = KINDS[next(iter(KINDS))].missing if layer is None else info.missing
            set_title(hist, f"{name or 'Histogram'}: {why}")
            self.hist_stats.setText(" ")
        else:
            assert layer is not None
            self.hist_curve.setData(np.asarray(latest.edges), np.asarray(latest.counts, np.float64),
                                    stepMode="center", fillLevel=0, pen=pg.mkPen(color, width=1.5),
                                    brush=with_alpha(color, 90))
            set_title(hist, f"step {layer.latest_step}")  # the layer is named right above, in the list
            self.hist_stats.setText(stats_text(info, latest, layer.update_ratio, layer.zero_grad))
        set_title(heat, f"{what.capitalize()}s over training")   # the layer is highlighted in the list above
        if heatmap is None or heatmap.grid is None or not len(heatmap.columns):
            self.image.clear()
            self.heat_axis.set_scale(ValueScale())
            return
        x0, dx, columns = evenly_spaced(heatmap.steps, heatmap.columns)
        image = columns.T
        top = float(image.max()) or 1.0
        self.image.setImage(image, autoLevels=False, levels=(0.0, top))
        y0, y1 = heatmap.y_span()
        self.heat_axis.set_scale(heatmap.value_scale)
        self.image.setRect(QRectF(x0 - dx / 2, y0, dx * len(columns), y1 - y0))
        self.colorbar.setLevels((0.0, top))
