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
per run.  Points are kept in numpy buffers that double when full (appending m
points costs O(m) amortized), the smoothing is continued from its saved state
(O(new points)), and each curve is drawn as consecutive chunks of at most
``CHUNK`` points: pyqtgraph re-examines an item's whole array on every
``setData`` (finiteness, bounds, downsampling), so only the last, growing chunk
is ever set again.  Each chunk draws downsampled to the screen (``peak``: the
min and max of each pixel column, so spikes survive) and clipped to the view,
so a million-step run stays smooth.
"""
from __future__ import annotations

import html
import re
import types
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QTextOption
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

from engine.smoothing import debiased_ema
from engine.training.updates import RunUpdate
from gui.style.palette import CLIPPED_MARK, NEUTRAL, with_alpha

X_AXES = ("step", "epoch")
DEFAULT_SMOOTHING = 0.6
MAX_SMOOTHING = 0.99
DEFAULT_LINE_WIDTH = 1.5
CHUNK = 1 << 16             # points per drawn item; an append re-sets at most this many
EVAL_SYMBOL_LIMIT = 200     # evaluation markers are drawn while a run has at most this many evaluations
FAINT_ALPHA = 70            # opacity (of 255) of the raw mini-batch loss


# -- storage ----------------------------------------------------------------------------------------

class GrowingColumns:
    """Columns of equal length in arrays that double when full, so appending m rows is O(m) amortized.

    ``np.append`` would copy the whole history on every update; doubling copies
    each row O(1) times on average.  A column is given as a dtype, or as
    ``(dtype, shape)`` for rows that are arrays themselves (histogram counts).
    """

    def __init__(self, **columns):
        self._specs = {k: (v if isinstance(v, tuple) else (v, ())) for k, v in columns.items()}
        self.clear()

    def clear(self) -> None:
        self._cols = {k: np.empty((16, *shape), dt) for k, (dt, shape) in self._specs.items()}
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def capacity(self) -> int:
        return len(next(iter(self._cols.values())))

    def extend(self, **cols: np.ndarray) -> None:
        m = len(next(iter(cols.values())))
        if m == 0:
            return
        need = self.n + m
        if need > self.capacity():
            cap = max(need, 2 * self.capacity())
            for key, old in self._cols.items():
                new = np.empty((cap, *old.shape[1:]), old.dtype)
                new[:self.n] = old[:self.n]
                self._cols[key] = new
        for key, value in cols.items():
            self._cols[key][self.n:need] = value
        self.n = need

    def __getitem__(self, key: str) -> np.ndarray:
        """A view of the filled part (writable: the smoothing is recomputed in place)."""
        return self._cols[key][:self.n]


# -- plot widgets that follow the theme ---------------------------------------------------------------

class ThemedPlotWidget(pg.PlotWidget):
    """A PlotWidget that says when its background changes.

    The window restyles plots for light, dark and presenter looks by calling
    ``setBackground`` and setting axis fonts; titles and the legend rows below
    the plots are HTML with the colour and size baked in when they are set, so
    a view listens here and sets them again (one event-loop turn later, once
    the restyling is done).
    """
    background_changed = Signal()

    def setBackground(self, background):
        super().setBackground(background)
        self.background_changed.emit()


class LogFriendlyAxis(pg.AxisItem):
    """In log mode, label only the 1-2-5 ticks of each decade.

    pyqtgraph labels every minor tick of a log axis (0.2, 0.3, ..., 0.9), and
    over less than a decade or two the labels run into each other.
    """

    def logTickStrings(self, values, scale, spacing):
        strings = super().logTickStrings(values, scale, spacing)
        out = []
        for value, text in zip(values, strings):
            mantissa = 10 ** (value - np.floor(value + 1e-9))
            out.append(text if any(abs(mantissa - m) < 1e-6 * m for m in (1, 2, 5, 10)) else "")
        return out


QWIDGETSIZE_MAX = (1 << 24) - 1


class LegendRow(pg.LabelItem):
    """A line of HTML under a plot that wraps to the width it is given.

    A plain LabelItem demands the width of its text as its minimum, so a long
    legend would widen the plot beyond its window and be cut off; this one
    asks for no width and wraps, growing in height instead.
    """

    def __init__(self, text: str = " "):
        super().__init__(text)
        option = QTextOption(Qt.AlignmentFlag.AlignHCenter)
        option.setWrapMode(QTextOption.WrapMode.WordWrap)
        self.item.document().setDefaultTextOption(option)

    def resizeEvent(self, ev):
        width = self.rect().width()
        if width > 0 and abs(self.item.textWidth() - width) > 0.5:
            self.item.setTextWidth(width)
            self.updateMin()     # wrapped to more (or fewer) lines: ask for that height
        super().resizeEvent(ev)

    def updateMin(self):
        if self.maximumHeight() > 0:
            _height_only_min(self)

    def set_collapsed(self, collapsed: bool) -> None:
        """No height at all (a plot whose line styles need no key), or the text's height."""
        self.setVisible(not collapsed)
        self.setMaximumHeight(0 if collapsed else QWIDGETSIZE_MAX)
        if collapsed:
            self.setMinimumHeight(0)
        else:
            _height_only_min(self)


