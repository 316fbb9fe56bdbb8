"""The note above the window's tabs: a lesson's words, or a question's, and a lesson's closing table.

A lesson (a preset of the Lessons menu) trains on the Training tab, so its
words show with that tab only; a question opens some tab (a lab, or a
lesson's runs) and its words stay on every tab while the teacher looks
around.  Some lessons end with a table the engine computes from a trained
network (:data:`LESSON_TABLES`): when all runs have ended the panel asks for
it once (``inspection_wanted``, which the window passes to the training
process) and shows it under the lesson's words.

When a lesson's runs have ended on their own, its claim is checked on them (:func:`live_note`): at each
member of a multi-seed run, so beside the shipped "holds at k of 10 seeds" the class sees at how many of
the seeds it just watched the claim held, and where it did not, which condition failed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QWidget

from engine.status import RunStatus


def seeds_note(preset: str, kind: str = "preset") -> str:
    """How often the lesson's claim held in the last ``make claims`` run, shipped with the app
    (engine/lessons/claims_measured.json): a claim is only as good as its worst seed.  ``kind`` is the
    claim key's first word: ``preset`` for a training preset, ``search`` for a search preset."""
    from engine.lessons.claims import measured
    found = measured(f"{kind} {preset}")
    if found is None:
        return ""
    return f"<br><i>This claim {found.text}.</i>"


EXTRA_BEFORE = {"live": " ", "table": "<br>"}
"""What goes before each line after the words: the claim seen live follows the shipped count in its sentence
(a line less of a 1024x768 screen), a table goes below."""

MAX_FAILURES_SHOWN = 3
"""Seeds where the claim failed, named one by one with their conditions; more are counted."""


def live_note(preset: str, runs) -> str:
    """The preset's claim checked on the window's ``runs`` (``RunEntry`` objects, with their members' records),
    as a sentence after the lesson's words; "" when it cannot be checked on them (``engine.lessons.claims.live``)."""
    from engine.lessons.claims.live import check_live
    live = check_live(preset, [(run.experiment, run.records) for run in runs if run.records])
    if live is None:
        return ""
    failures = live.failures()
    said = [f"at seed {seed}: {'; '.join(failed)}" for seed, failed in failures[:MAX_FAILURES_SHOWN]]
    if len(failures) > MAX_FAILURES_SHOWN:
        said.append(f"and {len(failures) - MAX_FAILURES_SHOWN} more")
    why = f"; not {', '.join(said)}" if said else ""
    return f"<i>In these runs it {live.text}{why}.</i>"


def batchnorm_table(rows) -> str:
    """The BatchNorm lesson's table: test accuracy with running and with per-batch statistics.

    ``rows`` are ``engine.labs.batchnorm.BatchNormRow``s; ``row.batching`` is
    the batch size or "whole set".
    """
    cells = "".join(f"<tr><td>{r.batching}</td>"
                    f"<td>{r.composition}</td><td align='right'>{r.running:.1%}</td>"
                    f"<td align='right'>{r.batch:.1%}</td></tr>" for r in rows)
    return ("<table cellspacing='6'><tr><th align='left'>test batch</th>"
            "<th align='left'>made of</th><th>running statistics</th><th>batch statistics</th></tr>"
            f"{cells}</table>")


@dataclass(frozen=True)
class LessonTable:
    """A table a lesson ends with: the inspection of a finished run that gives it, and how it is shown."""
    inspection: str                       # a key of engine.labs.INSPECTIONS
    render: Callable[[object], str]       # the inspection's result -> HTML


LESSON_TABLES: dict[str, LessonTable] = {
    "batchnorm-eval": LessonTable("batchnorm", batchnorm_table),
}
"""Lessons (preset names) that end with a table, one entry each."""


MAX_SHARE = 0.3
"""The most of the window's height the words may take: a longer text scrolls, so a lab under them keeps
its plots (at 1024x768 in large type a question's six lines flattened the Search tab's)."""


