"""A plot widget written as plain SVG, from what its scene holds, in the widget's own pixels.

Why not Qt's or pyqtgraph's SVG: pyqtgraph 0.14's ``SVGExporter`` cannot parse
the path data Qt 6.11 writes (pyqtgraph issue #3485: "not enough values to
unpack"), and painting the widget into a ``QSvgGenerator`` (what the window did)
writes what the screen's painting does, which is wrong in a file:

* a scatter plot's points are fragments of one pixmap atlas; the generator
  has no fragments, so every point became the whole atlas (each point in
  every class colour, squeezed into its square);
* axes and their tick labels are cached pixmaps: images, not text;
* curves are drawn in data coordinates under a transform with
  ``vector-effect="non-scaling-stroke"``, which ImageMagick ignores: it drew
  each curve as a filled band many pixels wide;
* read back by Qt itself, the boundary's image and its x axis stood apart
  from where the window draws them (seen in a rendering of such a file).

So the file is written here from the items themselves, every coordinate already
in the widget's pixels (scene coordinates minus the view's corner), with only
elements every reader draws alike: ``rect``, ``path`` (absolute ``M``/``L``/``C``),
``image`` (an embedded PNG, flipped here when the axis points up), ``text``
(tick labels, titles and legends are text, one element per colour, placed where
Qt laid it out).  What a view box hides is cut here, not by a ``clipPath``:
ImageMagick 6's own SVG renderer drew nothing at all under one (measured: the
boundary's image and every point vanished).
Translucent colours are flattened onto the background (:func:`flat`), every
element says ``fill`` and ``stroke`` (ImageMagick strokes a ``rect`` that does
not), and no element has a transform, ``opacity``, ``vector-effect`` or CSS.
The one exception is a translucent area drawn over other items: a multi-seed run's seed band
(pyqtgraph's ``FillBetweenItem``).  Flattened, the band painted last would hide every band under it,
and where two runs' bands overlap is what the class reads; so a band is its own embedded PNG with its
alpha (:func:`write_band`), which every reader composites alike.

Each kind of item has one writer in :data:`WRITERS`, found along the item's
class's MRO; an item that paints but has no writer is drawn as a raster image in
its place (:func:`raster_item`), so nothing is lost, and :attr:`SvgFigure.rasterized`
names it (the tests expect none for the window's plots).
"""
from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontInfo, QImage, QPainter, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsTextItem,
    QStyleOptionGraphicsItem,
)

RASTER_SCALE = 2          # an item drawn as an image (no vector writer) at twice the screen's pixels


@dataclass
class SvgFigure:
    """The SVG being written: the elements in paint order, where the item being written is seen, and
    the items that had no vector writer (drawn as images)."""

    origin: QPointF
    dpi: float
    background: QColor                # what translucent colours are flattened onto (see flat)
    elements: list[str] = field(default_factory=list)
    clip: QRectF | None = None        # where the item being written is seen (scene pixels), None: anywhere
    rasterized: list[str] = field(default_factory=list)

    def point(self, p: QPointF) -> tuple[float, float]:
        return p.x() - self.origin.x(), p.y() - self.origin.y()


# -- numbers, colours, pens -------------------------------------------------------------------------

def num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if abs(v) < 1e9 else f"{v:.6g}"


def flat(color: QColor, fig: SvgFigure) -> str:
    """A colour as ``#rrggbb``, a translucent one flattened onto the figure's background:
    c = a * colour + (1 - a) * background.  ImageMagick 6's SVG renderer ignores ``fill-opacity``
    and ``stroke-opacity`` (measured: the faint grid came out black), so the file holds the colour
    the screen shows over the plot's background, which every reader draws alike; where a
    translucent line crosses another the overlap is not mixed, a difference too small to read."""
    a = color.alphaF()
    if a >= 1.0:
        return color.name()
    bg = fig.background
    mixed = QColor.fromRgbF(*(a * c + (1 - a) * b for c, b in zip(
        (color.redF(), color.greenF(), color.blueF()), (bg.redF(), bg.greenF(), bg.blueF()), strict=True)))
    return mixed.name()