def _unique_entries(groups: list[str]) -> list[str]:
    """The entries of several legend texts, each once, in order (train set and val set appear in two plots)."""
    seen: list[str] = []
    for group in groups:
        for entry in group.split(" &nbsp;"):
            entry = entry.strip()
            if entry and entry not in seen:
                seen.append(entry)
    return seen


def _plain(rich: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rich)).replace("\xa0", " ")


def no_si_prefix(plot: pg.PlotItem) -> None:
    """Plain tick values (0.1, 0.01) instead of pyqtgraph's "(x0.001)" with ticks 100, 10, which a student misreads."""
    for name in ("left", "bottom"):
        plot.getAxis(name).enableAutoSIPrefix(False)


def set_title(plot: pg.PlotItem, text: str) -> None:
    """A bold title sized after the axis labels, that does not force the plot wider than its window.

    pyqtgraph makes a title's text width the plot's minimum width; in a narrow
    window the scene then outgrows the view and the right of the plot is cut
    off.  Here the minimum is dropped: a too-long title is cut, not the plot.
    """
    label = plot.titleLabel
    if not getattr(label, "_no_min_width", False):
        # LabelItem recomputes its minimum on every text change and resize; replace that on this instance
        label.updateMin = types.MethodType(_height_only_min, label)
        label._no_min_width = True
    plot.setTitle(text, size=f"{label_size(plot) + 2:.0f}pt", bold=True)


def _height_only_min(label: pg.LabelItem) -> None:
    """LabelItem.updateMin, asking for the text's height but no width."""
    height = label.itemRect().height()
    label.setMinimumWidth(0)
    label.setMinimumHeight(height)
    label._sizeHint = {
        Qt.SizeHint.MinimumSize: (0, height),
        Qt.SizeHint.PreferredSize: (0, height),
        Qt.SizeHint.MaximumSize: (-1, -1),
        Qt.SizeHint.MinimumDescent: (0, 0),
    }
    label.updateGeometry()


def label_size(plot: pg.PlotItem) -> float:
    """Point size of the plot's axis labels (larger in presenter mode): legends and titles follow it."""
    size = plot.getAxis("bottom").label.font().pointSizeF()
    return size if size > 0 else 9.0


# -- what is drawn ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SeriesInfo:
    """One curve of a run: where its points come from and how it looks.

    ``table`` is ``steps`` (one point per optimizer step), ``evals`` (one per
    evaluation on the full sets) or ``clips`` (the clipped steps only);
    ``column`` the y values; ``style`` one of the looks ``_style`` knows.
    """
    plot: str
    name: str
    table: str
    column: str
    style: str
    z: float


