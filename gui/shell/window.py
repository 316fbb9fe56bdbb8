"""The main window: a shell that composes the Training tab, the lesson labs and the lesson panel.

Its own jobs are few: the tabs (the Training tab first, then one per lesson
lab, listed in ``gui.labs``), the menus and the toolbar, the settings kept
between sessions, and closing cleanly.  What each part does lives with it:

* ``gui.training.tab``: the runs, the training thread's news and the drawing;
* ``gui.shell.toolbar``: Start/Pause, Step, Stop, Reset and the speed;
* ``gui.shell.look``: light or dark, presenter mode;
* ``gui.shell.lesson_panel``: the words above the tabs and a lesson's closing table;
* ``gui.shell.files`` and ``gui.shell.export``: the File menu's dialogs and files;
* ``gui.shell.help``: the Help menu (shortcuts, the lesson, About).

The labs talk to the window through its public methods (``show_lab``,
``form_experiment``, ``use_learning_rate``, ``train_set``...); the window turns
them into calls on the part that owns the job.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QSplitter, QTabWidget, QVBoxLayout, QWidget

from gui.concurrency.collector import settle as settle_garbage
from gui.concurrency.training import TrainingThread
from gui.labs import LABS, LabHolder
from gui.shell import export
from gui.shell.files import FileDialogs
from gui.shell.help import HelpMenu
from gui.shell.lesson_panel import LessonPanel, fill_lessons_menu
from gui.shell.look import Look
from gui.shell.preset_seeds import SeedsAction, with_seeds
from gui.shell.settings import last_runs, restore_splitters, restore_window, save_window
from gui.shell.toolbar import TrainingControls
from gui.training.tab import TrainingTab
from gui.widgets.status_bar import ElidingStatusBar


def _from_tab(name: str, doc: str = "") -> property:
    """A read-only attribute of the window that is the Training tab's ``name``."""
    return property(lambda self: getattr(self.training_tab, name), doc=doc or f"The Training tab's ``{name}``.")


