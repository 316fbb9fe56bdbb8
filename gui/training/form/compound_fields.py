"""Fields made of several editors: a learning rate and its log slider, Adam's two betas, an
optional number behind a check box, and the training length in steps or epochs."""
from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QSlider, QWidget

from engine.config import DEFAULT_STEPS
from gui.training.form.fields import Field, Unreadable
from gui.training.form.schema import STEPS, bounds_of, format_rate, tooltip_for
from gui.training.form.widgets import NumberBox

LOG_LR_MIN, LOG_LR_MAX = -6, 1  # the learning-rate sliders span 1e-6 .. 10
SLIDER_TICKS_PER_DECADE = 100


class RateField(Field):
    """A learning rate: scientific-notation text coupled to a slider over log10(rate).

    Rates matter by their order of magnitude, so the slider moves one decade per
    100 ticks from 1e-6 to 10; the text is the value (any rate can be typed).
    """

    def __init__(self, key: str, optional: bool = False):
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setFixedWidth(self.edit.fontMetrics().horizontalAdvance("0.000e-00") + 16)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, (LOG_LR_MAX - LOG_LR_MIN) * SLIDER_TICKS_PER_DECADE)
        self.slider.setSingleStep(SLIDER_TICKS_PER_DECADE // 10)
        self.slider.setPageStep(SLIDER_TICKS_PER_DECADE)
        self.slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.slider.setMinimumWidth(60)
        row.addWidget(self.edit)
        row.addWidget(self.slider, 1)
        super().__init__(key, box)
        self.optional = optional
        self.default: float | None = None
        self.edit.setToolTip(self.container.toolTip())
        self.slider.setToolTip(self.container.toolTip())
        self.edit.textChanged.connect(self._text_changed)
        self.edit.editingFinished.connect(self._tidy)
        self.slider.valueChanged.connect(self._slider_moved)

    @staticmethod
    def position_of(rate: float) -> int:
        """Slider tick of ``rate``: log10 scale, clamped to the slider's decades."""
        pos = round((math.log10(rate) - LOG_LR_MIN) * SLIDER_TICKS_PER_DECADE)
        return max(0, min((LOG_LR_MAX - LOG_LR_MIN) * SLIDER_TICKS_PER_DECADE, pos))

    @staticmethod
    def rate_at(pos: int) -> float:
        return float(f"{10 ** (LOG_LR_MIN + pos / SLIDER_TICKS_PER_DECADE):.2e}")

    def _number(self) -> float | None:
        text = self.edit.text().strip()
        return float(text) if text else None

    def _sync_slider(self) -> None:
        try:
            rate = self._number()
        except ValueError:
            return
        if rate is None:
            rate = self.default
        if rate is not None and math.isfinite(rate) and rate > 0:
            self.slider.blockSignals(True)
            self.slider.setValue(self.position_of(rate))
            self.slider.blockSignals(False)

    def _text_changed(self, _text):
        self._sync_slider()
        self.edited()

    def _slider_moved(self, pos):
        self.edit.setText(format_rate(self.rate_at(pos)))

    def _tidy(self):
        """Show a typed rate ("3e-4") in the form's notation ("3.00e-04") when that is the same number."""
        try:
            rate = self._number()
        except ValueError:
            return
        if rate is not None and format_rate(rate) != self.edit.text():
            self.edit.setText(format_rate(rate))

    def read(self):
        try:
            rate = self._number()
        except ValueError:
            raise Unreadable("write a number, e.g. 1e-3") from None
        if rate is None and not self.optional:
            raise Unreadable("write a number, e.g. 1e-3")
        return rate

    def write(self, value):
        self.edit.setText(format_rate(value))
        self._sync_slider()

    def set_default(self, value):
        self.default = value
        self.edit.setPlaceholderText(format_rate(value) if value is not None else "")
        self._sync_slider()

    def displayed(self):
        value = self.read()
        return self.default if value is None else value

    def focus_widget(self):
        return self.edit


class PairField(Field):
    """Adam's betas: two numbers, None while both are empty."""

    def __init__(self, key: str):
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.boxes = [NumberBox(False, STEPS[key], bounds_of(key)) for _ in range(2)]
        for i, b in enumerate(self.boxes):
            row.addWidget(QLabel(f"β{i + 1}"))
            row.addWidget(b, 1)
        super().__init__(key, box)
        for b in self.boxes:
            b.lineEdit().textChanged.connect(self.edited)
            b.setToolTip(self.container.toolTip())

    def read(self):
        try:
            typed = [b.number() for b in self.boxes]
        except ValueError:
            raise Unreadable("write two numbers, e.g. 0.9 and 0.999") from None
        if all(v is None for v in typed):
            return None
        return [b.default if v is None else v for v, b in zip(typed, self.boxes)]

    def write(self, value):
        for i, b in enumerate(self.boxes):
            b.set_number(None if value is None else value[i])

    def set_default(self, value):
        for i, b in enumerate(self.boxes):
            b.set_default(None if value is None else value[i])

    def displayed(self):
        value = self.read()
        return tuple(b.default for b in self.boxes) if value is None else tuple(value)

    def focus_widget(self):
        return self.boxes[0]


class ToggledNumberField(Field):
    """An optional number switched on by a check box: unticked is None (no clipping)."""

    def __init__(self, key: str, text: str, suggestion: float):
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.check = QCheckBox(text)
        self.box = NumberBox(False, STEPS[key], bounds_of(key))
        self.suggestion = suggestion
        row.addWidget(self.check)
        row.addWidget(self.box, 1)
        super().__init__(key, box)
        self.container.setToolTip(tooltip_for(key, unset="Unticked"))
        self.box.setEnabled(False)
        for w in (self.check, self.box):
            w.setToolTip(self.container.toolTip())
        self.check.toggled.connect(self._toggled)
        self.box.lineEdit().textChanged.connect(self.edited)

    def _toggled(self, on):
        self.box.setEnabled(on)
        if on and not self.box.lineEdit().text().strip() and not self._quiet:
            with self.quietly():
                self.box.set_number(self.suggestion)
        self.edited()

    def read(self):
        if not self.check.isChecked():
            return None
        try:
            value = self.box.number()
        except ValueError:
            value = None
        if value is None:
            raise Unreadable("write a number, or untick the box")
        return value

    def write(self, value):
        self.check.setChecked(value is not None)
        self.box.setEnabled(value is not None)
        if value is not None:
            self.box.set_number(value)
        elif not self.box.lineEdit().text():
            self.box.set_number(self.suggestion)

    def focus_widget(self):
        return self.box


class LengthField(Field):
    """How long to train: "steps" or "epochs" in a combo, then the number of them.

    Steps left empty are the engine's default (2000).  Switching to epochs
    proposes the number of epochs closest to the current step count.
    """

    def __init__(self):
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.mode = QComboBox()
        self.mode.addItems(["steps", "epochs"])
        self.mode.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.steps = NumberBox(True, STEPS["train.steps"], bounds_of("train.steps"))
        self.epochs = NumberBox(True, STEPS["train.epochs"], bounds_of("train.epochs"))
        self.steps.set_default(DEFAULT_STEPS)
        row.addWidget(self.mode)
        row.addWidget(self.steps, 1)
        row.addWidget(self.epochs, 1)
        super().__init__("train.steps", box)
        self.epochs.hide()
        self.steps_per_epoch = 1
        self.container.setToolTip(tooltip_for("train.steps") + tooltip_for("train.epochs"))
        for w in (self.mode, self.steps, self.epochs):
            w.setToolTip(self.container.toolTip())
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.steps.lineEdit().textChanged.connect(self.edited)
        self.epochs.lineEdit().textChanged.connect(self.edited)

    @property
    def by_epochs(self) -> bool:
        return self.mode.currentText() == "epochs"

    def _mode_changed(self, _index):
        self.steps.setVisible(not self.by_epochs)
        self.epochs.setVisible(self.by_epochs)
        if self.by_epochs and not self.epochs.lineEdit().text().strip() and not self._quiet:
            try:
                epochs = max(1, round((self.steps.number() or DEFAULT_STEPS) / self.steps_per_epoch))
            except (ValueError, OverflowError):
                epochs = max(1, round(DEFAULT_STEPS / self.steps_per_epoch))
            with self.quietly():
                self.epochs.set_number(epochs)
        self.edited()

    def keys(self):
        return ("train.steps", "train.epochs")

    def _read_box(self, box: NumberBox, required: bool):
        try:
            value = box.number()
        except ValueError:
            value = None
            required = True
        if value is None and required:
            raise Unreadable("write a whole number", "train.epochs" if box is self.epochs else "train.steps")
        return value

    def read(self):
        if self.by_epochs:
            return None, self._read_box(self.epochs, required=True)
        return self._read_box(self.steps, required=False), None

    def values(self):
        steps, epochs = self.read()
        return {"train.steps": steps, "train.epochs": epochs}

    def write(self, value):
        steps, epochs = value
        self.mode.setCurrentText("epochs" if epochs is not None else "steps")
        self.steps.setVisible(epochs is None)
        self.epochs.setVisible(epochs is not None)
        self.steps.set_number(steps)
        self.epochs.set_number(epochs)

    def displayed(self):
        steps, epochs = self.read()
        return (DEFAULT_STEPS if steps is None and epochs is None else steps), epochs

    def focus_widget(self):
        return self.epochs if self.by_epochs else self.steps