def pen_attrs(pen: QPen | None, fig: SvgFigure) -> str:
    """Stroke attributes of a pen; its width in pixels (pyqtgraph's pens are cosmetic: a width on
    screen, which the file keeps, since every coordinate here is a screen pixel already)."""
    if pen is None or pen.style() == Qt.PenStyle.NoPen or pen.color().alpha() == 0:
        return 'stroke="none"'
    width = pen.widthF() or 1.0
    text = f'stroke="{flat(pen.color(), fig)}" stroke-width="{num(width)}" stroke-linejoin="round"'
    if pen.style() != Qt.PenStyle.SolidLine:
        dashes = [d * width for d in pen.dashPattern()] or [4 * width, 2 * width]
        text += f' stroke-dasharray="{" ".join(num(d) for d in dashes)}"'
    return text


def brush_attrs(brush: QBrush | None, fig: SvgFigure) -> str:
    if brush is None or brush.style() == Qt.BrushStyle.NoBrush or brush.color().alpha() == 0:
        return 'fill="none"'
    return f'fill="{flat(brush.color(), fig)}"'


def path_data(path: QPainterPath, fig: SvgFigure) -> str:
    """A QPainterPath (in scene coordinates) as absolute SVG path data."""
    parts: list[str] = []
    i, n = 0, path.elementCount()
    ox, oy = fig.origin.x(), fig.origin.y()
    while i < n:
        e = path.elementAt(i)
        if e.type == QPainterPath.ElementType.CurveToElement and i + 2 < n:
            c2, end = path.elementAt(i + 1), path.elementAt(i + 2)
            parts.append(f"C{num(e.x - ox)},{num(e.y - oy)} {num(c2.x - ox)},{num(c2.y - oy)} "
                         f"{num(end.x - ox)},{num(end.y - oy)}")
            i += 3
            continue
        letter = "M" if e.type == QPainterPath.ElementType.MoveToElement else "L"
        parts.append(f"{letter}{num(e.x - ox)},{num(e.y - oy)}")
        i += 1
    return " ".join(parts)


def clip_segment(x0: float, y0: float, x1: float, y1: float, r: QRectF) -> tuple[float, ...] | None:
    """Liang and Barsky's clipping of the segment (x0, y0)-(x1, y1) to ``r``: with
    p = (-dx, dx, -dy, dy) and q = (x0 - left, right - x0, y0 - top, bottom - y0), the part inside is
    t in [max(q/p : p < 0), min(q/p : p > 0)]; None when that interval is empty."""
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x0 - r.left()), (dx, r.right() - x0), (-dy, y0 - r.top()), (dy, r.bottom() - y0)):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    return x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy


def clipped_line(path: QPainterPath, rect: QRectF | None) -> QPainterPath:
    """A stroked polyline cut to ``rect``: each segment clipped on its own (a path's
    ``intersected`` treats it as an area, which closes open lines), contiguous pieces kept joined."""
    if rect is None or rect.contains(path.boundingRect()):
        return path
    out = QPainterPath()
    pen_at: tuple[float, float] | None = None
    prev: tuple[float, float] | None = None
    for i in range(path.elementCount()):
        e = path.elementAt(i)
        here = (e.x, e.y)
        if e.type == QPainterPath.ElementType.MoveToElement or prev is None:
            prev = here
            continue
        seg = clip_segment(*prev, *here, rect)
        prev = here
        if seg is None:
            continue
        a, b = (seg[0], seg[1]), (seg[2], seg[3])
        if pen_at is None or abs(pen_at[0] - a[0]) > 1e-9 or abs(pen_at[1] - a[1]) > 1e-9:
            out.moveTo(*a)
        out.lineTo(*b)
        pen_at = b
    return out


def clipped_area(path: QPainterPath, rect: QRectF | None) -> QPainterPath:
    """A filled area cut to ``rect`` (Qt's own area intersection)."""
    if rect is None or rect.contains(path.boundingRect()):
        return path
    box = QPainterPath()
    box.addRect(rect)
    return path.intersected(box)


def png_href(image: QImage) -> str:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(bytes(data.data())).decode("ascii")


