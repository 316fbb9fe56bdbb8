"""The trajectories lab's results table: one row per optimizer, its numbers at the shown step.

Columns: the optimizer as written (``sgd:lr=0.001,momentum=0.9``, in its
path's colour), the loss ``f(x, y)`` and the distance to the nearest minimum
at the shown step, and the status: running, done, or stopped (left the box,
overflowed) once the shown step has reached the stop, in the error colour.

A long optimizer wraps instead of being cut (``sgd:lr=0.001,momentum=0.9`` is
wider than its column on a 1024x768 projector): a zero-width space after each
``:``, ``,`` and ``=`` is where a line may break (Unicode gives no break
opportunity after ``,`` between letters), rows are as high as their wrapped
text, and the table asks for its widest unbreakable piece
(:meth:`PathTable.minimumSizeHint`) so the column never goes narrower.  What is
read or copied from the table is the text as typed, without those spaces.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
)

from engine.labs.surfaces import distance_to_minimum, surface
from engine.labs.trajectories import OptimizerSpec, Trajectory
from engine.status import PathStatus, RunStatus
from gui.style.palette import ERROR

HEADERS = ("Optimizer", "Loss", "Distance", "Status")
BREAK = "\u200b"            # zero-width space: a line may break here, nothing is drawn
BREAK_AFTER = ":,="


def breakable(text: str) -> str:
    """``text`` with a zero-width space after each of :data:`BREAK_AFTER`, where a wrapped line may end."""
    for ch in BREAK_AFTER:
        text = text.replace(ch, ch + BREAK)
    return text


def unbroken(text: str) -> str:
    """The text as typed: :func:`breakable`'s zero-width spaces taken out."""
    return text.replace(BREAK, "")


@dataclass(frozen=True)
class RowCells:
    """What one row shows: a text and a tooltip per column; ``alarm``: the status in the error colour."""
    texts: tuple[str, str, str, str]
    tips: tuple[str, str, str, str]
    alarm: bool


def row_cells(name: str, spec: OptimizerSpec | None, error: str | None, error_key: str | None,
              path: Trajectory | None, k: int, step: int, surface_name: str) -> RowCells:
    """The row of optimizer ``name`` (checked ``spec``, or ``error`` about ``error_key``) with ``path``
    shown after ``k`` of its steps, at the lab's shown ``step``."""
    label = spec.text if spec is not None else name + " (invalid)"
    cells = [label, "", "", ""]
    stopped = path is not None and path.stopped and step >= path.stop_step
    if error:
        cells[3] = f"invalid {error_key or 'setting'}"
    elif path is None:
        cells[3] = "computing…"
    else:
        cells[1] = f"{path.loss[k]:.4g}"
        if surface(surface_name).has_minimum:
            cells[2] = f"{float(distance_to_minimum(surface_name, path.x[k], path.y[k])):.3g}"
        else:
            cells[2] = "n/a"
        if stopped:
            cells[3] = "✕ left box" if path.status == PathStatus.LEFT_BOX else "✕ overflow"    # the step: in the tooltip
        elif path.status == PathStatus.FINISHED and step >= path.steps:
            cells[3] = "done"
        else:
            cells[3] = RunStatus.RUNNING
    tips = (spec.text if spec else (error or ""), "Loss f(x, y) at the shown step.",
            "Distance to the nearest minimum (n/a: this surface has none).",
            path.message if path is not None else (error or ""))
    return RowCells((cells[0], cells[1], cells[2], cells[3]), tips, bool(error) or stopped)


class PathTable(QTableWidget):
    """The table; rows are selected whole, one at a time (the selected one is the one edited)."""

    def __init__(self, parent=None):
        super().__init__(0, len(HEADERS) + 1, parent)
        self.setHorizontalHeaderLabels([*HEADERS, ""])
        self.setColumnHidden(len(HEADERS), True)
        self.verticalHeader().hide()
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.setWordWrap(True)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setToolTip("One row per optimizer, in its path's colour: the loss and the distance to the "
                        "nearest minimum at the shown step, and whether the path was stopped (left the "
                        "map or overflowed). Select a row to edit its hyperparameters.")

    def show_row(self, index: int, cells: RowCells, color: QColor) -> None:
        """Fill row ``index``; a changed optimizer text asks the layout again (it may need more width)."""
        for col, text in enumerate(cells.texts):
            item = self.item(index, col)
            if item is None:
                item = QTableWidgetItem()
                self.setItem(index, col, item)
            if col == 0:
                text = breakable(text)
            if item.text() != text:
                item.setText(text)
                if col == 0:
                    self.updateGeometry()
            item.setToolTip(cells.tips[col])
            if col == 0:
                item.setData(Qt.ItemDataRole.DecorationRole, color)
            if col == 3:
                item.setForeground(QColor(ERROR) if cells.alarm else self.palette().text().color())

    def changeEvent(self, event) -> None:   # noqa: N802 (Qt's name)
        if event.type() == event.Type.FontChange:
            self.updateGeometry()           # larger type (presenter mode): a wider minimum
        super().changeEvent(event)

    def minimumSizeHint(self) -> QSize:   # noqa: N802 (Qt's name)
        """As narrow as the numbers' columns, plus the optimizer column wrapped to its widest unbreakable piece
        (each row laid out by the table's own delegate at one pixel's width), plus the frame and scroll bar."""
        hint = super().minimumSizeHint()
        header = self.horizontalHeader()
        width = header.sectionSizeHint(0)
        for row in range(self.rowCount()):
            index = self.model().index(row, 0)
            option = QStyleOptionViewItem()
            self.initViewItemOption(option)
            option.rect.setRect(0, 0, 1, self.rowHeight(row))
            width = max(width, self.itemDelegateForIndex(index).sizeHint(option, index).width())
        width += sum(max(header.sectionSize(c), self.sizeHintForColumn(c)) for c in (1, 2, 3))
        width += 2 * self.frameWidth() + self.verticalScrollBar().sizeHint().width()
        return QSize(max(hint.width(), width), hint.height())

    def keyPressEvent(self, event) -> None:   # noqa: N802 (Qt's name)
        """Copy puts the current cell's text as typed on the clipboard (Qt's own copy would keep the breaks)."""
        if event.matches(QKeySequence.StandardKey.Copy) and self.currentItem() is not None:
            QGuiApplication.clipboard().setText(unbroken(self.currentItem().text()))
            event.accept()
            return
        super().keyPressEvent(event)

    def selected_row(self) -> int:
        rows = self.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def text(self, row: int, column: int) -> str:
        """The cell's text as typed (without the line-break points)."""
        item = self.item(row, column)
        return unbroken(item.text()) if item else ""