SERIES: tuple[SeriesInfo, ...] = (
    SeriesInfo("loss", "batch", "steps", "loss", "faint", 0),
    SeriesInfo("loss", "smoothed", "steps", "ema", "solid", 1),
    SeriesInfo("loss", "train", "evals", "train_loss", "train", 2),
    SeriesInfo("loss", "val", "evals", "val_loss", "val", 2),
    SeriesInfo("accuracy", "train", "evals", "train_acc", "train", 2),
    SeriesInfo("accuracy", "val", "evals", "val_acc", "val", 2),
    SeriesInfo("lr", "lr", "steps", "lr", "solid", 1),
    SeriesInfo("grad_norm", "grad_norm", "steps", "grad_norm", "solid", 1),
    SeriesInfo("grad_norm", "clipped", "clips", "grad_norm", "marks", 3),
)
_SERIES = {(s.plot, s.name): s for s in SERIES}


@dataclass(frozen=True)
class PlotInfo:
    key: str
    title: str
    y_label: str
    legend_style: str      # how the run's entry in the legend is drawn
    key_entries: str       # HTML after the runs: what each line style means


_GLYPH = {"solid": "━━", "train": "━●━", "val": "╍○╍", "dash": "╍╍"}


def _key(color: str, glyph: str, text: str) -> str:
    """One legend entry; non-breaking spaces inside it, so a wrapped legend breaks only between entries."""
    text = text.replace(" ", "&nbsp;")
    return f"<span style='color:{color}'>{glyph}</span>&nbsp;{text}"


PLOTS: tuple[PlotInfo, ...] = (
    PlotInfo("loss", "Loss", "cross-entropy", "solid",
             " &nbsp;".join([_key(with_alpha(QColor(NEUTRAL), 110).name(QColor.HexArgb), "━━", "mini-batch"),
                             _key(NEUTRAL, "━━", "smoothed"),
                             _key(NEUTRAL, _GLYPH["train"], "train set"),
                             _key(NEUTRAL, _GLYPH["val"], "val set")])),
    PlotInfo("accuracy", "Accuracy", "fraction correct", "train",
             " &nbsp;".join([_key(NEUTRAL, _GLYPH["train"], "train set"),
                             _key(NEUTRAL, _GLYPH["val"], "val set")])),
    PlotInfo("lr", "Learning rate", "learning rate", "solid", ""),
    PlotInfo("grad_norm", "Gradient norm", "L2 norm (pre-clip)", "solid",
             " &nbsp;".join([_key(CLIPPED_MARK, "●", "clipped step"),
                             _key(NEUTRAL, _GLYPH["dash"], "clip threshold")])),
)


def _style(style: str, color: QColor, width: float) -> dict:
    """PlotDataItem keyword arguments of a curve style, in a run's colour at a line width.

    Speed decides two things here.  Qt strokes a wide, antialiased or
    translucent polyline as one outline, and on a noisy curve that costs
    hundreds of milliseconds per frame even after downsampling (measured: 770
    points of a mini-batch-like curve, width 1.6: 0.8 s antialiased, 9 ms
    not).  So the per-step curves are opaque and not antialiased, which lets
    pyqtgraph draw them as separate segments; the faint mini-batch loss is
    translucent but always 1 px wide, which Qt draws fast.  Evaluation curves
    have few points and keep antialiasing (see ``_ChunkedCurve.set_symbols``).
    """
    symbol_size = 4 + 2 * width
    if style == "faint":
        return dict(pen=pg.mkPen(with_alpha(color, FAINT_ALPHA), width=1), symbol=None, antialias=False)
    if style == "solid":
        return dict(pen=pg.mkPen(color, width=width), symbol=None, antialias=False)
    if style == "train":
        return dict(pen=pg.mkPen(color, width=width), symbol="o", symbolSize=symbol_size,
                    symbolBrush=pg.mkBrush(color), symbolPen=pg.mkPen(color), antialias=True)
    if style == "val":
        return dict(pen=pg.mkPen(color, width=width, style=Qt.PenStyle.DashLine), symbol="o",
                    symbolSize=symbol_size, symbolBrush=pg.mkBrush(QColor(0, 0, 0, 0)),
                    symbolPen=pg.mkPen(color, width=max(1.0, width * 0.8)), antialias=True)
    if style == "marks":
        return dict(pen=None, symbol="o", symbolSize=2 + 2 * width, symbolBrush=pg.mkBrush(CLIPPED_MARK),
                    symbolPen=None, antialias=False)
    raise ValueError(f"unknown curve style {style!r}")


