"""The Training tab: the form on the left, live plots in the centre, runs side by side.

A thin view: the engine (``engine.training.session.Lab``, driven by
``gui.concurrency.training``) trains; this tab keeps the window's record of each
run (:class:`RunEntry`), turns the teacher's clicks into commands for the
training thread (``post(command, *args)``) and its batched updates into curves,
drawn one view per event-loop turn (:class:`DrawScheduler`).  torch is loaded by
the training thread; until it is ready the form column shows a short "loading"
line and the tab is already there to look at.

The window composes it: its toolbar (``gui.shell.toolbar``) starts, pauses,
steps and resets the runs kept here; the lesson panel and the labs hear the
tab's signals.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget

from engine.status import FINAL, RunStatus
from engine.training.metrics_files import MetricsLog
from engine.training.results import ResultsBook
from gui.platform.paths import user_data_dir
from gui.style.palette import run_color
from gui.style.theme import LINE_WIDTH, PRESENTER_LINE_WIDTH, style_plot
from gui.training.boundary import BoundaryView
from gui.training.drafts import FormDrafts
from gui.training.drawing import DrawScheduler
from gui.training.engine_link import EngineLink
from gui.training.histograms import HistogramView
from gui.training.metric_plots import MetricPlots
from gui.training.results import ResultsTable
from gui.training.run_menu import RunMenu
from gui.training.runs_list import RunsList


def spill_folder() -> Path:
    """Where a run's steps are kept on disk while the window shows it (``MetricsLog``): ``spill`` in the
    user data folder (``gui.platform.paths``), beside the app's log, rather than a small system ``/tmp``."""
    return user_data_dir() / "spill"


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
    log: MetricsLog = field(default_factory=lambda: MetricsLog(spill_folder()))
    records: tuple = ()                      # once it has ended: each member's RunRecord (a lesson's claim reads them)

    def absorb(self, update) -> None:
        """An update of this run (``engine.training.updates.RunUpdate``): its state, its points into the log,
        and, in the one that ends it, its members' records."""
        self.status, self.message = update.status, update.message
        self.step, self.epoch, self.rate = update.step, update.epoch, update.steps_per_sec
        self.log.append(update)
        if update.records:
            self.records = update.records

    def named(self):
        """The run's experiment under the run's own name (the teacher may have renamed the run)."""
        return replace(self.experiment, name=self.name)