class LessonPanel(QFrame):
    """The words above the tabs, with a Hide button; hidden while there are none.

    State: :attr:`lesson`, the preset whose runs are loaded (or None), and
    :attr:`question`, the key of the question shown (or None).  The window
    tells it which tab is current (:meth:`follow_tab`).
    """

    inspection_wanted = Signal(str, str)     # inspection name, run id

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.StyledPanel)
        self.lesson: str | None = None        # the preset loaded from the Lessons menu, if any
        self.question: str | None = None      # the lesson question shown above the tabs, if any
        self._table_asked = False
        self._wanted = False                  # a lesson's or question's words are up (see _place)
        self._on_training = True
        self._html = ""
        self._extras: dict[str, str] = {}   # after the words: "live" (its claim seen live), "table" (a lesson's table)
        self._watching = False                # its window's resizes are watched (from its first show)
        layout = QHBoxLayout(self)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.RichText)
        self.text.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.text)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        close = QPushButton("Hide")
        close.clicked.connect(self.hide_lesson)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(close, 0, Qt.AlignTop)
        self.hide()

    def fit(self) -> None:
        """As high as the words need at this width, at most :data:`MAX_SHARE` of the window (then they scroll)."""
        width = self.scroll.viewport().width()
        if width <= 0:
            return
        need = self.text.heightForWidth(width)
        window = self.window()
        most = int(MAX_SHARE * window.height()) if window is not None and window is not self else need
        self.scroll.setFixedHeight(max(1, min(need, most)))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit()

    def showEvent(self, event) -> None:
        """Its window's resizes are watched from the first show: its share follows a taller or shorter window."""
        super().showEvent(event)
        window = self.window()
        if window is not self and not self._watching:
            window.installEventFilter(self)
            self._watching = True
        self.fit()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.fit()                      # the words' height follows their type size (presenter mode)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    # -- what is shown ------------------------------------------------------------------------------

    def show_lesson(self, name: str, title: str, text: str) -> None:
        """A lesson's runs are loaded: its words, and its table (if any) once the runs have ended."""
        self.lesson, self._table_asked, self.question = name, False, None
        self.show_note(f"<b>{title}</b><br>{text}{seeds_note(name)}")

    def show_question(self, key: str, title: str, text: str, look: str) -> None:
        """A question on top of whatever it opened (a lesson it loaded included)."""
        self.question = key
        self.show_note(f"<b>{title}</b><br>{text}<br><i>What to look at:</i> {look}")

    def leave_lesson(self, keep_question: bool = False) -> None:
        """Other runs replace the lesson's; a question (when kept) stays up while they train."""
        self.lesson = None
        if not keep_question:
            self.question = None
        if self.question is None:
            self.show_note(None)

    @Slot()
    def hide_lesson(self) -> None:
        self.question = None
        self.show_note(None)

    def show_note(self, html: str | None) -> None:
        """The words above the tabs (None: none): a lesson's, or a question's."""
        self._wanted = html is not None
        if html is not None:
            self._html = html
            self._extras = {}
            self.text.setText(html)
        self._place()
        self.fit()

    def _set_extra(self, name: str, html: str) -> None:
        """Something after the words (``""`` takes it away), shown when it changed."""
        if self._extras.get(name, "") == html:
            return
        if html:
            self._extras[name] = html
        else:
            self._extras.pop(name, None)
        self.text.setText(self._html + "".join(before + self._extras[name] for name, before in EXTRA_BEFORE.items()
                                                    if name in self._extras))
        self.fit()

    def follow_tab(self, on_training: bool) -> None:
        """The window's current tab changed: is it the Training tab?"""
        self._on_training = on_training
        self._place()

    def _place(self) -> None:
        """A lesson's words go with its runs, on the Training tab; a question's stay on every tab."""
        self.setVisible(self._wanted and (self.question is not None or self._on_training))

    # -- a lesson's table -----------------------------------------------------------------------------

    def rearm(self) -> None:
        """The runs were rewound: the table is asked for again when they end again, the claim checked again."""
        self._table_asked = False
        self.forget_live(None)

    @Slot(object)
    def forget_live(self, _evaluated) -> None:
        """Runs train (again): what their claim showed at their end is no longer on screen."""
        if self.lesson is not None and self.question is None:
            self._set_extra("live", "")

    @Slot(object)
    def on_runs_ended(self, runs) -> None:
        """Every run has ended: the lesson's claim is checked on them, and a lesson with a table asks for it,
        once, from its first finished run."""
        if self.lesson is not None and self.question is None:
            self._set_extra("live", live_note(self.lesson, runs))
        table = LESSON_TABLES.get(self.lesson or "")
        if table is None or self._table_asked:
            return
        run = next((r for r in runs if r.status == RunStatus.FINISHED), None)
        if run is not None:
            self._table_asked = True
            self.inspection_wanted.emit(table.inspection, run.run_id)

    @Slot(str, str, object)
    def on_inspection(self, name: str, run_id: str, result) -> None:
        table = LESSON_TABLES.get(self.lesson or "")
        if table is None or name != table.inspection:
            return
        self._set_extra("table", table.render(result))


