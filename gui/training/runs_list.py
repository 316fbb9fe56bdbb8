"""The run list: one row per run with its colour, name, visibility, status, live speed and seeds (K of a
multi-seed run, whose curves are its members' mean with a band: ``gui.training.plot_bands``)."""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from engine.status import RunStatus
from gui.style.palette import STATUS_COLORS
from gui.widgets.common import swatch

STATUS_COLOR = {status: QColor(color) for status, color in STATUS_COLORS.items()}


class RunsList(QTableWidget):
    """Columns: [x] name (coloured swatch, editable), status, steps/s, seeds ("16 seeds"; empty for one).

    Signals carry run ids; the window owns the runs, this is only their view.
    """
    visibility_changed = Signal(str, bool)
    renamed = Signal(str, str)
    selected = Signal(str)
    menu_requested = Signal(str, QPoint)     # a right-click on a run's row: its id, where (global)

    COLUMNS = ("Run", "Status", "steps/s", "Seeds")

    def __init__(self, parent=None):
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(self.COLUMNS)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeToContents)
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed)
        self._rows: dict[str, int] = {}
        self._quiet = False
        self.itemChanged.connect(self._item_changed)
        self.itemSelectionChanged.connect(self._selection_changed)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)

    def add_run(self, run_id: str, name: str, color: QColor) -> None:
        self._quiet = True
        row = self.rowCount()
        self.insertRow(row)
        item = QTableWidgetItem(swatch(color), name)
        item.setData(Qt.UserRole, run_id)
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable | Qt.ItemIsEditable)
        item.setCheckState(Qt.Checked)
        item.setToolTip("Untick to hide this run's curves; double-click to rename.")
        self.setItem(row, 0, item)
        for col, text in ((1, RunStatus.QUEUED), (2, ""), (3, "")):
            cell = QTableWidgetItem(text)
            cell.setFlags(Qt.ItemIsSelectable | Qt.ItemIsEnabled)
            self.setItem(row, col, cell)
        self.item(row, 2).setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self._rows[run_id] = row
        self._quiet = False

    def remove_run(self, run_id: str) -> None:
        row = self._rows.pop(run_id, None)
        if row is None:
            return
        self.removeRow(row)
        self._rows = {rid: (r - 1 if r > row else r) for rid, r in self._rows.items()}

    def clear_runs(self) -> None:
        self._quiet = True
        self.setRowCount(0)
        self._rows.clear()
        self._quiet = False

    def run_ids(self) -> list[str]:
        return sorted(self._rows, key=self._rows.get)

    def set_status(self, run_id: str, status: str, tooltip: str = "") -> None:
        row = self._rows.get(run_id)
        if row is None:
            return
        cell = self.item(row, 1)
        cell.setText(str(RunStatus(status)))   # one vocabulary: an unknown word fails here
        cell.setToolTip(tooltip or status)
        color = STATUS_COLOR.get(status)
        cell.setForeground(color if color else self.palette().text())

    def status(self, run_id: str) -> str:
        return self.item(self._rows[run_id], 1).text()

    def set_rate(self, run_id: str, steps_per_sec: float, members: int | None = None) -> None:
        """The run's live speed; with ``members``, its K too (:meth:`set_members`)."""
        row = self._rows.get(run_id)
        if row is not None:
            self.item(row, 2).setText(f"{steps_per_sec:,.0f}" if steps_per_sec > 0 else "")
            if members is not None:
                self.set_members(run_id, members)

    def set_members(self, run_id: str, members: int) -> None:
        """K of a multi-seed run (train.seeds), as "16 seeds"; nothing for a one-seed run."""
        row = self._rows.get(run_id)
        if row is not None:
            text = f"{members} seeds" if members > 1 else ""
            cell = self.item(row, 3)
            if cell.text() != text:
                cell.setText(text)
                cell.setToolTip(f"{members} members of seed, seed + 1, ...: its curves are their mean, "
                                "its band their spread. Right-click to single out a member as its own run."
                                if members > 1 else "")

    def members_text(self, run_id: str) -> str:
        return self.item(self._rows[run_id], 3).text()

    def is_visible(self, run_id: str) -> bool:
        return self.item(self._rows[run_id], 0).checkState() == Qt.Checked

    def set_visible_run(self, run_id: str, visible: bool) -> None:
        self.item(self._rows[run_id], 0).setCheckState(Qt.Checked if visible else Qt.Unchecked)

    def name(self, run_id: str) -> str:
        return self.item(self._rows[run_id], 0).text()

    def select(self, run_id: str) -> None:
        row = self._rows.get(run_id)
        if row is not None:
            self.selectRow(row)

    def selected_run(self) -> str | None:
        rows = self.selectionModel().selectedRows()
        if not rows:
            return None
        return self.item(rows[0].row(), 0).data(Qt.UserRole)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._quiet or item.column() != 0:
            return
        run_id = item.data(Qt.UserRole)
        self.visibility_changed.emit(run_id, item.checkState() == Qt.Checked)
        if item.text().strip():
            self.renamed.emit(run_id, item.text().strip())

    def _context_menu(self, pos: QPoint) -> None:
        item = self.item(self.rowAt(pos.y()), 0)
        if item is not None:
            self.menu_requested.emit(item.data(Qt.UserRole), self.viewport().mapToGlobal(pos))

    def _selection_changed(self) -> None:
        run_id = self.selected_run()
        if run_id is not None:
            self.selected.emit(run_id)