class MainWindow(QMainWindow):
    """The tabs, the menus, the toolbar and the status bar around the Training tab and the lesson labs.

    ``backend`` is the training thread's ("process" or "thread", see
    ``gui.concurrency.training``); the settings (``QSettings``) keep the layout,
    the look and the last runs between sessions.
    """

    # The parts' state under the names the labs, the app and the tests know.
    runs = _from_tab("runs", "run id -> RunEntry, in the runs list's order")
    form = _from_tab("form", "the experiment form (None until torch has loaded)")
    ready = _from_tab("ready", "torch has loaded: the form is built and the labs can be")
    plots = _from_tab("plots")
    histograms = _from_tab("histograms")
    boundary = _from_tab("boundary")
    tabs = _from_tab("tabs", "the Decision boundary / Weights tabs")
    runs_list = _from_tab("runs_list")
    loading = _from_tab("loading")
    left = _from_tab("left")
    add_button = _from_tab("add_button")
    main_split = property(lambda self: self.training_tab, doc="The Training tab: the form column | the plots")
    batches_drawn = property(lambda self: self.training_tab.drawing.batches_drawn,
                             doc="Full redraws of the Training tab's views so far (the benchmark's refresh rate)")
    lesson_text = property(lambda self: self.lesson_panel.text, doc="The lesson panel's words")
    _lesson = property(lambda self: self.lesson_panel.lesson, doc="The preset loaded from the Lessons menu, if any")
    start_action = property(lambda self: self.controls.start_action)
    step_action = property(lambda self: self.controls.step_action)
    stop_action = property(lambda self: self.controls.stop_action)
    reset_action = property(lambda self: self.controls.reset_action)
    presenter_action = property(lambda self: self.look.presenter_action)

    def __init__(self, settings: QSettings | None = None, start_training_thread: bool = True,
                 backend: str | None = None):
        super().__init__()
        self.setWindowTitle("Descent Lab")
        self.setStatusBar(ElidingStatusBar(self))      # a long message ends in "…", not under the labels
        self.settings = settings or QSettings("DescentLab", "Descent Lab")
        self.files = FileDialogs(self, self.settings)
        self._comparison: set[str] = set()   # runs of the Regularization lab's comparison, fed to its chart
        self.look = Look(self.settings, self._action, self)
        self.look.changed.connect(self.apply_look)

        self._build_views()
        self.controls = TrainingControls(self.training_tab, self._action)
        self.controls.add_view_action(self.look.form_action)
        self.addToolBar(self.controls)
        self._build_menus()
        self._build_status_bar()
        self.geometry_restored = restore_window(self)
        self.apply_look()

        self.training = TrainingThread(self, backend) if backend else TrainingThread(self)
        tab = self.training_tab
        tab.attach(self.training)                  # the worker's signals go to the Training tab
        tab.form_ready.connect(self.on_ready)
        tab.message.connect(self.statusBar().showMessage)
        tab.runs_list.selected.connect(self._refresh_status)
        tab.controls_changed.connect(self.controls.refresh)
        tab.runs_ended.connect(self.controls.on_runs_ended)
        tab.evaluated.connect(self._feed_comparison)
        # A lesson's closing table: asked for when its runs end (again after a Reset), shown when it comes.
        tab.runs_ended.connect(self.lesson_panel.on_runs_ended)
        tab.evaluated.connect(self.lesson_panel.forget_live)
        self.controls.rewound.connect(self.lesson_panel.rearm)
        self.lesson_panel.inspection_wanted.connect(tab.inspect)
        tab.inspected.connect(self.lesson_panel.on_inspection)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(250)
        self._status_timer.timeout.connect(self._refresh_status)
        self._status_timer.start()
        if start_training_thread:
            self.training.start()

    # -- building ------------------------------------------------------------------------------------

    def _build_views(self) -> None:
        self.training_tab = TrainingTab()
        self.lesson_panel = LessonPanel()
        # The training lab first, then the lesson labs (built when first opened: see gui.labs).
        self.labs = QTabWidget()
        self.labs.setDocumentMode(True)
        self.labs.addTab(self.training_tab, "Training")
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

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addAction(self._action("&Open experiment or run list…", self.open_file, QKeySequence.Open))
        file.addAction(self._action("&Save experiment…", self.save_experiment, QKeySequence.Save))
        file.addAction(self._action("Save run &list…", self.save_run_list))
        file.addSeparator()
        file.addAction(self._action("Export &metrics of the selected run (CSV)…", self.export_csv))
        plots = file.addMenu("Export &plot")
        for key, title in export.plot_names(self.training_tab):
            plots.addAction(self._action(f"{title}…", lambda _=False, k=key: self.export_plot(k)))
        file.addSeparator()
        file.addAction(self._action("&Quit", self.close, QKeySequence.Quit))

        self._lesson_menu = bar.addMenu("&Lessons")
        self.preset_seeds = SeedsAction(self)      # seed bands: train.seeds of the runs a lesson loads
        self._lesson_menu.setToolTipsVisible(True)
        waiting = self._lesson_menu.addAction("Loading…")
        waiting.setEnabled(False)

        self.look.fill(bar.addMenu("&View"))
        self.help = HelpMenu(self, self._action)
        self.help.fill(bar.addMenu("&Help"))

    def _build_status_bar(self) -> None:
        self.status_labels = {key: QLabel() for key in ("step", "epoch", "elapsed", "rate")}
        for label in self.status_labels.values():
            label.setMinimumWidth(110)
            self.statusBar().addPermanentWidget(label)
        self.statusBar().showMessage("Loading PyTorch…")

    # -- start-up and settings --------------------------------------------------------------------------

    def _splitters(self) -> dict[str, QSplitter]:
        return {"main_split": self.training_tab, "left": self.left, "centre": self.training_tab.centre}

    def save_settings(self) -> None:
        save_window(self)

    @Slot()
    def on_ready(self) -> None:
        """torch is loaded and the form built: fill the Lessons menu and bring back the last runs."""
        self._fill_lessons()
        self._restore_runs()
        # The splitters again, now the window has its size on this screen: a geometry saved on a wider
        # screen is fitted to this one, and the splitters were squeezed with it.
        restore_splitters(self)
        settle_garbage()                    # start-up's objects frozen: later collections stay short
        self.statusBar().showMessage("Ready: press Space to train.", 5000)
        self.controls.refresh()
        self.apply_look()
        self._on_lab(self.labs.currentIndex())   # a lab opened while torch was loading

    def _fill_lessons(self) -> None:
        fill_lessons_menu(self._lesson_menu, self._action, self.load_preset, self.open_question)
        # seed bands (issue 13): the seeds of every run a lesson loads, right under the training lessons
        from engine.lessons.presets import PRESETS
        after = self._lesson_menu.actions()[len(PRESETS):]
        self._lesson_menu.insertAction(after[0] if after else None, self.preset_seeds)  # type: ignore[arg-type]

    def _restore_runs(self) -> None:
        # a bad saved run list (an older version's, a hand edit) is ignored with a line in the log
        self.training_tab.restore_runs(last_runs(self.settings))

    # -- the Training tab's runs and controls --------------------------------------------------------------

    def add_run(self, experiment) -> str:
        return self.training_tab.add_run(experiment)

    def clear_runs(self) -> None:
        self.training_tab.clear_runs()

    @Slot()
    def toggle_start(self) -> None:
        self.controls.toggle_start()

    @Slot()
    def stop_runs(self) -> None:
        self.controls.stop_runs()

    def flush_drawing(self) -> None:
        """Draw everything stored at once: an exported file shows every point received."""
        self.training_tab.flush_drawing()

    @Slot()
    def _refresh_status(self, *_) -> None:
        for key, text in self.controls.status_texts().items():
            self.status_labels[key].setText(text)

    # -- the lesson labs ------------------------------------------------------------------------------------

    @Slot(int)
    def _on_lab(self, index: int) -> None:
        on_training = index == 0
        self.controls.use_shortcuts(on_training)
        self.lesson_panel.follow_tab(on_training)
        holder = self.labs.widget(index)
        if isinstance(holder, LabHolder) and self.ready:
            self.lab(holder.info.key)

    def lab(self, key: str) -> QWidget:
        """The lab of that key, built now if it was not yet (the window must be ready: torch loaded)."""
        if not self.ready:
            raise RuntimeError("the labs are built once torch has loaded (window.ready)")
        holder = self.lab_holders[key]
        if holder.lab is None:
            self.look.style_lab(holder.fill(self))
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
        """A lab's experiment (the finder's preset, the Challenge) in the form, so what the lab sweeps is what
        the form shows; edits the form held are kept as their run's draft, and the status bar says so."""
        if self.form is None:
            return
        tab = self.training_tab
        kept = tab.keep_draft()
        tab.runs_list.clearSelection()           # so a click on that run brings its edits back
        self.form.set_experiment(experiment)
        if kept:
            self.statusBar().showMessage(f"The form now holds {experiment.name}; your changes to {kept} are kept: "
                                         f"select {kept} in the run list to get them back.", 10000)

    def may_replace_runs(self, what: str) -> bool:
        """True when the run list may be replaced by ``what`` (see ``FileDialogs.may_replace``)."""
        return self.files.may_replace(list(self.runs.values()), what)

    def train_set(self, experiments, title: str) -> bool:
        """Replace the runs by ``experiments`` and train them side by side in the training lab."""
        if not self.may_replace_runs(title):
            return False
        self.controls.new_session()
        self.training_tab.set_runs(experiments)
        self.lesson_panel.leave_lesson(keep_question=True)   # a question stays up while its runs train (question 3)
        self.labs.setCurrentIndex(0)
        self.controls.start()           # the lab's runs, whatever the form holds
        self.statusBar().showMessage(f"{title}: {len(experiments)} runs training side by side.", 6000)
        return True

    @Slot(object)
    def race(self, experiments) -> None:
        self.train_set(experiments, "Schedule race")

    @Slot(object)
    def compare_regularization(self, experiments) -> None:
        if self.train_set(experiments, "Regularization comparison"):
            self._comparison = set(self.runs)

    @Slot(object)
    def _feed_comparison(self, evaluated) -> None:
        """The Regularization lab's bars and gap curves follow its runs' evaluations, live, to the final one
        (``engine.labs.regularization.gap_curve``: the gap at each evaluation, the last one the bar)."""
        if not self._comparison & evaluated:
            return
        from engine.labs.regularization import gap_curve
        curves = [gap_curve(run.name, run.log.evals) for run_id, run in self.runs.items()
                  if run_id in self._comparison and run.log.evals]
        lab = self.lab("regularization")
        lab.show_results([curve.row for curve in curves])
        lab.show_gap_curves({curve.name: curve for curve in curves})

    # -- lessons --------------------------------------------------------------------------------------------

    def load_preset(self, name: str) -> bool:
        from engine.lessons.presets import PRESETS
        preset = PRESETS[name]
        if not self.may_replace_runs(f"The lesson \u201c{preset.title}\u201d"):
            return False
        self.controls.new_session()
        self.training_tab.set_runs(with_seeds(preset.runs, self.preset_seeds.seeds()))
        self.lesson_panel.show_lesson(name, preset.title, preset.lesson)
        self.labs.setCurrentIndex(0)     # a lesson's runs train in the training lab
        self.statusBar().showMessage(f"Lesson loaded: {preset.title}. Press Space to train.", 6000)
        return True

    @Slot()
    def hide_lesson(self) -> None:
        self.lesson_panel.hide_lesson()

    def open_question(self, key: str) -> None:
        """Open what a question of the lesson is about, and show the question above it."""
        from gui.labs.questions import QUESTIONS
        question = next(q for q in QUESTIONS if q.key == key)
        question.open(self)     # may load a lesson's runs, which shows that lesson: the question goes on top
        self.lesson_panel.show_question(key, question.title, question.text, question.look)

    # -- files --------------------------------------------------------------------------------------------

    @Slot()
    def open_file(self, path: Path | None = None) -> bool:
        opened = self.files.read_run_list(path)
        if opened is None:
            return False
        path, experiments = opened
        if not self.may_replace_runs(f"Opening {path.name}"):
            return False
        self.lesson_panel.leave_lesson()
        self.training_tab.set_runs(experiments)
        self.statusBar().showMessage(f"Opened {path.name}: {len(experiments)} run(s).", 5000)
        return True

    @Slot()
    def save_experiment(self, path: Path | None = None) -> bool:
        return self._saved(self.files.save_experiment(self.form, path))

    @Slot()
    def save_run_list(self, path: Path | None = None) -> bool:
        return self._saved(self.files.save_run_list(self.training_tab.experiments(), path))

    @Slot()
    def export_csv(self, path: Path | None = None) -> bool:
        return self._saved(self.files.export_metrics(self.training_tab.selected_run(), path))

    def export_plot(self, key: str, path: Path | None = None) -> bool:
        """The plot of that key (``gui.shell.export.plot_names``) as PNG or SVG, by the file's suffix."""
        return self._saved(self.files.export_plot(self.training_tab, key, path))

    def _saved(self, path: Path | None) -> bool:
        """Say where a save went (a failed one has said why in its dialog)."""
        if path is not None:
            self.statusBar().showMessage(f"Saved {path}.", 5000)
        return path is not None

    # -- look --------------------------------------------------------------------------------------------

    def set_dark(self, dark: bool) -> None:
        self.look.set_dark(dark)

    @Slot()
    def apply_look(self) -> None:
        self.look.apply_to_app()
        self.training_tab.apply_look(self.look.theme(), self.look.presenter)
        self.training_tab.set_form_folded(self.look.form_folded)
        for holder in self.lab_holders.values():
            if holder.lab is not None:
                self.look.style_lab(holder.lab)

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
