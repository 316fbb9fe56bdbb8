"""Every lesson lab on a 1024x768 projector in presenter mode, light and dark: the window does not grow past
the screen, no label, button, tab or table cell text is cut, and every plot's tick labels, axis labels and title fit it.

The labs are read from the registry (``gui.labs.LABS``), so a new lab is checked without editing this test.
Each look is one window with every lab opened in it, checked as it opens and then, where that is cheap,
again after it has drawn results (``RESULTS``: the jobs a lab starts itself waited for, the finder's short
sweep, a regularization comparison's bars, a search's trials).  Offscreen, with what Qt reports about
fonts: no pixels are compared (``tests.gui.shell.layout_checks``).
"""
from __future__ import annotations

from typing import Callable

import pytest
from PySide6.QtCore import QSettings

from engine.status import RunStatus
from gui.labs import LABS
from tests.gui.shell.layout_checks import (
    PROJECTOR,
    clipped_cells,
    clipped_texts,
    plot_problems,
    presenter_window,
    settle,
)

JOB_TIMEOUT = 120_000

# a comparison as the training lab reports it: (variant, train accuracy, validation accuracy)
REGULARIZATION_ROWS = [("none", 1.0, 0.73), ("dropout 0.5", 0.97, 0.79), ("weight decay 2", 0.95, 0.79),
                       ("augmentation", 0.82, 0.82), ("batch norm", 1.0, 0.73), ("all together", 0.65, 0.70)]


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


def _trajectories(qtbot, lab) -> None:
    qtbot.waitUntil(lambda: not lab.busy(), timeout=JOB_TIMEOUT)      # its paths, computed on opening
    lab.set_step(lab.max_step())


def _finder(qtbot, lab) -> None:
    lab.steps_spin.setValue(30)
    assert lab.run_finder()
    qtbot.waitUntil(lambda: lab.result is not None and not lab.busy(), timeout=JOB_TIMEOUT)


def _init(qtbot, lab) -> None:
    qtbot.waitUntil(lambda: lab.probe_result() is not None, timeout=JOB_TIMEOUT)   # probed on opening


def _regularization(qtbot, lab) -> None:
    lab.show_results(REGULARIZATION_ROWS)


def _search(qtbot, lab) -> None:
    """A finished race of eight trials per method, as the tab's book holds it, without training."""
    from gui.labs.search.book import TrialBook, TrialRow
    search = lab.built_search()
    assert search is not None
    book = TrialBook(search.settings.objective, search.methods)
    lab.view.reset(book, search.space, search.methods)
    for method in search.methods:
        for i in range(8):
            values = {p.path: p.grid(8)[i] for p in search.space}
            book.add(TrialRow(method, i, RunStatus.FINISHED, 0.1 + 0.07 * ((3 * i) % 8), 80, 0.5, "here", values))
    lab.view.draw()


RESULTS: dict[str, Callable] = {"trajectories": _trajectories, "finder": _finder, "init": _init,
                                "regularization": _regularization, "search": _search}
"""What each lab draws after a short job (or none: the lab's look as it opens is its look with results)."""


def layout_problems(qtbot, w, key: str, when: str = "") -> list[str]:
    """What does not fit in the window with the lab ``key`` shown: its size, cut texts, plots."""
    name = f"{key}{when}"
    settle(qtbot, w)
    problems = []
    if w.width() > PROJECTOR[0] or w.height() > PROJECTOR[1]:
        problems.append(f"{name}: the window grew to {w.width()}x{w.height()}")
    hint = w.minimumSizeHint()
    if hint.width() > PROJECTOR[0] or hint.height() > PROJECTOR[1]:
        problems.append(f"{name}: the window needs at least {hint.width()}x{hint.height()}")
    problems += [f"{name}: {p}" for p in clipped_texts(w)]
    problems += plot_problems(w.lab_holders[key], name)
    problems += clipped_cells(w.lab_holders[key], name)
    return problems


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_every_lab_fits_a_projector_in_presenter_mode(qtbot, settings, dark):
    w = presenter_window(qtbot, settings, dark, backend="thread")
    problems = []
    try:
        for info in LABS:
            lab = w.show_lab(info.key)
            problems += layout_problems(qtbot, w, info.key)
            if info.key in RESULTS:
                RESULTS[info.key](qtbot, lab)
                problems += layout_problems(qtbot, w, info.key, " with results")
    finally:
        w.close()
    assert not problems, "\n".join(problems)


