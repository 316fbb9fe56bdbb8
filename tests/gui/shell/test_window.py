"""The training window, driven as a teacher drives it: offscreen, through the real worker thread."""
import json

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.config import Experiment, OptimizerConfig, TrainConfig
from gui.shell.window import MainWindow

TIMEOUT = 60_000


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


def open_window(qtbot, settings, backend: str = "thread") -> MainWindow:
    """A shown window, ready to train.

    These are tests of the window's wiring, so by default its training loop runs in a thread: the same
    engine loop and messages (gui.concurrency.training), without a child process that loads torch anew for
    every test (about 8 s each on a loaded CI machine).  The tests that are about the training process
    itself pass ``backend="process"`` (here: Space trains every plot, closing mid-training), as do
    tests/gui/shell/test_engine_death.py and tests/gui/concurrency/test_training.py."""
    w = MainWindow(settings=settings, backend=backend)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.ready, timeout=TIMEOUT)
    return w


@pytest.fixture
def window(qtbot, settings):
    w = open_window(qtbot, settings)
    yield w
    w.close()
    assert not w.training.thread.isRunning()


def short(run_name="run", steps=120, **opt):
    return Experiment(name=run_name, optimizer=OptimizerConfig(**opt) if opt else OptimizerConfig(),
                      train=TrainConfig(steps=steps, eval_every=20, histogram_every=20))


def settle_events() -> None:
    """Deliver every posted event (layout requests, font changes) now: a condition, not a fixed sleep."""
    from PySide6.QtWidgets import QApplication
    QApplication.sendPostedEvents()
    QApplication.processEvents()


def wait_final(qtbot, window, timeout=TIMEOUT):
    qtbot.waitUntil(lambda: window.runs and all(r.status in ("finished", "diverged", "stopped", "error")
                                                for r in window.runs.values()), timeout=timeout)
    window.flush_drawing()  # the final status came with the last updates: draw whatever is still stored


def test_window_appears_before_torch_is_needed_and_then_fills_the_form(window):
    assert window.form is not None and window.form.isVisible()
    assert not window.loading.isVisible()
    assert window.start_action.isEnabled()


@pytest.fixture
def process_window(qtbot, settings):
    """The window as a teacher starts it: its training loop in a child process (the default backend)."""
    w = open_window(qtbot, settings, backend="process")
    yield w
    w.close()
    assert not w.training.thread.isRunning()


def test_space_starts_and_curves_grow_for_every_plot(qtbot, process_window):
    window = process_window
    window.clear_runs()
    window.form.set_experiment(short(steps=150))
    window.runs_list.setFocus()
    qtbot.keyClick(window.runs_list, Qt.Key_Space)
    assert len(window.runs) == 1
    wait_final(qtbot, window)
    (run,) = window.runs.values()
    assert run.status == "finished" and run.step == 150
    x, y = window.plots.curve_data(run.run_id, "loss", "batch")
    assert list(x) == list(range(1, 151))
    x, y = window.plots.curve_data(run.run_id, "accuracy", "val")
    assert list(x) == [0, 20, 40, 60, 80, 100, 120, 140, 150]
    assert window.boundary.image_array() is not None
    window.tabs.setCurrentWidget(window.histograms)  # hidden, it was sent nothing; shown, it gets it all
    assert window.histograms.heatmap_image().size > 0
    assert window.runs_list.status(run.run_id) == "finished"


def test_step_once_takes_exactly_one_step_each_time(qtbot, window):
    window.clear_runs()
    window.add_run(short(steps=500))
    window.step_action.trigger()
    qtbot.waitUntil(lambda: next(iter(window.runs.values())).step == 1, timeout=TIMEOUT)
    window.step_action.trigger()
    qtbot.waitUntil(lambda: next(iter(window.runs.values())).step == 2, timeout=TIMEOUT)
    run = next(iter(window.runs.values()))
    qtbot.waitUntil(lambda: run.status == "paused", timeout=TIMEOUT)
    assert run.step == 2 and run.status == "paused"