def image_element(image: QImage, local: QRectF, transform: QTransform, fig: SvgFigure) -> str | None:
    """An image drawn into ``local`` (item coordinates) under ``transform``, as an axis-aligned
    ``<image>``: its corners mapped to the scene, the pixels flipped where an axis points the other
    way (a plot's y axis points up, the file's down), cut to the view box.
    None when the transform rotates it; "" when none of it is seen."""
    if abs(transform.m12()) > 1e-9 or abs(transform.m21()) > 1e-9 or image.isNull():
        return None
    if transform.m11() < 0:
        image = image.flipped(Qt.Orientation.Horizontal)
    if transform.m22() < 0:
        image = image.flipped(Qt.Orientation.Vertical)
    rect = transform.mapRect(local)
    # Each image pixel a block of whole pixels at least as fine as the screen's, as pyqtgraph draws it
    # (no smoothing): readers smooth an image they enlarge, each its own way, so it is enlarged here,
    # and the cut to the view box below falls within a screen pixel.
    scale = max(1, int(np.ceil(max(rect.width() / image.width(), rect.height() / image.height()))))
    if scale > 1:
        image = image.scaled(image.width() * scale, image.height() * scale,
                             Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation)
    if fig.clip is not None and not fig.clip.contains(rect):
        seen = rect.intersected(fig.clip)
        if seen.isEmpty():
            return ""
        sx, sy = image.width() / rect.width(), image.height() / rect.height()
        cols = (round((seen.left() - rect.left()) * sx), round((seen.right() - rect.left()) * sx))
        rows = (round((seen.top() - rect.top()) * sy), round((seen.bottom() - rect.top()) * sy))
        image = image.copy(cols[0], rows[0], max(1, cols[1] - cols[0]), max(1, rows[1] - rows[0]))
        # the kept pixels' own rectangle, so none is stretched
        rect = QRectF(rect.left() + cols[0] / sx, rect.top() + rows[0] / sy,
                      image.width() / sx, image.height() / sy)
    x, y = fig.point(rect.topLeft())
    return (f'<image x="{num(x)}" y="{num(y)}" width="{num(rect.width())}" height="{num(rect.height())}" '
            f'preserveAspectRatio="none" xlink:href="{png_href(image)}"/>')


# -- the writers, one per kind of item ----------------------------------------------------------------

def write_curve(item: pg.PlotCurveItem, fig: SvgFigure) -> list[str]:
    """A curve's fill (down to its fill level) and its line, as paths in scene pixels."""
    transform = item.sceneTransform()
    out = []
    brush = item.opts.get("brush")
    if item.opts.get("fillLevel") is not None and brush is not None and QBrush(brush).style() != Qt.BrushStyle.NoBrush:
        fill = clipped_area(transform.map(item._getFillPath()), fig.clip)
        if fill.elementCount():
            out.append(f'<path d="{path_data(fill, fig)}" {brush_attrs(QBrush(brush), fig)} stroke="none"/>')
    pen = item.opts.get("pen")
    line = clipped_line(transform.map(item.getPath()), fig.clip)
    if pen is not None and line.elementCount():
        out.append(f'<path d="{path_data(line, fig)}" fill="none" {pen_attrs(QPen(pen), fig)}/>')
    return out


def symbol_path(symbol) -> QPainterPath:
    if isinstance(symbol, QPainterPath):
        return symbol
    from pyqtgraph.graphicsItems.ScatterPlotItem import Symbols
    return Symbols.get(symbol, Symbols["o"])


def write_scatter(item: pg.ScatterPlotItem, fig: SvgFigure) -> list[str]:
    """Each point as its symbol's path, in its own brush and pen, at its place in scene pixels (its
    size in pixels when the item is in pixel mode, else in data units)."""
    transform = item.sceneTransform()
    px_mode = item.opts.get("pxMode", True)
    out = []
    for spot in item.points():
        if not spot.isVisible():
            continue
        centre = transform.map(QPointF(spot.pos()))
        if fig.clip is not None and not fig.clip.contains(centre):
            continue       # outside the view box: not drawn, as on screen
        size = spot.size() if px_mode else spot.size() * abs(transform.m11())
        shape = QTransform().translate(centre.x(), centre.y()).scale(size, size).map(symbol_path(spot.symbol()))
        out.append(f'<path d="{path_data(shape, fig)}" {brush_attrs(QBrush(spot.brush()), fig)} '
                   f'{pen_attrs(QPen(spot.pen()), fig)}/>')
    return out


def write_image(item: pg.ImageItem, fig: SvgFigure) -> list[str]:
    if item.image is None:
        return []
    if item.qimage is None:
        item.render()
    if item.qimage is None:
        return []
    local = QRectF(0, 0, item.width(), item.height())
    element = image_element(item.qimage, local, item.sceneTransform(), fig)
    if element is None:              # turned: drawn as it paints itself
        return raster_item(item, fig)
    return [element] if element else []


def write_pixmap(item: QGraphicsPixmapItem, fig: SvgFigure) -> list[str]:
    pixmap = item.pixmap()
    local = QRectF(item.offset(), pixmap.size().toSizeF())
    element = image_element(pixmap.toImage(), local, item.sceneTransform(), fig)
    if element is None:              # turned: drawn as it paints itself
        return raster_item(item, fig)
    return [element] if element else []


