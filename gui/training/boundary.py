"""The function a network has learned on a 2-D dataset, drawn over the plane it classifies.

Each pixel of the grid takes the colour of the class the network predicts
there, faded toward the background by how unsure it is: with K classes and
top probability p, the certainty ``c = (p - 1/K) / (1 - 1/K)`` is 0 where
every class is equally likely and 1 where one class takes all, and the pixel is
``background + BLEND * c * (class colour - background)``.  Confident regions
show a clear tint, the boundary between classes a pale band whose width is the
network's doubt.  The training points sit on top in their class colours with
a dark edge; the validation points, if shown, as hollow rings.  A boundary
that winds around single training points while missing the rings is
overfitting, drawn.
"""
from __future__ import annotations

import html
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from engine.config import DataKind
from engine.training.updates import Boundary
from gui.style.palette import BOUNDARY_BACKGROUND, POINT_OUTLINE, class_color, class_rgb
from gui.widgets.plotting import LegendRow, ThemedPlotWidget, label_size, set_title

if TYPE_CHECKING:  # engine.data.datasets imports torch, which the window loads in the background
    from engine.data.datasets import DataSplit

BLEND = 0.6              # tint of a fully confident region: strong enough to read, light enough for the points
NO_RUN_MESSAGE = "Select a run to see the decision boundary its network has learned."


def not_2d_message() -> str:
    """The message shown for an image dataset, naming the 2-D datasets from the registry.

    Called only once a DataSplit exists, so torch (which engine.data.datasets
    imports) is loaded already.
    """
    from engine.data.datasets import DATASETS

    names = ", ".join(name for name, info in DATASETS.items() if info.kind == DataKind.PLANE)
    return f"Decision boundaries are drawn for 2-D datasets ({names})."


