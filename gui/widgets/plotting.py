"""Plot pieces every view can use: a plot that says when it is restyled, tick labels that never overlap
(:func:`fit_ticks`), readable log ticks, titles and legend rows that never widen their plot, the one legend-key HTML, the curve styles, and a curve of any
length.

Titles and legend keys are HTML with their colour and size baked in when they are set, so a view that
shows them listens to :class:`ThemedPlotWidget` and sets them again after the window restyles it
(``gui.style.theme.style_plot``).  A legend key is written by :func:`legend_glyph_html` alone, so every
tab draws "this colour, this line style, this name" the same way.

:class:`ChunkedCurve` draws a series that grows for ever (a million optimizer steps) at a cost that does
not grow with it: pyqtgraph re-examines an item's whole array on every ``setData`` (finiteness, bounds,
downsampling), so the curve is consecutive items of at most ``CHUNK`` points and only the last, growing
one is ever set again.  Each chunk draws downsampled to the screen (``peak``: the min and max of each
pixel column, so spikes survive) and clipped to the view.
"""
from __future__ import annotations

import html
import re
import types

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QTextOption

from gui.style.palette import with_alpha

CHUNK = 1 << 16             # points per drawn item of a ChunkedCurve; an append re-sets at most this many
FAINT_ALPHA = 70            # opacity (of 255) of a "faint" curve (the raw mini-batch loss under its trend)
QWIDGETSIZE_MAX = (1 << 24) - 1

# The line styles a legend key can show, as text: a key is a few characters in the curve's colour.
GLYPHS = {
    "solid": "━━",      # a line
    "train": "━●━",     # a line with filled markers (evaluations on the training set)
    "val": "╍○╍",       # a dashed line with open markers (evaluations on the validation set)
    "dash": "╍╍",       # a dashed line (a threshold, a second variant)
    "dot": "●",         # markers only
}


# -- legends ----------------------------------------------------------------------------------------

def legend_glyph_html(color: QColor | str, glyph: str, text: str, *, bold: bool = False) -> str:
    """One legend entry: ``glyph`` (a :data:`GLYPHS` value, or any text) in ``color``, then ``text``.

    ``text`` is plain text (escaped here).  Its spaces become non-breaking, so a wrapped legend breaks
    only between entries; join entries with ``" &nbsp;"`` or ``" &nbsp; "``.  A translucent colour keeps
    its alpha (``#AARRGGBB``, which Qt's rich text reads).  ``bold``: a heavier key, for thin glyphs.
    """
    if isinstance(color, QColor):
        color = color.name(QColor.NameFormat.HexArgb) if color.alpha() < 255 else color.name()
    key = f"<b>{glyph}</b>" if bold else glyph
    return f"<span style='color:{color}'>{key}</span>&nbsp;{html.escape(text).replace(' ', '&nbsp;')}"


def unique_entries(legends: list[str]) -> list[str]:
    """The entries of several legend texts joined with ``" &nbsp;"``, each once, in order (the same key
    can describe two plots: train set and val set in both loss and accuracy)."""
    seen: list[str] = []
    for legend in legends:
        for entry in legend.split(" &nbsp;"):
            entry = entry.strip()
            if entry and entry not in seen:
                seen.append(entry)
    return seen


def plain_text(rich: str) -> str:
    """What a student reads in a rich-text label: tags dropped, entities and non-breaking spaces undone."""
    return html.unescape(re.sub(r"<[^>]+>", "", rich)).replace("\xa0", " ")


# -- plot widgets -----------------------------------------------------------------------------------

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
    """In log mode, label only the 1-2-5 ticks of each decade (and 3, which a short axis labels instead of 2 and 5).

    pyqtgraph labels every minor tick of a log axis (0.2, 0.3, ..., 0.9), and
    over less than a decade or two the labels run into each other.  Its tick density also follows its
    length (:func:`fit_ticks`).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fit_ticks(self)

    def logTickStrings(self, values, scale, spacing):
        strings = super().logTickStrings(values, scale, spacing)
        out = []
        for value, text in zip(values, strings):
            mantissa = 10 ** (value - np.floor(value + 1e-9))
            out.append(text if any(abs(mantissa - m) < 1e-6 * m for m in (1, 2, 3, 5, 10)) else "")
        return out


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


def no_si_prefix(plot: pg.PlotItem) -> None:
    """Plain tick values (0.1, 0.01) instead of pyqtgraph's "(x0.001)" with ticks 100, 10, which a student misreads."""
    for name in ("left", "bottom"):
        plot.getAxis(name).enableAutoSIPrefix(False)


