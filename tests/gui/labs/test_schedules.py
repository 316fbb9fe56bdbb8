"""The schedule race tab: one exact curve per checked schedule, Race emits the right experiments."""
import numpy as np
import pytest

from engine.config import Experiment, OptimizerConfig, ScheduleConfig, TrainConfig
from engine.labs.race import RACE, race_experiments
from engine.optim.schedules import lr_curve
from gui.labs.schedules import ScheduleRaceTab

EXP = Experiment(name="mine", optimizer=OptimizerConfig(name="sgd", lr=0.1, momentum=0.9),
                 schedule=ScheduleConfig(name="step", warmup_steps=7), train=TrainConfig(steps=300))


@pytest.fixture
def tab(qtbot):
    source = {"exp": EXP}
    widget = ScheduleRaceTab(lambda: source["exp"])
    widget.source = source
    qtbot.addWidget(widget)
    return widget


def drawn(tab):
    return {row.entry.label: row.curve for row in tab.rows if row.curve.isVisible() and row.curve.yData is not None
            and len(row.curve.yData)}


def test_one_exact_curve_per_checked_schedule(tab):
    assert [e.label for e in RACE] == ["constant", "step", "exponential", "cosine", "warmup+cosine", "one-cycle"]
    curves = drawn(tab)
    assert list(curves) == [e.label for e in RACE]
    expected = {"constant": ScheduleConfig(), "step": ScheduleConfig(name="step"),
                "exponential": ScheduleConfig(name="exponential"), "cosine": ScheduleConfig(name="cosine"),
                "warmup+cosine": ScheduleConfig(name="cosine", warmup_steps=30),
                "one-cycle": ScheduleConfig(name="one_cycle")}
    for label, cfg in expected.items():
        assert np.array_equal(curves[label].xData, np.arange(300)), label
        assert np.array_equal(curves[label].yData, lr_curve(cfg, 0.1, 300)), label
    tab.row("cosine").check.setChecked(False)
    tab.row("step").edits["gamma"].setText("0.5")
    tab.refresh()
    curves = drawn(tab)
    assert "cosine" not in curves and len(curves) == 5
    assert np.array_equal(curves["step"].yData, lr_curve(ScheduleConfig(name="step", gamma=0.5), 0.1, 300))
    assert tab.row("step").edits["step_size"].placeholderText() == "100"    # the resolved default


def test_race_emits_the_experiment_once_per_checked_schedule(tab, qtbot):
    tab.row("exponential").check.setChecked(False)
    tab.row("one-cycle").edits["max_lr"].setText("0.3")
    tab.row("warmup+cosine").edits["warmup_steps"].setText("50")
    tab.refresh()
    with qtbot.waitSignal(tab.race) as signal:
        tab.race_button.click()
    runs = signal.args[0]
    assert [r.name for r in runs] == ["constant", "step", "cosine", "warmup+cosine", "one-cycle"]
    by = {r.name: r for r in runs}
    assert by["constant"].schedule == ScheduleConfig()
    assert by["step"].schedule == ScheduleConfig(name="step")          # the form's warm-up is not carried over
    assert by["warmup+cosine"].schedule == ScheduleConfig(name="cosine", warmup_steps=50)
    assert by["one-cycle"].schedule == ScheduleConfig(name="one_cycle", max_lr=0.3)
    for run in runs:        # everything else is the form's experiment
        assert run.replace(name="mine", schedule=EXP.schedule) == EXP
    # the very contenders ``main.py race`` builds from the same parameters
    params = {"one-cycle": {"max_lr": 0.3}, "warmup+cosine": {"warmup_steps": 50}}
    assert runs == race_experiments(EXP, params, [r.name for r in runs])


def test_the_default_contenders_are_the_engines(tab):
    assert tab.experiments() == race_experiments(EXP)
    preset = Experiment(name="p", optimizer=OptimizerConfig(name="adam", lr=3e-3),
                        train=TrainConfig(steps=120, batch_size=16))
    tab.source["exp"] = preset
    tab.refresh()
    assert tab.experiments() == race_experiments(preset)


def test_an_invalid_parameter_is_shown_and_race_is_disabled(tab):
    assert tab.race_button.isEnabled()
    row = tab.row("step")
    row.edits["gamma"].setText("2")
    tab.refresh()
    assert not row.message.isHidden() and row.message.text() == "gamma: must be in [0, 1], got 2.0"
    assert "e5484d" in row.edits["gamma"].styleSheet()
    assert not tab.race_button.isEnabled() and tab.experiments() is None
    assert "step" not in drawn(tab)
    row.edits["gamma"].setText("x")
    tab.refresh()
    assert "write a number" in row.message.text()
    row.check.setChecked(False)        # an unticked row does not block the race
    tab.refresh()
    assert tab.race_button.isEnabled()
    tab.source["exp"] = None           # the form is invalid: nothing to draw, nothing to race
    tab.refresh()
    assert not tab.race_button.isEnabled() and drawn(tab) == {}
    assert "invalid" in tab.status.text()