class _Chunk(pg.PlotDataItem):
    """A PlotDataItem that reports the bounds of its data, not of the downsampled copy it draws.

    pyqtgraph's own ``dataBounds`` measures what is drawn.  Downsampling moves
    those bounds a little with the zoom (a bin's x is its centre; a partial
    last bin is dropped), auto-range follows them, the new range changes the
    downsampling, and with several chunks in one plot this can cycle for ever
    (measured: the window hung when a second chunk appeared).  The data's own
    bounds do not depend on the zoom, so the cycle cannot start.
    """

    def setData(self, *args, **kwargs):
        self._bounds: dict = {}
        super().setData(*args, **kwargs)

    def dataBounds(self, ax, frac=1.0, orthoRange=None):
        if not self.isVisible():
            return (None, None)
        x, y = self.getOriginalDataset()
        if x is None or len(x) == 0:
            return (None, None)
        log = self.opts["logMode"][ax]
        if ax == 1 and orthoRange is not None:      # y of the points whose x is shown (x is sorted)
            lo, hi = np.searchsorted(x, orthoRange[0]), np.searchsorted(x, orthoRange[1], side="right")
            if lo > 0 or hi < len(x):
                return _finite_range(y[lo:hi], log)
        key = (ax, log)
        if key not in self._bounds:
            self._bounds[key] = _finite_range(x if ax == 0 else y, log)
        return self._bounds[key]


def _finite_range(values: np.ndarray, log: bool) -> tuple[float, float] | tuple[None, None]:
    """min and max of the finite values, in log10 if the axis is logarithmic (positive values only)."""
    values = values[np.isfinite(values)]
    if log:
        values = np.log10(values[values > 0])
    if values.size == 0:
        return (None, None)
    return (float(values.min()), float(values.max()))