def test_pause_holds_and_start_resumes(qtbot, window):
    window.clear_runs()
    window.add_run(short(steps=100_000))
    window.start_action.trigger()
    run = next(iter(window.runs.values()))
    qtbot.waitUntil(lambda: run.step > 20, timeout=TIMEOUT)
    window.start_action.trigger()  # pause
    qtbot.waitUntil(lambda: run.status == "paused", timeout=TIMEOUT)
    held = run.step
    qtbot.wait(300)
    assert run.step == held and window.start_action.text() == "Start"
    window.start_action.trigger()
    qtbot.waitUntil(lambda: run.step > held + 10, timeout=TIMEOUT)
    window.stop_action.trigger()
    qtbot.waitUntil(lambda: run.status == "stopped", timeout=TIMEOUT)


def test_reset_rewinds_to_the_same_initial_weights(qtbot, window):
    window.clear_runs()
    window.add_run(short(steps=80))
    window.start_action.trigger()
    wait_final(qtbot, window)
    run = next(iter(window.runs.values()))
    first = [s.loss.copy() for s in run.log.steps]
    first = np.concatenate(first)
    window.reset_action.trigger()
    assert run.status == "queued" and run.step == 0
    assert len(window.plots.curve_data(run.run_id, "loss", "batch")[1]) == 0
    window.start_action.trigger()
    wait_final(qtbot, window)
    again = np.concatenate([s.loss for s in run.log.steps])
    np.testing.assert_array_equal(first, again)  # same seed, same weights, same batches: same curve


def test_added_runs_train_side_by_side_in_their_own_colours(qtbot, window):
    window.clear_runs()
    for opt in (dict(name="sgd", lr=0.1), dict(name="adam", lr=0.01), dict(name="adamw", lr=0.01)):
        window.form.set_experiment(short(opt["name"], steps=100, **opt))
        window.add_button.click()
    assert [r.name for r in window.runs.values()] == ["sgd", "adam", "adamw"]
    assert len({r.color.name() for r in window.runs.values()}) == 3
    window.start_action.trigger()
    wait_final(qtbot, window)
    for run in window.runs.values():
        assert run.status == "finished"
        assert len(window.plots.curve_data(run.run_id, "loss", "batch")[1]) == 100
    losses = {r.name: window.plots.curve_data(r.run_id, "loss", "batch")[1][-1] for r in window.runs.values()}
    assert len(set(losses.values())) == 3


def test_hidden_run_curves_are_not_drawn(qtbot, window):
    window.clear_runs()
    run_id = window.add_run(short(steps=30))
    window.runs_list.set_visible_run(run_id, False)
    assert window.runs_list.is_visible(run_id) is False


def test_a_run_that_cannot_start_shows_error_and_the_app_goes_on(qtbot, window, tmp_path):
    window.clear_runs()
    bad = Experiment(name="bad").replace(data={"dataset": "mnist", "path": str(tmp_path)})
    bad_id = window.add_run(bad)
    good_id = window.add_run(short("good", steps=40))
    window.start_action.trigger()
    wait_final(qtbot, window)
    assert window.runs[bad_id].status == "error"
    assert window.runs[bad_id].message.startswith("data.path:")
    assert window.runs_list.item(0, 1).toolTip().startswith("data.path:")
    assert window.runs[good_id].status == "finished"


def test_diverged_run_says_step_and_lr_in_its_tooltip(qtbot, window):
    window.clear_runs()
    run_id = window.add_run(short("too high", steps=300, name="sgd", lr=50.0))
    window.start_action.trigger()
    wait_final(qtbot, window)
    assert window.runs[run_id].status == "diverged"
    tip = window.runs_list.item(0, 1).toolTip()
    assert tip.startswith("diverged at step") and "lr 50" in tip


def test_corrupt_file_shows_the_reason_and_changes_nothing(qtbot, window, tmp_path, monkeypatch):
    window.clear_runs()
    window.add_run(short("keep me"))
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    bad = tmp_path / "bad.json"
    bad.write_text('{"optimizer": {"lr": -1}}')
    assert window.open_file(bad) is False
    assert shown and "optimizer.lr: must be > 0" in shown[0]
    bad.write_text("{not json")
    assert window.open_file(bad) is False
    assert "not valid JSON" in shown[1]
    assert [r.name for r in window.runs.values()] == ["keep me"]