class TrainingTab(QSplitter):
    """The form and the runs list on the left, the plots and the boundary/weights tabs on the right.

    :meth:`attach` connects it to a ``TrainingThread``.  Its signals:
    ``form_ready``, torch has loaded and the form is built; ``controls_changed``,
    the runs or the form changed (the toolbar's buttons follow); ``message``, a
    line for the status bar (text, milliseconds); ``evaluated``, the ids of the
    runs a batch brought new evaluations for; ``runs_ended``, the runs, each time
    an update finds them all ended; ``inspected``, an inspection's result (name,
    run id, result).
    """

    form_ready = Signal()
    controls_changed = Signal()
    message = Signal(str, int)
    evaluated = Signal(object)          # set[str] of run ids
    runs_ended = Signal(object)         # list[RunEntry]
    inspected = Signal(str, str, object)
    engine_restarted = Signal(bool)     # a fresh training process has every run; True: Start asked for it

    def __init__(self, parent: QWidget | None = None):
        super().__init__(Qt.Horizontal, parent)
        self.runs: dict[str, RunEntry] = {}
        self._next_run = 1
        self._colors_used = 0
        self.form = None
        self.ready = False
        self.training = None
        self.drafts = FormDrafts()             # the form's unsaved edits of each run
        self._build()
        self.link = EngineLink(self)
        self.run_menu = RunMenu(self)           # the run list's right-click menu
        self.drawing = DrawScheduler(self)

    def _build(self) -> None:
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
        self.add_button = self._button("Add run", self.add_run_from_form,
                                       "Copy the form into a new run, trained side by side with the others "
                                       "on the same data and seed.")
        self.apply_button = self._button("Apply", self.apply_form_to_selected,
                                         "Give the selected run the form's settings and rewind it to its start.")
        self.remove_button = self._button("Remove", self.remove_selected_run, "Remove the selected run.")
        buttons.addWidget(QLabel("<b>Runs</b>"))
        buttons.addStretch(1)
        for button in (self.add_button, self.apply_button, self.remove_button):
            buttons.addWidget(button)
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
        self.results = ResultsTable()
        self.results_book = ResultsBook()        # each run's row, read on from the evaluations not yet seen
        self.results.copied.connect(lambda text: self.message.emit(
            f"Copied {text.count(chr(10)) - 1} runs' results as CSV: paste them into a spreadsheet.", 5000))
        self.tabs.addTab(self.results, "Results")
        self.tabs.currentChanged.connect(self._on_tab)
        self.centre = QSplitter(Qt.Horizontal)
        self.centre.addWidget(self.plots)
        self.centre.addWidget(self.tabs)
        self.centre.setStretchFactor(0, 3)
        self.centre.setStretchFactor(1, 2)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.centre, 1)

        self.addWidget(self.left)
        self.addWidget(right)
        self.setStretchFactor(0, 0)
        self.setStretchFactor(1, 1)
        self.setSizes([380, 1000])

    @staticmethod
    def _button(text: str, slot, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def attach(self, training) -> None:
        """Train through ``training`` (a ``gui.concurrency.training.TrainingThread``): see ``EngineLink``."""
        self.training = training
        self.link.attach(training)

    @property
    def engine_lost(self) -> str:
        """Why the training process died ("" while it lives)."""
        return self.link.lost

    def restart_engine(self) -> None:
        """A fresh training process (after a death): every run is given to it again, and they start."""
        self.link.restart()

    # -- what the worker sends -----------------------------------------------------------------------

    def build_form(self) -> None:
        """torch is loaded: build the form (then ``form_ready``: the window brings back the last runs)."""
        from gui.training.form import ExperimentForm
        self.form = ExperimentForm()
        self.form.changed.connect(self.on_form_changed)
        self.form.validity_changed.connect(self.update_controls)
        self.loading.hide()
        self.form_holder.layout().addWidget(self.form)
        self.ready = True
        self.form_ready.emit()

    @Slot(str, str)
    def inspect(self, name: str, run_id: str) -> None:
        """Ask the training process for an inspection of a trained run (``engine.labs.INSPECTIONS``)."""
        self.training.post("inspect", name, run_id)

    @Slot(str, int, object)
    def on_data(self, run_id: str, generation: int, split) -> None:
        run = self.runs.get(run_id)
        if run is not None and generation == run.generation:
            self.boundary.set_data(run_id, split)

    @Slot(object)
    def on_updates(self, updates) -> None:
        """Store a batch (cheap), let the loop send the next, and draw in slices (see ``DrawScheduler``)."""
        try:
            self._apply_updates(updates)
        finally:
            self.training.worker.acknowledge()
        self.drawing.schedule()

    def _apply_updates(self, updates) -> None:
        evaluated: set[str] = set()
        for update in updates:
            run = self.runs.get(update.run_id)
            if run is None or update.generation != run.generation:
                continue  # a removed run, or news from before a reset
            run.absorb(update)
            if note := run.log.take_note():     # its steps could not go to the data folder: said once a run
                self.message.emit(note, 15000)
            self.plots.append(update, draw=False)
            self.drawing.store(update)
            if len(update.evals):
                evaluated.add(update.run_id)
            self.runs_list.set_status(update.run_id, update.status, self._status_tip(update))
            self.runs_list.set_rate(update.run_id, update.steps_per_sec * (update.status == RunStatus.RUNNING), update.members)
        if evaluated:
            self.evaluated.emit(evaluated)
        if all(r.status in FINAL for r in self.runs.values()):
            self.runs_ended.emit(list(self.runs.values()))
        self.update_controls()

    @staticmethod
    def _status_tip(update) -> str:
        if update.status in FINAL:
            return update.message
        return f"{update.status}: step {update.step}"

    def flush_drawing(self) -> None:
        """Draw everything stored at once: an exported file shows every point received."""
        self.drawing.flush()

    @Slot(int)
    def _on_tab(self, _index: int) -> None:
        self.drawing.feed_histograms()
        self.show_results()

    def show_results(self) -> None:
        """The Results tab's rows, when it is on screen (else when it is opened)."""
        if self.tabs.currentWidget() is self.results:
            self.results_book.keep_only(self.runs)
            self.results.show_results([self.results_book.result(r.run_id, r.generation, r.name, r.status, r.step,
                                                                 r.log.evals) for r in self.runs.values()])

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
        self.update_controls()
        return run_id

    def set_runs(self, experiments) -> None:
        """The runs become one per experiment (at least one), the first selected."""
        self.clear_runs()
        for exp in experiments:
            self.add_run(exp)
        self.runs_list.select(next(iter(self.runs)))

    def restore_runs(self, experiments) -> None:
        """Bring back the last session's runs; none (a first start): one run of the form's defaults."""
        if not experiments and self.form.experiment() is not None:
            experiments = [self.form.experiment()]   # ready for Space
        for exp in experiments:
            self.add_run(exp)
        if experiments:
            self.form.set_experiment(experiments[0])
            self.runs_list.select(next(iter(self.runs)))

    @Slot()
    def add_run_from_form(self) -> None:
        exp = self.form.experiment() if self.form else None
        if exp is None:
            self.message.emit("Fix the form first: " + (self.form.error() or ""), 5000)
            return
        run_id = self.add_run(exp)
        self.drafts.shown = None            # the form's edits are the new run now, no other run's draft
        self.runs_list.select(run_id)

    def remove_run(self, run_id: str) -> None:
        if run_id not in self.runs:
            return
        del self.runs[run_id]
        self.drafts.drop(run_id)
        self.drawing.forget(run_id)
        self.training.post("remove", run_id)
        self.runs_list.remove_run(run_id)
        self.plots.remove_run(run_id)
        self.histograms.remove_run(run_id)
        self.boundary.remove_run(run_id)
        self._plan_x_axis()
        self.update_controls()

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

    def experiments(self) -> list:
        """Every run's experiment under its run's name, in the list's order (what a run list saves)."""
        return [r.named() for r in self.runs.values()]

    @Slot(str)
    def on_run_selected(self, run_id: str) -> None:
        """The form shows the run's settings, or the edits it was left with (kept, never lost)."""
        run = self.runs.get(run_id)
        if run is None:
            return
        if self.form is not None:
            left = self.keep_draft()
            draft = self.drafts.show(run_id)
            self.form.set_experiment(draft or run.named())
            if draft is not None:
                self.message.emit(f"Your unsaved changes to {run.name} are back in the form.", 6000)
            elif left:
                self.message.emit(f"Your changes to {left} are kept: select it again to get them back.", 6000)
        self.histograms.select_run(run_id)
        self.boundary.select_run(run_id)
        from engine.data.datasets import DATASETS
        if DATASETS[run.experiment.data.dataset].kind != "plane" and self.tabs.currentWidget() is self.boundary:
            self.tabs.setCurrentWidget(self.histograms)  # no plane to draw: show what there is to see

    def keep_draft(self) -> str | None:
        """Keep the form's edits of the run it shows (``FormDrafts``); that run's name if it had any."""
        return self.drafts.keep(self.form, self.runs)

    @Slot()
    def on_form_changed(self) -> None:
        """The form is a draft: Add run trains it beside the others, Apply gives it to the selected run."""
        self.update_controls()

    @Slot()
    def apply_form_to_selected(self) -> None:
        run, exp = self.selected_run(), (self.form.experiment() if self.form else None)
        if run is None or exp is None:
            return
        run.experiment = exp
        self.drafts.drop(run.run_id)
        if exp.name != run.name:
            run.name = self._unique_name(exp.name)
            self.runs_list.item(self.runs_list.run_ids().index(run.run_id), 0).setText(run.name)
            self.plots.rename_run(run.run_id, run.name)
        self.rewind(run, exp)
        self.message.emit(f"{run.name}: new settings applied; it starts again from step 0.", 5000)
        self.update_controls()

    @Slot(str, bool)
    def on_visibility(self, run_id: str, visible: bool) -> None:
        self.plots.set_run_visible(run_id, visible)

    @Slot(str, str)
    def on_renamed(self, run_id: str, name: str) -> None:
        run = self.runs.get(run_id)
        if run and name != run.name:
            run.name = name
            self.plots.rename_run(run_id, name)
            self.show_results()

    def _plan_x_axis(self) -> None:
        """The plots' x axis spans the longest planned run, so it stays still while curves grow."""
        plans = [r.experiment for r in self.runs.values()]
        self.plots.set_planned_extent(max((e.total_steps() for e in plans), default=0),
                                      max((e.total_epochs() for e in plans), default=0))

    def rewind(self, run: RunEntry, experiment=None) -> None:
        """Clear the run's views; with ``experiment`` the Lab gets new settings (and rewinds)."""
        run.generation += 1
        run.status, run.message, run.step, run.epoch, run.rate = RunStatus.QUEUED, "", 0, 0.0, 0.0
        run.log.clear()
        run.records = ()
        self.drawing.forget(run.run_id)
        self.plots.clear_run(run.run_id)
        self.histograms.clear_run(run.run_id)
        self.boundary.clear_run(run.run_id)
        self.runs_list.set_status(run.run_id, RunStatus.QUEUED)
        self.runs_list.set_rate(run.run_id, 0.0)
        if experiment is not None:
            self.plots.set_clip_threshold(run.run_id, experiment.train.grad_clip)
            self.training.post("set_experiment", run.run_id, experiment)
            self._plan_x_axis()

    def rewind_runs(self) -> None:
        """Every run back to its start in the views (the toolbar's Reset then tells the Lab)."""
        for run in self.runs.values():
            self.rewind(run)
        self.update_controls()

    @Slot()
    def update_controls(self, *_) -> None:
        valid = bool(self.form and self.form.is_valid())
        self.add_button.setEnabled(self.ready and valid)
        selected = self.selected_run()
        differs = bool(selected and valid and self.form.experiment() != selected.named())
        self.apply_button.setEnabled(self.ready and differs)
        self.remove_button.setEnabled(bool(self.runs))
        self.show_results()
        self.controls_changed.emit()

    # -- look --------------------------------------------------------------------------------------------

    @property
    def form_folded(self) -> bool:
        """The form column (the form and the runs list) is folded away: the plots have the tab's width."""
        return self.left.isHidden()

    def set_form_folded(self, folded: bool) -> None:
        """Fold the form column away (presenter mode on a projector) or bring it back at its last width."""
        self.left.setVisible(not folded)

    def apply_look(self, theme, presenter: bool) -> None:
        """Every plot of the tab in the window's theme and line width (the form's schedule preview follows
        the palette by itself: gui/training/form/preview.py)."""
        widgets = list(self.plots.plot_widgets().values()) + list(self.histograms.plot_widgets().values())
        widgets.append(self.boundary.plot_widget())
        for widget in widgets:
            style_plot(widget, theme, presenter)
        self.plots.set_line_width(PRESENTER_LINE_WIDTH if presenter else LINE_WIDTH)
