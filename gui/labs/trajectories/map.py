"""The trajectories lab's map: the loss surface seen from above, the common start, one path per optimizer.

The colours are the surface's :func:`~engine.labs.surfaces.grid` (log colours
where its values span decades) with contour lines; a path is drawn as it was
after ``k`` steps, its head a dot, a cross where it was stopped, and on request
two arrows at the head: the downhill direction ``-∇f`` (black, dashed) and the
step the optimizer took (path colour), directions only, drawn at one length.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor

from engine.labs.surfaces import SurfaceGrid, grid, surface
from engine.labs.trajectories import Trajectory
from gui.style.palette import CONTOUR, MAP_COLORS, MARK_EDGE, MARK_FILL
from gui.widgets.plotting import set_title

GRID_POINTS = 200
ARROW_FRACTION = 0.12               # arrows are drawn this fraction of the box's width long

# A pale, desaturated map (low = light): every run colour and the black arrows stay readable on it.


class SurfaceMap(pg.PlotWidget):
    """The map. ``clicked(x, y)``: a left click inside the view, in the surface's coordinates.

    ``paths`` holds the plot items of each optimizer row (``line``, ``head``,
    ``stop``, ``grad``, ``update``), in row order.
    """

    clicked = Signal(float, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAspectLocked(True)
        self.setMenuEnabled(False)
        self.setMinimumSize(380, 300)
        self.setToolTip("The loss surface seen from above: light is low, dark is high. Click anywhere "
                        "to start every optimizer from there; white stars mark the minima.")
        item = self.getPlotItem()
        item.setLabel("bottom", "x")
        item.setLabel("left", "y")
        self._image = pg.ImageItem()
        self._image.setColorMap(pg.ColorMap(np.linspace(0, 1, len(MAP_COLORS)), [QColor(c) for c in MAP_COLORS]))
        self.addItem(self._image)
        self._isocurves: list[pg.IsocurveItem] = []
        self._minima = pg.ScatterPlotItem(symbol="star", size=16, brush=pg.mkBrush(MARK_FILL),
                                          pen=pg.mkPen(MARK_EDGE, width=1.2))
        self._minima.setZValue(5)
        self.addItem(self._minima)
        self._start_mark = pg.ScatterPlotItem(symbol="o", size=11, brush=pg.mkBrush(MARK_FILL),
                                              pen=pg.mkPen(MARK_EDGE, width=2))
        self._start_mark.setZValue(6)
        self.addItem(self._start_mark, ignoreBounds=True)
        self.scene().sigMouseClicked.connect(self._on_clicked)
        self.paths: list[dict] = []
        self._line_width = 2.0

    # -- the surface ------------------------------------------------------------------------------

    def show_surface(self, name: str, params: dict[str, float]) -> SurfaceGrid:
        """Colour the map with surface ``name``, draw its contours and minima; returns the grid drawn."""
        info = surface(name)
        g = grid(name, params, n=GRID_POINTS)
        self._image.setImage(g.colors, autoLevels=False, levels=(float(g.colors.min()), float(g.colors.max())))
        xmin, xmax, ymin, ymax = info.box
        dx, dy = (xmax - xmin) / (GRID_POINTS - 1), (ymax - ymin) / (GRID_POINTS - 1)
        self._image.setRect(QRectF(xmin - dx / 2, ymin - dy / 2, xmax - xmin + dx, ymax - ymin + dy))
        for iso in self._isocurves:
            scene = iso.scene()
            iso.setParentItem(None)
            if scene is not None:
                scene.removeItem(iso)
        self._isocurves = []
        pen = pg.mkPen(QColor(CONTOUR), width=1)
        for level in g.levels:
            iso = pg.IsocurveItem(data=g.colors, level=float(level), pen=pen)
            iso.setParentItem(self._image)
            self._isocurves.append(iso)
        if info.minima:
            m = np.asarray(info.minima)
            self._minima.setData(m[:, 0], m[:, 1])
        else:
            self._minima.clear()
        self.getPlotItem().vb.enableAutoRange()       # frames the image whatever the widget's size
        # A short title: a PlotItem is never narrower than its title, so a long one would clip the map.
        set_title(self.getPlotItem(), info.title)
        return g

    def show_start(self, x: float, y: float) -> None:
        self._start_mark.setData([x], [y])

    @Slot(object)
    def _on_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        vb = self.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        p = vb.mapSceneToView(event.scenePos())
        self.clicked.emit(p.x(), p.y())

    # -- the paths --------------------------------------------------------------------------------

    def add_path(self, color: QColor) -> None:
        """Plot items for one more optimizer, in ``color``, at the end of :attr:`paths`."""
        width = self._line_width
        items = {
            "line": pg.PlotDataItem(pen=pg.mkPen(color, width=width)),
            "head": pg.ScatterPlotItem(symbol="o", size=10, brush=pg.mkBrush(color), pen=pg.mkPen(MARK_EDGE)),
            "stop": pg.ScatterPlotItem(symbol="x", size=18, brush=pg.mkBrush(color), pen=pg.mkPen(MARK_EDGE)),
            "grad": pg.PlotDataItem(connect="pairs", pen=pg.mkPen(MARK_EDGE, width=2, style=Qt.PenStyle.DashLine)),
            "update": pg.PlotDataItem(connect="pairs", pen=pg.mkPen(color, width=width)),
        }
        for z, it in enumerate(items.values()):
            it.setZValue(10 + z)
            self.addItem(it, ignoreBounds=True)    # the view frames the map, not a path leaving it
        self.paths.append(items)

    def remove_path(self, index: int) -> None:
        for it in self.paths.pop(index).values():
            self.removeItem(it)

    def set_line_width(self, width: float, colors: list[QColor]) -> None:
        """Every path's line and step arrow ``width`` wide, in its row's colour (``colors``, row order)."""
        self._line_width = width
        for items, color in zip(self.paths, colors):
            items["line"].setPen(pg.mkPen(color, width=width))
            items["update"].setPen(pg.mkPen(color, width=width))

    def clear_path(self, index: int) -> None:
        for it in self.paths[index].values():
            it.setData([], []) if not isinstance(it, pg.ScatterPlotItem) else it.clear()

    def show_path(self, index: int, path: Trajectory, k: int, stopped: bool, arrows: bool,
                  arrow_length: float) -> None:
        """Path ``index`` as it was after ``k`` steps; ``stopped``: mark its head with a cross."""
        items = self.paths[index]
        items["line"].setData(path.x[:k + 1], path.y[:k + 1])
        items["head"].setData([path.x[k]], [path.y[k]])
        if stopped:
            items["stop"].setData([path.x[k]], [path.y[k]])
        else:
            items["stop"].clear()
        items["grad"].setData(*arrow(path.x[k], path.y[k], -path.grad[k], arrow_length) if arrows else ([], []))
        items["update"].setData(*arrow(path.x[k], path.y[k], path.update[k], arrow_length) if arrows else ([], []))


def arrow(x: float, y: float, direction: np.ndarray, length: float) -> tuple[np.ndarray, np.ndarray]:
    """Segments (for ``connect="pairs"``) of an arrow from (x, y) along ``direction``, ``length`` long."""
    d = np.asarray(direction, dtype=np.float64)
    norm = float(np.hypot(*d)) if np.isfinite(d).all() else 0.0
    if norm == 0.0:
        return np.array([]), np.array([])
    u = d / norm * length
    tip = np.array([x, y]) + u
    barbs = [tip - 0.3 * _rotate(u, a) for a in (math.radians(25), -math.radians(25))]
    pts = np.array([[x, y], tip, tip, barbs[0], tip, barbs[1]])
    return pts[:, 0], pts[:, 1]


def _rotate(v: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])
