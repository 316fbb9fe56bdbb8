"""The right side of the search tab: the race's plots, the trial table, the importances and what to do with a trial.

:class:`RaceView` draws a :class:`~gui.labs.search.book.TrialBook` (at most once per event-loop turn burst:
:meth:`RaceView.draw_soon`), and lets the user take a trial away: "Open in Training" trains it again as a run
(its curves), "Apply" and "Apply best" put its settings into the training form, "Export CSV" writes the
trials as ``trials.csv`` has them.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.labs.search.space import Param
from gui.labs.search.book import TrialBook, TrialRow
from gui.labs.search.importance import TIP, importance_html
from gui.labs.search.plots import BestPlot, ColorKey, TrialMap
from gui.labs.search.table import TrialTable
from gui.widgets.common import fit_column

DRAW_DELAY_MS = 100


class RaceView(QWidget):
    """Plots, table and trial actions; ``opened``/``applied`` carry a TrialRow, ``export_wanted`` asks for CSV."""

    opened = Signal(object)
    applied = Signal(object)
    export_wanted = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.book = TrialBook()
        self.space: tuple[Param, ...] = ()
        self.methods: tuple[str, ...] = ()
        self._importance_at = -1

        self.best_plot = BestPlot()
        self.map = TrialMap()
        self.key = ColorKey(self.map.cmap)
        self.x_key, self.y_key = QComboBox(), QComboBox()
        for combo, axis in ((self.x_key, "across"), (self.y_key, "up")):
            combo.setToolTip(f"The key drawn {axis} the map of trials")
            # a long key path must not widen the map past its half of a narrow window
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)
            combo.currentTextChanged.connect(self.draw_soon)
        axes = QGridLayout()            # a row each: two key paths side by side were cut in large type
        axes.setContentsMargins(0, 0, 0, 0)
        for row, (name, combo) in enumerate((("x", self.x_key), ("y", self.y_key))):
            axes.addWidget(QLabel(name), row, 0)
            axes.addWidget(combo, row, 1)
        axes.setColumnStretch(1, 1)
        map_box = QWidget()
        map_column = QVBoxLayout(map_box)
        map_column.setContentsMargins(0, 0, 0, 0)
        map_column.addLayout(axes)
        map_column.addWidget(self.map.widget, 1)
        map_column.addWidget(self.key)
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.best_plot.widget)
        plots.addWidget(map_box)
        plots.setChildrenCollapsible(False)
        plots.setStretchFactor(0, 1)
        plots.setStretchFactor(1, 1)
        self._plots = plots

        self.table = TrialTable()
        self.table.opened.connect(self.opened)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.open_button = QPushButton("Open in Training")
        self.open_button.setToolTip("Train the selected trial again as a run in the Training tab, to see its "
                                    "curves (also: double-click a trial)")
        self.open_button.clicked.connect(lambda: self._emit_selected(self.opened))
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Put the selected trial's settings into the training form")
        self.apply_button.clicked.connect(lambda: self._emit_selected(self.applied))
        self.best_button = QPushButton("Apply best")
        self.best_button.setToolTip("Put the best finished trial's settings into the training form")
        self.best_button.clicked.connect(self._apply_best)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Every trial as trials.csv has it: method, trial, state, value, steps, "
                                      "seconds, worker and one column per key")
        self.export_button.clicked.connect(self.export_wanted)
        self.importance = QLabel()
        self.importance.setWordWrap(True)
        self.importance.setTextFormat(Qt.TextFormat.RichText)
        self.importance.setToolTip(TIP)
        self.importance.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        for button in (self.open_button, self.apply_button, self.best_button, self.export_button):
            side.addWidget(button)
        side.addStretch(1)
        side_box = QWidget()
        side_box.setLayout(side)
        side_scroll = QScrollArea()           # the buttons in large type scroll, never cut
        side_scroll.setWidget(side_box)
        side_scroll.setWidgetResizable(True)
        side_scroll.setFrameShape(QFrame.Shape.NoFrame)
        side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._side, self._side_scroll = side_box, side_scroll
        table_row = QHBoxLayout()
        table_row.setContentsMargins(0, 0, 0, 0)
        table_row.addWidget(self.table, 1)
        table_row.addWidget(side_scroll)
        lower = QWidget()
        lower_column = QVBoxLayout(lower)
        lower_column.setContentsMargins(0, 0, 0, 0)
        lower_column.addLayout(table_row, 1)
        lower_column.addWidget(self.importance)     # under the table, wrapped to its width

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(plots)
        split.addWidget(lower)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 4)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DRAW_DELAY_MS)
        self._timer.timeout.connect(self.draw)
        self._selection_changed()
        self.draw()

    def _fit_side(self) -> None:
        """The trial buttons' column as wide as its buttons need (large type too), never squeezed by the table."""
        fit_column(self._side, self._side_scroll, 180)

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.FontChange and hasattr(self, "_side"):
            self._fit_side()
        super().changeEvent(event)

    def showEvent(self, event) -> None:
        self._fit_side()
        super().showEvent(event)
        if not getattr(self, "_split_once", False):      # the two plots share the width equally at first
            self._split_once = True
            half = max(1, self._plots.width() // 2)
            self._plots.setSizes([half, half])

    def reset(self, book: TrialBook, space: tuple[Param, ...], methods: tuple[str, ...]) -> None:
        """A new search: its book, its keys on the map's axes (the first two), its methods."""
        self.book, self.space, self.methods = book, space, methods
        self._importance_at = -1
        paths = [p.path for p in space]
        for combo, index in ((self.x_key, 0), (self.y_key, 1)):
            combo.blockSignals(True)
            keep = combo.currentText()
            combo.clear()
            combo.addItems(paths)
            combo.setCurrentText(keep if keep in paths else paths[min(index, len(paths) - 1)] if paths else "")
            combo.blockSignals(False)
        if len(paths) > 1 and self.x_key.currentText() == self.y_key.currentText():
            self.y_key.setCurrentText(next(p for p in paths if p != self.x_key.currentText()))
        self.draw()

    @Slot()
    def draw_soon(self, *_args) -> None:
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def draw(self) -> None:
        self._timer.stop()
        book = self.book
        self.best_plot.draw(book, self.methods)
        self.map.draw(book, self.space, self.x_key.currentText(), self.y_key.currentText())
        self.key.show_range(book.goal.name, self.map.range, book.goal.direction == "maximize")
        self.table.show_book(book, tuple(p.path for p in self.space))
        finished = len(book.finished())
        if finished != self._importance_at:       # PED-ANOVA again only when a trial has finished since
            self._importance_at = finished
            self.importance.setText(importance_html(book, self.space))
        self.best_button.setEnabled(book.best() is not None)

    def _emit_selected(self, signal) -> None:
        row = self.table.selected()
        if row is not None:
            signal.emit(row)

    @Slot()
    def _apply_best(self) -> None:
        best = self.book.best()
        if best is not None:
            self.applied.emit(best)

    @Slot()
    def _selection_changed(self) -> None:
        row: TrialRow | None = self.table.selected()
        has = row is not None and bool(row.values)
        self.open_button.setEnabled(has)
        self.apply_button.setEnabled(has)
