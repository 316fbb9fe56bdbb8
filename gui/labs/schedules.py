"""The schedule race: several learning-rate schedules side by side, before and while they train.

Each row is one contender of ``engine.labs.race.RACE`` (warm-up + cosine is
cosine with ``warmup_steps`` in front) with its own parameters.  The plot
overlays the rate each checked schedule will use at every step of the
experiment the training form holds, computed by ``engine.optim.schedules.lr_curve``,
the very machinery training uses, and redrawn as parameters change.  "Race"
emits one experiment per checked schedule, the form's experiment with only its
schedule replaced (``engine.labs.race.race_experiments``, as ``main.py race``
builds them), for the training lab to train side by side.

Nothing here decides what is valid: each row's schedule is checked by the
experiment validator (``engine.experiment.parse_experiment``) together with the
form's experiment, and its one-line message is shown under the row.
"""
from __future__ import annotations

import html
from typing import Any, Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.config import Experiment, ScheduleConfig
from engine.experiment import ExperimentError, resolve
from engine.labs.race import RACE, RaceEntry, race_experiment, race_experiments
from engine.optim.schedules import lr_curve
from gui.style.palette import ERROR, run_color
from gui.style.theme import follow_palette
from gui.training.form import PREVIEW_MAX_STEPS, tooltip_for

LOG_DECADES = 4.0      # the log scale shows this many decades under the highest rate (see _fit_y)

REDRAW_DELAY_MS = 80            # edits within this time are drawn once
INTEGER_KEYS = ("warmup_steps", "step_size")
PARAM_LABELS = {"warmup_steps": "warm-up", "step_size": "every", "gamma": "gamma", "eta_min": "min lr",
                "max_lr": "peak lr", "pct_start": "rising"}


def _format(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}" if v and (abs(v) < 1e-3 or abs(v) >= 1e4) else f"{v:.4g}"
    return str(v)


class RaceRow:
    """The widgets of one schedule: a check box, one text box per parameter, a message line."""

    def __init__(self, entry: RaceEntry, color: QColor):
        self.entry = entry
        self.color = color
        self.check = QCheckBox(entry.label)
        self.check.setChecked(True)
        self.check.setToolTip(f"<p>{html.escape(entry.description)}</p>")
        self.swatch = QFrame()
        self.swatch.setFixedSize(14, 14)
        self.swatch.setStyleSheet(f"background: {color.name()}; border-radius: 3px;")
        self.edits: dict[str, QLineEdit] = {}
        for key in entry.keys:
            edit = QLineEdit()
            edit.setMaximumWidth(84)
            edit.setToolTip(tooltip_for(f"schedule.{key}"))
            self.edits[key] = edit
        self.message = QLabel()
        self.message.setStyleSheet(f"color: {ERROR};")
        self.message.setWordWrap(True)
        self.message.hide()
        self.curve: pg.PlotDataItem | None = None
        self.error: str | None = None
        self.schedule: ScheduleConfig | None = None    # the checked config, None while invalid
        self.params: dict[str, Any] = {}               # the typed values it was checked with

    def values(self) -> dict[str, Any]:
        """The typed parameters (empty boxes left out: the schedule's default); raises ExperimentError."""
        out = {}
        for key, edit in self.edits.items():
            text = edit.text().strip()
            if not text:
                continue
            try:
                out[key] = int(text) if key in INTEGER_KEYS else float(text)
            except ValueError:
                kind = "a whole number" if key in INTEGER_KEYS else "a number"
                raise ExperimentError(f"schedule.{key}", f"write {kind}, got {text!r}") from None
        return out

    def show_error(self, message: str | None, key: str | None = None) -> None:
        self.error = message
        self.message.setText(message or "")
        self.message.setVisible(message is not None)
        for name, edit in self.edits.items():
            bad = message is not None and name == key
            edit.setStyleSheet(f"border: 1px solid {ERROR};" if bad else "")