def test_open_and_save_run_lists_and_export_csv_and_plots(qtbot, window, tmp_path):
    window.clear_runs()
    window.add_run(short("a", steps=40))
    window.add_run(short("b", steps=40, name="sgd", lr=0.1))
    saved = tmp_path / "runs.json"
    assert window.save_run_list(saved)
    assert [r["name"] for r in json.loads(saved.read_text())] == ["a", "b"]
    window.clear_runs()
    assert window.open_file(saved) and [r.name for r in window.runs.values()] == ["a", "b"]
    window.runs_list.select(next(iter(window.runs)))
    window.start_action.trigger()
    wait_final(qtbot, window)
    csv_path = tmp_path / "a.csv"
    assert window.export_csv(csv_path)
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("step,epoch,lr,train_loss,grad_norm") and len(lines) == 42
    for key in ("metrics:loss", "boundary"):
        png, svg = tmp_path / f"{key.replace(':', '_')}.png", tmp_path / f"{key.replace(':', '_')}.svg"
        assert window.export_plot(key, png) and png.stat().st_size > 1000
        assert window.export_plot(key, svg) and "<svg" in svg.read_text()


def test_lessons_menu_loads_a_preset_with_its_explanation(qtbot, window):
    from engine.lessons.presets import PRESETS
    window.load_preset("optimizers")
    assert [r.name for r in window.runs.values()] == [e.name for e in PRESETS["optimizers"].runs]
    assert window.lesson_panel.isVisible() and PRESETS["optimizers"].title in window.lesson_text.text()
    titles = [a.text() for a in window._lesson_menu.actions()]
    assert titles[:len(PRESETS)] == [p.title for p in PRESETS.values()]   # then the lesson's questions
    # and how often its claim held in the shipped make-claims table
    from engine.lessons.claims import measured
    shipped = measured("preset optimizers")
    assert shipped is not None and f"This claim {shipped.text}." in window.lesson_text.text()


def test_presenter_mode_and_dark_theme(qtbot, window):
    size = QApplication.instance().font().pointSizeF()
    window.presenter_action.trigger()
    assert QApplication.instance().font().pointSizeF() > size * 1.3
    window.set_dark(True)
    assert QApplication.instance().palette().window().color().lightness() < 60
    window.presenter_action.trigger()
    window.set_dark(False)
    assert QApplication.instance().font().pointSizeF() == pytest.approx(size)


def test_the_window_fits_a_1024_pixel_projector_in_both_looks(qtbot, window):
    """Classroom projectors are often 1024x768: the window must not demand more, even in presenter mode."""
    for presenter in (False, True):
        if window.presenter_action.isChecked() != presenter:
            window.presenter_action.trigger()
        settle_events()  # the font change reaches every widget through posted events
        hint = window.minimumSizeHint()
        assert hint.width() < 1000 and hint.height() < 700, (presenter, hint, window.left.minimumSizeHint(), window.plots.minimumSizeHint(), window.tabs.minimumSizeHint(), window.lesson_panel.isVisible())
    window.presenter_action.trigger()


def test_long_run_names_do_not_widen_the_window(qtbot, window):
    window.clear_runs()
    window.add_run(short("a-very-long-run-name-that-a-teacher-typed-for-the-class"))
    window.tabs.setCurrentWidget(window.histograms)
    settle_events()
    assert window.minimumSizeHint().width() < 1000


def test_closing_during_training_stops_the_thread_fast(qtbot, settings):
    w = open_window(qtbot, settings, backend="process")
    w.clear_runs()
    w.add_run(short(steps=1_000_000))
    w.add_run(short("b", steps=1_000_000, name="sgd", lr=0.05))
    w.start_action.trigger()
    qtbot.waitUntil(lambda: all(r.step > 50 for r in w.runs.values()), timeout=TIMEOUT)
    stops = []
    shutdown = w.training.shutdown
    w.training.shutdown = lambda ms: stops.append((ms, shutdown(ms))) or stops[-1][1]
    w.close()
    # The thread stopped at a step boundary within the window's first, short wait (not its long fallback).
    assert stops[0] == (1000, True)
    assert not w.training.thread.isRunning()


