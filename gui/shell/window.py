"""The training lab window: the form on the left, live plots in the centre, runs side by side.

A thin view: the engine (``engine.training.session.Lab``, driven by ``gui.concurrency.training``) trains;
this window turns the teacher's clicks into commands for it and its batched
updates into curves.  torch is loaded by the training thread; until it is
ready the form shows a short "loading" line and the window is already usable
to look at.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, QElapsedTimer, QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QActionGroup, QColor, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from engine.status import FINAL, RunStatus
from engine.training.updates import MetricsLog
from gui.concurrency.training import TrainingThread
from gui.labs import LABS, LabHolder
from gui.style.palette import run_color
from gui.style.theme import LINE_WIDTH, PRESENTER_LINE_WIDTH, apply_theme, pick, style_plot
from gui.training.boundary import BoundaryView
from gui.training.histograms import HistogramView
from gui.training.metric_plots import PLOTS, MetricPlots
from gui.training.runs_list import RunsList

SPEEDS = (("As fast as possible", None), ("500 steps/s", 500.0), ("100 steps/s", 100.0),
          ("20 steps/s", 20.0), ("5 steps/s", 5.0), ("1 step/s", 1.0))


@dataclass
class RunEntry:
    """The window's record of one run; the engine's copy lives in the worker's Lab."""
    run_id: str
    name: str
    color: QColor
    experiment: object                       # engine.config.Experiment
    generation: int = 0                      # bumped with every rewind, as the Lab does
    status: str = RunStatus.QUEUED
    message: str = ""
    step: int = 0
    epoch: float = 0.0
    rate: float = 0.0
    log: MetricsLog = field(default_factory=MetricsLog)