def test_a_questions_words_above_every_lab_leave_its_plots_their_room(qtbot, settings):
    """A question's words stay up on every tab: the longest (a question, or a lab lesson with its seeds) takes
    at most MAX_SHARE of a 1024x768 window and scrolls, so no lab under it is flattened or cut."""
    from engine.lessons.questions import QUESTIONS
    from gui.shell.lesson_panel import LAB_LESSONS, MAX_SHARE, seeds_note
    notes = [(q.key, q.title, q.text, q.look) for q in QUESTIONS]
    notes += [(lesson.claim, lesson.title, lesson.text + seeds_note(lesson.claim.partition(" ")[2], "lab"),
               lesson.look) for lesson in LAB_LESSONS]
    key, title, text, look = max(notes, key=lambda n: len(n[2]) + len(n[3]))
    w = presenter_window(qtbot, settings, dark=False, backend="thread")
    problems = []
    try:
        w.lesson_panel.show_question(key, title, text, look)
        for info in LABS:
            lab = w.show_lab(info.key)
            settle(qtbot, w)
            assert w.lesson_panel.isVisible()
            assert w.lesson_panel.height() <= MAX_SHARE * w.height() + 40, (info.key, w.lesson_panel.height())
            if info.key in RESULTS:
                RESULTS[info.key](qtbot, lab)
            problems += layout_problems(qtbot, w, info.key, " under a question")
        panel = w.lesson_panel
        need = panel.text.heightForWidth(panel.scroll.viewport().width())
        if need > MAX_SHARE * w.height():      # longer than their share: they scroll, none is lost
            assert panel.scroll.verticalScrollBar().maximum() > 0
        else:
            assert panel.scroll.height() >= need    # all of them shown
    finally:
        w.close()
    assert not problems, "\n".join(problems)


def test_every_lab_has_a_results_step_or_draws_on_opening():
    """A new lab gets a line in RESULTS when it draws results after a job; the schedules lab draws at once."""
    assert set(RESULTS) <= {info.key for info in LABS}


def test_the_schedules_log_scale_shows_the_shapes_not_the_plunge_to_zero(qtbot):
    """Cosine ends at 0, whose logarithm is -inf: the view stops LOG_DECADES under the top rate instead of
    following it down to 1e-8 (where every schedule's shape was squeezed into the top third)."""
    from engine.config import Experiment, OptimizerConfig, TrainConfig
    from gui.labs.schedules import LOG_DECADES, ScheduleRaceTab
    exp = Experiment(optimizer=OptimizerConfig(name="adam", lr=0.01), train=TrainConfig(steps=2000))
    tab = ScheduleRaceTab(lambda: exp)
    qtbot.addWidget(tab)
    tab.show()
    tab.refresh()
    qtbot.waitUntil(lambda: any(row.curve.yData is not None and len(row.curve.yData) for row in tab.rows))
    low, high = tab.plot.getPlotItem().getViewBox().viewRange()[1]
    assert high == pytest.approx(-2, abs=0.3)                   # log10 of the top rate, 0.01
    assert high - low == pytest.approx(LOG_DECADES, rel=0.15)   # four decades, not eight
    tab.log_y.setChecked(False)                                  # linear: all of every curve, down to 0
    view = tab.plot.getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: view.viewRange()[1][0] <= 0.0 and view.viewRange()[1][1] >= 0.01)   # auto-ranged


def test_the_weights_tab_fits_a_projector_with_histograms(qtbot, settings):
    """Beside the curves on a 1024x768 projector the Weights tab stacks its three plots; they keep a readable
    height and scroll, where they were squeezed to strips with their axis labels cut (seen in the
    presenter screenshots)."""
    from engine.config import DataConfig, Experiment, TrainConfig
    w = presenter_window(qtbot, settings, dark=False, backend="thread")
    try:
        w.clear_runs()
        w.add_run(Experiment(name="weights", data=DataConfig(dataset="spiral"),
                             train=TrainConfig(steps=40, eval_every=20, histogram_every=10)))
        w.start_action.trigger()
        qtbot.waitUntil(lambda: all(r.status == RunStatus.FINISHED for r in w.runs.values()), timeout=JOB_TIMEOUT)
        w.tabs.setCurrentWidget(w.histograms)
        settle(qtbot, w)
        assert w.histograms.layer_names()                 # it has histograms to draw
        problems = plot_problems(w.histograms, "weights") + [f"weights: {p}" for p in clipped_texts(w.histograms)]
    finally:
        w.close()
    assert not problems, "\n".join(problems)
