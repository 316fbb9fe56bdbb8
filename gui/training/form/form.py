"""The experiment form: the left-hand column of the training window.

A teacher edits it, presses Start, and the app trains what the form says.  The
form never decides what is valid itself: on every edit it builds the raw
experiment dict and hands it to :func:`engine.experiment.parse_experiment`, the
same validator that reads experiment files, and shows its one-line message in
red under the field it names.  What a field offers (which optimizer
hyperparameters exist, their defaults, the ranges of the arrows, the combo
items and their descriptions) is read from the engine's registries and from the
field table in :mod:`engine.config`, so adding an optimizer or a schedule there
adds it here.

"Unset" and "the default" are kept apart, as the experiment file keeps them
apart: an optional key left at ``None`` ("the chosen optimizer's own default")
shows that default as grey placeholder text, and clearing a field returns it to
``None``.  The text of every number field is the value itself, so
``set_experiment(e)`` followed by ``experiment()`` gives ``e`` back exactly,
including keys the form hides (momentum while Adam is chosen).
"""
from __future__ import annotations

import dataclasses
import html
import math
import re
from contextlib import contextmanager
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.config import DEFAULT_STEPS, SECTIONS, Bound, Experiment, ScheduleConfig, bounds, steps_per_epoch
from engine.data.datasets import DATASETS, IMAGE
from engine.experiment import REGISTRIES, ExperimentError, parse_experiment, resolve
from engine.lessons.text import LESSON_TEXT
from engine.model.inits import INITS
from engine.model.models import MODELS
from engine.optim.optimizers import HYPERPARAMETERS, OPTIMIZERS
from engine.optim.schedules import SCHEDULES, lr_curve
from gui.style.palette import ERROR
from gui.widgets.common import error_label

PREVIEW_MAX_STEPS = 50_000      # lr_curve costs ~3 µs a step; above this the preview would stall the UI
PREVIEW_DELAY_MS = 100          # at most one preview redraw per 100 ms while fields change
LOG_LR_MIN, LOG_LR_MAX = -6, 1  # the learning-rate sliders span 1e-6 .. 10
SLIDER_TICKS_PER_DECADE = 100

# The keys an optimizer or a schedule may or may not take (lr, name and warm-up are always there).
OPTIMIZER_KEYS = tuple(k for k in HYPERPARAMETERS if k != "lr")
SCHEDULE_KEYS = tuple(f.name for f in dataclasses.fields(ScheduleConfig) if f.name not in ("name", "warmup_steps"))


# Arrow and wheel step of each number field (how far one click moves); ranges come from config checks.
STEPS: dict[str, float] = {
    "seed": 1, "data.n_train": 100, "data.n_val": 100, "data.noise": 0.05, "data.label_noise": 0.05,
    "data.classes": 1, "model.init_std": 0.01, "model.dropout": 0.05, "optimizer.momentum": 0.05,
    "optimizer.betas": 0.001, "optimizer.alpha": 0.01, "optimizer.weight_decay": 0.001,
    "schedule.warmup_steps": 50, "schedule.step_size": 100, "schedule.gamma": 0.05,
    "schedule.pct_start": 0.05, "train.steps": 500, "train.epochs": 1, "train.batch_size": 8,
    "train.grad_clip": 0.5, "train.eval_every": 10, "train.histogram_every": 10,
    "train.divergence_factor": 100, "augment.shift": 1, "augment.rotate": 5, "augment.jitter": 0.05,
    "augment.mixup": 0.1,
}


# -- the field table ------------------------------------------------------------------------------

def _field_metadata() -> dict[str, Any]:
    """key path -> the ``metadata`` of that field in engine.config."""
    out = {}
    for f in dataclasses.fields(Experiment):
        if f.name in SECTIONS:
            for sub in dataclasses.fields(SECTIONS[f.name]):
                out[f"{f.name}.{sub.name}"] = sub.metadata
        else:
            out[f.name] = f.metadata
    return out


META = _field_metadata()


UNBOUNDED = Bound()


def bounds_of(key: str) -> Bound:
    """The range all of ``key``'s config checks allow, as numbers (no edge: ``None``)."""
    return bounds(META[key]["checks"])


def whole_bounds(b: Bound) -> Bound:
    """``b`` for whole numbers: open edges step inside ("> 0" becomes ">= 1", "< 8" becomes "<= 7")."""
    low = None if b.low is None else (math.floor(b.low) + 1 if b.low_open else math.ceil(b.low))
    high = None if b.high is None else (math.ceil(b.high) - 1 if b.high_open else math.floor(b.high))
    return Bound(low, high, finite=b.finite)


