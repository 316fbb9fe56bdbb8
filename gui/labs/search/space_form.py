"""The search file as widgets: one row per searched key, the methods to race, the budget and the seed.

Nothing here decides what is valid: :meth:`SearchForm.raw` writes the widgets as a search file's JSON (without
its base experiment) and ``engine.labs.search.spec.parse_search`` checks it, as it checks a file; its one-line
message goes back to the field it names (:meth:`SearchForm.show_error`): ``space.optimizer.lr.log[0]: ...`` under
that row, ``methods: ...`` under the methods.  :meth:`SearchForm.load` is the way back, so a search file read
into the widgets and written out again is the same search.

Choices are written as a file would hold them, comma-separated: ``16, 32, 64``, ``sgd, adam``,
``[16, 16], [32]`` (JSON values; a word that is not JSON is a string).
"""
from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.experiment import ExperimentError, schema
from engine.labs.search.methods import METHODS
from engine.labs.search.objectives import OBJECTIVES
from engine.labs.search.space import KINDS, Param
from engine.labs.search.spec import MAX_TRIALS, METHOD_NAMES, UNSEARCHABLE, PBTConfig, Search, SearchSettings
from gui.widgets.common import error_label, show_line

TYPES = {e.path: e.type.removesuffix(" or null") for e in schema() if e.path not in UNSEARCHABLE}
KIND_TIPS = {"log": "a rate: drawn evenly in its logarithm, a grid of geometric steps",
             "uniform": "a number where equal steps matter equally",
             "int": "a whole number (a width, a batch size)",
             "choice": "a few values, comma-separated: 16, 32, 64 or sgd, adam"}
METHOD_TIPS = {"grid": "every combination of a few values per key: the grid the budget buys",
               "random": "independent draws from each range", "pbt": "population-based training: members "
               "train side by side; the worst copy the best and perturb their hyperparameters"}
DEFAULT_SPACE = (Param("optimizer.lr", "log", 1e-4, 1.0), Param("model.dropout", "uniform", 0.0, 0.5))


def kinds_for(path: str) -> list[str]:
    """The kinds of range that fit the key's type (``engine.labs.search.space.KINDS``)."""
    field_type = TYPES.get(path, "")
    return [k for k, info in KINDS.items() if any(field_type.startswith(t) for t in info.field_types)]


def choices_text(choices: tuple[Any, ...]) -> str:
    return ", ".join(c if isinstance(c, str) else json.dumps(c) for c in choices)


def parse_choices(text: str) -> list[Any]:
    """``16, 32`` -> [16, 32]; ``sgd, adam`` -> ["sgd", "adam"]; ``[16, 16], [32]`` -> [[16, 16], [32]]."""
    try:
        return json.loads(f"[{text}]")
    except json.JSONDecodeError:
        out = []
        for part in (p.strip() for p in text.split(",")):
            try:
                out.append(json.loads(part))
            except json.JSONDecodeError:
                out.append(part)
        return [p for p in out if p != ""]


def number_text(value: float, kind: str) -> str:
    return str(int(value)) if kind == "int" else repr(float(value))


def _wrapped(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)       # a heading never widens the column in large type
    return label


