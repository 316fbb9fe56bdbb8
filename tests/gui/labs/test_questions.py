"""The lesson's questions: each opens where the app shows it, and question 1's setup shows its answer."""
import pytest

from engine.lessons import questions as lesson
from gui.labs.questions import OPENERS, QUESTIONS, RAVINE

TIMEOUT = 60_000


def test_every_question_of_the_lesson_has_an_opener():
    assert [q.key for q in QUESTIONS] == [q.key for q in lesson.QUESTIONS] == list(OPENERS)
    assert all(q.text == lq.text and q.look == lq.look for q, lq in zip(QUESTIONS, lesson.QUESTIONS))


@pytest.fixture
def window(lab_window):
    return lab_window


def test_every_question_is_in_the_lessons_menu_and_opens_with_its_words_on_top(qtbot, window):
    titles = [a.text() for a in window._lesson_menu.actions()]
    for question in QUESTIONS:
        assert question.title in titles
    expected = {"adam-per-parameter": "Trajectories", "batchnorm-test-time": "Training",
                "dropout-generalizes": "Regularization", "finder-challenge": "LR finder"}
    for question in QUESTIONS:
        window.open_question(question.key)
        assert window.labs.tabText(window.labs.currentIndex()) == expected[question.key]
        assert window.lesson_panel.isVisible() and question.text[:40] in window.lesson_text.text()


def test_question_one_sets_up_the_ravine_race(qtbot, window):
    window.open_question("adam-per-parameter")
    lab = window.lab("trajectories")
    assert [lab.spec(i).text for i in range(lab.optimizer_count())] == list(RAVINE["optimizers"])
    qtbot.waitUntil(lambda: not lab.busy() and lab.trajectory(2) is not None, timeout=TIMEOUT)


def test_question_two_loads_the_batchnorm_lesson_and_the_challenge_the_failing_finder(qtbot, window):
    window.open_question("batchnorm-test-time")
    assert window._lesson == "batchnorm-eval" and window.runs
    window.open_question("finder-challenge")
    finder = window.lab("finder")
    assert finder.experiment() is not None and "Preset" in finder.source_label.text()


def test_a_question_stays_up_while_its_comparison_trains_and_hide_removes_it(qtbot, window):
    window.open_question("dropout-generalizes")
    window.lab("regularization").compare_button.click()
    assert window.lesson_panel.isVisible() and "dropout" in window.lesson_text.text()
    window.stop_runs()
    window.hide_lesson()
    assert not window.lesson_panel.isVisible()
    qtbot.waitUntil(lambda: all(r.status in ("finished", "stopped", "diverged", "error")
                                for r in window.runs.values()), timeout=TIMEOUT)


def test_a_lessons_words_stay_with_its_runs_and_a_questions_words_with_every_tab(qtbot, window):
    window.load_preset("optimizers")
    assert window.lesson_panel.isVisible()
    window.show_lab("init")
    assert not window.lesson_panel.isVisible()        # the optimizers lesson is about the Training tab
    window.labs.setCurrentIndex(0)
    assert window.lesson_panel.isVisible()
    window.open_question("adam-per-parameter")
    window.show_lab("init")
    assert window.lesson_panel.isVisible()            # a question stays up wherever one looks


def test_the_noise_lesson_opens_the_double_well_and_its_paths_end_where_the_claim_says(qtbot, window):
    """Lessons > In the labs > Gradient noise: the exact path stays in the shallow valley, the noisy one
    reaches the deep valley (noise seed 0), and the note gives the claim's seeds."""
    from engine.labs.surfaces import SURFACES
    from gui.shell.lesson_panel import LAB_LESSONS, open_lab_lesson

    lesson_entry, = (x for x in LAB_LESSONS if x.claim == "lab double-well")
    assert lesson_entry.title in [a.text() for a in window._lesson_menu.actions()]
    open_lab_lesson(window, lesson_entry)
    lab = window.lab("trajectories")
    assert window.labs.tabText(window.labs.currentIndex()) == "Trajectories"
    assert [lab.spec(i).text for i in range(lab.optimizer_count())] == list(lesson.NOISY_DESCENT["optimizers"])
    assert lab.spec(1).noise == 3.0 and lab.spec(0).noise == 0.0
    lab.set_noise_seed(0)
    qtbot.waitUntil(lambda: not lab.busy() and lab.trajectory(1) is not None
                    and lab.trajectory(0) is not None, timeout=TIMEOUT)
    (deep, _), (shallow, _) = SURFACES["double-well"].minima
    assert abs(lab.trajectory(0).x[-1] - shallow) < 0.01
    assert lab.trajectory(1).x[-1] < 0.0 < shallow and deep < 0.0
    text = window.lesson_text.text()
    assert window.lesson_panel.isVisible() and "of 10 seeds" in text and "Press Play" in text
