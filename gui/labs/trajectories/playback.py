"""The bar under the trajectories map: Play, the speed, the step slider, the step shown, the arrows switch.

Play computes nothing: the paths are computed in full beforehand, and a QTimer
on the GUI thread asks for the next steps ~30 times a second.  At ``s`` steps
per second a frame advances ``s · FRAME_MS / 1000`` steps; the fraction left
over is carried to the next frame, so 5 steps/s shows one step every sixth
frame rather than none.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

FRAME_MS = 33                       # ~30 redraws a second while playing, whatever the speed
SPEEDS = (5, 20, 60, 200, 600)      # steps per second offered by the speed box
DEFAULT_SPEED = 60


class PlaybackBar(QWidget):
    """``step_requested(step)``: the user scrubbed, or playing reached the next frame; the tab shows
    that step and tells the bar with :meth:`show_step`.  Playing stops at the last step; Play at the
    end starts over from 0."""

    step_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._step, self._last = 0, 0
        self._carry = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._tick)
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Animate every path together, one optimizer step after another. Press "
                                    "again to pause; at the end it starts over.")
        self.play_button.toggled.connect(self._on_play_toggled)
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(f"{s} steps/s", s)
        self.speed.setCurrentIndex(SPEEDS.index(DEFAULT_SPEED))
        self.speed.setToolTip("How many optimizer steps the animation shows per second. Slow down to "
                              "watch single steps bounce; speed up to see where each path ends.")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Scrub through the steps: every path is shown as it was after this many "
                               "updates. Drag back to see how a path got where it is.")
        self.slider.valueChanged.connect(self.step_requested)
        self.step_label = QLabel()
        self.step_label.setMinimumWidth(90)
        self.arrows = QCheckBox("Arrows")
        self.arrows.setToolTip("At the head of each path, draw the downhill direction -gradient (black, "
                               "dashed) and the step the optimizer actually takes (path colour). With "
                               "momentum or Adam they differ: the velocity carries the ball. Directions "
                               "only, drawn at one length.")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.play_button)
        row.addWidget(self.speed)
        row.addWidget(self.slider, 1)
        row.addWidget(self.step_label)
        row.addWidget(self.arrows)

    def set_last_step(self, last: int) -> None:
        """The slider's end (moving it below the shown step requests the clamped step)."""
        self._last = last
        if self.slider.maximum() != last:
            self.slider.setRange(0, last)

    def show_step(self, step: int, last: int) -> None:
        """The step the tab shows, of ``last``: label and slider follow, without a request."""
        self._step, self._last = step, last
        self.step_label.setText(f"step {step} / {last}")
        if self.slider.value() != step:
            self.slider.blockSignals(True)
            self.slider.setValue(step)
            self.slider.blockSignals(False)

    def set_speed(self, steps_per_second: int) -> None:
        self.speed.setCurrentIndex(SPEEDS.index(steps_per_second))

    def playing(self) -> bool:
        return self._timer.isActive()

    def stop(self) -> None:
        self._timer.stop()

    @Slot(bool)
    def _on_play_toggled(self, on: bool) -> None:
        self.play_button.setText("Pause" if on else "Play")
        if on:
            if self._step >= self._last:
                self.step_requested.emit(0)
            self._carry = 0.0
            self._timer.start()
        else:
            self._timer.stop()

    @Slot()
    def _tick(self) -> None:
        self._carry += self.speed.currentData() * FRAME_MS / 1000.0
        advance = int(self._carry)
        self._carry -= advance
        if advance:
            self.step_requested.emit(self._step + advance)
        if self._step >= self._last:
            self.play_button.setChecked(False)