class SpaceRow(QWidget):
    """One searched key: its path, its kind, low and high (or the choices), a remove button, a message line."""

    changed = Signal()
    remove = Signal(object)

    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(parent)
        self.key = QComboBox()
        self.key.addItems(list(TYPES))
        self.key.setToolTip("The experiment's key to search (main.py schema lists them)")
        self.kind = QComboBox()
        self.low, self.high, self.choices = QLineEdit(), QLineEdit(), QLineEdit()
        for edit, tip in ((self.low, "lowest value"), (self.high, "highest value"),
                          (self.choices, KIND_TIPS["choice"])):
            edit.setToolTip(tip)
            edit.textChanged.connect(self.changed)
        self.low.setMaximumWidth(80)
        self.high.setMaximumWidth(80)
        # a tool button: as wide as its one character needs (a push button asks for the style's 80 px)
        self.drop = QToolButton()
        self.drop.setText("×")
        self.drop.setToolTip("Stop searching this key")
        self.drop.clicked.connect(lambda: self.remove.emit(self))
        self.message = error_label()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(1)
        grid.addWidget(self.key, 0, 0, 1, 3)
        grid.addWidget(self.drop, 0, 3)
        grid.addWidget(self.kind, 1, 0)
        grid.addWidget(self.low, 1, 1)
        grid.addWidget(self.high, 1, 2)
        grid.addWidget(self.choices, 1, 1, 1, 2)
        grid.addWidget(self.message, 2, 0, 1, 4)
        grid.setColumnStretch(0, 1)
        self.set_param(param)
        self.key.currentTextChanged.connect(self._key_changed)
        self.kind.currentTextChanged.connect(self._kind_changed)

    @property
    def path(self) -> str:
        return self.key.currentText()

    def set_param(self, p: Param) -> None:
        self.key.blockSignals(True)
        self.key.setCurrentText(p.path)
        self.key.blockSignals(False)
        self._fill_kinds(p.kind)
        if p.kind == "choice":
            self.choices.setText(choices_text(p.choices))
        else:
            self.low.setText(number_text(p.low, p.kind))
            self.high.setText(number_text(p.high, p.kind))
        self._kind_changed(p.kind)

    def _fill_kinds(self, kind: str) -> None:
        self.kind.blockSignals(True)
        self.kind.clear()
        self.kind.addItems(kinds_for(self.path))
        for i, k in enumerate(kinds_for(self.path)):
            self.kind.setItemData(i, KIND_TIPS[k], 3)      # Qt.ToolTipRole
        self.kind.setCurrentText(kind)
        self.kind.blockSignals(False)

    @Slot(str)
    def _key_changed(self, path: str) -> None:
        kinds = kinds_for(path)
        self._fill_kinds(self.kind.currentText() if self.kind.currentText() in kinds else kinds[0])
        self._kind_changed(self.kind.currentText())

    @Slot(str)
    def _kind_changed(self, kind: str) -> None:
        ranged = kind != "choice"
        self.low.setVisible(ranged)
        self.high.setVisible(ranged)
        self.choices.setVisible(not ranged)
        self.changed.emit()

    def spec(self) -> dict[str, Any]:
        """The row as the search file's ``{kind: [...]}``; a box that is no number raises the one line."""
        kind = self.kind.currentText()
        if kind == "choice":
            return {kind: parse_choices(self.choices.text())}
        values = []
        for end, edit in (("low", self.low), ("high", self.high)):
            text = edit.text().strip()
            try:
                values.append(int(text) if kind == "int" else float(text))
            except ValueError:
                what = "a whole number" if kind == "int" else "a number"
                raise ExperimentError(f"space.{self.path}.{kind}", f"{end}: write {what}, got {text!r}") from None
        return {kind: values}

    def show_error(self, line: str | None) -> None:
        show_line(self.message, line)


