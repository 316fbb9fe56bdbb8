"""The finder tab, driven as a student would: run, pick, use, check, load the failing preset; errors in one line."""
import math

import numpy as np
import pytest

from engine.config import DataConfig, Experiment, TrainConfig
from engine.labs.lrfinder import (
    AGREE_FACTOR,
    BETA,
    CHECK_RUNS,
    MAX_STEPS,
    MIN_STEPS,
    STOP_FACTOR,
    CheckResult,
    FinderResult,
    check_verdict,
    format_lr,
)
from gui.labs.finder import FinderTab

SMALL = Experiment(data=DataConfig(n_train=200, n_val=100), train=TrainConfig(steps=60, histogram_every=0))


@pytest.fixture
def tab(qtbot):
    widget = FinderTab(lambda: SMALL)
    qtbot.addWidget(widget)
    widget.steps_spin.setValue(40)
    widget.check_steps_spin.setValue(20)
    yield widget
    widget.shutdown()


def finish(qtbot, tab):
    # the thread has ended and the finished signal's slot has run (it clears the job)
    qtbot.waitUntil(lambda: not tab.busy() and tab._job == "", timeout=30000)


def test_run_finder_draws_the_curve_and_marks_and_use_emits_the_valley(qtbot, tab):
    assert tab.run_finder()
    finish(qtbot, tab)
    result = tab.result
    assert isinstance(result, FinderResult) and result.steps >= 20
    x, y = tab.smooth_curve.xData, tab.smooth_curve.yData
    assert len(x) == result.steps and np.allclose(y, result.smoothed)
    for name, mark in tab.marks.items():
        mx = mark.xData
        assert len(mx) == 1 and mx[0] == result.suggestion(name).mark_lr
    assert tab.pick_combo.currentText() == "valley" and "valley" in tab.pick_label.text()
    assert tab.pick_line.isVisible() and tab.pick_line.value() == pytest.approx(
        math.log10(result.suggestion("valley").lr))
    with qtbot.waitSignal(tab.use_lr, timeout=1000) as emitted:
        tab.use_button.click()
    shown = format_lr(result.suggestion("valley").lr)
    assert emitted.args == [float(shown)] and shown in tab.pick_label.text()      # the rate as shown
    tab.pick_combo.setCurrentText("steep")
    with qtbot.waitSignal(tab.use_lr, timeout=1000) as emitted:
        tab.use_button.click()
    assert emitted.args == [float(format_lr(result.suggestion("steep").lr))]


def test_check_puts_each_runs_final_val_loss_on_the_curve(qtbot, tab):
    assert not tab.check_button.isEnabled()
    tab.run_finder()
    finish(qtbot, tab)
    assert tab.check_button.isEnabled()
    assert tab.check_finder()
    finish(qtbot, tab)
    assert len(tab.check_points) == CHECK_RUNS
    ok = [p for p in tab.check_points if math.isfinite(p.val_loss)]
    x, y = tab.check_scatter.xData, tab.check_scatter.yData
    assert len(x) == len(ok) >= 4 and list(y) == [p.val_loss for p in ok]
    dx = tab.diverged_scatter.xData
    assert len(dx) == CHECK_RUNS - len(ok)
    assert "Best check run" in tab.check_label.text()
    # The words are the engine's verdict on these very runs.
    expected = check_verdict(tab.result.suggestion("valley").lr, CheckResult(tuple(tab.check_points), 20))
    assert tab.verdict == expected and tab.check_label.text() == expected.sentence


def test_the_tab_says_the_engines_numbers(tab):
    """One definition: the sweep's bounds, smoothing and stop factor are the engine's, in the widgets and words."""
    assert (tab.steps_spin.minimum(), tab.steps_spin.maximum()) == (MIN_STEPS, MAX_STEPS)
    text = tab.explanation.text()
    assert f"β = {BETA:g}" in text and f"{STOP_FACTOR:g}× its best" in text and f"{AGREE_FACTOR:g}×" in text


def test_an_invalid_form_is_a_message_not_a_crash(qtbot):
    widget = FinderTab(lambda: None)
    qtbot.addWidget(widget)
    assert not widget.run_finder()
    assert "form has an error" in widget.message_label.text()
    assert not widget.busy()
    assert not widget.check_finder() and "Run the finder first" in widget.message_label.text()
    widget.start_edit.setText("abc")
    widget.load_preset()                               # the preset does not need the form...
    assert not widget.run_finder()                     # ...but a bad start LR is still refused
    assert "must be numbers" in widget.message_label.text()


def test_a_failing_job_shows_its_reason_in_one_line(qtbot):
    def broken():
        raise RuntimeError("no form here")
    widget = FinderTab(broken)
    qtbot.addWidget(widget)
    assert not widget.run_finder() and "form has an error" in widget.message_label.text()
    # An experiment the trainer refuses at build time: the job fails, the tab says why.
    widget2 = FinderTab(lambda: SMALL.replace(data={"dataset": "mnist", "path": "/nonexistent"}))
    qtbot.addWidget(widget2)
    assert widget2.run_finder()
    finish(qtbot, widget2)
    assert widget2.message_label.text() and "\n" not in widget2.message_label.text()
    assert widget2.result is None and widget2.run_button.isEnabled()


def test_the_failing_preset_loads_with_its_lesson_and_the_form_comes_back(qtbot, tab):
    with qtbot.waitSignal(tab.preset_loaded, timeout=1000) as loaded:
        tab.preset_button.click()
    assert loaded.args[0].name == "finder-fails" and tab.experiment() is loaded.args[0]
    assert "cautious" in tab.source_label.text() and tab.log_check.isChecked()
    tab.form_button.click()
    assert tab.experiment() is SMALL


def test_stop_ends_the_sweep_early(qtbot, tab):
    tab.steps_spin.setValue(2000)
    tab.end_edit.setText("1e-3")        # gentle: it would run all 2000 steps
    assert tab.run_finder()
    tab.stop_button.click()
    finish(qtbot, tab)
    assert tab.result is not None and tab.result.stop_reason == "stopped" and tab.result.steps < 2000