def tooltip_for(key: str, unset: str = "Left empty") -> str:
    """The lesson's sentence on ``key`` (or the config help), plus its allowed range and default."""
    meta = META[key]
    parts = [html.escape(LESSON_TEXT.get(key, meta["help"]))]
    ranges = "; ".join(c.text for c in meta["checks"])
    if ranges:
        parts.append(f"Allowed: {html.escape(ranges)}.")
    if meta["default_text"]:
        parts.append(f"{unset}: {html.escape(meta['default_text'])}.")
    return "<p>" + "</p><p>".join(parts) + "</p>"


# -- formatting -----------------------------------------------------------------------------------

def format_number(v: float | int | None, integer: bool = False) -> str:
    """The shortest readable text that reads back as exactly ``v`` (so values round-trip)."""
    if v is None:
        return ""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)       # not a number: shown as is, so the validator can name it
    if isinstance(v, int):
        return str(v)
    if integer and v.is_integer():
        return str(int(v))
    short = f"{v:.6g}"
    return short if float(short) == v else repr(float(v))


def format_rate(v: float | None) -> str:
    """Scientific notation with at least two decimals, more only where needed to stay exact."""
    if v is None:
        return ""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if not math.isfinite(v):
        return repr(v)
    for digits in range(2, 17):
        text = f"{v:.{digits}e}"
        if float(text) == v:
            return text
    return f"{v:.16e}"


def format_hint(v: Any) -> str:
    """A default as grey placeholder text: short, not needed to round-trip."""
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


class Unreadable(ValueError):
    """Text that cannot even become a value; ``str`` is the message, without the key path.

    ``key`` names the key when a field edits more than one (steps or epochs).
    """

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


# -- small widgets --------------------------------------------------------------------------------

class WheelGuard(QObject):
    """Let the scroll area scroll: an unfocused spin box, combo or slider passes the wheel on."""

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Wheel and isinstance(obj, QWidget) and not obj.hasFocus():
            event.ignore()
            return True
        return False