def write_rect(item: QGraphicsRectItem, fig: SvgFigure) -> list[str]:
    rect = item.sceneTransform().mapRect(item.rect())
    if fig.clip is not None:
        rect = rect.intersected(fig.clip)
    x, y = fig.point(rect.topLeft())
    style = f"{brush_attrs(item.brush(), fig)} {pen_attrs(item.pen(), fig)}"
    if style == 'fill="none" stroke="none"':
        return []
    return [f'<rect x="{num(x)}" y="{num(y)}" width="{num(rect.width())}" height="{num(rect.height())}" {style}/>']


def font_attrs(font: QFont, dpi: float) -> str:
    """The family Qt really drew with (``QFontInfo``: "DejaVu Sans", not the "Sans Serif" alias),
    alone: ImageMagick 6 reads ``font-family`` as one name, and given a list (or a ``style``) it fell
    back to a font without the legend's line glyphs (measured).  Size in pixels (points times dots
    per inch over 72, as Qt laid it out), weight and style."""
    size = font.pixelSize() if font.pixelSize() > 0 else font.pointSizeF() * dpi / 72.0
    family = html.escape(QFontInfo(font).family(), quote=True)
    text = f'font-family="{family}" font-size="{num(size)}"'
    if font.bold():
        text += ' font-weight="bold"'
    if font.italic():
        text += ' font-style="italic"'
    return text


@dataclass(frozen=True)
class TextPiece:
    """A run of one colour and font on one laid-out line: its start and baseline in item coordinates."""

    x: float
    y: float
    text: str
    colour: QColor
    font: QFont


def cursor_x(line, position: int) -> float:
    x = line.cursorToX(position)
    return float(x[0] if isinstance(x, tuple) else x)


def text_pieces(item: QGraphicsTextItem) -> list[TextPiece]:
    """A text item's pieces as Qt laid them out: each line of each block, cut where the colour or font
    changes, each piece at the x Qt gave its first character (``QTextLine.cursorToX``, alignment
    included).  So wrapped lines stay as Qt wrapped them, each legend entry keeps its colour, and no
    reader has to flow ``tspan``s (ImageMagick 6 drew them all at one x)."""
    doc = item.document()
    default = item.defaultTextColor()
    pieces = []
    block = doc.begin()
    while block.isValid():
        top = doc.documentLayout().blockBoundingRect(block).topLeft()
        layout = block.layout()
        fragments = []
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            if frag.isValid():
                fmt = frag.charFormat()
                brush = fmt.foreground()
                colour = brush.color() if brush.style() != Qt.BrushStyle.NoBrush else default
                fragments.append((frag.position() - block.position(), frag.text(), colour, fmt.font()))
            it += 1
        for i in range(layout.lineCount()):
            line = layout.lineAt(i)
            start, end = line.textStart(), line.textStart() + line.textLength()
            baseline = top.y() + line.y() + line.ascent()
            for pos, text, colour, font in fragments:
                a, b = max(start, pos), min(end, pos + len(text))
                piece = text[a - pos:b - pos].replace("\u2029", " ").rstrip(" ") if a < b else ""
                if piece.strip():
                    pieces.append(TextPiece(top.x() + cursor_x(line, a), baseline, piece, colour, font))
        block = block.next()
    return pieces


def write_text(item: QGraphicsTextItem, fig: SvgFigure) -> list[str]:
    """Every piece of a text item (a title, an axis label, a legend row) as a ``<text>`` in scene
    pixels.  A turned item (the left axis label) is written as the outlines of its glyphs, with its
    words in a ``<title>``: ImageMagick 6 turns text the wrong way round (``rotate(-90)`` came out
    as +90) and drops it under ``rotate(a, x, y)``, while a path is drawn alike everywhere."""
    t = item.sceneTransform()
    out = []
    turned = abs(t.m12()) > 1e-9 or abs(t.m21()) > 1e-9
    for piece in text_pieces(item):
        if turned:
            outline = QPainterPath()
            outline.addText(QPointF(piece.x, piece.y), piece.font, piece.text)
            out.append(f'<g><title>{html.escape(piece.text)}</title><path d="{path_data(t.map(outline), fig)}" '
                       f'fill="{flat(piece.colour, fig)}" stroke="none"/></g>')
            continue
        x, y = fig.point(t.map(QPointF(piece.x, piece.y)))
        out.append(f'<text x="{num(x)}" y="{num(y)}" fill="{flat(piece.colour, fig)}" stroke="none" '
                   f'{font_attrs(piece.font, fig.dpi)} xml:space="preserve">{html.escape(piece.text)}</text>')
    return out


