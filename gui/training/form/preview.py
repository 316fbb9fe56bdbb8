"""The schedule preview under the Schedule section: the learning rate at every step, as training
will use it, computed by the engine's own ``engine.optim.schedules.lr_curve``."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine.config import Experiment
from engine.optim.schedules import lr_curve
from gui.style.theme import follow_palette
from gui.training.form.widgets import caption_label

PREVIEW_MAX_STEPS = 50_000      # lr_curve costs ~3 µs a step; above this the preview would stall the UI
PREVIEW_DELAY_MS = 100          # at most one preview redraw per 100 ms while fields change


class RateAxis(pg.AxisItem):
    """Tick labels in scientific notation: rates span decades."""

    def tickStrings(self, values, scale, spacing):
        return [f"{v * scale:.0e}" if v else "0" for v in values]


class SchedulePreview(QWidget):
    """A small plot of the schedule of the form's experiment, and a line under it saying its rates.

    The form calls :meth:`show_experiment` on every edit; the plot redraws at most once per
    ``PREVIEW_DELAY_MS`` (the first change starts the timer, later ones ride along), only when
    the schedule, the rate or the number of steps changed, and not above ``PREVIEW_MAX_STEPS``.
    It follows the palette, light or dark, with no hard-coded white or black.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(axisItems={"left": RateAxis("left")})
        self.plot.setFixedHeight(130)
        self.plot.setMinimumWidth(120)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.plot.setToolTip("The learning rate at every step, as training will use it")
        item = self.plot.getPlotItem()
        item.disableAutoRange()
        item.setYRange(0, 1.08, padding=0)    # until the first curve: keeps the top tick label inside
        item.getAxis("left").setWidth(42)
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.8))
        for name in ("left", "bottom"):
            item.getAxis(name).setStyle(tickFont=small)
        self.curve = item.plot()
        self.note = caption_label()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 4, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.plot)
        column.addWidget(self.note)

        self._exp: Experiment | None = None
        self._drawn: tuple | None = None      # (schedule, lr, steps) of the curve on screen
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DELAY_MS)
        self._timer.timeout.connect(self._draw)
        # The plot hears its own palette change: a parent hears of its change before its children
        # have taken the new palette on.
        self.plot.installEventFilter(self)
        self._apply_palette()

    def show_experiment(self, exp: Experiment | None) -> None:
        """Draw the schedule of ``exp`` soon; None while the form is invalid."""
        self._exp = exp
        if not self._timer.isActive():
            self._timer.start()

    def _draw(self) -> None:
        exp = self._exp
        if exp is None:
            self.note.setText("The preview waits for a valid form.")
            return
        total = exp.total_steps()
        key = (exp.schedule, exp.optimizer.lr, total)
        if key == self._drawn:
            return
        self._drawn = key
        if total > PREVIEW_MAX_STEPS:
            self.curve.setData([], [])
            self.note.setText(f"Preview skipped above {PREVIEW_MAX_STEPS:,} steps ({total:,} planned).")
            return
        try:
            rates = lr_curve(exp.schedule, exp.optimizer.lr, total)
        except Exception as err:  # noqa: BLE001 - a preview must not take the form down
            self.curve.setData([], [])
            self.note.setText(f"No preview: {err}")
            return
        self.curve.setData(np.arange(total), rates)
        item = self.plot.getPlotItem()
        item.setXRange(0, max(1, total - 1), padding=0.02)
        item.setYRange(0, float(rates.max()) * 1.08 or 1.0, padding=0)
        self.note.setText(f"lr starts {rates[0]:.2e}, peaks {rates.max():.2e}, ends {rates[-1]:.2e}")

    def _apply_palette(self) -> None:
        follow_palette(self.plot)
        self.curve.setPen(pg.mkPen(self.plot.palette().color(QPalette.ColorRole.Highlight), width=2))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.plot and event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        return False
