"""The trial table: one row per trial of every node, the columns of ``trials.csv``, sorted by any column.

Numbers are sorted as numbers (the cell holds the float, shown to four digits), so sorting by value puts the
best trial first.  A trial's key is kept in its first cell, so the selection survives a redraw and
:meth:`TrialTable.selected` gives the trial, whatever the order.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from engine.labs.search.results import TRIAL_COLUMNS
from gui.labs.search.book import TrialBook, TrialRow
from gui.style.palette import STATUS_COLORS

KEY_ROLE = Qt.ItemDataRole.UserRole + 1


def _cell(value: Any) -> QTableWidgetItem:
    item = QTableWidgetItem()
    if isinstance(value, bool) or value is None or isinstance(value, (str, list)):
        item.setText("" if value is None else str(value))
    elif isinstance(value, float):
        item.setData(Qt.ItemDataRole.DisplayRole, float(f"{value:.4g}"))
        item.setData(Qt.ItemDataRole.ToolTipRole, repr(value))
    else:
        item.setData(Qt.ItemDataRole.DisplayRole, value)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return item


class TrialTable(QTableWidget):
    """``show(book, keys)`` fills it; ``opened`` carries the trial a row was double-clicked for."""

    opened = Signal(object)

    def __init__(self, parent=None):
        super().__init__(0, len(TRIAL_COLUMNS), parent)
        self.keys: tuple[str, ...] = ()
        self._rows: dict[tuple[str, int], TrialRow] = {}
        self.setHorizontalHeaderLabels(list(TRIAL_COLUMNS))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSortingEnabled(True)
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setStretchLastSection(True)
        self.setToolTip("Every trial of the search (every node's). Click a column to sort; double-click a trial "
                        "to train it again in the Training tab and see its curves.")
        self.cellDoubleClicked.connect(self._double_clicked)

    def show_book(self, book: TrialBook, keys: tuple[str, ...]) -> None:
        chosen = self.selected()
        if keys != self.keys:
            self.keys = keys
            self.setColumnCount(len(TRIAL_COLUMNS) + len(keys))
            self.setHorizontalHeaderLabels([*TRIAL_COLUMNS, *keys])
        rows = book.ordered()
        self._rows = {r.key: r for r in rows}
        sorting = self.isSortingEnabled()
        self.setSortingEnabled(False)
        self.setRowCount(len(rows))
        for i, r in enumerate(rows):
            cells = [r.method, r.number, r.state, r.value, r.steps, r.seconds, r.worker,
                     *(r.values.get(k) for k in keys)]
            for j, value in enumerate(cells):
                item = _cell(value)
                if j == 0:
                    item.setData(KEY_ROLE, r.key)
                if j == 2 and r.state in STATUS_COLORS:
                    item.setForeground(QColor(STATUS_COLORS[r.state]))
                if r.message:
                    item.setToolTip(r.message)
                self.setItem(i, j, item)
        self.setSortingEnabled(sorting)
        self._widen()
        if chosen is not None:
            self.select(chosen.key)

    def _widen(self) -> None:
        """Every column at least as wide as its header and its widest cell (large type on a projector cut
        four-digit floats in Qt's default 100 px); never narrower than the user dragged it.  The table
        then scrolls sideways when the columns are wider than the view."""
        header = self.horizontalHeader()
        for col in range(self.columnCount()):
            needed = max(self.sizeHintForColumn(col), header.sectionSizeHint(col))
            if header.sectionSize(col) < needed:
                header.resizeSection(col, needed)

    def select(self, key: tuple[str, int]) -> None:
        for i in range(self.rowCount()):
            item = self.item(i, 0)
            if item is not None and item.data(KEY_ROLE) == tuple(key):
                self.selectRow(i)
                return

    def row_of(self, index: int) -> TrialRow | None:
        item = self.item(index, 0)
        key = item.data(KEY_ROLE) if item is not None else None
        return self._rows.get(tuple(key)) if key is not None else None

    def selected(self) -> TrialRow | None:
        rows = self.selectionModel().selectedRows() if self.selectionModel() else []
        return self.row_of(rows[0].row()) if rows else None

    def column_values(self, column: int) -> list:
        return [self.item(i, column).data(Qt.ItemDataRole.DisplayRole) for i in range(self.rowCount())]

    @Slot(int, int)
    def _double_clicked(self, index: int, _column: int) -> None:
        row = self.row_of(index)
        if row is not None:
            self.opened.emit(row)