class NumberBox(QAbstractSpinBox):
    """A spin box whose text is the value.

    QSpinBox clamps what is typed into its range and rounds to its decimals, so a
    teacher typing 0 for n_train would see it silently become 1, and 0.12345
    would not round-trip.  Here any number can be typed and the validator says
    what is wrong with it; the arrows step within the config's range.  Empty
    text is "unset" and shows the default as placeholder.
    """

    def __init__(self, integer: bool, step: float, bounds: Bound = UNBOUNDED, parent=None):
        super().__init__(parent)
        self.integer = integer
        self.step = step
        self.bounds = whole_bounds(bounds) if integer else bounds
        self.default: float | int | None = None
        self.setAccelerated(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumWidth(60)

    def validate(self, text: str, pos: int):
        ok = all(c in "0123456789+-.eE " for c in text)
        return (QValidator.State.Acceptable if ok else QValidator.State.Invalid, text, pos)

    def number(self) -> float | int | None:
        """The typed value, None when empty; raises ValueError for text that is no number."""
        text = self.lineEdit().text().strip()
        if not text:
            return None
        if self.integer:
            try:
                return int(text)
            except ValueError:
                return float(text)      # "1e3" is 1000; "1.5" lets the validator say "must be an integer"
        return float(text)

    def set_number(self, v) -> None:
        self.lineEdit().setText(format_number(v, self.integer))

    def set_default(self, v) -> None:
        self.default = v
        self.lineEdit().setPlaceholderText(format_hint(v) if v is not None else "")

    def _base(self) -> float:
        try:
            v = self.number()
        except ValueError:
            v = None
        if v is None:
            v = self.default
        if v is None:
            v = self.bounds.low if self.bounds.low is not None else 0
        return v

    def _stepped(self, steps: int) -> float | None:
        """The value ``steps`` clicks away, kept in range; None where the arrows must stop.

        Called by Qt while painting, so it never raises: a huge or infinite value just stops the arrows.
        """
        try:
            base = self._base()
            if not math.isfinite(base):
                return None
            new = base + steps * self.step
            new = int(round(new)) if self.integer else float(f"{new:.12g}")
        except (OverflowError, ValueError, TypeError):
            return None
        # The arrows stop at the config's range: a closed edge is reached exactly, an open one
        # (dropout's 1 in [0, 1)) never.  From outside the range they still step toward it.
        b = self.bounds
        if steps > 0 and b.high is not None and (new > b.high or (b.high_open and new >= b.high)):
            new = None if b.high_open else (int(b.high) if self.integer else b.high)
        elif steps < 0 and b.low is not None and (new < b.low or (b.low_open and new <= b.low)):
            new = None if b.low_open else (int(b.low) if self.integer else b.low)
        if new is None or (new - base) * steps <= 0:
            return None
        return new

    def stepBy(self, steps: int) -> None:
        new = self._stepped(steps)
        if new is not None:
            self.set_number(new)

    def stepEnabled(self):
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        try:
            base = self._base()
            for steps, flag in ((1, QAbstractSpinBox.StepEnabledFlag.StepUpEnabled),
                                (-1, QAbstractSpinBox.StepEnabledFlag.StepDownEnabled)):
                new = self._stepped(steps)
                if new is not None and new != base:
                    flags |= flag
        except Exception:  # noqa: BLE001 - an exception escaping a Qt virtual crashes the process
            pass
        return flags


class FieldFrame(QFrame):
    """Holds a field's editor; draws a red outline around it while the field is invalid."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.invalid = False
        self.setContentsMargins(1, 1, 1, 1)

    def set_invalid(self, invalid: bool) -> None:
        if invalid != self.invalid:
            self.invalid = invalid
            self.update()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.invalid:
            painter = QPainter(self)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(QColor(ERROR), 1.5))
            painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.75, 0.75, -0.75, -0.75), 3, 3)
            painter.end()


def caption_label(text: str = "") -> QLabel:
    """Small, dim text under a field (a formula, a derived number): palette colours only."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    font = label.font()
    font.setPointSizeF(max(6.0, font.pointSizeF() * 0.9))
    label.setFont(font)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


# -- fields ---------------------------------------------------------------------------------------

class Field:
    """One experiment key in the form: its editor, a red message under it, and what it holds.

    ``good`` is the field's last value that passed its own checks; while the
    field is inactive (hidden because the chosen optimizer does not take it,
    or disabled) the experiment takes ``good``, so a half-typed value in a
    hidden field can never block a run, and a hidden key round-trips.
    """

    drop_when_inactive = False   # contribute None instead of ``good`` while inactive (data.classes)
    hideable = False             # set by the form for fields the choices can hide or disable

    def __init__(self, key: str, editor: QWidget):
        self.key = key
        self.editor = editor
        self.frame = FieldFrame()
        inner = QHBoxLayout(self.frame)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(editor)
        self.caption: QLabel | None = None
        self.message = error_label()
        self.container = QWidget()
        self._column = QVBoxLayout(self.container)
        self._column.setContentsMargins(0, 0, 0, 0)
        self._column.setSpacing(2)
        self._column.addWidget(self.frame)
        self._column.addWidget(self.message)
        self.label: QLabel | None = None
        self.section: Section | None = None
        self.active = True
        self.shown = True
        self.good: Any = None
        self._quiet = 0
        self.on_edit: Callable[[Field], None] = lambda field: None
        tip = tooltip_for(key)
        self.container.setToolTip(tip)

    # what subclasses provide
    def read(self) -> Any:
        raise NotImplementedError

    def write(self, value: Any) -> None:
        raise NotImplementedError

    def set_default(self, value: Any) -> None:
        """Show what an unset optional key will be (placeholder text or an unticked box)."""

    def displayed(self) -> Any:
        """What the field shows: the typed value, or the default it displays while unset."""
        return self.read()

    def keys(self) -> tuple[str, ...]:
        return (self.key,)

    def values(self) -> dict[str, Any]:
        """key path -> value for the raw experiment dict; raises Unreadable."""
        if not self.active:
            return {self.key: None if self.drop_when_inactive else self.good}
        return {self.key: self.read()}

    # plumbing
    @contextmanager
    def quietly(self):
        """Programmatic updates: no edit is reported."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    def load(self, value: Any) -> None:
        with self.quietly():
            self.write(value)
        self.good = value

    def edited(self, *_args) -> None:
        if self._quiet:
            return
        if self.hideable:
            try:
                value = self.read()
                if _passes_own_checks(self.key, value):
                    self.good = value
            except Unreadable:
                pass
        self.on_edit(self)

    def add_caption(self) -> QLabel:
        self.caption = caption_label()
        self._column.insertWidget(1, self.caption)
        return self.caption

    def show_error(self, message: str | None) -> None:
        self.frame.set_invalid(message is not None)
        self.message.setText(message or "")
        self.message.setVisible(message is not None)

    def focus_widget(self) -> QWidget:
        return self.editor


def _passes_own_checks(key: str, value: Any) -> bool:
    """Whether ``value`` passes the checks of ``key`` alone (the other keys at their defaults)."""
    section, _, name = key.rpartition(".")
    raw = {section: {name: value}} if section else {name: value}
    try:
        parse_experiment(raw)
    except ExperimentError as err:
        return not err.path.startswith(key)
    except Exception:       # noqa: BLE001 - a value the validator chokes on is no good value
        return False
    return True


class TextField(Field):
    """A free string (the run's name)."""

    def __init__(self, key: str):
        super().__init__(key, QLineEdit())
        self.editor.textChanged.connect(self.edited)

    def read(self):
        return self.editor.text()

    def write(self, value):
        self.editor.setText("" if value is None else str(value))


class PathField(Field):
    """A folder: a line edit and a Browse… button; empty is None."""

    def __init__(self, key: str):
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("folder with the IDX files")
        self.browse = QToolButton()
        self.browse.setText("Browse…")
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse)
        super().__init__(key, box)
        self.edit.textChanged.connect(self.edited)
        self.browse.clicked.connect(self._pick)

    def _pick(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.container, "Folder holding the IDX files",
                                                  self.edit.text())
        if folder:
            self.edit.setText(folder)

    def read(self):
        return self.edit.text() or None

    def write(self, value):
        self.edit.setText(value or "")

    def focus_widget(self):
        return self.edit


class NumberField(Field):
    """An int or float in a :class:`NumberBox`; ``optional`` fields read None when empty."""

    def __init__(self, key: str, integer: bool, optional: bool = False):
        self.box = NumberBox(integer, STEPS.get(key, 1 if integer else 0.1), bounds_of(key))
        super().__init__(key, self.box)
        self.optional = optional
        self.box.lineEdit().textChanged.connect(self.edited)
        self.box.setToolTip(self.container.toolTip())

    def read(self):
        try:
            value = self.box.number()
        except ValueError:
            raise Unreadable("write a whole number" if self.box.integer else "write a number") from None
        if value is None and not self.optional:
            raise Unreadable("write a whole number" if self.box.integer else "write a number")
        return value

    def write(self, value):
        self.box.set_number(value)

    def set_default(self, value):
        self.box.set_default(value)

    def displayed(self):
        value = self.read()
        return self.box.default if value is None else value


class ListField(Field):
    """Layer widths as "16, 16"."""

    def __init__(self, key: str, example: str):
        super().__init__(key, QLineEdit())
        self.example = example
        self.editor.setPlaceholderText(example)
        self.editor.textChanged.connect(self.edited)

    def read(self):
        try:
            return [int(part) for part in self.editor.text().split(",")]
        except ValueError:
            noun = "widths" if self.key == "model.hidden" else "channel counts"
            raise Unreadable(f"write {noun} separated by commas, e.g. {self.example}") from None

    def write(self, value):
        self.editor.setText(", ".join(str(v) for v in value))

    def displayed(self):
        return tuple(self.read())


class ChoiceField(Field):
    """A combo of registry names (or config choices); each item's tooltip is its description."""

    def __init__(self, key: str, names: list[str], descriptions: dict[str, str] | None = None):
        combo = QComboBox()
        combo.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)
        self.descriptions = descriptions or {}
        for name in names:
            combo.addItem(name)
            if name in self.descriptions:
                combo.setItemData(combo.count() - 1, self.descriptions[name], Qt.ItemDataRole.ToolTipRole)
        super().__init__(key, combo)
        combo.currentIndexChanged.connect(self._index_changed)
        self._retip()

    def _index_changed(self, _index):
        self._retip()
        self.edited()

    def _retip(self):
        tip = tooltip_for(self.key)
        description = self.descriptions.get(self.editor.currentText())
        if description:
            tip += f"<p><b>{html.escape(self.editor.currentText())}</b>: {html.escape(description)}</p>"
        self.editor.setToolTip(tip)

    def read(self):
        return self.editor.currentText()

    def write(self, value):
        self.editor.setCurrentIndex(self.editor.findText(str(value)))