class SearchForm(QWidget):
    """The space rows, the methods and the settings; :meth:`raw` is the search file they make."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: list[SpaceRow] = []
        self._rows_box = QVBoxLayout()
        self._rows_box.setSpacing(6)
        self.add_button = QPushButton("Add a key")
        self.add_button.setToolTip("Search one more key of the experiment")
        self.add_button.clicked.connect(lambda: self.add_row(Param("optimizer.momentum", "uniform", 0.0, 0.99)))
        self.space_error = error_label()

        self.methods: dict[str, QCheckBox] = {}
        methods = QHBoxLayout()
        methods.setSpacing(8)
        for name in METHOD_NAMES:
            box = QCheckBox(name)
            box.setToolTip(METHOD_TIPS.get(name) or METHODS[name].description)
            box.setChecked(name in ("grid", "random"))
            box.toggled.connect(self._methods_changed)
            self.methods[name] = box
            methods.addWidget(box)
        methods.addStretch(1)
        self.methods_error = error_label()

        d = SearchSettings()
        self.trials = self._spin(1, MAX_TRIALS, d.trials, "Trials per method (grid search uses the grid it buys)")
        self.seed = self._spin(0, 2**31 - 1, d.seed, "Seed of every sampler: same seed, same trials")
        self.startup = self._spin(1, MAX_TRIALS, d.startup, "Random start-up trials of TPE and GP before their "
                                  "model guides them (random search draws the same first points)")
        self.objective = QComboBox()
        for name, goal in OBJECTIVES.items():
            self.objective.addItem(name)
            self.objective.setItemData(self.objective.count() - 1, goal.description, 3)
        self.objective.setCurrentText(d.objective)
        self.objective.setToolTip("What a trial is judged by")
        self.objective.currentTextChanged.connect(self.changed)
        p = PBTConfig()
        self.population = self._spin(2, 256, p.population, "PBT: members trained side by side")
        self.interval = self._spin(1, 1_000_000, p.interval, "PBT: steps between exploit/explore rounds")
        self.settings_error = error_label()
        # what a loaded file holds that has no widget here: kept, so a file read in and saved is the same search
        self._heartbeat = d.heartbeat
        self._pbt_rest = {"quantile": p.quantile, "resample": p.resample}

        settings = QFormLayout()
        settings.addRow("Trials", self.trials)
        settings.addRow("Objective", self.objective)
        settings.addRow("Seed", self.seed)
        settings.addRow("Start-up", self.startup)
        self._pbt_rows = (QLabel("Population"), QLabel("Interval"))
        settings.addRow(self._pbt_rows[0], self.population)
        settings.addRow(self._pbt_rows[1], self.interval)

        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(_wrapped("<b>Space</b>: the keys searched and their ranges"))
        column.addLayout(self._rows_box)
        column.addWidget(self.add_button)
        column.addWidget(self.space_error)
        column.addWidget(_wrapped("<b>Methods</b> (several race on the same budget)"))
        column.addLayout(methods)
        column.addWidget(self.methods_error)
        column.addLayout(settings)
        column.addWidget(self.settings_error)
        for param in DEFAULT_SPACE:
            self.add_row(param)
        self._methods_changed()

    def _spin(self, low: int, high: int, value: int, tip: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setToolTip(tip)
        spin.valueChanged.connect(self.changed)
        return spin

    # -- rows -------------------------------------------------------------------------------------

    def add_row(self, param: Param) -> SpaceRow:
        row = SpaceRow(param)
        row.changed.connect(self.changed)
        row.remove.connect(self._remove_row)
        self.rows.append(row)
        self._rows_box.addWidget(row)
        self.changed.emit()
        return row

    @Slot(object)
    def _remove_row(self, row: SpaceRow) -> None:
        if row in self.rows:
            self.rows.remove(row)
            row.setParent(None)
            row.deleteLater()
            self.changed.emit()

    @Slot()
    def _methods_changed(self, *_args) -> None:
        pbt = self.methods["pbt"].isChecked()
        for widget in (*self._pbt_rows, self.population, self.interval):
            widget.setVisible(pbt)
        self.changed.emit()

    def chosen_methods(self) -> list[str]:
        return [name for name, box in self.methods.items() if box.isChecked()]

    # -- the file ----------------------------------------------------------------------------------

    def raw(self) -> dict[str, Any]:
        """The search file the widgets hold, without ``base``; a number box that is no number raises."""
        space: dict[str, Any] = {}
        for row in self.rows:
            if row.path in space:
                raise ExperimentError(f"space.{row.path}", "searched twice: remove one of its rows")
            space[row.path] = row.spec()
        return {"space": space, "methods": self.chosen_methods(), "trials": self.trials.value(),
                "objective": self.objective.currentText(), "seed": self.seed.value(),
                "startup": self.startup.value(), "heartbeat": self._heartbeat,
                "pbt": {**self._pbt_rest, "population": self.population.value(), "interval": self.interval.value()}}

    def load(self, search: Search) -> None:
        """Show ``search`` in the widgets (its base is the tab's business)."""
        for row in list(self.rows):
            self._remove_row(row)
        for param in search.space:
            self.add_row(param)
        for name, box in self.methods.items():
            box.setChecked(name in search.methods)
        s = search.settings
        self.trials.setValue(s.trials)
        self.objective.setCurrentText(s.objective)
        self.seed.setValue(s.seed)
        self.startup.setValue(s.startup)
        self.population.setValue(search.pbt.population)
        self.interval.setValue(search.pbt.interval)
        self._heartbeat = s.heartbeat
        self._pbt_rest = {"quantile": search.pbt.quantile, "resample": search.pbt.resample}
        self.show_error(None)

    def show_error(self, err: ExperimentError | None) -> None:
        """The validator's one line under the field it names; every other message line cleared."""
        for row in self.rows:
            row.show_error(None)
        for label in (self.space_error, self.methods_error, self.settings_error):
            label.hide()
        if err is None:
            return
        path, line = err.path, str(err)
        if path.startswith("space."):
            row = next((r for r in self.rows if path == f"space.{r.path}" or path.startswith(f"space.{r.path}.")),
                       None)
            if row is not None:
                row.show_error(line.removeprefix(f"space.{row.path}."))
                return
            target = self.space_error
        elif path.startswith("methods"):
            target = self.methods_error
        elif path == "space":
            target = self.space_error
        else:
            target = self.settings_error
        target.setText(line)
        target.show()