def set_title(plot: pg.PlotItem, text: str) -> None:
    """A bold title sized after the axis labels, that wraps to its plot's width instead of widening it.

    pyqtgraph makes a title's text width the plot's minimum width and its row 30 px high: in a narrow
    window the scene outgrew the view and the right of the plot was cut off, and cutting the title
    instead lost its end ("Forward: activation std by la").  Here the title is a :class:`LegendRow` in
    the title's place, so it wraps onto a second line and its row grows to the text's height.
    """
    label = plot.titleLabel
    if not isinstance(label, LegendRow):
        plot.layout.removeItem(label)
        if label.scene() is not None:
            label.scene().removeItem(label)
        label = LegendRow()
        label.setParentItem(plot)
        plot.layout.addItem(label, 0, 1)
        plot.titleLabel = label
    plot.layout.setRowMinimumHeight(0, 0)
    plot.layout.setRowMaximumHeight(0, QWIDGETSIZE_MAX)
    plot.layout.setRowPreferredHeight(0, 0)
    label.setMaximumHeight(QWIDGETSIZE_MAX)
    label.setVisible(True)
    label.setText(text, size=f"{label_size(plot) + 2:.0f}pt", bold=True)
    label.updateMin()


def lab_plot(title: str, *, bottom: str | None = None, left: str | None = None,
             axis_items: dict[str, pg.AxisItem] | None = None, grid_alpha: float = 0.2,
             min_height: int = 190) -> pg.PlotWidget:
    """A lab's plot as the labs draw them: a wrapping title (:func:`set_title`), its axis labels, a light grid,
    plain tick values (:func:`no_si_prefix`) and no right-click menu (its options would leave the lesson's view).
    ``min_height``: in presenter type, room for a wrapped title, the x axis and four lines of ticks (at 150 a
    lab under a question's words at 1024x768 flattened its plots to 76 px); a shorter screen scrolls the lab."""
    widget = pg.PlotWidget(axisItems=axis_items) if axis_items else pg.PlotWidget()
    widget.setMinimumHeight(min_height)
    item = widget.getPlotItem()
    set_title(item, title)
    for name, text in (("bottom", bottom), ("left", left)):
        if text is not None:
            item.setLabel(name, text)
    item.showGrid(x=True, y=True, alpha=grid_alpha)
    item.setMenuEnabled(False)
    no_si_prefix(item)
    return widget


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


# -- a curve of any length --------------------------------------------------------------------------

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


def curve_style(style: str, color: QColor | str, width: float) -> dict:
    """PlotDataItem keyword arguments of a curve style (a :data:`GLYPHS` key but "dash", or "faint" or
    "marks"), in a colour at a line width.

    Speed decides two things here.  Qt strokes a wide, antialiased or
    translucent polyline as one outline, and on a noisy curve that costs
    hundreds of milliseconds per frame even after downsampling (measured: 770
    points of a mini-batch-like curve, width 1.6: 0.8 s antialiased, 9 ms
    not).  So per-step curves ("solid") are opaque and not antialiased, which
    lets pyqtgraph draw them as separate segments; the "faint" curve (a noisy
    raw series under its smoothed trend) is translucent but always 1 px wide,
    which Qt draws fast.  Curves with markers ("train", "val") have few points
    and keep antialiasing (see :meth:`ChunkedCurve.set_symbols`); "marks" are
    markers alone.
    """
    color = QColor(color)
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
                    symbolSize=symbol_size, symbolBrush=pg.mkBrush(QColor(Qt.GlobalColor.transparent)),
                    symbolPen=pg.mkPen(color, width=max(1.0, width * 0.8)), antialias=True)
    if style == "marks":
        return dict(pen=None, symbol="o", symbolSize=2 + 2 * width, symbolBrush=pg.mkBrush(color),
                    symbolPen=None, antialias=False)
    raise ValueError(f"unknown curve style {style!r}")