ANCHORS = ((Qt.AlignmentFlag.AlignLeft, "start"), (Qt.AlignmentFlag.AlignRight, "end"),
           (Qt.AlignmentFlag.AlignHCenter, "middle"))


def write_axis(item: pg.AxisItem, fig: SvgFigure) -> list[str]:
    """An axis from pyqtgraph's own drawing specs (``AxisItem.generateDrawSpecs``, what its paint
    draws): the line, each tick, and each tick label as ``<text>`` anchored as Qt aligned it in its
    rectangle; the baseline sits a third of the font's pixel size below the rectangle's middle
    (a font's usual ascent minus descent), since ``dominant-baseline`` is not read by every reader."""
    image = QImage(4, 4, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        if item.style.get("tickFont") is not None:
            painter.setFont(item.style["tickFont"])
        specs = item.generateDrawSpecs(painter)
        font = painter.font()
    finally:
        painter.end()
    if specs is None:
        return []
    axis_spec, tick_specs, text_specs = specs
    t = item.sceneTransform()
    out = []
    lines = [(axis_spec[0], axis_spec[1], axis_spec[2]), *tick_specs]
    for pen, p1, p2 in lines:
        path = QPainterPath(t.map(QPointF(p1)))
        path.lineTo(t.map(QPointF(p2)))
        out.append(f'<path d="{path_data(path, fig)}" fill="none" {pen_attrs(QPen(pen), fig)}/>')
    colour = item.textPen().color()
    size = font.pixelSize() if font.pixelSize() > 0 else font.pointSizeF() * fig.dpi / 72.0
    for rect, flags, text in text_specs:
        box = t.mapRect(QRectF(rect))
        anchor = next((name for flag, name in ANCHORS if int(flags) & int(flag)), "middle")
        x = {"start": box.left(), "end": box.right(), "middle": box.center().x()}[anchor]
        x, y = fig.point(QPointF(x, box.center().y() + size / 3.0))
        out.append(f'<text x="{num(x)}" y="{num(y)}" text-anchor="{anchor}" fill="{flat(colour, fig)}" stroke="none" '
                   f'{font_attrs(font, fig.dpi)}>{html.escape(text)}</text>')
    return out


def write_view_box(item: pg.ViewBox, fig: SvgFigure) -> list[str]:
    """A view box paints only its border (its background is a child rectangle item)."""
    pen = item.border
    if pen is None or QPen(pen).style() == Qt.PenStyle.NoPen:
        return []
    rect = item.sceneTransform().mapRect(item.rect())
    x, y = fig.point(rect.topLeft())
    return [f'<rect x="{num(x)}" y="{num(y)}" width="{num(rect.width())}" height="{num(rect.height())}" '
            f'fill="none" {pen_attrs(QPen(pen), fig)}/>']


def write_nothing(item, fig: SvgFigure) -> list[str]:
    return []


def raster_item(item: QGraphicsItem, fig: SvgFigure) -> list[str]:
    """An item with no vector writer, painted alone into an image at its place: nothing is lost."""
    elements = painted_alone(item, fig)
    if elements:
        fig.rasterized.append(type(item).__name__)
    return elements


def write_band(item: pg.FillBetweenItem, fig: SvgFigure) -> list[str]:
    """A seed band, painted alone into a PNG with its alpha (the module's docstring says why)."""
    return painted_alone(item, fig)


def painted_alone(item: QGraphicsItem, fig: SvgFigure) -> list[str]:
    """The item painted by itself into a transparent image, at its place in the figure, cut to where it
    is seen (the image covers only the part of the item inside ``fig.clip``)."""
    rect = item.sceneBoundingRect()
    if fig.clip is not None:
        rect = rect.intersected(fig.clip)
    if rect.width() < 0.5 or rect.height() < 0.5:
        return []
    image = QImage(max(1, int(rect.width() * RASTER_SCALE)), max(1, int(rect.height() * RASTER_SCALE)),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.scale(RASTER_SCALE, RASTER_SCALE)
        painter.translate(-rect.topLeft())
        painter.setTransform(item.sceneTransform(), combine=True)
        item.paint(painter, QStyleOptionGraphicsItem(), None)
    finally:
        painter.end()
    x, y = fig.point(rect.topLeft())
    return [f'<image x="{num(x)}" y="{num(y)}" width="{num(rect.width())}" height="{num(rect.height())}" '
            f'preserveAspectRatio="none" xlink:href="{png_href(image)}"/>']


Writer = Callable[[QGraphicsItem, SvgFigure], list[str]]
# Found along the item's class's MRO, so subclasses (the app's own axes, chunks, legend rows) inherit
# their base's writer.  Items that paint nothing themselves (containers, layouts, the auto-range
# button, which a file does not need) are written as nothing.
WRITERS: dict[type, Writer] = {
    pg.PlotCurveItem: write_curve,
    pg.FillBetweenItem: write_band,
    pg.ScatterPlotItem: write_scatter,
    pg.ImageItem: write_image,
    pg.AxisItem: write_axis,
    pg.ViewBox: write_view_box,
    QGraphicsTextItem: write_text,
    QGraphicsRectItem: write_rect,
    QGraphicsPixmapItem: write_pixmap,
    pg.PlotItem: write_nothing,
    pg.LabelItem: write_nothing,
    pg.PlotDataItem: write_nothing,
    pg.GraphicsLayout: write_nothing,
    pg.ButtonItem: write_nothing,
    pg.ColorBarItem: write_nothing,
}


def writer_of(item: QGraphicsItem) -> Writer | None:
    return next((WRITERS[cls] for cls in type(item).__mro__ if cls in WRITERS), None)


def clip_rect(item: QGraphicsItem) -> QRectF | None:
    """Where the item is seen: its ancestors that clip their children (a view box), intersected."""
    rect = None
    parent = item.parentItem()
    while parent is not None:
        if parent.flags() & QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape:
            r = parent.sceneTransform().mapRect(parent.boundingRect())
            rect = r if rect is None else rect.intersected(r)
        parent = parent.parentItem()
    return rect


def backdrop(item: QGraphicsItem, page: QColor) -> QColor:
    """What the item is drawn over: the background of the view box holding it, if it has one (the
    boundary's is white in every look), else the page's."""
    parent = item.parentItem()
    while parent is not None:
        if isinstance(parent, pg.ViewBox):
            rect = parent.background
            if rect.isVisible() and rect.brush().style() != Qt.BrushStyle.NoBrush:
                return rect.brush().color()
        parent = parent.parentItem()
    return page


def shown(item: QGraphicsItem) -> bool:
    return item.isVisible() and item.effectiveOpacity() > 0


def figure_of(widget: pg.PlotWidget) -> tuple[SvgFigure, float, float]:
    """Every item of the widget's scene written in paint order; (the figure, its width, its height).

    The scene is prepared for painting first, as pyqtgraph's exporters do: a view box auto-ranges
    only then, so a plot that was never on screen (a tab never opened) would keep its empty range.
    """
    widget.scene().prepareForPaint()
    view_rect = widget.mapToScene(widget.viewport().rect()).boundingRect()
    background = widget.backgroundBrush()
    page = background.color() if background.style() != Qt.BrushStyle.NoBrush else QColor(Qt.GlobalColor.white)
    fig = SvgFigure(origin=view_rect.topLeft(), dpi=float(widget.logicalDpiY()), background=page)
    if background.style() != Qt.BrushStyle.NoBrush:
        fig.elements.append(f'<rect x="0" y="0" width="{num(view_rect.width())}" '
                            f'height="{num(view_rect.height())}" {brush_attrs(background, fig)} stroke="none"/>')
    for item in widget.scene().items(Qt.SortOrder.AscendingOrder):
        if not shown(item) or not view_rect.intersects(item.sceneBoundingRect()):
            continue
        if item.flags() & QGraphicsItem.GraphicsItemFlag.ItemHasNoContents:
            continue
        writer = writer_of(item)
        fig.clip = clip_rect(item)
        fig.background = backdrop(item, page)
        fig.elements.extend(writer(item, fig) if writer is not None else raster_item(item, fig))
    return fig, view_rect.width(), view_rect.height()


def svg_text(widget: pg.PlotWidget, title: str) -> str:
    """The widget as an SVG document (see the module's docstring for why it is written so)."""
    fig, width, height = figure_of(widget)
    head = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'version="1.1" width="{num(width)}" height="{num(height)}" viewBox="0 0 {num(width)} {num(height)}">\n'
            f'<title>{html.escape(title)}</title>\n')
    return head + "\n".join(fig.elements) + "\n</svg>\n"


def write_svg(widget: pg.PlotWidget, path: Path, title: str) -> None:
    Path(path).write_text(svg_text(widget, title), encoding="utf-8")
