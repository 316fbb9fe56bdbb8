"""The window's toolbar: Start/Pause, Step, Stop, Reset and the speed, for every run of the Training tab.

The buttons are commands to the training thread (``post("start")``,
``post("pause")``, ...); the toolbar also keeps what only the teacher's
clicks say: whether training was started and not paused since, and the
elapsed training time the status bar shows.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QComboBox, QLabel, QToolBar, QWidget

from engine.status import FINAL, RunStatus

SPEEDS = (("As fast as possible", None), ("500 steps/s", 500.0), ("100 steps/s", 100.0),
          ("20 steps/s", 20.0), ("5 steps/s", 5.0), ("1 step/s", 1.0))
"""The speed menu: (its text, steps per second of each run; None: as fast as possible)."""


class TrainingControls(QToolBar):
    """Start/Pause, Step, Stop, Reset and the speed, driving ``tab`` (a ``gui.training.tab.TrainingTab``).

    ``make_action(text, slot, shortcut, tip)`` makes each action the window's
    own (so its shortcut works on every widget of the window).  ``rewound``
    says Reset rewound the runs.
    """

    rewound = Signal()

    def __init__(self, tab, make_action: Callable[..., QAction]):
        super().__init__("Controls")
        self.tab = tab
        self._running = False    # the teacher pressed Start and has not paused since
        self._elapsed = 0
        self._clock = QElapsedTimer()
        self.setObjectName("controls")
        self.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.start_action = make_action("Start", self.toggle_start, Qt.Key_Space, "Start or pause every run")
        self.step_action = make_action("Step", self.step_once, Qt.Key_S,
                                       "One step of every run, for slow-motion explanation")
        self.stop_action = make_action("Stop", self.stop_runs, None, "End the runs here")
        self.reset_action = make_action("Reset", self.reset_runs, Qt.Key_R,
                                        "Rewind every run to its start: same seed, same initial weights")
        for action in self.run_actions():
            action.setEnabled(False)
            action.setData(action.shortcut())     # kept, so a lesson lab can take it and give it back
            self.addAction(action)
        self.addSeparator()
        self.addWidget(QLabel(" Speed: "))
        self.speed = QComboBox()
        for text, _ in SPEEDS:
            self.speed.addItem(text)
        self.speed.setToolTip("Slow the runs down to watch each step, or let them go as fast as they can.")
        self.speed.currentIndexChanged.connect(self.on_speed)
        self.addWidget(self.speed)
        tab.engine_restarted.connect(self._on_engine_restarted)
        self._space = SpaceStarts(tab, self.start_action, self)
        tab.form_ready.connect(lambda: self._space.watch(tab.form))

    def add_view_action(self, action: QAction) -> None:
        """A View menu's toggle on the toolbar too (folding the form away), after the speed."""
        self.addSeparator()
        self.addAction(action)

    def run_actions(self) -> tuple[QAction, ...]:
        return self.start_action, self.step_action, self.stop_action, self.reset_action

    def use_shortcuts(self, on: bool) -> None:
        """Space, S and R belong to the Training tab: in a lesson lab Space must not start hidden runs
        (the buttons still work from every tab, training goes on in the background)."""
        for action in (self.start_action, self.step_action, self.reset_action):
            action.setShortcut(action.data() if on else QKeySequence())

    # -- the commands ---------------------------------------------------------------------------------

    @property
    def any_running(self) -> bool:
        """Training was started and not paused, stopped or finished since (the worker may lag a little)."""
        return self._running and any(r.status not in FINAL for r in self.tab.runs.values())

    @Slot()
    def toggle_start(self) -> None:
        tab = self.tab
        if tab.engine_lost:          # the training process died: Start brings a fresh one, then starts
            self._running = False
            self._clock_stop()
            tab.restart_engine()
            self.refresh()
            return
        if not tab.ready:
            return
        if self.any_running:
            tab.training.post("pause")
            self._running = False
            self._clock_stop()
            self.refresh()
        else:
            self.start(from_form=True)

    def start(self, from_form: bool = False) -> None:
        """Start every run.  ``from_form`` (Start, Space): the teacher's press, refused while the form has an
        error, so what trains is what the form shows; a lab's race or a fresh process starts its own runs."""
        tab = self.tab
        if not tab.ready:
            return
        if from_form and tab.form is not None and not tab.form.is_valid():
            tab.message.emit(f"The form has an error ({tab.form.error()}): fix it before Start, so what "
                             "trains is what the form shows.", 8000)
            return
        if not tab.runs:
            tab.add_run_from_form()
            if not tab.runs:
                return
        if all(r.status in FINAL for r in tab.runs.values()):
            tab.message.emit("Every run has ended (finished, stopped or failed): Reset (R) trains them again "
                             "from step 0; Add run trains the form's settings beside them.", 8000)
            self.refresh()
            return
        selected = tab.selected_run()
        draft = tab.form.experiment() if tab.form else None
        if from_form and selected and draft is not None and draft != selected.named():
            tab.message.emit("The form's changes are in no run yet: Add run trains them beside "
                             "the others, Apply gives them to the selected run.", 8000)
        tab.training.post("start")
        self._running = True
        if not self._clock.isValid():
            self._clock.start()
        self.refresh()

    @Slot(bool)
    def _on_engine_restarted(self, start: bool) -> None:
        if start:
            self.start()
        self.refresh()

    @Slot()
    def step_once(self) -> None:
        if not self.tab.ready or self.tab.engine_lost:
            return
        if not self.tab.runs:
            self.tab.add_run_from_form()
        if self.any_running:
            self.toggle_start()
        self.tab.training.post("step_once")

    @Slot()
    def stop_runs(self) -> None:
        self.tab.training.post("stop")
        self._running = False
        self._clock_stop()
        self.refresh()

    @Slot()
    def reset_runs(self) -> None:
        """Rewind every run: same seed, so the same data and initial weights, a fair restart."""
        if not self.tab.ready:
            return
        self._clock_stop()
        self._elapsed = 0
        self._running = False
        self.tab.rewind_runs()
        self.tab.training.post("reset")
        self.rewound.emit()
        self.refresh()

    def new_session(self) -> None:
        """A new set of runs is coming: pause, and the clock starts again from zero."""
        if self.any_running:
            self.toggle_start()
        self._elapsed = 0

    @Slot(int)
    def on_speed(self, index: int) -> None:
        self.tab.training.post("speed", SPEEDS[index][1])

    @Slot(object)
    def on_runs_ended(self, _runs) -> None:
        self._running = False
        self._clock_stop()

    # -- state ----------------------------------------------------------------------------------------

    def _clock_stop(self) -> None:
        if self._clock.isValid():
            self._elapsed += self._clock.elapsed()
            self._clock.invalidate()

    def status_texts(self) -> dict[str, str]:
        """The status bar's figures: the selected run's (or the first's) step and epoch, every running run's
        rate, and the time trained."""
        runs = self.tab.runs
        run = self.tab.selected_run() or next(iter(runs.values()), None)
        total = sum(r.rate for r in runs.values() if r.status == RunStatus.RUNNING)
        seconds = self.elapsed_ms() // 1000
        return {"step": f"step {run.step:,}" if run else "step –", "epoch": f"epoch {run.epoch:.2f}" if run else "epoch –",
                "elapsed": f"elapsed {seconds // 60}:{seconds % 60:02d}", "rate": f"{total:,.0f} steps/s"}

    def elapsed_ms(self) -> int:
        """Time spent training since the runs were set (or reset), pauses left out."""
        return self._elapsed + (self._clock.elapsed() if self._clock.isValid() else 0)

    @Slot()
    def refresh(self) -> None:
        """Each button enabled when it can do something now; Start reads Pause while the runs train."""
        tab = self.tab
        runnable = tab.ready and (bool(tab.runs) or bool(tab.form and tab.form.is_valid()))
        active = any(r.status in (RunStatus.RUNNING, RunStatus.PAUSED) for r in tab.runs.values())
        lost = bool(tab.engine_lost)
        self.start_action.setEnabled(runnable or lost)
        self.start_action.setText("Pause" if self.any_running and not lost else "Start")
        self.step_action.setEnabled(runnable and not lost)
        self.stop_action.setEnabled(tab.ready and active or self._running)
        self.reset_action.setEnabled(tab.ready and bool(tab.runs))