class CheckField(Field):
    """A bool; an optional one reads None (the optimizer's own) until the teacher clicks it."""

    def __init__(self, key: str, text: str, optional: bool = False):
        super().__init__(key, QCheckBox(text))
        self.optional = optional
        self.explicit = not optional
        self.default = False
        self.editor.toggled.connect(self._toggled)

    def _toggled(self, _checked):
        if not self._quiet:
            self.explicit = True
        self.edited()

    def read(self):
        return self.editor.isChecked() if self.explicit else None

    def write(self, value):
        self.explicit = value is not None or not self.optional
        self.editor.setChecked(bool(self.default if value is None else value))

    def set_default(self, value):
        self.default = bool(value)
        if not self.explicit:
            with self.quietly():
                self.editor.setChecked(self.default)

    def displayed(self):
        return self.editor.isChecked()


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


# -- sections -------------------------------------------------------------------------------------

class Section(QWidget):
    """A bold title with a fold arrow, a rule under it, and a QFormLayout of fields."""

    toggled = Signal(bool)

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self._expanded = True
        self.header = QToolButton()
        self.header.setText(title)
        self.header.setAutoRaise(True)      # flat in both states: a pressed look would read as a button
        self.header.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the first field, not a title, takes the focus
        self.header.setArrowType(Qt.ArrowType.DownArrow)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.header.setToolTip(f"Show or hide the {title.lower()} settings")
        font = self.header.font()
        font.setBold(True)
        self.header.setFont(font)
        rule = QFrame()
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setFrameShadow(QFrame.Shadow.Sunken)
        self.body = QWidget()
        self.form = QFormLayout(self.body)
        self.form.setContentsMargins(6, 2, 2, 6)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.form.setVerticalSpacing(4)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.header)
        column.addWidget(rule)
        column.addWidget(self.body)
        self.header.clicked.connect(lambda: self.set_expanded(not self._expanded))

    @property
    def expanded(self) -> bool:
        return self._expanded

    def set_expanded(self, on: bool) -> None:
        changed = on != self._expanded
        self._expanded = on
        self.header.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.body.setVisible(on)
        if changed:
            self.toggled.emit(on)

    def add(self, label: str, field: Field) -> Field:
        field.label = QLabel(label)
        field.label.setToolTip(field.container.toolTip())
        field.label.setBuddy(field.focus_widget())
        field.section = self
        self.form.addRow(field.label, field.container)
        return field


