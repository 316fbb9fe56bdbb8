"""The race drawn: best so far against trial number, and the trials on two chosen axes.

* :class:`BestPlot`: one line per method, ``b_n = min(v_0 .. v_n)`` (``max`` for an accuracy) over its finished
  trials (``TrialBook.best_so_far``): the method that drops first and lowest found good settings soonest.
* :class:`TrialMap`: every trial at its two chosen values (a log axis where the range is log; a choice at its
  place in the list, its values as the ticks), filled by its objective on one colour scale (bright: better),
  outlined and shaped by its method.  Grid points stand on a few lines; random points spread over the plane,
  which is the lesson's argument: when only one key matters, random search tries many more values of it.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from engine.labs.search.space import Param
from engine.labs.search.spec import METHOD_NAMES
from engine.status import RunStatus
from gui.labs.search.book import TrialBook
from gui.style.palette import run_color
from gui.widgets.plotting import LogFriendlyAxis, lab_plot, set_title

SYMBOLS = {"grid": "s", "random": "o", "tpe": "t", "gp": "d", "pbt": "star"}
COLORMAP = "viridis"          # perceptually uniform, readable in grey and by the colour-blind
SYMBOL_SIZE = 10


def method_color(method: str) -> QColor:
    """A method keeps its colour whatever else races: its place in ``METHOD_NAMES``."""
    return run_color(METHOD_NAMES.index(method) if method in METHOD_NAMES else len(METHOD_NAMES))


class BestPlot:
    """Best objective so far against trial number, one line per method."""

    def __init__(self):
        self.widget = lab_plot("Best so far", bottom="trial")
        item = self.widget.getPlotItem()
        self.legend = item.addLegend(offset=(-10, 10))
        self.lines: dict[str, pg.PlotDataItem] = {}

    def draw(self, book: TrialBook, methods: tuple[str, ...]) -> None:
        item = self.widget.getPlotItem()
        item.setLabel("left", book.goal.name)
        for method in list(self.lines):
            if method not in methods:
                item.removeItem(self.lines.pop(method))
        for method in methods:
            if method not in self.lines:
                color = method_color(method)
                self.lines[method] = item.plot([], [], pen=pg.mkPen(color, width=2), symbol=SYMBOLS.get(method, "o"),
                                               symbolSize=6, symbolBrush=color, symbolPen=color, name=method)
            x, best = book.best_so_far(method)
            self.lines[method].setData(x, best)

    def clear(self) -> None:
        for line in self.lines.values():
            line.setData([], [])


def _positions(param: Param, values: list) -> np.ndarray:
    """Where each value sits on the axis: itself, or a choice's place in the list (NaN when unknown)."""
    if param.kind == "choice":
        reprs = [str(c) for c in param.choices]
        return np.array([reprs.index(str(v)) if str(v) in reprs else math.nan for v in values], dtype=float)
    return np.array([math.nan if v is None else float(v) for v in values], dtype=float)


