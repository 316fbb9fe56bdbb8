"""The small widgets the form is made of: a spin box whose text is the value, the frame that
outlines an invalid field in red, a foldable section, and a filter that lets the wheel scroll the
form past unfocused editors."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QPen, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.config import Bound
from gui.style.palette import ERROR
from gui.training.form.schema import UNBOUNDED, format_hint, format_number, whole_bounds

if TYPE_CHECKING:
    from gui.training.form.fields import Field


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
