"""The Results tab: one row per run (engine.training.results), sortable, copied as CSV.

A number cell holds its number for sorting (``Qt.EditRole``) and shows it rounded for
reading (losses to 3 significant digits, accuracies as percentages), so sorting by
"val acc" orders 9.5% before 10%; a run not yet evaluated shows an em dash and sorts
first.  "Copy as CSV" puts every row, in the order shown, on the clipboard with the
exact numbers (``engine.training.results.results_csv``), ready for a spreadsheet.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.training.results import RESULT_COLUMNS, RunResult, results_csv

NO_VALUE = "—"
PERCENT = {"train_acc", "val_acc", "best_val_acc"}


class _NumberItem(QTableWidgetItem):
    """A cell that sorts by its number (None first), not by the text shown."""

    def __init__(self, value, text: str):
        super().__init__(text)
        self.value = value
        self.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)

    def __lt__(self, other) -> bool:
        mine, theirs = self.value, getattr(other, "value", None)
        if mine is None or theirs is None:
            return mine is None and theirs is not None
        return mine < theirs


def shown(field: str, value) -> str:
    if value is None:
        return NO_VALUE
    if field in PERCENT:
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:.3g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


class ResultsTable(QWidget):
    """Every run's final and best numbers; ``show_results`` fills it, keeping the user's sort."""

    copied = Signal(str)          # the CSV text put on the clipboard

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.results: list[RunResult] = []
        self.table = QTableWidget(0, len(RESULT_COLUMNS), self)
        self.table.setHorizontalHeaderLabels([heading for _, heading in RESULT_COLUMNS])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSortIndicator(-1, Qt.AscendingOrder)     # the runs list's order until a heading is clicked
        self.table.setSortingEnabled(True)
        header.setSectionResizeMode(QHeaderView.ResizeToContents)   # a name is never cut: the table scrolls
        header.setStretchLastSection(True)
        header.setSortIndicatorShown(True)
        self.table.setToolTip("Click a heading to sort by it. Final numbers are the last full-set evaluation's; "
                              "best val acc is the highest of any evaluation, at the first step that reached it.")
        self.copy_button = QPushButton("Copy as CSV")
        self.copy_button.setToolTip("Every row, in the order shown, with exact numbers: paste into a spreadsheet.")
        self.copy_button.clicked.connect(self.copy_csv)
        QShortcut(QKeySequence.Copy, self.table, self.copy_csv, context=Qt.WidgetShortcut)
        self.note = QLabel("No runs yet.")
        self.note.setWordWrap(True)             # it gives its width to the plots beside it on a projector
        bar = QHBoxLayout()
        bar.addWidget(self.note, 1)
        bar.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)

    def show_results(self, results: list[RunResult]) -> None:
        """One row per result; the sort the user chose is applied again to the new numbers.  Rows equal to
        the ones shown are left as they are (the tab asks at every update batch while it is on screen)."""
        if list(results) == self.results and self.table.rowCount() == len(results):
            return
        self.results = list(results)
        table = self.table
        column, order = table.horizontalHeader().sortIndicatorSection(), table.horizontalHeader().sortIndicatorOrder()
        table.setSortingEnabled(False)            # filling a sorting table moves rows under the loop
        table.setRowCount(len(results))
        for row, result in enumerate(results):
            for col, (field, _) in enumerate(RESULT_COLUMNS):
                value = getattr(result, field)
                item = QTableWidgetItem(shown(field, value)) if field in ("name", "status") \
                    else _NumberItem(value, shown(field, value))
                item.setData(Qt.UserRole, row)
                table.setItem(row, col, item)
        table.setSortingEnabled(True)
        if column >= 0:
            table.sortItems(column, order)
        self.note.setText(f"{len(results)} run{'s' if len(results) != 1 else ''}." if results else "No runs yet.")
        self.copy_button.setEnabled(bool(results))

    def shown_order(self) -> list[RunResult]:
        """The results in the order the table shows them (after the user's sort)."""
        return [self.results[self.table.item(row, 0).data(Qt.UserRole)] for row in range(self.table.rowCount())]

    @Slot()
    def copy_csv(self) -> None:
        text = results_csv(self.shown_order())
        QGuiApplication.clipboard().setText(text)
        self.copied.emit(text)