def test_settings_bring_back_the_runs_and_the_layout(qtbot, settings):
    first = open_window(qtbot, settings)
    first.clear_runs()
    first.add_run(short("remembered", steps=77))
    first.resize(1234, 777)
    first.main_split.setSizes([300, 934])  # the default is 380 for the form column
    sizes = first.main_split.sizes()
    first.close()
    second = open_window(qtbot, settings)
    assert [r.name for r in second.runs.values()] == ["remembered"]
    assert next(iter(second.runs.values())).experiment.train.steps == 77
    # The offscreen screen is 800 px wide, so Qt fits the restored geometry to it; the saved
    # geometry must still have been found and applied, and the splitters come back exactly.
    assert second.geometry_restored
    assert abs(second.main_split.sizes()[0] - sizes[0]) <= 10  # the form column, refitted by a few px
    second.close()


def test_batchnorm_lesson_ends_with_its_table(qtbot, window):
    window.load_preset("batchnorm-eval")
    run = next(iter(window.runs.values()))
    window.start_action.trigger()
    wait_final(qtbot, window, timeout=120_000)
    qtbot.waitUntil(lambda: "<table" in window.lesson_text.text(), timeout=TIMEOUT)  # the title says "batch statistics" too
    text = window.lesson_text.text()
    assert run.status == "finished" and "one class" in text and "whole set" in text


def test_x_axis_spans_the_longest_planned_run_and_follows_the_axis_unit(qtbot, window):
    window.clear_runs()
    window.add_run(short("a", steps=300))
    window.add_run(Experiment(name="b", train=TrainConfig(epochs=4, batch_size=40)))  # 400/40 = 10 steps a pass
    view = window.plots.plot_widgets()["loss"].getPlotItem().getViewBox()
    x0, x1 = view.viewRange()[0]
    assert x0 <= 0 and 300 <= x1 <= 320
    window.plots.set_x_axis("epoch")
    x0, x1 = window.plots.plot_widgets()["lr"].getPlotItem().getViewBox().viewRange()[0]
    assert 300 / 13 <= x1 <= 300 / 13 * 1.05  # run a: 300 steps at 13 a pass = 23.1 epochs, more than b's 4
    window.plots.set_x_axis("step")


# -- the window's parts, without a training thread --------------------------------------------------------

class _Training:
    """Stands in for gui.concurrency.training.TrainingThread: records what the tab posts and acknowledges."""

    def __init__(self):
        self.posted, self.acks = [], 0
        outer = self

        class Worker:
            def acknowledge(self):
                outer.acks += 1
        self.worker = Worker()

    def post(self, command, *args):
        self.posted.append((command, *args))


def _update(run_id, status, steps, evals):
    """A RunUpdate with those steps (losses 1/step) and evaluations ((step, train_acc, val_acc) each)."""
    from engine.training.updates import EvalSeries, RunUpdate, StepSeries
    s = np.asarray(steps, dtype=np.int64)
    step_series = StepSeries(s, s / 10.0, np.full(len(s), 0.1), 1.0 / s, np.ones(len(s)), np.zeros(len(s), bool))
    e = np.array(evals, dtype=float).reshape(-1, 3)
    eval_series = EvalSeries(e[:, 0].astype(np.int64), e[:, 0] / 10.0, np.ones(len(e)), e[:, 1], np.ones(len(e)),
                             e[:, 2])
    return RunUpdate(run_id, status, "", int(s[-1]), float(s[-1]) / 10.0, 100.0, step_series, eval_series)


def test_the_training_tab_stores_a_batch_and_draws_one_view_per_event_loop_turn(qtbot):
    from gui.training.tab import TrainingTab
    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.training = training = _Training()
    run_id = tab.add_run(short("a", steps=3))
    assert training.posted[-1][:2] == ("add", run_id)
    with qtbot.waitSignal(tab.evaluated) as evaluated, qtbot.waitSignal(tab.runs_ended) as ended:
        tab.on_updates([_update(run_id, "finished", [1, 2, 3], [(0, 0.5, 0.5), (3, 0.9, 0.7)])])
    assert evaluated.args == [{run_id}] and [r.run_id for r in ended.args[0]] == [run_id]
    assert training.acks == 1                          # acknowledged at once: the loop may send the next batch
    run = tab.runs[run_id]
    assert (run.status, run.step) == ("finished", 3) and len(run.log.evals) == 1
    pending = tab.plots.pending_plots()
    assert len(pending) >= 2                           # stored, not drawn yet
    tab.drawing.draw_slice()                           # one event-loop turn draws one view
    assert tab.plots.pending_plots() == pending[1:]
    qtbot.waitUntil(lambda: not tab.plots.pending_plots() and tab.drawing.batches_drawn == 1, timeout=TIMEOUT)
    np.testing.assert_array_equal(tab.plots.curve_data(run_id, "loss", "batch")[0], [1, 2, 3])


