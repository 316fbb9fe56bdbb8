"""The trajectories lab's results table: one row per optimizer, its numbers at the shown step.

Columns: the optimizer as written (``sgd:lr=0.001,momentum=0.9``, in its
path's colour), the loss ``f(x, y)`` and the distance to the nearest minimum
at the shown step, and the status: running, done, or stopped (left the box,
overflowed) once the shown step has reached the stop, in the error colour.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from engine.labs.surfaces import distance_to_minimum, surface
from engine.labs.trajectories import OptimizerSpec, Trajectory
from engine.status import PathStatus, RunStatus
from gui.style.palette import ERROR

HEADERS = ("Optimizer", "Loss", "Distance", "Status")


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
        self.setToolTip("One row per optimizer, in its path's colour: the loss and the distance to the "
                        "nearest minimum at the shown step, and whether the path was stopped (left the "
                        "map or overflowed). Select a row to edit its hyperparameters.")

    def show_row(self, index: int, cells: RowCells, color: QColor) -> None:
        for col, text in enumerate(cells.texts):
            item = self.item(index, col)
            if item is None:
                item = QTableWidgetItem()
                self.setItem(index, col, item)
            if item.text() != text:
                item.setText(text)
            item.setToolTip(cells.tips[col])
            if col == 0:
                item.setData(Qt.ItemDataRole.DecorationRole, color)
            if col == 3:
                item.setForeground(QColor(ERROR) if cells.alarm else self.palette().text().color())

    def selected_row(self) -> int:
        rows = self.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def text(self, row: int, column: int) -> str:
        item = self.item(row, column)
        return item.text() if item else ""