class _ChunkedCurve:
    """One series of one run, drawn as consecutive PlotDataItems of at most CHUNK points.

    Full chunks are given a copy of their points once and left alone; an
    append re-sets only the last chunk, so its cost does not grow with the run.
    Line chunks overlap by one point so the line has no gap; marker chunks do
    not, so no step is marked twice.
    """

    def __init__(self, plot: pg.PlotItem, info: SeriesInfo, color: QColor, width: float, visible: bool):
        self.plot = plot
        self.info = info
        self.overlap = 0 if info.style == "marks" else 1
        self.items: list[pg.PlotDataItem] = []
        self._tail = 0            # data index where the last item begins
        self._symbols = True
        self.visible = visible
        self.restyle(color, width)
        self._new_item()

    def _new_item(self) -> pg.PlotDataItem:
        # dynamicRangeLimit=None: pyqtgraph otherwise rebuilds every curve's path whenever the y range
        # moves (it clamps far-off values for extreme zooms), which auto-ranging does on most updates:
        # measured, that rebuild was most of a turn of the event loop.  Our values stay within 1000x
        # the starting loss (a run beyond that has diverged and stops), so nothing needs clamping.
        item = _Chunk(connect="finite", autoDownsampleFactor=1.0, dynamicRangeLimit=None, **self._kwargs())
        item.setZValue(self.info.z)
        item.setVisible(self.visible)
        self.plot.addItem(item)
        # after addItem, which resets both to the plot's context-menu defaults.  "peak" keeps each pixel
        # column's min and max, the whole visible envelope, so one sample per pixel (factor 1) loses nothing.
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
        self.items.append(item)
        return item

    def _kwargs(self) -> dict:
        kwargs = dict(self._look)
        if not self._symbols and self.info.style in ("train", "val"):
            kwargs["symbol"] = None
            kwargs["antialias"] = False      # many evaluations: a dense curve, drawn the fast way
        return kwargs

    def restyle(self, color: QColor, width: float) -> None:
        self._look = _style(self.info.style, color, width)
        self._apply_look()

    def set_symbols(self, on: bool) -> None:
        if on != self._symbols:
            self._symbols = on
            self._apply_look()

    def _apply_look(self) -> None:
        kwargs = self._kwargs()
        for item in self.items:
            item.opts["antialias"] = kwargs["antialias"]
            item.setPen(kwargs["pen"])
            item.setSymbol(kwargs["symbol"])
            if kwargs["symbol"] is not None:
                item.setSymbolSize(kwargs["symbolSize"])
                item.setSymbolBrush(kwargs["symbolBrush"])
                item.setSymbolPen(kwargs["symbolPen"])

    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        for item in self.items:
            item.setVisible(visible)

    def update(self, x: np.ndarray, y: np.ndarray) -> None:
        """Show ``x, y`` (the whole series, of which only the end is new): O(new points + CHUNK)."""
        n = len(x)
        while n - self._tail > CHUNK:
            end = self._tail + CHUNK + self.overlap
            self.items[-1].setData(np.array(x[self._tail:end], np.float64), np.array(y[self._tail:end]))
            self._tail += CHUNK
            self._new_item()
        start = self._tail
        self.items[-1].setData(np.array(x[start:], np.float64), np.array(y[start:], np.float64))

    def reset(self, x: np.ndarray, y: np.ndarray) -> None:
        """Redraw from scratch (the x axis or the smoothing changed, or the run was cleared)."""
        for item in self.items[1:]:
            self.plot.removeItem(item)
        del self.items[1:]
        self._tail = 0
        self.update(x, y)

    def remove(self) -> None:
        for item in self.items:
            self.plot.removeItem(item)
        self.items.clear()


@dataclass
class _Run:
    run_id: str
    name: str
    color: QColor
    steps: GrowingColumns = field(default_factory=lambda: GrowingColumns(
        step=np.int64, epoch=np.float64, lr=np.float64, loss=np.float64, grad_norm=np.float64,
        clipped=bool, ema=np.float64))
    evals: GrowingColumns = field(default_factory=lambda: GrowingColumns(
        step=np.int64, epoch=np.float64, train_loss=np.float64, train_acc=np.float64,
        val_loss=np.float64, val_acc=np.float64))
    clips: GrowingColumns = field(default_factory=lambda: GrowingColumns(step=np.int64, epoch=np.float64, grad_norm=np.float64))
    ema_last: float = 0.0
    ema_count: int = 0
    visible: bool = True
    curves: dict[tuple[str, str], _ChunkedCurve] = field(default_factory=dict)
    clip_value: float | None = None
    clip_line: pg.InfiniteLine | None = None

    def table(self, name: str) -> GrowingColumns:
        return getattr(self, name)