class ChunkedCurve:
    """One series drawn as consecutive PlotDataItems of at most CHUNK points, in a :func:`curve_style`.

    Full chunks are given a copy of their points once and left alone; an
    append re-sets only the last chunk, so its cost does not grow with the
    series.  Line chunks overlap by one point so the line has no gap; marker
    chunks ("marks") do not, so no point is marked twice.
    """

    def __init__(self, plot: pg.PlotItem, style: str, color: QColor | str, width: float, z: float = 0.0,
                 visible: bool = True):
        self.plot = plot
        self.style = style
        self.z = z
        self.overlap = 0 if style == "marks" else 1
        self.items: list[pg.PlotDataItem] = []
        self._tail = 0            # data index where the last item begins
        self._version: int | None = None   # the version of the series drawn (see update)
        self._symbols = True
        self.visible = visible
        self.restyle(color, width)
        self._new_item()

    def _new_item(self) -> pg.PlotDataItem:
        # dynamicRangeLimit=None: pyqtgraph otherwise rebuilds every curve's path whenever the y range
        # moves (it clamps far-off values for extreme zooms), which auto-ranging does on most updates:
        # measured, that rebuild was most of a turn of the event loop.  Training values stay within 1000x
        # the starting loss (a run beyond that has diverged and stops), so nothing needs clamping.
        item = _Chunk(connect="finite", autoDownsampleFactor=1.0, dynamicRangeLimit=None, **self._kwargs())
        item.setZValue(self.z)
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
        if not self._symbols and self.style in ("train", "val"):
            kwargs["symbol"] = None
            kwargs["antialias"] = False      # many points: a dense curve, drawn the fast way
        return kwargs

    def restyle(self, color: QColor | str, width: float) -> None:
        self._look = curve_style(self.style, color, width)
        self._apply_look()

    def set_symbols(self, on: bool) -> None:
        """Markers on a line drawn or not: a line with thousands of markers is drawn without them, fast."""
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

    def update(self, x: np.ndarray, y: np.ndarray, version: int | None = None) -> None:
        """Show ``x, y`` (the whole series, of which only the end is new): O(new points + CHUNK).

        ``version``: the series' version (a bounded table's count of folds,
        :class:`engine.training.reservoir.BoundedColumns`); when it differs from the one drawn, the
        old points changed too and the curve is drawn again from scratch.
        """
        if version is not None and version != self._version:
            self.reset(x, y, version)
            return
        n = len(x)
        while n - self._tail > CHUNK:
            end = self._tail + CHUNK + self.overlap
            self.items[-1].setData(np.array(x[self._tail:end], np.float64), np.array(y[self._tail:end]))
            self._tail += CHUNK
            self._new_item()
        start = self._tail
        self.items[-1].setData(np.array(x[start:], np.float64), np.array(y[start:], np.float64))

    def reset(self, x: np.ndarray, y: np.ndarray, version: int | None = None) -> None:
        """Redraw from scratch (the x axis or the values changed, or the series was emptied)."""
        if version is not None:
            self._version = version
        for item in self.items[1:]:
            self.plot.removeItem(item)
        del self.items[1:]
        self._tail = 0
        self.update(x, y)

    def remove(self) -> None:
        for item in self.items:
            self.plot.removeItem(item)
        self.items.clear()


# -- ticks that never overlap -------------------------------------------------------------------------

TICK_GAP_EM = 0.8           # free space between two x tick labels, in widths of "0"
MIN_MINOR_PX = 4.0          # unlabelled minor ticks closer than this are not drawn


def fit_ticks(axis: pg.AxisItem) -> None:
    """Make ``axis`` choose its tick density from its length in pixels and its labels' width.

    pyqtgraph picks the major spacing from the axis length alone (about ``2.25 sqrt(px / 300)``
    intervals) and may label a second level too, so on a narrow plot with wide labels ("1500") the
    labels run into each other ("5001000 1500").  A fitted axis widens the spacing along 1, 2, 5 x 10^k
    until the widest label plus a gap fits between two ticks (:func:`fitted_tick_values`), and labels
    that level only; minor ticks stay, unlabelled.  Axes with their own ticks (``setTicks``, a subclass
    with its own ``tickValues``) are left alone.  Idempotent: the window calls it on every restyle.
    """
    if getattr(axis, "_fitted", False) or type(axis).tickValues is not pg.AxisItem.tickValues:
        return
    axis.tickValues = types.MethodType(fitted_tick_values, axis)
    axis.setStyle(maxTextLevel=0)
    axis._fitted = True


def fitted_tick_values(axis: pg.AxisItem, min_val: float, max_val: float, size: float) -> list:
    """``AxisItem.tickValues`` whose first (the only labelled) level's labels do not overlap at ``size`` px.

    Two neighbouring labels centred on their ticks ``d`` px apart do not overlap when
    ``d >= w + gap``, ``w`` the widest label's extent along the axis (its width on an x axis, its
    height on a y axis, as ``QFontMetricsF`` measures it in the axis's tick font).
    """
    if axis._tickSpacing is not None:
        return pg.AxisItem.tickValues(axis, min_val, max_val, size)
    lo, hi = sorted((min_val, max_val))
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo or size <= 0:
        return pg.AxisItem.tickValues(axis, min_val, max_val, size)
    fit = _TickFit(axis, lo, hi, size)
    return fit.log_levels() if axis.logMode else fit.linear_levels()


