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

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget

from engine.status import FINAL, RunStatus
from engine.training.updates import MetricsLog
from gui.style.palette import run_color
from gui.style.theme import LINE_WIDTH, PRESENTER_LINE_WIDTH, style_plot
from gui.training.boundary import BoundaryView
from gui.training.histograms import HistogramView
from gui.training.metric_plots import PLOTS, MetricPlots
from gui.training.runs_list import RunsList


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

    def named(self):
        """The run's experiment under the run's own name (the teacher may have renamed the run)."""
        return replace(self.experiment, name=self.name)


# The views one drawing round visits, one per event-loop turn (DrawScheduler.draw_slice).
DRAW_ROUND = (*(info.key for info in PLOTS), "boundary", "weights")


class DrawScheduler(QObject):
    """Draws what the updates brought one view per event-loop turn, so Qt paints it before the next.

    Drawing a whole batch at once (four plots, the boundary, the histograms)
    made one turn of the event loop last up to ~150 ms here, which a class
    sees as a stutter of the whole window; one view per turn keeps each turn
    short, and the points of batches that arrive meanwhile are merged into
    the next drawing instead of queued.  A round visits every view once;
    ``batches_drawn`` counts the rounds that drew something (the benchmark
    reads the refresh rate from it).
    """

    def __init__(self, tab: "TrainingTab"):
        super().__init__(tab)
        self.tab = tab
        self.batches_drawn = 0
        self.boundaries_due: dict[str, object] = {}      # newest boundary per run, not drawn yet
        self.hidden_histograms: dict[str, list] = {}     # events waiting for the Weights tab
        self._slice = 0                                  # where the drawing round stands
        self._drew_in_round = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.draw_slice)

    def store(self, update) -> None:
        """Keep what of ``update`` is drawn later: its histograms and its newest boundary."""
        if update.histograms:
            self.hidden_histograms.setdefault(update.run_id, []).extend(update.histograms)
        if update.boundary is not None:
            self.boundaries_due[update.run_id] = update.boundary

    def schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def forget(self, run_id: str) -> None:
        self.hidden_histograms.pop(run_id, None)
        self.boundaries_due.pop(run_id, None)

    @Slot()
    def draw_slice(self) -> None:
        while self._slice < len(DRAW_ROUND):
            view = DRAW_ROUND[self._slice]
            self._slice += 1
            if self._due(view):
                self._draw(view)
                self._drew_in_round = True
                self._timer.start()
                return
        self._slice = 0
        if self._drew_in_round:
            self._drew_in_round = False
            self.batches_drawn += 1
        if any(self._due(view) for view in DRAW_ROUND):
            self._timer.start()

    def _due(self, view: str) -> bool:
        if view == "boundary":
            return bool(self.boundaries_due)
        if view == "weights":
            return self._histograms_due()
        return view in self.tab.plots.pending_plots()

    def _draw(self, view: str) -> None:
        if view == "boundary":
            self.draw_boundaries()
        elif view == "weights":
            self.feed_histograms()
        else:
            self.tab.plots.draw_pending(view)

    def draw_boundaries(self) -> None:
        due, self.boundaries_due = self.boundaries_due, {}
        for run_id, boundary in due.items():
            if run_id in self.tab.runs:
                self.tab.boundary.show(run_id, boundary)

    def feed_histograms(self) -> None:
        """Histogram events go to the Weights tab when it is on screen; while it is hidden they wait.

        Its redraw is the costliest of the window's (a heatmap and a histogram per
        update), and nobody sees it while another tab is shown; the events are
        kept, so the heatmap over time is complete when the tab is opened.
        """
        if not self._histograms_due():
            return
        from engine.training.updates import EMPTY_EVALS, EMPTY_STEPS, RunUpdate
        for run_id, events in self.hidden_histograms.items():
            run = self.tab.runs.get(run_id)
            if run is not None:
                self.tab.histograms.append(RunUpdate(run_id, run.status, run.message, run.step, run.epoch, run.rate,
                                                     EMPTY_STEPS, EMPTY_EVALS, tuple(events),
                                                     generation=run.generation))
        self.hidden_histograms.clear()

    def _histograms_due(self) -> bool:
        return self.tab.tabs.currentWidget() is self.tab.histograms and bool(self.hidden_histograms)

    def flush(self) -> None:
        """Draw everything stored at once: an exported file shows every point received."""
        for key in self.tab.plots.pending_plots():
            self.tab.plots.draw_pending(key)
        self.draw_boundaries()
        self.feed_histograms()


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
        self.engine_lost = ""               # why the training process died; "" while it lives
        self._start_when_ready = False
        self._build()
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
        """Train through ``training`` (a ``gui.concurrency.training.TrainingThread``) and hear its worker."""
        self.training = training
        self._hear(training.worker)

    def _hear(self, worker) -> None:
        worker.ready.connect(self.on_ready)
        worker.updates.connect(self.on_updates)
        worker.data_ready.connect(self.on_data)
        worker.failed.connect(self.on_worker_failed)
        worker.inspected.connect(self.on_inspection)
        worker.died.connect(self.on_engine_died)

    @Slot(str)
    def on_engine_died(self, why: str) -> None:
        """The training process is gone: say so in one line, end the runs it held; Start brings a new one."""
        self.engine_lost = why
        for run in self.runs.values():
            if run.status not in FINAL:
                run.status, run.message = RunStatus.ERROR, why
                self.runs_list.set_status(run.run_id, RunStatus.ERROR, why)
                self.runs_list.set_rate(run.run_id, 0.0)
        line = f"{why[0].upper()}{why[1:]}: press Start for a fresh one (the runs are kept)."
        self.loading.setText(line)
        self.message.emit(line, 0)
        if self.runs:
            self.runs_ended.emit(list(self.runs.values()))
        self._update_controls()

    def restart_engine(self) -> None:
        """A fresh training process; when it is ready every run is given to it again, and they start."""
        self.engine_lost = ""
        self._start_when_ready = True
        self.ready = False                      # until the fresh process says it is
        self.loading.setText("Starting a fresh training process…")
        self.message.emit("Starting a fresh training process…", 0)
        self._hear(self.training.restart())
        self.training.start()
        self._update_controls()

    # -- what the worker sends -----------------------------------------------------------------------

    @Slot()
    def on_ready(self) -> None:
        """torch is loaded: build the form (then ``form_ready``: the window brings back the last runs)."""
        if self.form is not None:               # a fresh process after a death: it gets every run again
            for run in self.runs.values():
                self._rewind(run)
                run.generation = 0              # the fresh process counts its runs' generations from 0
                self.training.post("add", run.run_id, run.experiment)
            self.ready = True
            self.message.emit("A fresh training process is ready.", 5000)
            self.engine_restarted.emit(self._start_when_ready)
            self._start_when_ready = False
            self._update_controls()
            return
        from gui.training.form import ExperimentForm
        self.form = ExperimentForm()
        self.form.changed.connect(self.on_form_changed)
        self.form.validity_changed.connect(self._update_controls)
        self.loading.hide()
        self.form_holder.layout().addWidget(self.form)
        self.ready = True
        self.form_ready.emit()
        if self._start_when_ready:                # it died before it was ever ready: Start was pressed
            self._start_when_ready = False
            self.engine_restarted.emit(True)

    @Slot(str)
    def on_worker_failed(self, message: str) -> None:
        QMessageBox.critical(self, "Descent Lab", f"The training engine stopped: {message}")

    @Slot(str, str, object)
    def on_inspection(self, name: str, run_id: str, result) -> None:
        self.inspected.emit(name, run_id, result)

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
            run.status, run.message = update.status, update.message
            run.step, run.epoch, run.rate = update.step, update.epoch, update.steps_per_sec
            run.log.append(update)
            self.plots.append(update, draw=False)
            self.drawing.store(update)
            if len(update.evals):
                evaluated.add(update.run_id)
            self.runs_list.set_status(update.run_id, update.status, self._status_tip(update))
            self.runs_list.set_rate(update.run_id, update.steps_per_sec if update.status == RunStatus.RUNNING else 0.0)
        if evaluated:
            self.evaluated.emit(evaluated)
        if all(r.status in FINAL for r in self.runs.values()):
            self.runs_ended.emit(list(self.runs.values()))
        self._update_controls()

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
        self._update_controls()
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
        self.runs_list.select(run_id)

    def remove_run(self, run_id: str) -> None:
        if run_id not in self.runs:
            return
        del self.runs[run_id]
        self.drawing.forget(run_id)
        self.training.post("remove", run_id)
        self.runs_list.remove_run(run_id)
        self.plots.remove_run(run_id)
        self.histograms.remove_run(run_id)
        self.boundary.clear_run(run_id)
        self._plan_x_axis()
        self._update_controls()

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
        run = self.runs.get(run_id)
        if run is None:
            return
        if self.form is not None:
            self.form.set_experiment(run.named())
        self.histograms.select_run(run_id)
        self.boundary.select_run(run_id)
        from engine.data.datasets import DATASETS
        if DATASETS[run.experiment.data.dataset].kind != "plane" and self.tabs.currentWidget() is self.boundary:
            self.tabs.setCurrentWidget(self.histograms)  # no plane to draw: show what there is to see

    @Slot()
    def on_form_changed(self) -> None:
        """The form is a draft: Add run trains it beside the others, Apply gives it to the selected run."""
        self._update_controls()

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
        self.message.emit(f"{run.name}: new settings applied; it starts again from step 0.", 5000)
        self._update_controls()

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
            self._rewind(run)
        self._update_controls()

    @Slot()
    def _update_controls(self, *_) -> None:
        valid = bool(self.form and self.form.is_valid())
        self.add_button.setEnabled(self.ready and valid)
        selected = self.selected_run()
        differs = bool(selected and valid and self.form.experiment() != selected.named())
        self.apply_button.setEnabled(self.ready and differs)
        self.remove_button.setEnabled(bool(self.runs))
        self.controls_changed.emit()

    def status_texts(self) -> dict[str, str]:
        """The status bar's step and epoch of the selected run (or the first), and every running run's rate."""
        run = self.selected_run() or next(iter(self.runs.values()), None)
        total = sum(r.rate for r in self.runs.values() if r.status == RunStatus.RUNNING)
        return {"step": f"step {run.step:,}" if run else "step –",
                "epoch": f"epoch {run.epoch:.2f}" if run else "epoch –",
                "rate": f"{total:,.0f} steps/s"}

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