class ScheduleRaceTab(QWidget):
    """Lay out the schedules, preview their rates, race them.

    ``experiment_source()`` returns the training form's current experiment, or
    None while the form is invalid.  Call :meth:`refresh` when it changes (the
    tab also refreshes itself whenever it is shown).  ``race`` carries the list
    of experiments to train, one per checked schedule, named after it.
    """

    race = Signal(object)

    def __init__(self, experiment_source: Callable[[], Experiment | None], parent=None):
        super().__init__(parent)
        self._source = experiment_source
        self._exp: Experiment | None = None
        self._total = 0

        title = QLabel("<b>Schedule race</b>: the same experiment, one run per learning-rate schedule")
        intro = QLabel("Large steps early make progress, small steps late let the network settle. "
                       "Tick the schedules to compare, set their parameters (empty: the default, shown "
                       "grey), and press Race to train them side by side in the training lab.")
        intro.setWordWrap(True)

        grid_box = QWidget()
        grid = QGridLayout(grid_box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        self.rows: list[RaceRow] = []
        line = 0
        for i, entry in enumerate(RACE):
            row = RaceRow(entry, run_color(i))
            self.rows.append(row)
            grid.addWidget(row.swatch, line, 0)
            grid.addWidget(row.check, line, 1)
            params = QHBoxLayout()
            params.setSpacing(4)
            for key, edit in row.edits.items():
                label = QLabel(PARAM_LABELS.get(key, key))
                label.setToolTip(edit.toolTip())
                params.addWidget(label)
                params.addWidget(edit)
            params.addStretch(1)
            grid.addLayout(params, line, 2)
            grid.addWidget(row.message, line + 1, 1, 1, 2)
            line += 2
            row.check.toggled.connect(self._changed)
            for edit in row.edits.values():
                edit.textChanged.connect(self._changed)
        grid.setColumnStretch(2, 1)
        grid.setRowStretch(line, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(grid_box)
        scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self._rows_box, self._rows_scroll = grid_box, scroll

        self.log_y = QCheckBox("log scale")
        self.log_y.setChecked(True)
        self.log_y.setToolTip("Rates span decades: on a log axis a tenfold decay is always the same height")
        self.log_y.toggled.connect(self._apply_log)
        self.race_button = QPushButton("Race")
        self.race_button.setToolTip("Train the experiment once per ticked schedule, side by side in the "
                                    "training lab")
        self.race_button.clicked.connect(self._race)
        self.status = QLabel()
        self.status.setWordWrap(True)

        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(220)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "step")
        item.setLabel("left", "learning rate")
        item.showGrid(x=True, y=True, alpha=0.2)
        item.setMenuEnabled(False)
        for name in ("left", "bottom"):
            item.getAxis(name).enableAutoSIPrefix(False)   # rates read as rates, not "x0.001"
        self.legend = item.addLegend(offset=(10, -10))   # bottom left: the curves start high
        for row in self.rows:
            row.curve = item.plot([], [], pen=pg.mkPen(row.color, width=2), name=row.entry.label)
        self._apply_log(True)

        left = QVBoxLayout()
        left.addWidget(scroll, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.log_y)
        buttons.addStretch(1)
        buttons.addWidget(self.race_button)
        left.addLayout(buttons)
        left.addWidget(self.status)
        body = QHBoxLayout()
        body.addLayout(left, 0)        # the rows as wide as they need (large type too); the plot takes the rest
        body.addWidget(self.plot, 1)
        column = QVBoxLayout(self)
        column.addWidget(title)
        column.addWidget(intro)
        column.addLayout(body, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self._apply_palette()
        self.refresh()

    # -- public API -------------------------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        """Re-read the experiment and every row; redraw the curves; enable Race if all is well."""
        self._timer.stop()
        self._exp = self._source()
        exp = self._exp
        self._total = exp.total_steps() if exp is not None else 0
        for row in self.rows:
            self._check_row(row)
        self._draw()
        self._update_race()

    def experiments(self) -> list[Experiment] | None:
        """What Race would emit: one experiment per checked schedule, or None if any is invalid."""
        if self._exp is None:
            return None
        checked = [row for row in self.rows if row.check.isChecked()]
        if not checked or any(row.schedule is None for row in checked):
            return None
        # The engine builds the contenders, as for ``main.py race``: the same runs from the same rows.
        return race_experiments(self._exp, {row.entry.label: row.params for row in checked},
                                [row.entry.label for row in checked])

    def row(self, label: str) -> RaceRow:
        return next(r for r in self.rows if r.entry.label == label)

    # -- reacting ---------------------------------------------------------------------------------

    @Slot()
    def _changed(self, *_args) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _check_row(self, row: RaceRow) -> None:
        """Validate the row's schedule against the experiment; set placeholders to its defaults."""
        row.schedule = None
        exp = self._exp
        if exp is None:
            row.show_error(None)
            return
        try:
            params = row.values()
            checked = race_experiment(exp, row.entry, params)
        except ExperimentError as err:
            row.show_error(str(err).removeprefix("schedule."), err.path.removeprefix("schedule."))
            return
        row.show_error(None)
        row.schedule, row.params = checked.schedule, params
        defaults = resolve(checked).schedule
        for key, edit in row.edits.items():
            edit.setPlaceholderText(_format(getattr(defaults, key)))

    def _draw(self) -> None:
        exp = self._exp
        for row in self.rows:
            row.curve.setVisible(row.check.isChecked())
        if exp is None:
            for row in self.rows:
                row.curve.setData([], [])
            self.status.setText("The training form is invalid: fix it there to see the schedules.")
            return
        if self._total > PREVIEW_MAX_STEPS:
            for row in self.rows:
                row.curve.setData([], [])
            self.status.setText(f"Preview skipped above {PREVIEW_MAX_STEPS:,} steps ({self._total:,} planned).")
            return
        steps = np.arange(self._total)
        for row in self.rows:
            if row.check.isChecked() and row.schedule is not None:
                row.curve.setData(steps, lr_curve(row.schedule, exp.optimizer.lr, self._total))
            else:
                row.curve.setData([], [])
        self.status.setText(f"{self._total:,} planned steps at base lr {exp.optimizer.lr:.3g}, "
                            f"{exp.optimizer.name}.")
        self._fit_y()

    def _fit_y(self) -> None:
        """On the log scale, LOG_DECADES decades under the highest rate shown, no more.

        A schedule that ends at 0 (cosine's eta_min) falls towards log 0 = -inf in its last steps: auto-range
        followed it down to 1e-8 and squeezed every schedule's shape into the top third of the plot.  Its
        plunge now leaves through the bottom edge, as a line to -inf would.
        """
        item = self.plot.getPlotItem()
        shown = [row.curve.yData for row in self.rows
                 if row.check.isChecked() and row.curve.yData is not None and len(row.curve.yData)]
        values = np.concatenate(shown) if shown else np.array([])
        values = values[np.isfinite(values) & (values > 0)]
        if not self.log_y.isChecked() or values.size == 0:
            item.enableAutoRange(axis="y")
            return
        top = float(np.log10(values.max()))
        low = max(float(np.log10(values.min())), top - LOG_DECADES)
        item.setYRange(low, top, padding=0.04)

    def _update_race(self) -> None:
        runs = self.experiments()
        self.race_button.setEnabled(runs is not None)
        n = len(runs) if runs else 0
        self.race_button.setText(f"Race {n} schedules" if n else "Race")

    @Slot()
    def _race(self) -> None:
        self.refresh()
        runs = self.experiments()
        if runs:
            self.race.emit(runs)

    # -- looks ------------------------------------------------------------------------------------

    @Slot(bool)
    def _apply_log(self, on: bool) -> None:
        # Zeros (cosine's eta_min 0 at the last step) have no logarithm: they are left out of the line.
        self.plot.getPlotItem().setLogMode(x=False, y=on)
        for row in self.rows:
            row.curve.setLogMode(False, on)
        self._fit_y()

    def _apply_palette(self) -> None:
        follow_palette(self.plot)

    def _fit_rows(self) -> None:
        """Never cut a parameter box off: the rows' scroll area is as wide as the rows."""
        bar = self._rows_scroll.verticalScrollBar().sizeHint().width()
        self._rows_scroll.setMinimumWidth(self._rows_box.sizeHint().width() + bar)

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.PaletteChange:
            self._apply_palette()
        elif event.type() == event.Type.FontChange:
            self._fit_rows()
        super().changeEvent(event)

    def showEvent(self, event) -> None:
        self._fit_rows()
        self.refresh()
        super().showEvent(event)