def boundary_rgba(probs: np.ndarray, background: QColor, blend: float = BLEND) -> np.ndarray:
    """(G, G, K) class probabilities -> (G, G, 4) uint8 RGBA image in the same [row j, column i] layout.

    Non-finite probabilities (a diverged network) count as no certainty: the
    background colour.
    """
    k = probs.shape[-1]
    probs = np.nan_to_num(np.asarray(probs, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    winner = probs.argmax(axis=-1)
    certainty = np.clip((probs.max(axis=-1) - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)
    bg = np.array(background.getRgb()[:3], np.float64)
    rgb = bg + (blend * certainty)[..., None] * (class_rgb(k)[winner] - bg)
    out = np.empty((*probs.shape[:2], 4), np.uint8)
    out[..., :3] = np.clip(np.rint(rgb), 0, 255)
    out[..., 3] = 255
    return out


class BoundaryView(QWidget):
    """The selected run's decision boundary, with its training (and validation) points."""

    def __init__(self, parent: QWidget | None = None, background: str = BOUNDARY_BACKGROUND):
        super().__init__(parent)
        self._background = QColor(background)
        self._splits: dict[str, DataSplit] = {}
        self._boundaries: dict[str, Boundary] = {}
        self._run_id: str | None = None
        self._show_val = False
        self._image_array: np.ndarray | None = None
        self._points_of: str | None = None      # run whose points are drawn (redrawn only on a change)

        self._val_box = QCheckBox("show val")
        self._val_box.setToolTip("Also draw the validation points, as hollow rings: the network never trained "
                                 "on them, so a boundary that fits the filled points but not the rings overfits.")
        self._val_box.toggled.connect(self.set_show_val)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self._val_box)
        bar.addStretch(1)

        self._widget = ThemedPlotWidget()
        plot = self._widget.getPlotItem()
        plot.setAspectLocked(True)    # circles look round
        plot.getViewBox().setBackgroundColor(self._background)   # the margins the image leaves match its undecided colour
        plot.setLabel("bottom", "x₁")
        plot.setLabel("left", "x₂")
        self._image = pg.ImageItem(axisOrder="row-major")   # image[j, i] at (xs[i], ys[j]), as Boundary.probs
        self._image.setZValue(-10)
        plot.addItem(self._image)
        self._train = pg.ScatterPlotItem(size=7, pxMode=True)
        self._train.setZValue(2)
        self._val = pg.ScatterPlotItem(size=8, pxMode=True, symbol="o")
        self._val.setZValue(3)
        plot.addItem(self._train)
        plot.addItem(self._val)
        self._export_row = LegendRow()               # the key, inside the plot while it is exported
        plot.layout.addItem(self._export_row, 4, 1)  # below the x axis, as the metric plots' rows
        self._export_row.set_collapsed(True)
        # The key is a plain label under the plot: it wraps like any text when the panel is narrow.
        self._key = QLabel(" ")
        self._key.setWordWrap(True)
        self._key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._key.setTextFormat(Qt.TextFormat.RichText)
        self._key.setMinimumWidth(80)   # a wrapping label would otherwise ask for a comfortable width, not a small one

        plot_page = QWidget()
        page = QVBoxLayout(plot_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.addLayout(bar)
        page.addWidget(self._widget, 1)
        page.addWidget(self._key)
        self._message = QLabel()
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._message.setMargin(24)
        font = self._message.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self._message.setFont(font)
        self._stack = QStackedWidget()
        self._stack.addWidget(plot_page)
        self._stack.addWidget(self._message)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack)

        self._restyle_timer = QTimer(self)
        self._restyle_timer.setSingleShot(True)
        self._restyle_timer.setInterval(0)
        self._restyle_timer.timeout.connect(self._refresh_labels)
        self._widget.background_changed.connect(self._restyle_timer.start)
        self._refresh()

    # -- API --------------------------------------------------------------------------------------

    def set_data(self, run_id: str, split: DataSplit) -> None:
        """The run's dataset; the first run given data is shown until ``select_run`` picks another."""
        self._splits[run_id] = split
        if self._run_id is None:
            self._run_id = run_id
        if run_id == self._run_id:
            self._points_of = None
            self._refresh()

    def show(self, run_id: str | None = None, boundary: Boundary | None = None) -> None:
        """``show(run_id, boundary)``: the run's newest boundary (see ``show_boundary``).

        The name shadows ``QWidget.show()``; called without arguments it still
        shows the widget, so layouts, tabs and tests that show widgets work.
        """
        if run_id is None:
            super().show()
            return
        self.show_boundary(run_id, boundary)

    def show_boundary(self, run_id: str, boundary: Boundary) -> None:
        """The run's newest boundary; drawn at once if the run is the one shown."""
        self._boundaries[run_id] = boundary
        if run_id == self._run_id:
            self._draw_boundary()

    def select_run(self, run_id: str | None) -> None:
        if run_id != self._run_id:
            self._run_id = run_id
            self._points_of = None
        self._refresh()

    def set_show_val(self, on: bool) -> None:
        self._show_val = bool(on)
        if self._val_box.isChecked() != self._show_val:
            self._val_box.blockSignals(True)
            self._val_box.setChecked(self._show_val)
            self._val_box.blockSignals(False)
        self._val.setVisible(self._show_val)
        self._refresh_labels()

    def clear_run(self, run_id: str) -> None:
        """Forget the run's dataset and boundary (the run was reset); new data will come with set_data."""
        self._splits.pop(run_id, None)
        self._boundaries.pop(run_id, None)
        if run_id == self._run_id:
            self._points_of = None
            self._refresh()

    def remove_run(self, run_id: str) -> None:
        """The run is gone: forgotten, and if it was shown, the next run with data is shown instead (or,
        none left, the first run given data next).  Kept as the run shown, a removed run blocked every
        later one: after clear_runs() and add_run() the new run's boundary was stored but never drawn."""
        if run_id == self._run_id:
            self._run_id = next((r for r in self._splits if r != run_id), None)
        self.clear_run(run_id)
        self._points_of = None
        self._refresh()

    def plot_widget(self) -> pg.PlotWidget:
        return self._widget

    def key_text(self) -> str:
        """The key under the plot, as rich text: the dataset, each class's colour and name, the marks."""
        return self._key.text().strip()

    @contextmanager
    def exporting(self):
        """While the plot is exported to a file, the key under it is a row inside it, so the file has it
        (a context manager yielding the plot widget)."""
        plot = self._widget.getPlotItem()
        text = self.key_text()
        self._export_row.setText(text or " ", size=f"{label_size(plot):.0f}pt", color=pg.getConfigOption("foreground"))
        self._export_row.set_collapsed(not text)
        try:
            yield self._widget
        finally:
            self._export_row.set_collapsed(True)

    def image_array(self) -> np.ndarray | None:
        """The RGBA image drawn now, (G, G, 4) uint8, [row j, column i] at (ys[j], xs[i]); None when none."""
        return None if self._image_array is None else self._image_array.copy()

    def message(self) -> str | None:
        """The text shown instead of the plot, or None while the plot is shown."""
        return self._message.text() if self._stack.currentIndex() == 1 else None

    # -- drawing ----------------------------------------------------------------------------------

    def _refresh(self) -> None:
        split = self._splits.get(self._run_id) if self._run_id is not None else None
        if split is None:
            self._show_message(NO_RUN_MESSAGE)
            return
        if split.kind != DataKind.PLANE:
            self._show_message(not_2d_message())
            return
        self._stack.setCurrentIndex(0)
        if self._points_of != self._run_id:
            self._draw_points(split)
            self._points_of = self._run_id
        self._draw_boundary()

    def _show_message(self, text: str) -> None:
        self._message.setText(text)
        self._stack.setCurrentIndex(1)
        self._image.clear()
        self._image_array = None

    def _draw_points(self, split: DataSplit) -> None:
        k = split.n_classes
        fills = [pg.mkBrush(class_color(c)) for c in range(k)]
        rings = [pg.mkPen(class_color(c).darker(130), width=1.8) for c in range(k)]
        outline = pg.mkPen(POINT_OUTLINE, width=1)
        x, y = split.x_train.numpy(), split.y_train.numpy()
        self._train.setData(x[:, 0], x[:, 1], brush=[fills[c] for c in y], pen=outline)
        xv, yv = split.x_val.numpy(), split.y_val.numpy()
        self._val.setData(xv[:, 0], xv[:, 1], brush=pg.mkBrush(None), pen=[rings[c] for c in yv])
        self._val.setVisible(self._show_val)
        x0, x1, y0, y1 = split.extent
        plot = self._widget.getPlotItem()
        plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self._refresh_labels()

    def _draw_boundary(self) -> None:
        boundary = self._boundaries.get(self._run_id)
        split = self._splits.get(self._run_id)
        if boundary is None or split is None or split.kind != DataKind.PLANE:
            self._image.clear()
            self._image_array = None
            self._refresh_labels()
            return
        self._image_array = boundary_rgba(boundary.probs, self._background)
        xs, ys = np.asarray(boundary.xs, np.float64), np.asarray(boundary.ys, np.float64)
        dx = (xs[-1] - xs[0]) / (len(xs) - 1) if len(xs) > 1 else 1.0
        dy = (ys[-1] - ys[0]) / (len(ys) - 1) if len(ys) > 1 else 1.0
        self._image.setImage(self._image_array, autoLevels=False)
        # grid values are pixel centres: the image reaches half a pixel beyond the first and last
        self._image.setRect(QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys)))
        self._refresh_labels()

    @Slot()
    def _refresh_labels(self) -> None:
        plot = self._widget.getPlotItem()
        split = self._splits.get(self._run_id) if self._run_id is not None else None
        boundary = self._boundaries.get(self._run_id) if self._run_id is not None else None
        if split is None:
            set_title(plot, "Decision boundary")
            self._key.setText(" ")
            return
        # Short, so a narrow panel (a projector) does not cut it: the tab says "Decision boundary",
        # and the dataset is named in the key under the plot.
        set_title(plot, f"step {boundary.step:,}" if boundary is not None else "before training")
        entries = [f"{html.escape(split.name)}:"]
        entries += [f"<span style='color:{class_color(c).name()}'>●</span>&nbsp;{html.escape(name)}"
                    for c, name in enumerate(split.class_names)]
        entries.append("filled:&nbsp;train")
        if self._show_val:
            entries.append("○&nbsp;ring:&nbsp;val")
        entries.append("pale:&nbsp;unsure")
        self._key.setText(" &nbsp; ".join(entries))