class TrialMap:
    """The trials on two keys of the space, coloured by objective, one symbol per method."""

    def __init__(self):
        self.x_axis, self.y_axis = LogFriendlyAxis("bottom"), LogFriendlyAxis("left")
        self.title = "Trials on two keys"
        self.widget = lab_plot(self.title, axis_items={"bottom": self.x_axis, "left": self.y_axis}, grid_alpha=0.15)
        self.cmap = pg.colormap.get(COLORMAP)
        self.points: dict[str, pg.PlotDataItem] = {}
        self.range: tuple[float, float] | None = None     # the objective's range the colours span
        self._y_path = ""                                   # the key on the y axis (its label may be shorter)
        self.widget.getPlotItem().getViewBox().sigResized.connect(self._fit_left_label)

    def _fit_left_label(self, *_) -> None:
        """The left label is the y key's whole path, or its last part alone ("dropout" for "model.dropout")
        when the axis is too short for the whole (a short screen in large type, a question's words above
        the lab): a key cut mid-word reads as another key.  Checked again at every resize of the view."""
        if not self._y_path:
            return
        item = self.widget.getPlotItem()
        whole, short = self._y_path, self._y_path.rpartition(".")[2]
        fits = QFontMetrics(self.y_axis.label.font()).horizontalAdvance(whole) <= self.y_axis.height()
        wanted = whole if fits else short
        if self.y_axis.labelText != wanted:
            item.setLabel("left", wanted)

    def fill(self, goal_better_high: bool, values: np.ndarray) -> list[QColor]:
        """Each value's colour: bright for the best of the race, dark for the worst."""
        finite = values[np.isfinite(values)]
        if not len(finite):
            self.range = None
            return []
        lo, hi = float(finite.min()), float(finite.max())
        self.range = (lo, hi)
        t = np.zeros_like(values) if hi == lo else (values - lo) / (hi - lo)
        if not goal_better_high:
            t = 1.0 - t
        return [self.cmap.map(float(v), mode="qcolor") for v in np.nan_to_num(t, nan=0.0)]

    def draw(self, book: TrialBook, space: tuple[Param, ...], x_path: str, y_path: str) -> None:
        item = self.widget.getPlotItem()
        params = {p.path: p for p in space}
        px, py = params.get(x_path), params.get(y_path)
        for line in self.points.values():
            line.setData([], [])
        if px is None or py is None:
            return
        item.setLabel("bottom", x_path)
        self._y_path = y_path
        item.setLabel("left", y_path)
        self._fit_left_label()
        title = f"Trials, filled by {book.goal.name}"
        if title != self.title:
            self.title = title
            set_title(item, title)
        item.setLogMode(x=px.kind == "log", y=py.kind == "log")
        for axis, p in ((self.x_axis, px), (self.y_axis, py)):
            axis.setTicks([[(i, str(c)) for i, c in enumerate(p.choices)]] if p.kind == "choice" else None)
        rows = [r for r in book.ordered() if x_path in r.values and y_path in r.values]
        finished = np.array([r.value if r.state == RunStatus.FINISHED and r.value is not None else math.nan
                             for r in rows], dtype=float)
        colors = self.fill(book.goal.direction == "maximize", finished)
        for method in {r.method for r in rows} | set(self.points):
            mine = [i for i, r in enumerate(rows) if r.method == method]
            if method not in self.points:
                color = method_color(method)
                self.points[method] = item.plot([], [], pen=None, symbol=SYMBOLS.get(method, "o"),
                                                symbolSize=SYMBOL_SIZE, symbolPen=pg.mkPen(color, width=2),
                                                name=method)
            if not mine:
                continue
            x = _positions(px, [rows[i].values[x_path] for i in mine])
            y = _positions(py, [rows[i].values[y_path] for i in mine])
            brushes = [pg.mkBrush(colors[i]) if colors and np.isfinite(finished[i]) else pg.mkBrush(None)
                       for i in mine]
            self.points[method].setData(x, y, symbolBrush=brushes)

    def drawn(self, method: str) -> tuple[np.ndarray, np.ndarray]:
        """The points drawn for ``method`` (in data units, before any log)."""
        line = self.points.get(method)
        if line is None or line.xData is None:
            return np.array([]), np.array([])
        return np.asarray(line.xData), np.asarray(line.yData)


class ColorKey(QWidget):
    """The colour scale under the map: worst value, the gradient, best value."""

    def __init__(self, cmap: pg.ColorMap):
        super().__init__()
        self.cmap = cmap
        self.low, self.high = QLabel(), QLabel()
        self.bar = QLabel()
        self.bar.setToolTip("Each trial's fill: its objective on this scale (bright: better); hollow: running, "
                            "diverged or failed; the outline and the shape say the method")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addStretch(1)
        layout.addWidget(self.low)
        layout.addWidget(self.bar)
        layout.addWidget(self.high)
        layout.addStretch(1)
        self.bar.setPixmap(self._gradient(90, 12))

    def _gradient(self, width: int, height: int) -> QPixmap:
        table = self.cmap.getLookupTable(0.0, 1.0, width, alpha=False).astype(np.uint8)
        rows = np.ascontiguousarray(np.repeat(table[None, :, :], height, axis=0))
        image = QImage(rows.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        return QPixmap.fromImage(image.copy())

    def show_range(self, objective: str, value_range: tuple[float, float] | None, better_high: bool) -> None:
        if value_range is None:
            self.low.setText("no finished trial yet")
            self.high.setText("")
            return
        lo, hi = value_range
        worst, best = (lo, hi) if better_high else (hi, lo)
        self.low.setText(f"{worst:.4g}")
        self.high.setText(f"{best:.4g} (best)")
        self.low.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