class MetricPlots(QWidget):
    """Loss, accuracy, learning rate and gradient norm of every run, sharing one x axis.

    Drive it from Python as the window does: ``add_run``, then ``append`` each
    :class:`~engine.training.updates.RunUpdate`; the toolbar controls call the same
    setters (``set_smoothing``, ``set_log_loss``, ``set_x_axis``).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._runs: dict[str, _Run] = {}
        self._pending: dict[str, set[tuple[str, tuple[str, str]]]] = {}   # plot -> (run id, curve key) to draw
        self._x_axis = "step"
        self._smoothing = DEFAULT_SMOOTHING
        self._width = DEFAULT_LINE_WIDTH

        # toolbar
        self._slider = QSlider(Qt.Orientation.Horizontal)
        self._slider.setRange(0, round(MAX_SMOOTHING * 100))
        self._slider.setValue(round(DEFAULT_SMOOTHING * 100))
        self._slider.setMinimumWidth(40)     # shrinks first, so the window fits a 1024-pixel projector
        self._slider.setMaximumWidth(160)
        self._slider.setToolTip("Weight w of the exponential moving average drawn over the mini-batch loss: "
                                "0 shows the raw loss, 0.99 averages over about 100 steps.")
        self._smoothing_label = QLabel()
        # always "0.00"-shaped: its own text width is its minimum, in any font size
        self._log_box = QCheckBox("log loss")
        self._log_box.setToolTip("Logarithmic y axis on the loss plot: equal ratios look equal, so late "
                                 "progress stays visible.")
        self._x_combo = QComboBox()
        for axis in X_AXES:                 # "x: step" needs no label beside it: narrower on a projector
            self._x_combo.addItem(f"x: {axis}", axis)
        self._x_combo.setToolTip("What the shared x axis counts: optimizer steps or passes over the training set.")
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(60)   # while the slider is dragged, recompute once it rests
        self._debounce.timeout.connect(self._apply_slider)
        self._slider.valueChanged.connect(self._on_slider)
        self._log_box.toggled.connect(self.set_log_loss)
        self._x_combo.currentIndexChanged.connect(lambda i: self.set_x_axis(self._x_combo.itemData(i)))

        bar = QHBoxLayout()
        bar.setContentsMargins(2, 2, 2, 2)
        bar.addWidget(QLabel("Smoothing"))
        bar.addWidget(self._slider)
        bar.addWidget(self._smoothing_label)
        bar.addSpacing(3)
        bar.addWidget(self._log_box)
        bar.addSpacing(3)
        bar.addWidget(self._x_combo)
        bar.addStretch(1)

        # plots
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        self._widgets: dict[str, pg.PlotWidget] = {}
        self._legends: dict[str, pg.LabelItem] = {}
        for index, info in enumerate(PLOTS):
            widget = ThemedPlotWidget(axisItems={"left": LogFriendlyAxis("left")})
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
        loss = self._widgets["loss"].getPlotItem()
        for key, widget in self._widgets.items():
            plot = widget.getPlotItem()
            if key != "loss":
                plot.setXLink(loss)
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
        loss.ctrl.logYCheck.toggled.connect(self._on_menu_log)

        # The runs' colours, once for all four plots (the same colour is the same run in each).
        self._run_legend = QLabel(" ")
        self._run_legend.setWordWrap(True)
        self._run_legend.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._run_legend.setTextFormat(Qt.TextFormat.RichText)
        self._run_legend.setMinimumWidth(80)   # wraps instead of widening the window

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self._run_legend)
        layout.addLayout(grid, 1)
        self._restyle_timer = QTimer(self)
        self._restyle_timer.setSingleShot(True)
        self._restyle_timer.setInterval(0)
        self._restyle_timer.timeout.connect(self._restyle_labels)
        self._update_smoothing_label()
        self._update_x_labels()
        self._restyle_labels()
        self._fit_x_combo()

    def _fit_x_combo(self) -> None:
        """Room for "x: epoch" in the current font: a combo sizes itself once, at its first show, so in
        presenter mode's larger type it would cut its own text."""
        self._x_combo.setMinimumWidth(self._x_combo.fontMetrics().horizontalAdvance("x: epoch") + 30)

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.FontChange:
            self._fit_x_combo()
        super().changeEvent(event)

    # -- runs -------------------------------------------------------------------------------------

    def add_run(self, run_id: str, name: str, color: QColor) -> None:
        if run_id in self._runs:
            raise ValueError(f"run {run_id!r} is already plotted")
        run = _Run(run_id, name, QColor(color))
        for info in SERIES:
            run.curves[(info.plot, info.name)] = _ChunkedCurve(
                self._widgets[info.plot].getPlotItem(), info, run.color, self._width, run.visible)
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
        self._update_legends()

    def clear_run(self, run_id: str) -> None:
        """Forget the run's points (it restarts); its curves, colour and clip line stay."""
        run = self._runs[run_id]
        run.steps.clear()
        run.evals.clear()
        run.clips.clear()
        run.ema_last, run.ema_count = 0.0, 0
        for curve in run.curves.values():
            curve.set_symbols(True)
            curve.reset(*self._xy(run, curve.info))

    def set_run_visible(self, run_id: str, visible: bool) -> None:
        run = self._runs[run_id]
        run.visible = bool(visible)
        for curve in run.curves.values():
            curve.set_visible(run.visible)
        if run.clip_line is not None:
            run.clip_line.setVisible(run.visible)
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
        so no single turn paints all four plots (see ``MainWindow._draw_slice``).
        """
        run = self._runs.get(update.run_id)
        if run is None:
            return
        s = update.steps
        if len(s):
            ema, run.ema_last, run.ema_count = debiased_ema(s.loss, self._smoothing, run.ema_last, run.ema_count)
            run.steps.extend(step=s.step, epoch=s.epoch, lr=s.lr, loss=s.loss, grad_norm=s.grad_norm,
                             clipped=s.clipped, ema=ema)
            if s.clipped.any():
                run.clips.extend(step=s.step[s.clipped], epoch=s.epoch[s.clipped],
                                 grad_norm=s.grad_norm[s.clipped])
        e = update.evals
        if len(e):
            run.evals.extend(step=e.step, epoch=e.epoch, train_loss=e.train_loss, train_acc=e.train_acc,
                             val_loss=e.val_loss, val_acc=e.val_acc)
        for key, curve in run.curves.items():
            table = curve.info.table
            if table == "evals":
                if not len(e):
                    continue
            elif not len(s) or (table == "clips" and not s.clipped.any()):
                continue
            self._pending.setdefault(curve.info.plot, set()).add((run.run_id, key))
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
            curve = run.curves[key]
            if curve.info.table == "evals":
                curve.set_symbols(len(run.evals) <= EVAL_SYMBOL_LIMIT)
            curve.update(*self._xy(run, curve.info))

    def _xy(self, run: _Run, info: SeriesInfo) -> tuple[np.ndarray, np.ndarray]:
        table = run.table(info.table)
        return table[self._x_axis], table[info.column]

    def curve_data(self, run_id: str, plot: str, series: str) -> tuple[np.ndarray, np.ndarray]:
        """Every point held for one curve, as copies, x in the current x-axis unit.

        ``plot``/``series``: loss/batch, loss/smoothed, loss/train, loss/val,
        accuracy/train, accuracy/val, lr/lr, grad_norm/grad_norm, grad_norm/clipped.
        """
        info = _SERIES[(plot, series)]
        x, y = self._xy(self._runs[run_id], info)
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

    def set_x_axis(self, axis: str) -> None:
        if axis not in X_AXES:
            raise ValueError(f"x axis must be one of {', '.join(X_AXES)}, got {axis!r}")
        if self._x_combo.currentData() != axis:
            self._x_combo.blockSignals(True)
            self._x_combo.setCurrentIndex(self._x_combo.findData(axis))
            self._x_combo.blockSignals(False)
        if axis == self._x_axis:
            return
        self._x_axis = axis
        self._update_x_labels()
        for run in self._runs.values():
            for curve in run.curves.values():
                curve.reset(*self._xy(run, curve.info))
        for widget in self._widgets.values():
            widget.getPlotItem().enableAutoRange(x=True)
        self._apply_planned_extent()

    def set_planned_extent(self, steps: float, epochs: float) -> None:
        """Fix the x axis to the whole planned length of the runs (0 steps: follow the data again).

        With the x range growing on every update, pyqtgraph lays out and
        repaints every axis each time; fixed, the curves simply fill in from
        the left.  Measured with benchmarks/gui_bench.py under Xvfb: GUI-thread
        stall p99 380 -> 56 ms, refresh 23 -> 28 per second.
        """
        self._planned = {"step": float(steps), "epoch": float(epochs)}
        self._apply_planned_extent()

    def _apply_planned_extent(self) -> None:
        end = getattr(self, "_planned", {}).get(self._x_axis, 0.0)
        for widget in self._widgets.values():
            item = widget.getPlotItem()
            if end > 0:
                item.enableAutoRange(x=False)
                item.setXRange(0, end, padding=0.02)
            else:
                item.enableAutoRange(x=True)

    def x_axis(self) -> str:
        return self._x_axis

    def set_log_loss(self, on: bool) -> None:
        on = bool(on)
        if self._log_box.isChecked() != on:
            self._log_box.blockSignals(True)
            self._log_box.setChecked(on)
            self._log_box.blockSignals(False)
        self._widgets["loss"].getPlotItem().setLogMode(y=on)

    @Slot(bool)
    def _on_menu_log(self, on: bool) -> None:
        if self._log_box.isChecked() != on:
            self._log_box.blockSignals(True)
            self._log_box.setChecked(on)
            self._log_box.blockSignals(False)

    def set_smoothing(self, weight: float) -> None:
        """EMA weight in [0, 0.99]: recomputes every run's smoothed loss once, vectorized."""
        weight = float(min(max(weight, 0.0), MAX_SMOOTHING))
        self._debounce.stop()
        if round(weight * 100) != self._slider.value():
            self._slider.blockSignals(True)
            self._slider.setValue(round(weight * 100))
            self._slider.blockSignals(False)
        if weight == self._smoothing:
            return
        self._smoothing = weight
        self._update_smoothing_label()
        for run in self._runs.values():
            ema, run.ema_last, run.ema_count = debiased_ema(run.steps["loss"], weight)
            run.steps["ema"][:] = ema
            curve = run.curves[("loss", "smoothed")]
            curve.reset(*self._xy(run, curve.info))

    def smoothing(self) -> float:
        return self._smoothing

    @Slot(int)
    def _on_slider(self, value: int) -> None:
        self._smoothing_label.setText(f"{value / 100:.2f}")
        self._debounce.start()

    @Slot()
    def _apply_slider(self) -> None:
        self.set_smoothing(self._slider.value() / 100)

    def set_line_width(self, width: float) -> None:
        """Pen width of every curve (presenter mode: thicker lines for the back row)."""
        self._width = float(width)
        for run in self._runs.values():
            for curve in run.curves.values():
                curve.restyle(run.color, self._width)
            if run.clip_line is not None:
                run.clip_line.setPen(self._clip_pen(run))
        self._update_legends()

    # -- labels -----------------------------------------------------------------------------------

    def _update_smoothing_label(self) -> None:
        self._smoothing_label.setText(f"{self._smoothing:.2f}")

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
        return [_key(r.color.name(), _GLYPH["solid"], html.escape(r.name)) for r in self._runs.values() if r.visible]

    def _update_legends(self) -> None:
        """One legend for the four plots, above them: the runs' colours, then what each line style means.

        A legend under each plot repeated every run four times, and in presenter
        mode on a 1024x768 projector the legends took more height than the
        curves.  Entries wrap only between entries.  An exported plot carries its
        own legend row (:meth:`exporting`), since it leaves the window alone.
        """
        keys = [info.key_entries for info in PLOTS if info.key_entries]
        self._run_legend.setText(" &nbsp; ".join(self._run_entries()) + "<br>" + " &nbsp; ".join(_unique_entries(keys)))
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
        return _plain(self._run_legend.text().replace("<br>", "\n"))
