"""The learning-rate finder tab: sweep the rate, read the four suggestions, then check them against real runs.

The numbers come from :mod:`engine.labs.lrfinder` (no Qt); this widget asks for
them in a :class:`gui.concurrency.jobs.TaskRunner` and draws them:

* **Run finder** sweeps the training form's current experiment (or the loaded
  preset) and draws the loss against the rate on a log axis as it comes in:
  the raw mini-batch losses faintly, the smoothed curve boldly.  When it ends,
  the four suggestions are marked on the curve; the picker (valley first,
  fastai's default) chooses which one the label explains, the dashed line
  shows and **Use this LR** sends (:attr:`FinderTab.use_lr`).
* **Check the finder** (the lesson's Challenge) trains short full runs at
  fifteen log-spaced rates around the finder's range (``CHECK_RUNS``) and puts each run's final
  validation loss on the same axes as it finishes.  Same axes on purpose:
  both are the cross-entropy, in nats, so "where the real runs are lowest"
  and "where the finder pointed" read off one picture.  A run that diverged
  is an × at the top edge.
* **Load the failing preset** swaps the form's experiment for
  ``engine.lessons.presets.FINDER_PRESETS["finder-fails"]`` and shows why it fails;
  **Use the form** switches back.  :attr:`FinderTab.preset_loaded` carries the
  preset's experiment for a window that wants to show it in the form.

Every error (an invalid form, an exception in a job, a check run that
diverged) is one line under the buttons.  Call :meth:`FinderTab.shutdown`
before the tab goes away (``closeEvent`` does).
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.config import Experiment
from engine.labs.lrfinder import (
    AGREE_FACTOR,
    BETA,
    CHECK_RUNS,
    CHECK_STEPS,
    MAX_STEPS,
    MIN_STEPS,
    STOP_FACTOR,
    SUGGESTION_HELP,
    SUGGESTION_NAMES,
    CheckPoint,
    CheckResult,
    CheckVerdict,
    FinderCurve,
    FinderResult,
    FinderSettings,
    check_finder,
    check_lrs,
    find_lr_job,
    format_lr,
    verdict_of,
)
from engine.lessons.presets import FINDER_PRESETS, FinderPreset
from engine.status import RunStatus, SweepStatus
from gui.concurrency.jobs import TaskRunner
from gui.labs.finder.plot import DIVERGED_COLOR, FinderPlot
from gui.widgets.common import fit_column

FAILING_PRESET = "finder-fails"

EXPLANATION = (
    "<b>The learning-rate finder.</b> Train for a few dozen mini-batches while the rate grows "
    "exponentially, from far too small to far too large, and plot the loss. At tiny rates nothing "
    "happens; as the rate grows the loss starts to fall, faster and faster; once steps overshoot the "
    "valley the loss turns up and explodes. A good rate sits where the descent is steep, well "
    f"below the blow-up. The curve is an average of noisy batch losses (EMA, β = {BETA:g}, bias-"
    f"corrected), and the sweep stops once it passes {STOP_FACTOR:g}× its best. "
    "<br><b>Challenge:</b> the finder judges a long run by its first hundred batches. "
    "<i>Check the finder</i> trains real runs across the range and shows where they end up: "
    f"it agrees when the best of them is within {AGREE_FACTOR:g}× of the pick."
)


class FinderTab(QWidget):
    """``FinderTab(experiment_source)``: ``experiment_source()`` is the form's Experiment, or None when invalid."""

    use_lr = Signal(float)          # "Use this LR": the picked suggestion's rate
    preset_loaded = Signal(object)  # the failing preset's Experiment, when the user loads it

    def __init__(self, experiment_source: Callable[[], Experiment | None], parent: QWidget | None = None):
        super().__init__(parent)
        self._source = experiment_source
        self._preset: FinderPreset | None = None
        self._experiment: Experiment | None = None      # what the current result was swept on
        self.result: FinderResult | None = None
        self.check_points: list[CheckPoint] = []
        self.verdict: CheckVerdict | None = None
        self._job = ""
        self._runner = TaskRunner(self, name="lr-finder")
        self._runner.partial.connect(self._on_partial)
        self._runner.done.connect(self._on_done)
        self._runner.failed.connect(self._on_failed)
        self._runner.finished.connect(self._on_finished)
        self._build()
        self._set_busy(False)

    # -- building ---------------------------------------------------------------------------------

    def _build(self) -> None:
        side = QVBoxLayout()
        self.explanation = QLabel(EXPLANATION)
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.RichText)
        side.addWidget(self.explanation)

        form = QFormLayout()
        self.start_edit = QLineEdit("1e-7")
        self.start_edit.setToolTip("The sweep's first rate: small enough that a step changes nothing.")
        self.end_edit = QLineEdit("10")
        self.end_edit.setToolTip("The sweep's last rate: large enough that the loss blows up before it.")
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(MIN_STEPS, MAX_STEPS)     # what FinderSettings.check accepts
        self.steps_spin.setValue(100)
        self.steps_spin.setToolTip("Mini-batches in the sweep; each multiplies the rate by the same factor.")
        form.addRow("Start LR", self.start_edit)
        form.addRow("End LR", self.end_edit)
        form.addRow("Steps", self.steps_spin)
        side.addLayout(form)

        buttons = QHBoxLayout()
        self.run_button = QPushButton("Run finder")
        self.run_button.setToolTip("Sweep the rate on the experiment; the network, optimizer and random state "
                                   "are restored afterwards, so training later is not affected.")
        self.run_button.clicked.connect(self.run_finder)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the sweep or the check after the current step.")
        self.stop_button.clicked.connect(self.stop)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        side.addLayout(buttons)

        pick = QHBoxLayout()
        self.pick_combo = QComboBox()
        self.pick_combo.addItems(SUGGESTION_NAMES)
        self.pick_combo.setToolTip("Four ways fastai reads a rate off the curve; valley is its default.\n" +
                                   "\n".join(f"{n}: {h}" for n, h in SUGGESTION_HELP.items()))
        self.pick_combo.currentTextChanged.connect(self._on_pick)
        self.use_button = QPushButton("Use this LR")
        self.use_button.setToolTip("Copy the picked rate into the experiment form's learning rate.")
        self.use_button.clicked.connect(self._use)
        pick.addWidget(QLabel("Suggestion"))
        pick.addWidget(self.pick_combo, 1)
        pick.addWidget(self.use_button)
        side.addLayout(pick)
        self.pick_label = QLabel("Run the finder to get suggestions.")
        self.pick_label.setWordWrap(True)
        side.addWidget(self.pick_label)

        check = QHBoxLayout()
        self.check_button = QPushButton("Check the finder")
        self.check_button.setToolTip(f"Train {CHECK_RUNS} short full runs at log-spaced rates around the finder's "
                                     "range and plot each run's final validation loss: do the real runs agree "
                                     "with the pick?")
        self.check_button.clicked.connect(self.check_finder)
        self.check_steps_spin = QSpinBox()
        self.check_steps_spin.setRange(10, 100_000)
        self.check_steps_spin.setValue(CHECK_STEPS)
        self.check_steps_spin.setSuffix(" steps")
        self.check_steps_spin.setToolTip("Training steps of each check run.")
        check.addWidget(self.check_button, 1)
        check.addWidget(self.check_steps_spin)
        side.addLayout(check)

        preset = QHBoxLayout()
        self.preset_button = QPushButton("Load the failing preset")
        self.preset_button.setToolTip("An experiment where the finder's pick is far from the best rate; "
                                      "run the finder, then check it.")
        self.preset_button.clicked.connect(self.load_preset)
        self.form_button = QPushButton("Use the form")
        self.form_button.setToolTip("Sweep the training form's experiment again instead of the preset.")
        self.form_button.clicked.connect(self.use_form)
        preset.addWidget(self.preset_button, 1)
        preset.addWidget(self.form_button)
        side.addLayout(preset)
        self.source_label = QLabel("Experiment: the training form's.")
        self.source_label.setWordWrap(True)
        side.addWidget(self.source_label)

        self.log_check = QCheckBox("Log loss axis")
        self.log_check.setToolTip("Show the loss on a log scale: check runs that end far below the finder's "
                                  "curve stay readable (loading the failing preset turns it on).")
        self.log_check.toggled.connect(self._on_log_toggled)
        side.addWidget(self.log_check)
        self.check_label = QLabel("")
        self.check_label.setWordWrap(True)
        side.addWidget(self.check_label)
        self.message_label = QLabel("")
        self.message_label.setStyleSheet(f"color: {DIVERGED_COLOR};")
        self.message_label.setWordWrap(True)     # a divergence message is read whole, not cut mid-sentence
        side.addWidget(self.message_label)
        side.addStretch(1)

        panel = QWidget()
        panel.setLayout(side)
        self._panel = panel
        self._fit_panel()

        self.view = FinderPlot()
        self.plot = self.view.widget
        # the plot's items, by the names the tests and the screenshots use
        v = self.view
        self.raw_curve, self.smooth_curve, self.marks = v.raw_curve, v.smooth_curve, v.marks
        self.check_scatter, self.diverged_scatter = v.check_scatter, v.diverged_scatter
        self.pick_line, self.pick_text, self.legend = v.pick_line, v.pick_text, v.legend

        # The controls scroll when the screen is short (a 1024x768 projector): their texts are never squashed.
        self._scroll = QScrollArea()
        self._scroll.setWidget(panel)
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._fit_panel()
        layout = QHBoxLayout(self)
        layout.addWidget(self._scroll)
        layout.addWidget(self.plot, 1)

    # -- what to sweep ----------------------------------------------------------------------------

    def experiment(self) -> Experiment | None:
        """The loaded preset's experiment, else the form's (None when the form is invalid)."""
        if self._preset is not None:
            return self._preset.experiment
        try:
            return self._source()
        except Exception:  # a broken source is an invalid form, not a crash
            return None

    def settings(self) -> FinderSettings | None:
        try:
            settings = FinderSettings(float(self.start_edit.text()), float(self.end_edit.text()),
                                      self.steps_spin.value())
            settings.check()
        except ValueError as err:
            text = str(err)
            self._say(text if "lr" in text or "steps" in text else "start and end LR must be numbers")
            return None
        return settings

    @Slot()
    def load_preset(self, name: str = FAILING_PRESET) -> None:
        self._preset = FINDER_PRESETS[name if isinstance(name, str) else FAILING_PRESET]
        self.check_steps_spin.setValue(self._preset.check_steps)
        self.log_check.setChecked(True)
        self.source_label.setText(f"<b>Preset: {self._preset.title}.</b> {self._preset.lesson}")
        self.preset_loaded.emit(self._preset.experiment)
        self._say("")

    @Slot()
    def use_form(self) -> None:
        self._preset = None
        self.source_label.setText("Experiment: the training form's.")

    # -- jobs -------------------------------------------------------------------------------------

    def busy(self) -> bool:
        return self._runner.busy()

    @Slot()
    def run_finder(self) -> bool:
        exp = self.experiment()
        if exp is None:
            self._say("The experiment form has an error: fix it, then run the finder.")
            return False
        settings = self.settings()
        if settings is None or self.busy():
            return False
        self._say("")
        self.result, self._experiment = None, exp
        self.check_points, self.verdict = [], None
        self._draw_curve(None)
        self._draw_checks()
        self._draw_marks()
        self.check_label.setText("")
        self._job = "find"
        self._runner.start(find_lr_job, exp, settings)
        self._set_busy(True)
        return True

    @Slot()
    def check_finder(self) -> bool:
        if self.result is None or self._experiment is None:
            self._say("Run the finder first: the check trains around its range.")
            return False
        if self.busy():
            return False
        self._say("")
        self.check_points, self.verdict = [], None
        self._draw_checks()
        lrs = check_lrs(self.result)
        self.check_label.setText(f"Checking: {len(lrs)} runs of {self.check_steps_spin.value()} steps, "
                                 f"lr {format_lr(lrs[0])} to {format_lr(lrs[-1])}…")
        self._job = "check"
        self._runner.start(check_finder, self._experiment, lrs, self.check_steps_spin.value())
        self._set_busy(True)
        return True

    @Slot()
    def stop(self) -> None:
        self._runner.cancel()

    def shutdown(self) -> None:
        self._runner.shutdown(15000)

    def _fit_panel(self) -> None:
        """The controls' column: 360 px, or as wide as its buttons need in large type (presenter mode)."""
        fit_column(self._panel, getattr(self, "_scroll", None), 360)

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.FontChange and hasattr(self, "_panel"):
            self._fit_panel()
        if event.type() == event.Type.FontChange and hasattr(self, "view"):
            self.view.fit_legend()      # the legend's entries in the new type size
        super().changeEvent(event)

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    def _set_busy(self, busy: bool) -> None:
        self.run_button.setEnabled(not busy)
        self.check_button.setEnabled(not busy and self.result is not None and bool(self.result.suggestions))
        self.stop_button.setEnabled(busy)
        self.preset_button.setEnabled(not busy)
        self.form_button.setEnabled(not busy)
        self.use_button.setEnabled(self.selected() is not None)

    def _say(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setToolTip(text)

    # -- results ----------------------------------------------------------------------------------

    @Slot(object)
    def _on_partial(self, value) -> None:
        if isinstance(value, FinderCurve):
            self._draw_curve(value)
        elif isinstance(value, CheckPoint):
            self.check_points.append(value)
            self._draw_checks()
            if value.status != RunStatus.FINISHED:
                self._say(f"check run at lr {format_lr(value.lr)}: {value.message.split(':')[0]}")

    @Slot(object)
    def _on_done(self, value) -> None:
        if isinstance(value, FinderResult):
            self.result = value
            self._draw_curve(value)
            self._draw_marks()
            if not value.suggestions:
                self._say(f"The sweep {value.stop_reason} after {value.steps} steps: too few points to suggest a rate.")
            elif value.stop_reason == SweepStatus.STOPPED:
                self._say(f"Stopped after {value.steps} steps: the suggestions read the curve so far.")
        elif isinstance(value, CheckResult):
            self._summarize_check(value)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._say(message.splitlines()[0] if message else "the job failed")

    @Slot()
    def _on_finished(self) -> None:
        self._job = ""
        self._set_busy(False)

    def selected(self):
        """The suggestion the picker shows, or None before a result."""
        if self.result is None:
            return None
        return self.result.suggestion(self.pick_combo.currentText())

    @Slot(str)
    def _on_pick(self, _name: str) -> None:
        self._draw_marks()
        self.use_button.setEnabled(self.selected() is not None and True)

    @Slot()
    def _use(self) -> None:
        pick = self.selected()
        if pick is not None:     # the rate as the finder shows it ("lr 0.0032"), not 0.003162277...
            self.use_lr.emit(float(format_lr(pick.lr)))

    def _summarize_check(self, check: CheckResult) -> None:
        """The engine's verdict (engine.labs.lrfinder.check_verdict), as the label's text."""
        if self.result is None:
            return
        self.verdict = verdict_of(self.result, check)
        self.check_label.setText(self.verdict.sentence)

    # -- drawing (gui/labs/finder/plot.py draws; the tab says what) ------------------------------

    def _draw_curve(self, curve) -> None:
        self.view.draw_curve(curve)
        self._fit_view(curve)

    def _log_y(self) -> bool:
        return self.log_check.isChecked()

    def _fit_view(self, curve=None) -> None:
        curve = curve if curve is not None else self.result
        settings = self.result.settings if self.result is not None else self.settings_or_default()
        self.view.fit(curve, settings, self.check_points, self._log_y())

    @Slot(bool)
    def _on_log_toggled(self, on: bool) -> None:
        self.view.set_log_y(on)
        self._fit_view()
        self._draw_marks()
        self._draw_checks()

    def settings_or_default(self) -> FinderSettings:
        try:
            s = FinderSettings(float(self.start_edit.text()), float(self.end_edit.text()), self.steps_spin.value())
            s.check()
            return s
        except ValueError:
            return FinderSettings()

    def _draw_marks(self) -> None:
        result = self.result
        pick = self.selected()
        self.view.draw_marks(result, pick, self._log_y())
        if pick is None:
            self.pick_label.setText("Run the finder to get suggestions." if result is None else
                                    "No suggestion: the curve is too short.")
            self._set_busy(self.busy())
            return
        why = SUGGESTION_HELP[pick.name]
        stop = {SweepStatus.FINISHED: "ran to the end", SweepStatus.DIVERGED: f"blew up at lr {format_lr(result.lrs[-1])}",
                SweepStatus.NON_FINITE: f"went non-finite at lr {format_lr(result.lrs[-1])}",
                SweepStatus.STOPPED: "was stopped"}.get(result.stop_reason, result.stop_reason)
        self.pick_label.setText(f"<b>{pick.name}: lr {format_lr(pick.lr)}</b>, {why}. "
                                f"The sweep {stop} after {result.steps} steps.")
        self._set_busy(self.busy())

    def _draw_checks(self) -> None:
        self._fit_view()
        self.view.draw_checks(self.check_points, self._log_y())