# The views one drawing round visits, one per event-loop turn (MainWindow._draw_slice).
DRAW_ROUND = (*(info.key for info in PLOTS), "boundary", "weights")


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, start_training_thread: bool = True,
                 backend: str | None = None):
        super().__init__()
        self.setWindowTitle("Descent Lab")
        self.settings = settings or QSettings("DescentLab", "Descent Lab")
        self.runs: dict[str, RunEntry] = {}
        self._next_run = 1
        self._colors_used = 0
        self.form = None
        self.ready = False
        self._running = False    # the teacher pressed Start and has not paused since
        self.batches_drawn = 0   # full redraws of the window's views so far (the benchmark reads the refresh rate)
        self._boundaries_due: dict[str, object] = {}     # newest boundary per run, not drawn yet
        self._slice = 0                                  # where the drawing round stands (see _draw_slice)
        self._drew_in_round = False
        self._hidden_histograms: dict[str, list] = {}   # events waiting for the Weights tab
        self._lesson = None          # the preset loaded from the Lessons menu, if any
        self._comparison: set[str] = set()   # runs of the Regularization lab's comparison, fed to its chart
        self._question: str | None = None    # the lesson question shown above the tabs, if any
        self._note_wanted = False            # a lesson's or question's words are up (see _place_note)
        self._table_asked = False
        self._elapsed = 0
        self._clock = QElapsedTimer()
        self._dark = self.settings.value("view/dark", False, type=bool)
        self._presenter = self.settings.value("view/presenter", False, type=bool)

        self._build_views()
        self._build_actions()
        self._build_menus()
        self._build_status_bar()
        self._restore_layout()
        self.apply_look()

        self.training = TrainingThread(self, backend) if backend else TrainingThread(self)
        worker = self.training.worker
        worker.ready.connect(self.on_ready)
        worker.updates.connect(self.on_updates)
        worker.data_ready.connect(self.on_data)
        worker.failed.connect(self.on_worker_failed)
        worker.inspected.connect(self.on_inspection)
        self._draw_timer = QTimer(self)
        self._draw_timer.setSingleShot(True)
        self._draw_timer.setInterval(0)
        self._draw_timer.timeout.connect(self._draw_slice)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(250)
        self._status_timer.timeout.connect(self._refresh_status)
        self._status_timer.start()
        if start_training_thread:
            self.training.start()

    # -- building ------------------------------------------------------------------------------------

    def _build_views(self) -> None:
        self.form_holder = QWidget()
        holder_layout = QVBoxLayout(self.form_holder)
        holder_layout.setContentsMargins(0, 0, 0, 0)
        self.loading = QLabel("Loading PyTorch… the form appears in a moment.")
        self.loading.setAlignment(Qt.AlignCenter)
        self.loading.setWordWrap(True)
        holder_layout.addWidget(self.loading)

        self.runs_list = RunsList()
        self.runs_list.selected.connect(self.on_run_selected)
        self.runs_list.visibility_changed.connect(self.on_visibility)
        self.runs_list.renamed.connect(self.on_renamed)
        runs_box = QWidget()
        runs_layout = QVBoxLayout(runs_box)
        runs_layout.setContentsMargins(0, 4, 0, 0)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add run")
        self.add_button.setToolTip("Copy the form into a new run, trained side by side with the others "
                                   "on the same data and seed.")
        self.add_button.clicked.connect(self.add_run_from_form)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Give the selected run the form's settings and rewind it to its start.")
        self.apply_button.clicked.connect(self.apply_form_to_selected)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected run.")
        self.remove_button.clicked.connect(self.remove_selected_run)
        buttons.addWidget(QLabel("<b>Runs</b>"))
        buttons.addStretch(1)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.remove_button)
        runs_layout.addLayout(buttons)
        runs_layout.addWidget(self.runs_list)

        self.left = QSplitter(Qt.Vertical)
        self.left.addWidget(self.form_holder)
        self.left.addWidget(runs_box)
        self.left.setStretchFactor(0, 1)
        self.left.setStretchFactor(1, 0)
        self.left.setSizes([640, 200])

        self.plots = MetricPlots()
        self.histograms = HistogramView()
        self.boundary = BoundaryView()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.boundary, "Decision boundary")
        self.tabs.addTab(self.histograms, "Weights")
        self.tabs.currentChanged.connect(self._on_tab)
        self.centre = QSplitter(Qt.Horizontal)
        self.centre.addWidget(self.plots)
        self.centre.addWidget(self.tabs)
        self.centre.setStretchFactor(0, 3)
        self.centre.setStretchFactor(1, 2)

        self.lesson_panel = QFrame()
        self.lesson_panel.setFrameShape(QFrame.StyledPanel)
        lesson_layout = QHBoxLayout(self.lesson_panel)
        self.lesson_text = QLabel()
        self.lesson_text.setWordWrap(True)
        self.lesson_text.setTextFormat(Qt.RichText)
        close = QPushButton("Hide")
        close.clicked.connect(self.hide_lesson)
        lesson_layout.addWidget(self.lesson_text, 1)
        lesson_layout.addWidget(close, 0, Qt.AlignTop)
        self.lesson_panel.hide()

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.centre, 1)

        self.main_split = QSplitter(Qt.Horizontal)
        self.main_split.addWidget(self.left)
        self.main_split.addWidget(right)
        self.main_split.setStretchFactor(0, 0)
        self.main_split.setStretchFactor(1, 1)
        self.main_split.setSizes([380, 1000])

        # The training lab first, then the lesson labs (built when first opened: see gui.labs).
        self.labs = QTabWidget()
        self.labs.setDocumentMode(True)
        self.labs.addTab(self.main_split, "Training")
        self.labs.setTabToolTip(0, "Train networks side by side and watch every curve move.")
        self.lab_holders: dict[str, LabHolder] = {}
        for info in LABS:
            holder = LabHolder(info)
            self.lab_holders[info.key] = holder
            self.labs.setTabToolTip(self.labs.addTab(holder, info.title), info.tip)
        self.labs.currentChanged.connect(self._on_lab)
        # The lesson's words above every tab: a lesson's runs train on one, a question opens another.
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(2)
        central_layout.addWidget(self.lesson_panel)
        central_layout.addWidget(self.labs, 1)
        self.setCentralWidget(central)

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})" if shortcut and tip else tip or text)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.start_action = self._action("Start", self.toggle_start, Qt.Key_Space,
                                         "Start or pause every run")
        self.step_action = self._action("Step", self.step_once, Qt.Key_S,
                                        "One step of every run, for slow-motion explanation")
        self.stop_action = self._action("Stop", self.stop_runs, None, "End the runs here")
        self.reset_action = self._action("Reset", self.reset_runs, Qt.Key_R,
                                         "Rewind every run to its start: same seed, same initial weights")
        for action in (self.start_action, self.step_action, self.stop_action, self.reset_action):
            action.setEnabled(False)
            action.setData(action.shortcut())     # kept, so leaving a lesson lab gives it back (_on_lab)
        toolbar = QToolBar("Controls")
        toolbar.setObjectName("controls")
        toolbar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        for action in (self.start_action, self.step_action, self.stop_action, self.reset_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Speed: "))
        self.speed = QComboBox()
        for text, _ in SPEEDS:
            self.speed.addItem(text)
        self.speed.setToolTip("Slow the runs down to watch each step, or let them go as fast as they can.")
        self.speed.currentIndexChanged.connect(self.on_speed)
        toolbar.addWidget(self.speed)
        self.addToolBar(toolbar)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addAction(self._action("&Open experiment or run list…", self.open_file, QKeySequence.Open))
        file.addAction(self._action("&Save experiment…", self.save_experiment, QKeySequence.Save))
        file.addAction(self._action("Save run &list…", self.save_run_list))
        file.addSeparator()
        file.addAction(self._action("Export &metrics of the selected run (CSV)…", self.export_csv))
        export = file.addMenu("Export &plot")
        for key, title in self._plot_names():
            export.addAction(self._action(f"{title}…", lambda _=False, k=key: self.export_plot(k)))
        file.addSeparator()
        file.addAction(self._action("&Quit", self.close, QKeySequence.Quit))

        self._lesson_menu = bar.addMenu("&Lessons")
        self._lesson_menu.setToolTipsVisible(True)
        waiting = self._lesson_menu.addAction("Loading…")
        waiting.setEnabled(False)

        view = bar.addMenu("&View")
        self.presenter_action = self._action("&Presenter mode", self.toggle_presenter, "F5",
                                             "Larger type, thicker lines, more contrast, for a projector")
        self.presenter_action.setCheckable(True)
        self.presenter_action.setChecked(self._presenter)
        view.addAction(self.presenter_action)
        group = QActionGroup(self)
        self.light_action = self._action("&Light", lambda: self.set_dark(False))
        self.dark_action = self._action("&Dark", lambda: self.set_dark(True))
        for action in (self.light_action, self.dark_action):
            action.setCheckable(True)
            group.addAction(action)
            view.addAction(action)
        (self.dark_action if self._dark else self.light_action).setChecked(True)

    def _build_status_bar(self) -> None:
        self.status_labels = {key: QLabel() for key in ("step", "epoch", "elapsed", "rate")}
        for label in self.status_labels.values():
            label.setMinimumWidth(110)
            self.statusBar().addPermanentWidget(label)
        self.statusBar().showMessage("Loading PyTorch…")

    def _plot_names(self) -> list[tuple[str, str]]:
        names = [(f"metrics:{k}", f"{k.replace('_', ' ').capitalize()} plot") for k in self.plots.plot_widgets()]
        names += [(f"weights:{k}", f"Weights: {k.replace('_', ' ')}") for k in self.histograms.plot_widgets()]
        names.append(("boundary", "Decision boundary"))
        return names

    def _plot_widget(self, key: str):
        if key == "boundary":
            return self.boundary.plot_widget()
        group, name = key.split(":")
        return (self.plots if group == "metrics" else self.histograms).plot_widgets()[name]

    # -- start-up and settings --------------------------------------------------------------------------

    def _restore_layout(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        self.geometry_restored = isinstance(geometry, QByteArray) and not geometry.isEmpty() \
            and self.restoreGeometry(geometry)
        if not self.geometry_restored:
            self.resize(1440, 900)
        for key, splitter in self._splitters().items():
            state = s.value(f"window/{key}")
            if isinstance(state, QByteArray) and not state.isEmpty():
                splitter.restoreState(state)

    def _splitters(self) -> dict[str, QSplitter]:
        return {"main_split": self.main_split, "left": self.left, "centre": self.centre}

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        for key, splitter in self._splitters().items():
            s.setValue(f"window/{key}", splitter.saveState())
        s.setValue("view/dark", self._dark)
        s.setValue("view/presenter", self._presenter)
        if self.ready:
            from engine.experiment import experiment_to_dict
            runs = [experiment_to_dict(self._named(r)) for r in self.runs.values()]
            if not runs and self.form is not None and self.form.experiment() is not None:
                runs = [experiment_to_dict(self.form.experiment())]
            s.setValue("last/runs", json.dumps(runs))
        s.sync()

    @Slot()
    def on_ready(self) -> None:
        """torch is loaded: build the form and bring back the last experiment."""
        from gui.training.form import ExperimentForm
        self.form = ExperimentForm()
        self.form.changed.connect(self.on_form_changed)
        self.form.validity_changed.connect(self._update_actions)
        self.loading.hide()
        self.form_holder.layout().addWidget(self.form)
        self.ready = True
        self._fill_lessons()
        self._restore_runs()
        self.statusBar().showMessage("Ready: press Space to train.", 5000)
        self._update_actions()
        self.apply_look()
        self._on_lab(self.labs.currentIndex())   # a lab opened while torch was loading

    def _fill_lessons(self) -> None:
        from engine.lessons.presets import PRESETS
        from gui.labs.questions import QUESTIONS
        self._lesson_menu.clear()
        for preset in PRESETS.values():
            action = self._action(preset.title, lambda _=False, n=preset.name: self.load_preset(n))
            action.setToolTip(preset.lesson)
            self._lesson_menu.addAction(action)
        self._lesson_menu.addSection("Check your understanding")
        for question in QUESTIONS:
            action = self._action(question.title, lambda _=False, k=question.key: self.open_question(k))
            action.setToolTip(question.text)
            self._lesson_menu.addAction(action)

    def _restore_runs(self) -> None:
        from engine.experiment import ExperimentError, parse_experiment
        text = self.settings.value("last/runs", "")
        try:
            experiments = [parse_experiment(raw) for raw in json.loads(text)] if text else []
        except (ValueError, ExperimentError):
            experiments = []  # settings from an older version, say: start fresh, do not crash
        if not experiments and self.form.experiment() is not None:
            experiments = [self.form.experiment()]  # first start: one run of the defaults, ready for Space
        for exp in experiments:
            self.add_run(exp)
        if experiments:
            self.form.set_experiment(experiments[0])
            self.runs_list.select(next(iter(self.runs)))

    @Slot(str)
    def on_worker_failed(self, message: str) -> None:
        QMessageBox.critical(self, "Descent Lab", f"The training engine stopped: {message}")

    # -- runs --------------------------------------------------------------------------------------------

    def _unique_name(self, name: str) -> str:
        taken = {r.name for r in self.runs.values()}
        if name not in taken:
            return name
        i = 2
        while f"{name} ({i})" in taken:
            i += 1
        return f"{name} ({i})"

    def add_run(self, experiment) -> str:
        run_id = f"run{self._next_run}"
        self._next_run += 1
        color = run_color(self._colors_used)
        self._colors_used += 1
        entry = RunEntry(run_id, self._unique_name(experiment.name), color, experiment)
        self.runs[run_id] = entry
        self.runs_list.add_run(run_id, entry.name, color)
        self.plots.add_run(run_id, entry.name, color)
        self.plots.set_clip_threshold(run_id, experiment.train.grad_clip)
        self.histograms.add_run(run_id, entry.name, color)
        self.training.post("add", run_id, experiment)
        self._plan_x_axis()
        self._update_actions()
        return run_id

    @Slot()
    def add_run_from_form(self) -> None:
        exp = self.form.experiment() if self.form else None
        if exp is None:
            self.statusBar().showMessage("Fix the form first: " + (self.form.error() or ""), 5000)
            return
        run_id = self.add_run(exp)
        self.runs_list.select(run_id)

    def remove_run(self, run_id: str) -> None:
        if run_id not in self.runs:
            return
        del self.runs[run_id]
        self._hidden_histograms.pop(run_id, None)
        self._boundaries_due.pop(run_id, None)
        self._comparison.discard(run_id)
        self.training.post("remove", run_id)
        self.runs_list.remove_run(run_id)
        self.plots.remove_run(run_id)
        self.histograms.remove_run(run_id)
        self.boundary.clear_run(run_id)
        self._plan_x_axis()
        self._update_actions()

    @Slot()
    def remove_selected_run(self) -> None:
        run_id = self.runs_list.selected_run()
        if run_id:
            self.remove_run(run_id)

    def clear_runs(self) -> None:
        for run_id in list(self.runs):
            self.remove_run(run_id)
        self._colors_used = 0  # a fresh set of runs starts from the first colour again

    def selected_run(self) -> RunEntry | None:
        run_id = self.runs_list.selected_run()
        return self.runs.get(run_id) if run_id else None

    def _named(self, run: RunEntry):
        from dataclasses import replace
        return replace(run.experiment, name=run.name)

    @Slot(str)
    def on_run_selected(self, run_id: str) -> None:
        run = self.runs.get(run_id)
        if run is None:
            return
        if self.form is not None:
            self.form.set_experiment(self._named(run))
        self.histograms.select_run(run_id)
        self.boundary.select_run(run_id)
        from engine.data.datasets import DATASETS
        if DATASETS[run.experiment.data.dataset].kind != "plane" and self.tabs.currentWidget() is self.boundary:
            self.tabs.setCurrentWidget(self.histograms)  # no plane to draw: show what there is to see
        self._refresh_status()

    @Slot()
    def on_form_changed(self) -> None:
        """The form is a draft: Add run trains it beside the others, Apply gives it to the selected run."""
        self._update_actions()

    @Slot()
    def apply_form_to_selected(self) -> None:
        run, exp = self.selected_run(), (self.form.experiment() if self.form else None)
        if run is None or exp is None:
            return
        run.experiment = exp
        if exp.name != run.name:
            run.name = self._unique_name(exp.name)
            self.runs_list.item(self.runs_list.run_ids().index(run.run_id), 0).setText(run.name)
            self.plots.rename_run(run.run_id, run.name)
        self._rewind(run, exp)
        self.statusBar().showMessage(f"{run.name}: new settings applied; it starts again from step 0.", 5000)
        self._update_actions()

    @Slot(str, bool)
    def on_visibility(self, run_id: str, visible: bool) -> None:
        self.plots.set_run_visible(run_id, visible)

    @Slot(str, str)
    def on_renamed(self, run_id: str, name: str) -> None:
        run = self.runs.get(run_id)
        if run and name != run.name:
            run.name = name
            self.plots.rename_run(run_id, name)

    def _plan_x_axis(self) -> None:
        """The plots' x axis spans the longest planned run, so it stays still while curves grow."""
        from engine.config import steps_per_epoch
        steps = [r.experiment.total_steps() for r in self.runs.values()]
        epochs = [r.experiment.total_steps() / steps_per_epoch(r.experiment.data.n_train, r.experiment.train.batch_size)
                  for r in self.runs.values()]
        self.plots.set_planned_extent(max(steps, default=0), max(epochs, default=0))

    def _rewind(self, run: RunEntry, experiment=None) -> None:
        """Clear the run's views; with ``experiment`` the Lab gets new settings (and rewinds)."""
        run.generation += 1
        run.status, run.message, run.step, run.epoch, run.rate = RunStatus.QUEUED, "", 0, 0.0, 0.0
        run.log.clear()
        self._hidden_histograms.pop(run.run_id, None)
        self._boundaries_due.pop(run.run_id, None)
        self.plots.clear_run(run.run_id)
        self.histograms.clear_run(run.run_id)
        self.boundary.clear_run(run.run_id)
        self.runs_list.set_status(run.run_id, RunStatus.QUEUED)
        self.runs_list.set_rate(run.run_id, 0.0)
        if experiment is not None:
            self.plots.set_clip_threshold(run.run_id, experiment.train.grad_clip)
            self.training.post("set_experiment", run.run_id, experiment)
            self._plan_x_axis()

    # -- controls ----------------------------------------------------------------------------------------

    @property
    def any_running(self) -> bool:
        """Training was started and not paused, stopped or finished since (the worker may lag a little)."""
        return self._running and any(r.status not in FINAL for r in self.runs.values())

    @Slot()
    def toggle_start(self) -> None:
        if not self.ready:
            return
        if self.any_running:
            self.training.post("pause")
            self._running = False
            self._clock_stop()
        else:
            if not self.runs:
                self.add_run_from_form()
                if not self.runs:
                    return
            selected = self.selected_run()
            draft = self.form.experiment() if self.form else None
            if selected and draft is not None and draft != self._named(selected):
                self.statusBar().showMessage("The form's changes are in no run yet: Add run trains them beside "
                                             "the others, Apply gives them to the selected run.", 8000)
            self.training.post("start")
            self._running = True
            if not self._clock.isValid():
                self._clock.start()
        self._update_actions()

    @Slot()
    def step_once(self) -> None:
        if not self.ready:
            return
        if not self.runs:
            self.add_run_from_form()
        if self.any_running:
            self.toggle_start()
        self.training.post("step_once")

    @Slot()
    def stop_runs(self) -> None:
        self.training.post("stop")
        self._running = False
        self._clock_stop()
        self._update_actions()

    @Slot()
    def reset_runs(self) -> None:
        """Rewind every run: same seed, so the same data and initial weights, a fair restart."""
        if not self.ready:
            return
        self._clock_stop()
        self._elapsed = 0
        self._running = False
        for run in self.runs.values():
            self._rewind(run)
        self.training.post("reset")
        self._table_asked = False
        self._update_actions()

    @Slot(int)
    def on_speed(self, index: int) -> None:
        self.training.post("speed", SPEEDS[index][1])

    def _clock_stop(self) -> None:
        if self._clock.isValid():
            self._elapsed += self._clock.elapsed()
            self._clock.invalidate()

    @Slot()
    def _update_actions(self, *_) -> None:
        valid = bool(self.form and self.form.is_valid())
        has_runs = bool(self.runs)
        self.start_action.setEnabled(self.ready and (has_runs or valid))
        self.start_action.setText("Pause" if self.any_running else "Start")
        self.step_action.setEnabled(self.ready and (has_runs or valid))
        self.stop_action.setEnabled(self.ready and any(r.status in (RunStatus.RUNNING, RunStatus.PAUSED) for r in self.runs.values())
                                    or self._running)
        self.reset_action.setEnabled(self.ready and has_runs)
        self.add_button.setEnabled(self.ready and valid)
        selected = self.selected_run()
        differs = bool(selected and valid and self.form.experiment() != self._named(selected))
        self.apply_button.setEnabled(self.ready and differs)
        self.remove_button.setEnabled(has_runs)

    # -- what the worker sends -----------------------------------------------------------------------------

    @Slot(object)
    def on_updates(self, updates) -> None:
        """Store a batch (cheap), let the loop send the next, and draw in slices (see ``_draw_slice``)."""
        try:
            self._apply_updates(updates)
        finally:
            self.training.worker.acknowledge()
        if not self._draw_timer.isActive():
            self._draw_timer.start()

    def _apply_updates(self, updates) -> None:
        for update in updates:
            run = self.runs.get(update.run_id)
            if run is None or update.generation != run.generation:
                continue  # a removed run, or news from before a reset
            run.status, run.message = update.status, update.message
            run.step, run.epoch, run.rate = update.step, update.epoch, update.steps_per_sec
            run.log.append(update)
            self.plots.append(update, draw=False)
            if update.histograms:
                self._hidden_histograms.setdefault(update.run_id, []).extend(update.histograms)
            if update.boundary is not None:
                self._boundaries_due[update.run_id] = update.boundary
            self.runs_list.set_status(update.run_id, update.status, self._status_tip(update))
            self.runs_list.set_rate(update.run_id, update.steps_per_sec if update.status == RunStatus.RUNNING else 0.0)
        if self._comparison and any(u.run_id in self._comparison and len(u.evals) for u in updates):
            self._feed_comparison()
        if all(r.status in FINAL for r in self.runs.values()):
            self._running = False
            self._clock_stop()
            self._ask_lesson_table()
        self._update_actions()

    def _feed_comparison(self) -> None:
        """The Regularization lab's bars follow its runs' latest evaluation, live, to the final one."""
        from engine.labs.regularization import ComparisonRow
        rows, curves = [], {}
        for run_id in self._comparison:
            run = self.runs.get(run_id)
            if run is not None and run.log.evals:
                last = run.log.evals[-1]
                rows.append(ComparisonRow(run.name, float(last.train_acc[-1]), float(last.val_acc[-1])))
                curves[run.name] = tuple(np.concatenate([getattr(e, k) for e in run.log.evals])
                                         for k in ("step", "train_acc", "val_acc"))
        lab = self.lab("regularization")
        lab.show_results(rows)
        lab.show_gap_curves(curves)

    @Slot()
    def _draw_slice(self) -> None:
        """Draw one view per event-loop turn, so Qt paints it before the next one is touched.

        Drawing a whole batch at once (four plots, the boundary, the histograms)
        made one turn of the event loop last up to ~150 ms here, which a class
        sees as a stutter of the whole window; one view per turn keeps each turn
        short, and the points of batches that arrive meanwhile are merged into
        the next drawing instead of queued.  A round visits every view once;
        ``batches_drawn`` counts the rounds that drew something.
        """
        while self._slice < len(DRAW_ROUND):
            view = DRAW_ROUND[self._slice]
            self._slice += 1
            if self._due(view):
                self._draw(view)
                self._drew_in_round = True
                self._draw_timer.start()
                return
        self._slice = 0
        if self._drew_in_round:
            self._drew_in_round = False
            self.batches_drawn += 1
        if any(self._due(view) for view in DRAW_ROUND):
            self._draw_timer.start()

    def _due(self, view: str) -> bool:
        if view == "boundary":
            return bool(self._boundaries_due)
        if view == "weights":
            return self._histograms_due()
        return view in self.plots.pending_plots()

    def _draw(self, view: str) -> None:
        if view == "boundary":
            self._draw_boundaries()
        elif view == "weights":
            self._feed_histograms()
        else:
            self.plots.draw_pending(view)

    def _draw_boundaries(self) -> None:
        due, self._boundaries_due = self._boundaries_due, {}
        for run_id, boundary in due.items():
            if run_id in self.runs:
                self.boundary.show(run_id, boundary)

    def flush_drawing(self) -> None:
        """Draw everything stored at once: an exported file shows every point received."""
        for key in self.plots.pending_plots():
            self.plots.draw_pending(key)
        self._draw_boundaries()
        self._feed_histograms()

    def _ask_lesson_table(self) -> None:
        """The BatchNorm lesson ends with a table the engine computes from the trained network."""
        if self._lesson == "batchnorm-eval" and not self._table_asked:
            run = next((r for r in self.runs.values() if r.status == RunStatus.FINISHED), None)
            if run is not None:
                self._table_asked = True
                self.training.post("inspect", "batchnorm", run.run_id)

    @Slot(str, str, object)
    def on_inspection(self, name: str, run_id: str, rows) -> None:
        if name != "batchnorm" or self._lesson != "batchnorm-eval":
            return
        cells = "".join(f"<tr><td>{r.batching}</td>"
                        f"<td>{r.composition}</td><td align='right'>{r.running:.1%}</td>"
                        f"<td align='right'>{r.batch:.1%}</td></tr>" for r in rows)
        self.lesson_text.setText(
            self._lesson_html + "<br><table cellspacing='6'><tr><th align='left'>test batch</th>"
            "<th align='left'>made of</th><th>running statistics</th><th>batch statistics</th></tr>"
            f"{cells}</table>")

    @Slot(int)
    def _on_tab(self, _index: int) -> None:
        self._feed_histograms()

    def _feed_histograms(self) -> None:
        """Histogram events go to the Weights tab when it is on screen; while it is hidden they wait.

        Its redraw is the costliest of the window's (a heatmap and a histogram per
        update), and nobody sees it while another tab is shown; the events are
        kept, so the heatmap over time is complete when the tab is opened.
        """
        if not self._histograms_due():
            return
        from engine.training.updates import EMPTY_EVALS, EMPTY_STEPS, RunUpdate
        for run_id, events in self._hidden_histograms.items():
            run = self.runs.get(run_id)
            if run is not None:
                self.histograms.append(RunUpdate(run_id, run.status, run.message, run.step, run.epoch, run.rate,
                                                 EMPTY_STEPS, EMPTY_EVALS, tuple(events), generation=run.generation))
        self._hidden_histograms.clear()

    def _histograms_due(self) -> bool:
        return self.tabs.currentWidget() is self.histograms and bool(self._hidden_histograms)

    @staticmethod
    def _status_tip(update) -> str:
        if update.status in FINAL:
            return update.message
        return f"{update.status}: step {update.step}"

    @Slot(str, int, object)
    def on_data(self, run_id: str, generation: int, split) -> None:
        run = self.runs.get(run_id)
        if run is not None and generation == run.generation:
            self.boundary.set_data(run_id, split)

    def _refresh_status(self) -> None:
        run = self.selected_run() or next(iter(self.runs.values()), None)
        elapsed = self._elapsed + (self._clock.elapsed() if self._clock.isValid() else 0)
        seconds = elapsed // 1000
        self.status_labels["step"].setText(f"step {run.step:,}" if run else "step –")
        self.status_labels["epoch"].setText(f"epoch {run.epoch:.2f}" if run else "epoch –")
        self.status_labels["elapsed"].setText(f"elapsed {seconds // 60}:{seconds % 60:02d}")
        total = sum(r.rate for r in self.runs.values() if r.status == RunStatus.RUNNING)
        self.status_labels["rate"].setText(f"{total:,.0f} steps/s")

    # -- the lesson labs ------------------------------------------------------------------------------------

    @Slot(int)
    def _on_lab(self, index: int) -> None:
        # Space, S and R belong to the training lab: in a lesson lab Space must not start hidden runs
        # (the toolbar's buttons still work from every tab, training goes on in the background).
        on_training = index == 0
        for action in (self.start_action, self.step_action, self.reset_action):
            action.setShortcut(action.data() if on_training else QKeySequence())
        self._place_note()
        holder = self.labs.widget(index)
        if isinstance(holder, LabHolder) and self.ready:
            self.lab(holder.info.key)

    def lab(self, key: str) -> QWidget:
        """The lab of that key, built now if it was not yet (the window must be ready: torch loaded)."""
        if not self.ready:
            raise RuntimeError("the labs are built once torch has loaded (window.ready)")
        holder = self.lab_holders[key]
        if holder.lab is None:
            self._style_lab(holder.fill(self))
        return holder.lab

    def show_lab(self, key: str) -> QWidget:
        lab = self.lab(key)
        self.labs.setCurrentWidget(self.lab_holders[key])
        return lab

    def form_experiment(self):
        """The training form's experiment, or None while the form is loading or invalid (the labs read it)."""
        return self.form.experiment() if self.form is not None else None

    @Slot(float)
    def use_learning_rate(self, lr: float) -> None:
        """The finder's pick goes into the training form (the draft), shown at once."""
        exp = self.form_experiment()
        if exp is None:
            self.statusBar().showMessage("Fix the form first: the learning rate goes into a valid experiment.", 6000)
            return
        self.form.set_experiment(exp.replace(optimizer={"lr": float(lr)}))
        self.form.reveal("optimizer.lr")
        self.labs.setCurrentIndex(0)
        self.statusBar().showMessage(f"Learning rate {lr:.3g} from the finder is in the form: "
                                     "Add run or Apply to train with it.", 8000)

    @Slot(object)
    def show_experiment_in_form(self, experiment) -> None:
        """A lab's experiment (the finder's preset) in the form, so what the lab sweeps is what the form shows."""
        if self.form is not None:
            self.form.set_experiment(experiment)

    def train_set(self, experiments, title: str) -> None:
        """Replace the runs by ``experiments`` and train them side by side in the training lab."""
        if self.any_running:
            self.toggle_start()
        self.clear_runs()
        self._elapsed = 0
        self._lesson = None
        if self._question is None:      # a question stays up while its runs train (question 3)
            self._show_note(None)
        for exp in experiments:
            self.add_run(exp)
        self.runs_list.select(next(iter(self.runs)))
        self.labs.setCurrentIndex(0)
        self.toggle_start()
        self.statusBar().showMessage(f"{title}: {len(experiments)} runs training side by side.", 6000)

    @Slot(object)
    def race(self, experiments) -> None:
        self.train_set(experiments, "Schedule race")

    @Slot(object)
    def compare_regularization(self, experiments) -> None:
        self.train_set(experiments, "Regularization comparison")
        self._comparison = set(self.runs)

    # -- lessons --------------------------------------------------------------------------------------------

    def load_preset(self, name: str) -> None:
        from engine.lessons.presets import PRESETS
        preset = PRESETS[name]
        if self.any_running:
            self.toggle_start()
        self.clear_runs()
        self._elapsed = 0
        for exp in preset.runs:
            self.add_run(exp)
        self._lesson, self._table_asked, self._question = name, False, None
        self._show_note(f"<b>{preset.title}</b><br>{preset.lesson}")
        self.runs_list.select(next(iter(self.runs)))
        self.labs.setCurrentIndex(0)     # a lesson's runs train in the training lab
        self.statusBar().showMessage(f"Lesson loaded: {preset.title}. Press Space to train.", 6000)

    @Slot()
    def hide_lesson(self) -> None:
        self._question = None
        self._show_note(None)

    def _show_note(self, html: str | None) -> None:
        """The words above the tabs (None: none): a lesson's, or a question's."""
        self._note_wanted = html is not None
        if html is not None:
            self._lesson_html = html
            self.lesson_text.setText(html)
        self._place_note()

    def _place_note(self) -> None:
        """A lesson's words go with its runs, on the Training tab; a question's stay on every tab."""
        on_training = self.labs.currentIndex() == 0
        self.lesson_panel.setVisible(self._note_wanted and (self._question is not None or on_training))

    def open_question(self, key: str) -> None:
        """Open what a question of the lesson is about, and show the question above it."""
        from gui.labs.questions import QUESTIONS
        question = next(q for q in QUESTIONS if q.key == key)
        question.open(self)     # may load a lesson's runs, which shows that lesson: the question goes on top
        self._question = key
        self._show_note(f"<b>{question.title}</b><br>{question.text}<br><i>What to look at:</i> {question.look}")

    # -- files --------------------------------------------------------------------------------------------

    def _ask_path(self, title: str, filters: str, save: bool) -> Path | None:
        start = self.settings.value("last/folder", str(Path.home()))
        if save:
            path, _ = QFileDialog.getSaveFileName(self, title, start, filters)
        else:
            path, _ = QFileDialog.getOpenFileName(self, title, start, filters)
        if not path:
            return None
        self.settings.setValue("last/folder", str(Path(path).parent))
        return Path(path)

    @Slot()
    def open_file(self, path: Path | None = None) -> bool:
        path = path or self._ask_path("Open experiment", "Experiments (*.json);;All files (*)", save=False)
        if path is None:
            return False
        from engine.experiment import ExperimentError, load_run_list
        try:
            experiments = load_run_list(path)
        except ExperimentError as err:
            QMessageBox.warning(self, "Cannot open this file", f"{err}\n\nNothing was changed.")
            return False
        self.clear_runs()
        self._lesson = self._question = None
        self._show_note(None)
        for exp in experiments:
            self.add_run(exp)
        self.runs_list.select(next(iter(self.runs)))
        self.statusBar().showMessage(f"Opened {path.name}: {len(experiments)} run(s).", 5000)
        return True

    @Slot()
    def save_experiment(self, path: Path | None = None) -> bool:
        exp = self.form.experiment() if self.form else None
        if exp is None:
            QMessageBox.warning(self, "Cannot save", "The form has an error: " + (self.form.error() or ""))
            return False
        path = path or self._ask_path("Save experiment", "Experiments (*.json)", save=True)
        if path is None:
            return False
        from engine.experiment import save_experiment
        save_experiment(exp, path)
        return True

    @Slot()
    def save_run_list(self, path: Path | None = None) -> bool:
        if not self.runs:
            return False
        path = path or self._ask_path("Save run list", "Run lists (*.json)", save=True)
        if path is None:
            return False
        from engine.experiment import save_run_list
        save_run_list([self._named(r) for r in self.runs.values()], path)
        return True

    @Slot()
    def export_csv(self, path: Path | None = None) -> bool:
        run = self.selected_run()
        if run is None:
            return False
        path = path or self._ask_path("Export metrics", "CSV (*.csv)", save=True)
        if path is None:
            return False
        from engine.files import write_text_atomic
        write_text_atomic(path, run.log.to_csv())
        return True

    def export_plot(self, key: str, path: Path | None = None) -> bool:
        """PNG through pyqtgraph's ImageExporter; SVG through Qt's own QSvgGenerator.

        pyqtgraph 0.14's SVGExporter cannot parse the path data Qt 6.11 writes
        (pyqtgraph issue #3485: "not enough values to unpack"), so SVG is
        rendered by Qt directly: still vector, and it cannot fail that way.
        """
        path = path or self._ask_path("Export plot", "PNG image (*.png);;SVG image (*.svg)", save=True)
        if path is None:
            return False
        self.flush_drawing()   # the file shows every point received, not the last drawn round
        if key in self.plots.plot_widgets():
            with self.plots.exporting(key) as widget:
                self._write_plot(widget, key, path)
        else:
            self._write_plot(self._plot_widget(key), key, path)
        return True

    @staticmethod
    def _write_plot(widget, key: str, path: Path) -> None:
        if path.suffix.lower() == ".svg":
            from PySide6.QtCore import QRect, QSize
            from PySide6.QtGui import QPainter
            from PySide6.QtSvg import QSvgGenerator
            generator = QSvgGenerator()
            generator.setFileName(str(path))
            generator.setSize(QSize(widget.width(), widget.height()))
            generator.setViewBox(QRect(0, 0, widget.width(), widget.height()))
            generator.setTitle(f"Descent Lab: {key}")
            painter = QPainter(generator)
            try:
                widget.render(painter)
            finally:
                painter.end()
        else:
            import pyqtgraph.exporters as exporters
            exporter = exporters.ImageExporter(widget.getPlotItem())
            exporter.parameters()["width"] = max(1200, int(widget.width()))
            exporter.export(str(path))

    # -- look --------------------------------------------------------------------------------------------

    @Slot()
    def toggle_presenter(self) -> None:
        self._presenter = self.presenter_action.isChecked()
        self.apply_look()

    def set_dark(self, dark: bool) -> None:
        self._dark = dark
        self.apply_look()

    def apply_look(self) -> None:
        theme = pick(self._dark, self._presenter)
        apply_theme(QApplication.instance(), theme, self._presenter)
        widgets = list(self.plots.plot_widgets().values()) + list(self.histograms.plot_widgets().values())
        widgets.append(self.boundary.plot_widget())
        if self.form is not None and hasattr(self.form, "preview_plot"):
            widgets.append(self.form.preview_plot())
        for widget in widgets:
            style_plot(widget, theme, self._presenter)
        self.plots.set_line_width(PRESENTER_LINE_WIDTH if self._presenter else LINE_WIDTH)
        for holder in self.lab_holders.values():
            if holder.lab is not None:
                self._style_lab(holder.lab)

    def _style_lab(self, lab: QWidget) -> None:
        """A lesson lab in the window's look: its plots styled, and its own colours if it has any."""
        import pyqtgraph as pg
        theme = pick(self._dark, self._presenter)
        for widget in lab.findChildren(pg.PlotWidget):
            style_plot(widget, theme, self._presenter)
        if hasattr(lab, "apply_theme"):
            lab.apply_theme(theme, self._presenter)

    # -- closing --------------------------------------------------------------------------------------------

    def closeEvent(self, event) -> None:
        self.save_settings()
        self._status_timer.stop()
        for holder in self.lab_holders.values():    # the labs' timers and background jobs
            if holder.lab is not None and hasattr(holder.lab, "shutdown"):
                holder.lab.shutdown()
        from gui.concurrency.jobs import TaskRunner
        for runner in self.findChildren(TaskRunner):
            runner.shutdown(3000)
        # While torch is still loading the import cannot be interrupted: give it the time it needs.
        if not self.training.shutdown(1000 if self.ready else 15000):
            self.training.shutdown(15000)
        super().closeEvent(event)