class SpaceStarts(QObject):
    """Space starts and pauses even while a number field, a menu of choices or a slider of the tab has focus.

    Those widgets take Space for themselves (a spin box types it, a combo box opens) although it means
    nothing to them, so Qt would never trigger the Start shortcut.  The filter drops their claim
    (the ``ShortcutOverride`` event) so the shortcut fires; text fields (a run's name, the hidden widths
    "32, 32") keep Space, which is a character there.
    """

    TAKERS = (QAbstractSpinBox, QComboBox, QAbstractSlider)

    def __init__(self, tab, action: QAction, parent: QObject):
        super().__init__(parent)
        self.tab, self.action = tab, action

    def watch(self, form: QWidget) -> None:
        """Hear the form's number fields, choices and sliders (the filter sits on them only, not on the app:
        a Python call for every event of the window would cost the frame time the plots need)."""
        for taker in form.findChildren(QWidget):
            if isinstance(taker, self.TAKERS):
                taker.installEventFilter(self)
                if isinstance(taker, QAbstractSpinBox) and taker.lineEdit() is not None:
                    taker.lineEdit().installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() != QEvent.ShortcutOverride or event.key() != Qt.Key_Space or event.modifiers():
            return False
        if self.action.shortcut() != QKeySequence(Qt.Key_Space) or not isinstance(watched, QWidget):
            return False
        taker = watched if isinstance(watched, self.TAKERS) else watched.parentWidget()
        return isinstance(taker, self.TAKERS) and self.tab.isAncestorOf(taker)
