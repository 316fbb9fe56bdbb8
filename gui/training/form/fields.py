"""The fields of the form: one experiment key each, its editor, and the red message under it.

A field reads and writes exactly the value of its key, so filling the form from an
experiment and reading it back gives the same experiment.  These hold one editor each;
:mod:`gui.training.form.compound_fields` holds those made of several (a rate and its
slider, the two betas, a switch and its number, steps or epochs).
"""
from __future__ import annotations

import html
from contextlib import contextmanager
from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.training.form.schema import STEPS, bounds_of, passes_own_checks, tooltip_for
from gui.training.form.widgets import FieldFrame, NumberBox, Section, caption_label
from gui.widgets.common import error_label


class Unreadable(ValueError):
    """Text that cannot even become a value; ``str`` is the message, without the key path.

    ``key`` names the key when a field edits more than one (steps or epochs).
    """

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


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
                if passes_own_checks(self.key, value):
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
