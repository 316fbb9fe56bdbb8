"""The hyperparameter search lab: grid, random, TPE and Bayesian search race on one experiment, live.

The left column is the search file as widgets (:mod:`.space_form`): the keys searched and their ranges (log for
rates), the methods, the budget, the seed, the worker processes; Start races them through
``engine.labs.search.launch.start`` in a :class:`~gui.concurrency.jobs.TaskRunner` (the trials train in the
engine's child processes), and a second runner reads the storage every second (:func:`.jobs.watch_job`), so the
trials of every node of a class search show too.  The right side (:mod:`.view`) draws the race: best so far per
method, the trials on two keys, the sortable table, the importances; a trial can be trained again as a run in
the Training tab (``open_trial``) or put into the training form (``apply_experiment``).

The base experiment is the training form's (``experiment_source()``), or the one a search preset or a loaded
search file carries.  Every message is one line at its place: a field's under the field, a file's under the file
buttons, a run's failure in the status line.  :meth:`SearchTab.shutdown` (the window's close) stops the race
(the running trials end as stopped and are queued again in the storage), the watcher and a hosted proxy.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.config import Experiment, search_workers
from engine.experiment import ExperimentError, experiment_to_dict
from engine.labs.search.spec import Search, load_search, parse_search
from engine.labs.search.work import Asked, Told
from gui.concurrency.jobs import TaskRunner
from gui.labs.search.book import TrialBook
from gui.labs.search.classroom import ClassBox, ClassHost
from gui.labs.search.jobs import Joined, Snapshot, join_job, open_search_storage, race_job, snapshot, watch_job
from gui.labs.search.space_form import SearchForm
from gui.labs.search.view import RaceView
from gui.widgets.common import error_label, fit_column, show_line

EXPLANATION = ("<b>Hyperparameter search.</b> Grid search tries a few values of every key; random search "
               "draws each trial anew; TPE and the Gaussian process (gp) learn from the trials so far where the "
               "good ones lie. Race them on the same budget and seed: when only one key matters, the grid tests "
               "three values of it and random search one per trial.")
SEARCH_FILTER = "Search files (*.json);;All files (*)"


def preset_experiment(name: str) -> Experiment:
    """A search file's ``"preset": NAME``: the lesson preset of one run."""
    from engine.lessons.presets import PRESETS
    if name not in PRESETS:
        raise ExperimentError("preset", f"unknown preset {name!r} (see: main.py presets)")
    runs = PRESETS[name].runs
    if len(runs) != 1:
        raise ExperimentError("preset", f"{name} holds {len(runs)} runs; a search needs a preset of one run")
    return runs[0]


def out_folder(root: Path) -> Path:
    return root / time.strftime("%Y%m%d-%H%M%S") / f"{time.time_ns() % 1_000_000:06d}"