def test_the_lesson_panel_asks_for_its_table_once_and_shows_it(qtbot):
    from engine.labs.batchnorm import BatchNormRow
    from gui.shell.lesson_panel import LessonPanel
    from gui.training.tab import RunEntry
    panel = LessonPanel()
    qtbot.addWidget(panel)
    asked = []
    panel.inspection_wanted.connect(lambda name, run_id: asked.append((name, run_id)))
    runs = [RunEntry("run1", "a", None, None, status="diverged"), RunEntry("run2", "b", None, None, status="finished")]
    panel.show_lesson("optimizers", "Optimizers", "words")
    panel.on_runs_ended(runs)
    assert asked == []                                 # a lesson without a table asks for none
    panel.show_lesson("batchnorm-eval", "BatchNorm", "The lesson's words")
    panel.on_runs_ended(runs)
    panel.on_runs_ended(runs)
    assert asked == [("batchnorm", "run2")]            # once, from the first finished run
    panel.rearm()                                      # Reset: the runs train again, the table is asked again
    panel.on_runs_ended(runs)
    assert asked == [("batchnorm", "run2")] * 2
    rows = [BatchNormRow(32, "shuffled", 0.9, 0.875), BatchNormRow(200, "one class", 0.9, 0.25, whole_set=True)]
    panel.on_inspection("other", "run2", rows)
    assert "<table" not in panel.text.text()
    panel.on_inspection("batchnorm", "run2", rows)
    text = panel.text.text()
    from gui.shell.lesson_panel import seeds_note
    assert text.startswith("<b>BatchNorm</b><br>The lesson's words" + seeds_note("batchnorm-eval") + "<br><table")
    assert "<td>32</td>" in text and "<td>whole set</td>" in text and "87.5%" in text and "25.0%" in text


def test_a_lessons_words_show_on_the_training_tab_and_a_questions_everywhere(qtbot):
    from gui.shell.lesson_panel import LessonPanel
    panel = LessonPanel()
    qtbot.addWidget(panel)
    assert panel.isHidden()
    panel.show_lesson("optimizers", "Optimizers", "words")
    assert not panel.isHidden()
    panel.follow_tab(on_training=False)
    assert panel.isHidden()
    panel.show_question("q", "Question", "why?", "look here")
    assert not panel.isHidden() and "What to look at:" in panel.text.text()
    panel.leave_lesson(keep_question=True)             # other runs train: the question stays
    assert not panel.isHidden() and panel.lesson is None and panel.question == "q"
    panel.leave_lesson()
    assert panel.isHidden() and panel.question is None


def test_the_export_menu_names_every_plot_of_the_training_tab(qtbot, window):
    from gui.shell import export
    names = dict(export.plot_names(window.training_tab))
    assert {f"metrics:{k}" for k in window.plots.plot_widgets()} <= set(names) and "boundary" in names
    for key in names:
        assert export.plot_widget(window.training_tab, key) is not None


def test_the_desk_window_fits_a_projector_too(qtbot, window):
    """At the desk look (no presenter mode) the window's minimum also fits a 1024x768 screen, the
    Weights tab shown (the widest of the two), and the form can be folded away there as well."""
    window.tabs.setCurrentWidget(window.histograms)
    QApplication.processEvents()
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 768, hint
    assert not window.training_tab.form_folded         # at the desk the form is shown by default
    window.look.form_action.trigger()
    assert window.training_tab.form_folded and not window.form.isVisible()
    window.look.form_action.trigger()
    assert window.form.isVisible()