class _TickFit:
    """The arithmetic of :func:`fitted_tick_values` for one axis at one range and length."""

    def __init__(self, axis: pg.AxisItem, lo: float, hi: float, size: float):
        self.axis, self.lo, self.hi, self.size = axis, lo, hi, size
        self.px_per_unit = size / (hi - lo)
        metrics = QFontMetricsF(axis.style["tickFont"] or axis.font())
        self.metrics = metrics
        self.vertical = axis.orientation in ("left", "right")
        # across an x axis the gap is most of a digit; up a y axis labels stack, a third of a line apart
        self.gap = 0.3 * metrics.height() if self.vertical else TICK_GAP_EM * metrics.horizontalAdvance("0")

    def extent(self, strings) -> float:
        """The widest label's size along the axis, as pyqtgraph measures it when drawing."""
        sizes = [self.metrics.boundingRect(QRectF(0, 0, 100, 100), Qt.AlignmentFlag.AlignCenter, s)
                 for s in strings if s]
        if not sizes:
            return 0.0
        return max(r.height() * 0.8 if self.vertical else r.width() for r in sizes)

    def fits(self, values: np.ndarray, spacing_px: float, spacing: float) -> bool:
        axis = self.axis
        strings = axis.tickStrings(list(values), axis.autoSIPrefixScale * axis.scale, spacing)
        return self.extent(strings) + self.gap <= spacing_px

    def linear_levels(self) -> list:
        axis = self.axis
        scale = axis.scale
        lo, hi = self.lo * scale, self.hi * scale
        start = pg.AxisItem.tickSpacing(axis, lo, hi, self.size)
        major = start[0][0] if start else (hi - lo) / 2
        px = self.px_per_unit / scale
        for _ in range(60):
            values = _multiples(lo, hi, major)
            if len(values) <= 1 or self.fits(values / scale, major * px, major / scale):
                break
            major = _next_nice(major)
        majors = _multiples(lo, hi, major)
        levels = [(major / scale, list(majors / scale))]
        minor = major / (4 if _mantissa(major) == 2 else 5)
        if minor * px >= MIN_MINOR_PX:
            minors = _multiples(lo, hi, minor)
            minors = minors[np.abs(np.round(minors / major) * major - minors) > minor * 0.01]
            levels.append((minor / scale, list(minors / scale)))
        return levels

    def log_levels(self) -> list:
        """Decades (values are log10): 1, 2 and 5 of each if they fit; else, when fewer than two powers of ten
        are in range (one label would leave the axis unreadable), 1 and 3; else 1; else every k-th decade."""
        lo, hi = self.lo, self.hi
        decades = np.arange(np.floor(lo), np.ceil(hi) + 1)
        all_marks = np.concatenate([d + np.log10(np.arange(1, 10)) for d in decades])
        all_marks = all_marks[(all_marks >= lo - 1e-9) & (all_marks <= hi + 1e-9)]
        one_two_five = np.concatenate([d + np.log10([1.0, 2.0, 5.0]) for d in decades])
        one_two_five = one_two_five[(one_two_five >= lo - 1e-9) & (one_two_five <= hi + 1e-9)]
        one_three = np.concatenate([d + np.log10([1.0, 3.0]) for d in decades])
        one_three = one_three[(one_three >= lo - 1e-9) & (one_three <= hi + 1e-9)]
        in_range = decades[(decades >= lo - 1e-9) & (decades <= hi + 1e-9)]
        px = self.px_per_unit
        labelled = None
        if len(one_two_five) < 2 and self.fits(all_marks, np.log10(10 / 9) * px, None):
            labelled = all_marks                     # less than a decade: every mantissa, if they fit
        elif self.fits(one_two_five, np.log10(2) * px, None):
            labelled = one_two_five
        elif len(in_range) < 2 and self.fits(one_three, np.log10(3) * px, None):
            labelled = one_three                     # a decade or so on a short axis: 1 and 3, two labels at least
        else:
            step = 1.0
            for _ in range(40):
                labelled = decades[(decades >= lo - 1e-9) & (decades <= hi + 1e-9) & (decades % step == 0)]
                if len(labelled) <= 1 or self.fits(labelled, step * px, step):
                    break
                step = _next_nice(step)
        rest = [v for v in all_marks if not np.any(np.isclose(v, labelled, atol=1e-9))]
        levels = [(None, list(labelled))]
        if len(all_marks) and np.log10(10 / 9) * px >= MIN_MINOR_PX:
            levels.append((None, rest))
        return levels


def _multiples(lo: float, hi: float, step: float) -> np.ndarray:
    """The multiples of ``step`` within [lo, hi]."""
    first = np.ceil(lo / step - 1e-9)
    count = int(np.floor(hi / step + 1e-9) - first) + 1
    return (first + np.arange(max(count, 0))) * step


def _mantissa(step: float) -> int:
    """1, 2 or 5: the leading digit of a nice step."""
    return int(round(step / 10 ** np.floor(np.log10(step) + 1e-9)))


def _next_nice(step: float) -> float:
    """The next of 1, 2, 5 x 10^k above ``step``."""
    power = 10 ** np.floor(np.log10(step) + 1e-9)
    mantissa = step / power
    for nice in (2.0, 5.0, 10.0):
        if nice > mantissa + 1e-9:
            return nice * power
    return 20.0 * power