@dataclass(frozen=True)
class SearchLesson:
    """A lesson of the search lab: a search preset (``engine.labs.search.presets``) opened in the Search tab."""
    title: str
    preset: str
    text: str


SEARCH_LESSONS: tuple[SearchLesson, ...] = (
    SearchLesson("Random beats grid", "random-beats-grid",
                 "Three knobs, and only the learning rate matters: with 27 trials the grid tries 3 learning "
                 "rates, random search 27. Press Start and watch the best-so-far lines."),
    SearchLesson("Population-based training", "population-based-training",
                 "A population trains side by side; every few steps the worst copy the best (weights and "
                 "optimizer state) and perturb their hyperparameters: the schedule is found while training."),
)
"""The Lessons menu's search lessons; one whose preset this version lacks is not listed."""


def open_search_lesson(window, lesson: SearchLesson) -> None:
    """The Search tab, with the lesson's preset in its widgets (press Start to race it)."""
    tab = window.show_lab("search")
    if tab.busy():           # the race under way keeps its space in the widgets
        window.statusBar().showMessage(f"A search is running: stop it, then open {lesson.title} again.", 8000)
        return
    tab.load_preset(lesson.preset, lesson.text + seeds_note(lesson.preset, "search"))


@dataclass(frozen=True)
class LabLesson:
    """A lesson of a lab: a set-up of :mod:`engine.lessons.questions` opened in its lab, with its claim
    (a key of the claims table, whose k of n seeds the note gives)."""
    title: str
    claim: str
    text: str                           # the lesson's words (the claim's own are in the lab, beside it)
    look: str
    open: Callable[[object], None]      # (main window) -> sets the lab up


def _noisy_descent(window) -> None:
    from engine.lessons.questions import NOISY_DESCENT
    from gui.labs.questions import open_trajectories
    open_trajectories(window, NOISY_DESCENT)


LAB_LESSONS: tuple[LabLesson, ...] = (
    LabLesson("Gradient noise escapes a shallow minimum", "lab double-well",
              "The lesson: the noise of a mini-batch's gradient \u201chelps escape shallow local minima\u201d. "
              "Here the same SGD runs with the exact gradient and with Gaussian noise added to it.",
              "Press Play. The first path (the exact gradient) stays in the shallow valley on the right; the "
              "second (noise 3, as a mini-batch's) is shaken over the ridge into the deep one. Change the "
              "noise seed: another walk, the same valley.", _noisy_descent),
)
"""The Lessons menu's lab lessons (the mini-batch noise the lesson says "helps escape shallow minima")."""


def open_lab_lesson(window, lesson: LabLesson) -> None:
    """The lab set up for the lesson, and its words (with the claim's seeds) above every tab."""
    kind, _, name = lesson.claim.partition(" ")
    lesson.open(window)
    window.lesson_panel.show_question(lesson.claim, lesson.title, lesson.text + seeds_note(name, kind),
                                      lesson.look)


def fill_lessons_menu(menu, make_action, load_preset, open_question, window=None) -> None:
    """The Lessons menu: every preset (its lesson as the tooltip), the search lessons, the lab lessons, then
    the questions.

    ``window`` opens the search lessons (its ``show_lab``); by default the window ``load_preset`` belongs to."""
    from engine.labs.search.presets import SEARCH_PRESETS
    from engine.lessons.presets import PRESETS
    from gui.labs.questions import QUESTIONS
    menu.clear()
    for preset in PRESETS.values():
        action = make_action(preset.title, lambda _=False, n=preset.name: load_preset(n))
        action.setToolTip(preset.lesson)
        menu.addAction(action)
    window = window or getattr(load_preset, "__self__", None)
    lessons = [lesson for lesson in SEARCH_LESSONS if lesson.preset in SEARCH_PRESETS]
    if window is not None and hasattr(window, "show_lab") and lessons:
        menu.addSection("Hyperparameter search")
        for lesson in lessons:
            action = make_action(lesson.title, lambda _=False, x=lesson: open_search_lesson(window, x))
            action.setToolTip(lesson.text)
            menu.addAction(action)
    if window is not None and hasattr(window, "show_lab"):
        menu.addSection("In the labs")
        for lab_lesson in LAB_LESSONS:
            action = make_action(lab_lesson.title, lambda _=False, x=lab_lesson: open_lab_lesson(window, x))
            action.setToolTip(lab_lesson.look)
            menu.addAction(action)
    menu.addSection("Check your understanding")
    for question in QUESTIONS:
        action = make_action(question.title, lambda _=False, k=question.key: open_question(k))
        action.setToolTip(question.text)
        menu.addAction(action)