# -- the axis of the preview ----------------------------------------------------------------------

class RateAxis(pg.AxisItem):
    """Tick labels in scientific notation: rates span decades."""

    def tickStrings(self, values, scale, spacing):
        return [f"{v * scale:.0e}" if v else "0" for v in values]


# -- the form -------------------------------------------------------------------------------------

def _descriptions(registry: str) -> dict[str, str]:
    return {name: info.description for name, info in REGISTRIES[registry].items()}


class ExperimentForm(QWidget):
    """Every key of an experiment, in seven sections; valid or not, it says why.

    ``experiment()`` is the checked :class:`Experiment` the form describes, or
    None while it is invalid; ``error()`` is then the validator's one-line
    message, shown in red under the field it names.
    """

    changed = Signal()
    validity_changed = Signal(bool)

    SECTION_TITLES = ("Data", "Model", "Initialization", "Optimizer", "Schedule", "Regularization", "Training")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._fields: dict[str, Field] = {}
        self._exp: Experiment | None = None
        self._error: str | None = None
        self._error_key: str | None = None
        self._valid = True
        self._loading = False
        self._preview_key: tuple | None = None
        self._wheel_guard = WheelGuard(self)

        self.banner = error_label()
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.banner.linkActivated.connect(self.reveal)

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(4, 4, 4, 4)
        column.setSpacing(6)
        self.sections = {title: Section(title) for title in self.SECTION_TITLES}
        for section in self.sections.values():
            column.addWidget(section)
            section.toggled.connect(lambda _on: self._show_error(self._error_key, self._error))
        column.addStretch(1)
        self._build_data()
        self._build_model()
        self._build_init()
        self._build_optimizer()
        self._build_schedule()
        self._build_regularization()
        self._build_training()

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        outer.addWidget(self.banner)
        outer.addWidget(self.scroll, 1)

        # One label column for all seven sections, so the fields line up down the form.
        labels = [f.label for f in self._unique_fields()]
        width = max(label.sizeHint().width() for label in labels)
        for label in labels:
            label.setMinimumWidth(width)
        for field in self._unique_fields():
            field.on_edit = self._field_edited
            for w in field.container.findChildren(QWidget):
                if isinstance(w, (QAbstractSpinBox, QComboBox, QSlider)):
                    w.installEventFilter(self._wheel_guard)

        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self._draw_preview)
        self._apply_palette()
        self._fill(Experiment())
        self._validate()

    # -- building ---------------------------------------------------------------------------------

    def _add(self, section: str, label: str, field: Field) -> Field:
        self.sections[section].add(label, field)
        for key in field.keys():
            self._fields[key] = field
        return field

    def _choice(self, key: str, registry: str | None = None) -> ChoiceField:
        if registry:
            return ChoiceField(key, list(REGISTRIES[registry]), _descriptions(registry))
        return ChoiceField(key, list(META[key]["choices"]))

    def _build_data(self):
        s = "Data"
        self._add(s, "Name", TextField("name"))
        self._add(s, "Seed", NumberField("seed", integer=True))
        self._add(s, "Dataset", self._choice("data.dataset", "datasets"))
        self._add(s, "Training set", NumberField("data.n_train", integer=True))
        self._add(s, "Validation set", NumberField("data.n_val", integer=True))
        self._add(s, "Input noise", NumberField("data.noise", integer=False))
        self._add(s, "Label noise", NumberField("data.label_noise", integer=False))
        classes = self._add(s, "Classes", NumberField("data.classes", integer=True, optional=True))
        classes.drop_when_inactive = True
        self._add(s, "Folder", PathField("data.path"))

    def _build_model(self):
        s = "Model"
        self._add(s, "Network", self._choice("model.kind", "models"))
        self._add(s, "Hidden layers", ListField("model.hidden", "16, 16"))
        self._add(s, "Conv channels", ListField("model.channels", "8, 16"))
        self._add(s, "Activation", self._choice("model.activation", "activations"))

    def _build_init(self):
        s = "Initialization"
        self._add(s, "Scheme", self._choice("model.init", "inits")).add_caption()
        self._add(s, "Std of W", NumberField("model.init_std", integer=False))

    def _build_optimizer(self):
        s = "Optimizer"
        self._add(s, "Optimizer", self._choice("optimizer.name", "optimizers")).add_caption()
        self._add(s, "Learning rate", RateField("optimizer.lr"))
        self._add(s, "Momentum", NumberField("optimizer.momentum", integer=False, optional=True))
        self._add(s, "Nesterov", CheckField("optimizer.nesterov", "look ahead", optional=True))
        self._add(s, "Alpha", NumberField("optimizer.alpha", integer=False, optional=True))
        self._add(s, "Betas", PairField("optimizer.betas"))
        self._add(s, "Epsilon", NumberField("optimizer.eps", integer=False, optional=True))
        # eps is a small float: typed in scientific notation, no arrows
        eps = self._fields["optimizer.eps"].box
        eps.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)

    def _build_schedule(self):
        s = "Schedule"
        self._add(s, "Schedule", self._choice("schedule.name", "schedules")).add_caption()
        self._add(s, "Warm-up steps", NumberField("schedule.warmup_steps", integer=True))
        self._add(s, "Step size", NumberField("schedule.step_size", integer=True, optional=True))
        self._add(s, "Gamma", NumberField("schedule.gamma", integer=False, optional=True))
        self._add(s, "Minimum lr", NumberField("schedule.eta_min", integer=False, optional=True))
        self._fields["schedule.eta_min"].box.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
        self._add(s, "Peak lr", RateField("schedule.max_lr", optional=True))
        self._add(s, "Rising part", NumberField("schedule.pct_start", integer=False, optional=True))
        self._add(s, "Cycle momentum", CheckField("schedule.cycle_momentum", "on", optional=True))

        self.preview = pg.PlotWidget(axisItems={"left": RateAxis("left")})
        self.preview.setFixedHeight(130)
        self.preview.setMinimumWidth(120)
        self.preview.setMenuEnabled(False)
        self.preview.setMouseEnabled(False, False)
        self.preview.hideButtons()
        self.preview.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.preview.setToolTip("The learning rate at every step, as training will use it")
        item = self.preview.getPlotItem()
        item.disableAutoRange()
        item.setYRange(0, 1.08, padding=0)    # until the first curve: keeps the top tick label inside
        item.getAxis("left").setWidth(42)
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.8))
        for name in ("left", "bottom"):
            item.getAxis(name).setStyle(tickFont=small)
        self.preview_curve = item.plot()
        self.preview_note = caption_label()
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 4, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.preview)
        column.addWidget(self.preview_note)
        self.sections[s].form.addRow(box)

    def _build_regularization(self):
        s = "Regularization"
        self._add(s, "Dropout", NumberField("model.dropout", integer=False))
        self._add(s, "Weight decay", NumberField("optimizer.weight_decay", integer=False, optional=True))
        self._add(s, "Normalization", self._choice("model.norm", "norms"))
        self._add(s, "Shift images", NumberField("augment.shift", integer=True))
        self._add(s, "Rotate images", NumberField("augment.rotate", integer=False))
        self._add(s, "Input jitter", NumberField("augment.jitter", integer=False))
        self._add(s, "Mixup alpha", NumberField("augment.mixup", integer=False))

    def _build_training(self):
        s = "Training"
        self._add(s, "Length", LengthField()).add_caption()
        self._add(s, "Batch size", NumberField("train.batch_size", integer=True))
        self._add(s, "Gradient clip", ToggledNumberField("train.grad_clip", "at norm", 1.0))
        self._add(s, "Precision", self._choice("train.precision"))
        self._add(s, "Evaluate every", NumberField("train.eval_every", integer=True))
        self._add(s, "Histograms every", NumberField("train.histogram_every", integer=True))
        self._add(s, "Divergence", ToggledNumberField("train.divergence_factor", "loss ×", 1000.0))

    def _unique_fields(self) -> list[Field]:
        return list(dict.fromkeys(self._fields.values()))

    # -- public API -------------------------------------------------------------------------------

    def experiment(self) -> Experiment | None:
        """The parsed, checked experiment; None while the form is invalid."""
        return self._exp

    def set_experiment(self, exp: Experiment) -> None:
        """Fill every field from ``exp`` (hidden keys included) and emit ``changed`` once."""
        self._fill(exp)
        self._validate()
        self.changed.emit()

    def error(self) -> str | None:
        """The current one-line problem, e.g. "optimizer.lr: must be > 0, got -0.1"."""
        return self._error

    def is_valid(self) -> bool:
        return self._exp is not None

    # Helpers for the window and the tests: where each key lives and what it shows.

    def field(self, key: str) -> Field:
        """The field editing ``key`` ("optimizer.lr"); list items ("model.hidden[1]") map to their list."""
        return self._fields[re.sub(r"\[\d+\]$", "", key)]

    def displayed_value(self, key: str) -> Any:
        """What the form shows for ``key``: the typed value, or the default it displays while unset."""
        field = self.field(key)
        value = field.displayed()
        if isinstance(field, LengthField):
            return value[0] if key == "train.steps" else value[1]
        return value

    def is_shown(self, key: str) -> bool:
        """Whether the row of ``key`` is part of the form for the current choices."""
        return self.field(key).shown

    def reveal(self, key: str) -> None:
        """Expand the section of ``key``, scroll to the field and give it focus."""
        try:
            field = self.field(key)
        except KeyError:
            return
        if field.section is not None:
            field.section.set_expanded(True)
        self.scroll.ensureWidgetVisible(field.container)
        field.focus_widget().setFocus()

    # -- filling ----------------------------------------------------------------------------------

    def _fill(self, exp: Experiment) -> None:
        self._loading = True
        try:
            values = _flatten(exp)
            for field in self._unique_fields():
                if isinstance(field, LengthField):
                    field.load((values["train.steps"], values["train.epochs"]))
                else:
                    field.load(values[field.key])
            self._apply_choices()
        finally:
            self._loading = False

    # -- reacting ---------------------------------------------------------------------------------

    def _field_edited(self, field: Field) -> None:
        if self._loading:
            return
        if isinstance(field, ChoiceField):
            self._apply_choices()
        self._validate()
        self.changed.emit()

    def _set_shown(self, key: str, shown: bool) -> None:
        field = self._fields[key]
        field.hideable = True
        field.shown = field.active = shown
        field.section.form.setRowVisible(field.container, shown)

    def _apply_choices(self) -> None:
        """Show the fields the chosen dataset, model, init, optimizer and schedule take, with their defaults."""
        dataset = DATASETS.get(self._fields["data.dataset"].read())
        if dataset is not None:
            self._set_shown("data.classes", dataset.variable_classes)
            self._set_shown("data.path", dataset.needs_path)
            self._fields["data.classes"].set_default(dataset.default_classes)
            noise = self._fields["data.noise"]
            noise.hideable = True
            noise.active = dataset.kind != IMAGE
            noise.editor.setEnabled(noise.active)
            for key in ("augment.shift", "augment.rotate"):
                # Pixels to move: images only.  A value already set stays editable, so the
                # validator's message under it ("need image data") can be acted on.
                field = self._fields[key]
                try:
                    held = bool(field.read())
                except Unreadable:
                    held = True
                field.editor.setEnabled(dataset.kind == IMAGE or held)
        model = MODELS.get(self._fields["model.kind"].read())
        if model is not None:
            self._set_shown("model.channels", model.name == "cnn")
        init = INITS.get(self._fields["model.init"].read())
        if init is not None:
            self._set_shown("model.init_std", init.uses_std)
            self._fields["model.init"].caption.setText(init.variance)
        opt = OPTIMIZERS.get(self._fields["optimizer.name"].read())
        if opt is not None:
            for key in OPTIMIZER_KEYS:
                self._set_shown(f"optimizer.{key}", key in opt.takes)
            for key, value in opt.defaults.items():
                if key in OPTIMIZER_KEYS:   # not lr: it is never unset, the engine's default is 0.01 for all
                    self._fields[f"optimizer.{key}"].set_default(value)
            self._fields["schedule.cycle_momentum"].set_default(opt.has_momentum)
            self._fields["optimizer.name"].caption.setText("\n".join(re.split(r"\s*;\s*", opt.formula)))
            self._fields["optimizer.name"].caption.setVisible(bool(opt.formula))
            lr_tip = tooltip_for("optimizer.lr")
            if "lr" in opt.defaults:
                lr_tip += f"<p>torch's own default for {opt.name}: {format_rate(opt.defaults['lr'])}.</p>"
            for w in (self._fields["optimizer.lr"].edit, self._fields["optimizer.lr"].slider):
                w.setToolTip(lr_tip)
        sched = SCHEDULES.get(self._fields["schedule.name"].read())
        if sched is not None:
            for key in SCHEDULE_KEYS:
                self._set_shown(f"schedule.{key}", key in sched.takes)
            self._fields["schedule.name"].caption.setText(sched.formula)
            self._fields["schedule.name"].caption.setVisible(bool(sched.formula))

    def _collect(self) -> dict:
        """The raw experiment dict, as an experiment file would hold it; raises (key, Unreadable)."""
        raw: dict[str, Any] = {section: {} for section in SECTIONS}
        for field in self._unique_fields():
            try:
                values = field.values()
            except Unreadable as err:
                raise ExperimentError(err.key or field.key, str(err)) from None
            for key, value in values.items():
                section, _, name = key.rpartition(".")
                (raw[section] if section else raw)[name] = value
        return raw

    def _validate(self) -> None:
        exp, key, message = None, None, None
        try:
            exp = parse_experiment(self._collect())
        except ExperimentError as err:
            key, message = err.path, str(err)
        except Exception as err:  # noqa: BLE001 - the form must never raise on what a teacher types
            key, message = "", f"cannot read the form: {err}"
        for field in self._unique_fields():
            field.show_error(None)
        self._exp, self._error = exp, message
        self._error_key = key
        self._show_error(key, message)
        if exp is not None:
            try:
                self._apply_resolved(exp)
            except Exception:  # noqa: BLE001 - placeholders are a courtesy; a valid run must not fail on them
                pass
        self._apply_live_hints()
        self._schedule_preview()
        valid = exp is not None
        if valid != self._valid:
            self._valid = valid
            self.validity_changed.emit(valid)

    def _show_error(self, key: str | None, message: str | None) -> None:
        if message is None:
            self.banner.hide()
            return
        field = None
        if key:
            try:
                field = self.field(key)
            except KeyError:
                field = None
        words = message[len(key) + 2:] if key and message.startswith(f"{key}: ") else message
        if field is not None:
            field.show_error(words)
        if field is not None and field.shown and field.section.expanded:
            self.banner.hide()
        else:
            # The field is hidden or folded away: say it at the top, with a link to it.
            if field is not None:
                text = f'<a href="{html.escape(field.key)}">{html.escape(key)}</a>: {html.escape(words)}'
            else:
                text = html.escape(message)
            self.banner.setText(text)
            self.banner.show()

    def _apply_resolved(self, exp: Experiment) -> None:
        """Defaults that depend on the whole experiment: the schedule's, as resolve() fills them."""
        run = resolve(exp)
        for key in SCHEDULE_KEYS:
            self._fields[f"schedule.{key}"].set_default(getattr(run.schedule, key))

    def _apply_live_hints(self) -> None:
        """Hints that should not wait for the whole form to be valid: the peak rate and the step count."""
        try:
            lr = self._fields["optimizer.lr"].read()
            if isinstance(lr, float) and math.isfinite(lr) and lr > 0:
                self._fields["schedule.max_lr"].set_default(lr)
        except Unreadable:
            pass
        length: LengthField = self._fields["train.steps"]
        try:
            n_train = self._fields["data.n_train"].read()
            batch = self._fields["train.batch_size"].read()
            steps, epochs = length.read()
            per_epoch = steps_per_epoch(int(n_train), int(batch))
            total = epochs * per_epoch if epochs is not None else (steps or DEFAULT_STEPS)
            if n_train < 1 or batch < 1 or total < 1:
                raise ValueError
            length.steps_per_epoch = per_epoch
            length.caption.setText(f"{int(total):,} steps in all, {per_epoch:,} per epoch")
            length.caption.show()
        except (Unreadable, ValueError, TypeError, OverflowError):
            length.caption.hide()

    # -- the schedule preview ---------------------------------------------------------------------

    def _schedule_preview(self) -> None:
        """Throttle: the first change starts the timer, later ones within 100 ms ride along."""
        if not self._preview_timer.isActive():
            self._preview_timer.start()

    def _draw_preview(self) -> None:
        exp = self._exp
        if exp is None:
            self.preview_note.setText("The preview waits for a valid form.")
            return
        total = exp.total_steps()
        key = (exp.schedule, exp.optimizer.lr, total)
        if key == self._preview_key:
            return
        self._preview_key = key
        if total > PREVIEW_MAX_STEPS:
            self.preview_curve.setData([], [])
            self.preview_note.setText(f"Preview skipped above {PREVIEW_MAX_STEPS:,} steps "
                                      f"({total:,} planned).")
            return
        try:
            rates = lr_curve(exp.schedule, exp.optimizer.lr, total)
        except Exception as err:  # noqa: BLE001 - a preview must not take the form down
            self.preview_curve.setData([], [])
            self.preview_note.setText(f"No preview: {err}")
            return
        self.preview_curve.setData(np.arange(total), rates)
        item = self.preview.getPlotItem()
        item.setXRange(0, max(1, total - 1), padding=0.02)
        item.setYRange(0, float(rates.max()) * 1.08 or 1.0, padding=0)
        self.preview_note.setText(f"lr starts {rates[0]:.2e}, peaks {rates.max():.2e}, "
                                  f"ends {rates[-1]:.2e}")

    def _apply_palette(self) -> None:
        """The preview follows the palette: light or dark, no hard-coded white or black."""
        pal = self.palette()
        self.preview.setBackground(pal.color(QPalette.ColorRole.Base))
        text = pal.color(QPalette.ColorRole.Text)
        item = self.preview.getPlotItem()
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(text)
            axis.setTextPen(text)
        self.preview_curve.setPen(pg.mkPen(pal.color(QPalette.ColorRole.Highlight), width=2))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)


def _flatten(exp: Experiment) -> dict[str, Any]:
    """key path -> value of every key of ``exp``."""
    out = {}
    for f in dataclasses.fields(Experiment):
        value = getattr(exp, f.name)
        if f.name in SECTIONS:
            for sub in dataclasses.fields(value):
                out[f"{f.name}.{sub.name}"] = getattr(value, sub.name)
        else:
            out[f.name] = value
    return out