class SearchTab(QWidget):
    """``SearchTab(experiment_source, files)``: ``experiment_source()`` is the training form's experiment (None
    while it is invalid), ``files`` the window's ``gui.shell.files.FileDialogs`` (the one checked write)."""

    apply_experiment = Signal(object)     # an Experiment for the training form
    open_trial = Signal(object)           # an Experiment to train as a run (its curves in the Training tab)

    def __init__(self, experiment_source: Callable[[], Experiment | None], files=None, parent=None):
        super().__init__(parent)
        self._source = experiment_source
        if files is None:
            from PySide6.QtCore import QSettings

            from gui.shell.files import FileDialogs
            files = FileDialogs(self, QSettings())
        self.files = files
        from gui.platform.paths import user_data_dir
        self.out_root = user_data_dir() / "searches"      # a fresh folder per race under it (tests set it)
        self._base: Experiment | None = None               # a preset's or a file's base; None: the form's
        self.search: Search | None = None                  # the search running or shown
        self.url: str | None = None                        # its storage
        self.study = "search"
        self.out: Path | None = None
        self.result = None                                 # launch.Finished of the last race
        self.host_of: ClassHost | None = None              # the proxy hosted for a class, if any
        self.runner = TaskRunner(self, name="search")
        self.runner.partial.connect(self._on_partial)
        self.runner.done.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        self.runner.finished.connect(self._on_finished)
        self.watcher = TaskRunner(self, name="search-watch")
        self.watcher.partial.connect(self._on_snapshot)
        self.pbt_view = None
        self._build()
        self._set_busy(False)

    # -- building -----------------------------------------------------------------------------------

    def _build(self) -> None:
        side = QVBoxLayout()
        intro = QLabel(EXPLANATION)
        intro.setWordWrap(True)
        side.addWidget(intro)
        self.base_label = QLabel()
        self.base_label.setWordWrap(True)
        self.use_form_button = QPushButton("Use the form")
        self.use_form_button.setToolTip("Search the training form's experiment")
        self.use_form_button.clicked.connect(self.use_form)
        side.addWidget(self.base_label)       # the button under the words: they keep the column's width
        side.addWidget(self.use_form_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.base_error = error_label()
        side.addWidget(self.base_error)
        self.form = SearchForm()
        side.addWidget(self.form)
        self.workers = QSpinBox()
        allowed = search_workers()            # the bound --workers has: one definition, engine.config's
        self.workers.setRange(int(allowed.low or 0), int(allowed.high or 0))
        self.workers.setValue(os.cpu_count() or 1)
        self.workers.setToolTip("Training processes on this machine, torch at one thread each (0: train "
                                "nothing here, only watch and coordinate)")
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Race the methods on the same budget and seed")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the running trials; every finished trial is kept")
        self.stop_button.clicked.connect(self.stop)
        run = QHBoxLayout()
        run.addWidget(QLabel("Workers"))
        run.addWidget(self.workers)
        run.addWidget(self.start_button, 1)
        run.addWidget(self.stop_button)
        side.addLayout(run)
        self.status = QLabel("Define the space, tick the methods, press Start.")
        self.status.setWordWrap(True)
        side.addWidget(self.status)
        self.run_error = error_label()
        side.addWidget(self.run_error)
        load = QPushButton("Load search…")
        load.setToolTip("Read a search file (JSON: base or preset, space, methods, trials, objective, seed)")
        load.clicked.connect(lambda: self.load_file())
        save = QPushButton("Save search…")
        save.setToolTip("Write the search the widgets hold, with its base experiment, as a search file")
        save.clicked.connect(lambda: self.save_file())
        self.load_button, self.save_button = load, save
        file_row = QHBoxLayout()
        file_row.addWidget(load)
        file_row.addWidget(save)
        side.addLayout(file_row)
        self.file_error = error_label()
        side.addWidget(self.file_error)
        self.classroom = ClassBox()
        self.classroom.join_wanted.connect(self.join)
        self.classroom.host_wanted.connect(self.host)
        self.classroom.unhost_wanted.connect(self.stop_hosting)
        side.addWidget(self.classroom)
        side.addStretch(1)
        self._panel = QWidget()
        self._panel.setLayout(side)
        self._scroll = QScrollArea()
        self._scroll.setWidget(self._panel)
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._fit_panel()

        self.view = RaceView()
        self.view.opened.connect(self._open_row)
        self.view.applied.connect(self._apply_row)
        self.view.export_wanted.connect(lambda: self.export_csv())
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(self.view, "Race")
        layout = QHBoxLayout(self)
        layout.addWidget(self._scroll)
        layout.addWidget(self.views, 1)
        self._show_base()

    def _fit_panel(self) -> None:
        fit_column(self._panel, getattr(self, "_scroll", None), 340)

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.FontChange and hasattr(self, "_panel"):
            self._fit_panel()
        super().changeEvent(event)

    # -- what is searched ------------------------------------------------------------------------------

    def _show_base(self, text: str | None = None) -> None:
        self.base_label.setText(text or "Experiment: the training form's.")
        self.use_form_button.setVisible(self._base is not None)

    @Slot()
    def use_form(self) -> None:
        self._base = None
        self._show_base()

    def base(self) -> Experiment | None:
        if self._base is not None:
            return self._base
        try:
            return self._source()
        except Exception:          # a broken source is an invalid form
            return None

    def built_search(self) -> Search | None:
        """The search the widgets hold on the base, checked by the engine; None with the line at its field."""
        self.form.show_error(None)
        self.base_error.hide()
        base = self.base()
        if base is None:
            show_line(self.base_error, "The training form has an error: fix it there, or load a search preset.")
            return None
        try:
            return parse_search({"base": experiment_to_dict(base), **self.form.raw()}, preset_experiment)
        except ExperimentError as err:
            if err.path.startswith("base"):
                show_line(self.base_error, str(err))
            else:
                self.form.show_error(err)
            return None

    def show_search(self, search: Search, text: str) -> None:
        """``search`` in the widgets, its base the one searched from now on."""
        self.form.load(search)
        self._base = search.base
        self._show_base(text)
        self.base_error.hide()
        if not self.busy():       # the map's axes and the objective of what Start will race
            self.view.reset(TrialBook(search.settings.objective, search.methods), search.space, search.methods)

    def load_preset(self, name: str, note: str = "") -> Search:
        from engine.labs.search.presets import SEARCH_PRESETS
        search = parse_search(SEARCH_PRESETS[name], preset_experiment)
        self.show_search(search, f"Experiment: the search preset <b>{name}</b>'s ({search.base.name}). {note}")
        return search

    # -- files ---------------------------------------------------------------------------------------

    def load_file(self, path: Path | None = None) -> Search | None:
        path = path or self.files.ask_path("Load search", SEARCH_FILTER, save=False)
        if path is None:
            return None
        path = Path(path)
        try:
            search = load_search(path, preset_experiment)
        except ExperimentError as err:
            line = str(err)
            show_line(self.file_error, line if line.startswith((str(path), path.name)) else f"{path.name}: {line}")
            return None
        self.file_error.hide()
        self.show_search(search, f"Experiment: from {path.name} ({search.base.name}).")
        return search

    def save_file(self, path: Path | None = None) -> Path | None:
        search = self.built_search()
        if search is None:
            return None
        from engine.files import json_safe, write_json_atomic
        self.file_error.hide()
        return self.files.write(path, "Save search", SEARCH_FILTER,
                                lambda p: write_json_atomic(p, json_safe(search.to_dict())))

    def export_csv(self, path: Path | None = None) -> Path | None:
        """Every trial of the search in its storage, as ``trials.csv`` (``engine.labs.search.results``)."""
        if self.search is None or self.url is None:
            show_line(self.run_error, "Export: no search yet, start one first.")
            return None
        from engine.files import write_csv_atomic
        from engine.labs.search.results import TRIAL_COLUMNS, trial_rows
        search, url, name = self.search, self.url, self.study

        def write(p: Path) -> None:
            rows = trial_rows(search, open_search_storage(url, search), name)
            write_csv_atomic(p, [*TRIAL_COLUMNS, *(q.path for q in search.space)], rows)
        return self.files.write(path, "Export trials", "CSV (*.csv)", write)

    # -- running -------------------------------------------------------------------------------------

    def busy(self) -> bool:
        return self.runner.busy()

    @Slot()
    def start(self) -> bool:
        if self.busy():
            return False
        search = self.built_search()
        if search is None:
            return False
        if self.host_of is not None:          # the class's search: in the hosted journal, a new name each race
            self.study = self.host_of.next_race()
            self.out, self.url = Path(self.host_of.journal).parent / self.study, self.host_of.journal
            self.classroom.show_hosting(self.host_of.text())
        else:
            from engine.labs.search.launch import default_storage
            self.study, self.out = "search", out_folder(self.out_root)
            self.url = default_storage(self.out)
        self._begin(search)
        self.runner.start(race_job, search, self.out, self.url if self.host_of is not None else None, self.study,
                          self.workers.value())
        self._watch()
        self.status.setText(f"Racing {', '.join(search.methods)}: {search.trials} trials each, "
                            f"{self.workers.value()} training processes…")
        return True

    def join(self, url: str, name: str) -> bool:
        if self.busy():
            self.classroom.say("A search is running here: stop it first.")
            return False
        self.search, self.url, self.study, self.out = None, url, name, None
        self.runner.start(join_job, url, name, self.workers.value())
        self._set_busy(True)
        self.status.setText(f"Joining {name} at {url}…")
        return True

    def _begin(self, search: Search) -> None:
        self.search, self.result = search, None
        self.run_error.hide()
        trials = tuple(m for m in search.methods if m != "pbt")      # PBT has no trials: its own view shows it
        self.view.reset(TrialBook(search.settings.objective, trials), search.space, trials)
        self._pbt_begin(search)
        self._set_busy(True)

    def _watch(self) -> None:
        self.watcher.shutdown(5000)
        if self.search is not None and self.url is not None:
            self.watcher.start(watch_job, self.search, self.url, self.study)

    def _pbt_begin(self, search: Search) -> None:
        """The population's view (``pbt_view.PBTView``), when PBT races."""
        if "pbt" not in search.methods:
            if self.pbt_view is not None:
                self.views.removeTab(self.views.indexOf(self.pbt_view))
                self.pbt_view.deleteLater()
                self.pbt_view = None
            return
        if self.pbt_view is None:
            from gui.labs.search.pbt_view import PBTView
            self.pbt_view = PBTView()
            self.views.addTab(self.pbt_view, "Population")
        self.pbt_view.clear()
        self.pbt_view.set_space(search.space)

    @Slot()
    def stop(self) -> None:
        self.runner.cancel()
        if self.busy():
            self.status.setText("Stopping: the running trials end at their next step and are queued again…")

    def shutdown(self) -> None:
        self.runner.shutdown(60000)
        self.watcher.shutdown(10000)
        self.stop_hosting()

    @Slot(object)
    def _on_partial(self, event) -> None:
        if isinstance(event, Joined):
            self.show_search(event.search, f"Experiment: the class search <b>{event.name}</b>'s "
                                           f"({event.search.base.name}).")
            self._begin(event.search)
            self._watch()
            self.status.setText(f"Joined {event.name} at {event.url}: training its trials here too.")
            return
        if isinstance(event, (Asked, Told)):
            if self.view.book.add_event(event):
                self.view.draw_soon()
        elif self.pbt_view is not None:      # PBT's rounds, exploits and its result
            self.pbt_view.add(event)

    @Slot(object)
    def _on_snapshot(self, snap) -> None:
        if isinstance(snap, Snapshot) and self.view.book.merge(snap.rows):
            self.view.draw_soon()

    @Slot(object)
    def _on_done(self, finished) -> None:
        self.result = finished
        pbt = getattr(finished, "pbt", None)
        if pbt is not None and self.pbt_view is not None:
            self.pbt_view.show_result(pbt)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        line = message.removeprefix("engine.experiment.ExperimentError: ")
        if self.out is None:             # joining: the class box's fields are the place (the command's names)
            self.classroom.say(line.replace("--study: ", "Search: ").replace("--storage: ", "Proxy: "))
        else:
            show_line(self.run_error, line)

    @Slot()
    def _on_finished(self) -> None:
        self.watcher.shutdown(10000)
        if self.search is not None and self.url is not None:
            try:                # the storage's last word: every node's trials as they ended
                self.view.book.merge(snapshot(self.search, open_search_storage(self.url, self.search),
                                              self.study).rows)
            except Exception as err:
                show_line(self.run_error, f"cannot read the storage at the end: {err}".splitlines()[0])
        self.view.draw()
        self._set_busy(False)
        self.status.setText(self.view.book.summary(self.out))

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.start_button, self.load_button, self.form, self.use_form_button,
                       self.classroom.join_button):
            widget.setEnabled(not busy)
        self.stop_button.setEnabled(busy)

    # -- a trial, taken away --------------------------------------------------------------------------

    def trial_experiment(self, row) -> Experiment | None:
        if self.search is None or not row.values:
            return None
        from engine.labs.search.trial import trial_experiment
        try:
            exp = trial_experiment(self.search.base, row.values)
        except ExperimentError as err:
            show_line(self.run_error, f"{row.method} #{row.number}: {err}")
            return None
        return exp.replace(name=f"{row.method} #{row.number}")

    @Slot(object)
    def _open_row(self, row) -> None:
        exp = self.trial_experiment(row)
        if exp is not None:
            self.open_trial.emit(exp)

    @Slot(object)
    def _apply_row(self, row) -> None:
        exp = self.trial_experiment(row)
        if exp is not None:
            self.apply_experiment.emit(exp)
            self.status.setText(f"{exp.name}'s settings are in the training form.")

    # -- a class search --------------------------------------------------------------------------------

    @Slot(str, int)
    def host(self, host: str, port: int) -> bool:
        """Put a proxy in front of a new journal: the next race started here is the class's."""
        self.stop_hosting()
        try:
            self.host_of = ClassHost.start(out_folder(self.out_root), host, port, self.classroom.study.text().strip())
        except (ExperimentError, OSError, RuntimeError) as err:
            self.classroom.say(str(err).splitlines()[0] if str(err) else type(err).__name__)
            return False
        self.classroom.show_hosting(self.host_of.text())
        return True

    @Slot()
    def stop_hosting(self) -> None:
        if self.host_of is not None:
            self.host_of.stop()
            self.host_of = None
        self.classroom.show_hosting(None)

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)
