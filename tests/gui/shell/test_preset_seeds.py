"""The Lessons menu's seeds box: a lesson loaded with K seeds trains every run as K members (bands)."""
from __future__ import annotations

import pytest

from engine.config import MAX_SEEDS
from engine.lessons.presets import PRESETS
from gui.shell.preset_seeds import with_seeds


def test_lesson_loaded_with_seeds_sets_train_seeds_of_every_run(qtbot, lab_window):
    window = lab_window
    assert window.preset_seeds in window._lesson_menu.actions()
    assert window.preset_seeds.spin.maximum() == MAX_SEEDS and window.preset_seeds.spin.minimum() == 1
    window.preset_seeds.spin.setValue(16)
    assert window.load_preset("optimizers")
    runs = list(window.runs.values())
    assert [r.name for r in runs] == [e.name for e in PRESETS["optimizers"].runs]
    assert all(r.experiment.train.seeds == 16 for r in runs)
    window.preset_seeds.spin.setValue(1)
    assert window.load_preset("optimizers")
    assert all(r.experiment.train.seeds == 1 for r in window.runs.values())


def test_with_seeds_keeps_everything_else_and_refuses_out_of_bounds():
    runs = PRESETS["optimizers"].runs
    seeded = with_seeds(runs, 4)
    assert [r.replace(train={"seeds": 1}) for r in seeded] == [r.replace(train={"seeds": 1}) for r in runs]
    with pytest.raises(ValueError, match="train.seeds"):
        with_seeds(runs, MAX_SEEDS + 1)


def _ended(window):
    return window.runs and all(r.status in ("finished", "diverged", "stopped", "error") for r in window.runs.values())


def test_a_lesson_trained_with_seeds_says_at_how_many_of_them_its_claim_held(qtbot, lab_window):
    """The claim seen live: the words under the lesson count the members where its conditions held, the
    engine's check of the window's own runs; a reset takes them away until the runs end again."""
    from engine.lessons.claims.live import check_live
    window = lab_window
    window.preset_seeds.spin.setValue(3)
    assert window.load_preset("warmup")
    assert "In these runs" not in window.lesson_text.text()
    window.start_action.trigger()
    qtbot.waitUntil(lambda: _ended(window), timeout=120_000)
    qtbot.waitUntil(lambda: "In these runs it" in window.lesson_text.text(), timeout=60_000)
    live = check_live("warmup", [(r.experiment, r.records) for r in window.runs.values()])
    assert live is not None and len(live.checks) == 3
    text = window.lesson_text.text()
    s = live.seed                                                             # the preset's runs' seed
    assert f"In these runs it held at {live.held} of 3 seeds ({s}-{s + 2}, on seed {s}'s data)" in text
    assert PRESETS["warmup"].title in text                                   # under the lesson's own words
    for seed, failed in live.failures():
        assert f"at seed {seed}: {failed[0]}" in text
    window.controls.reset_runs()
    assert "In these runs" not in window.lesson_text.text() and PRESETS["warmup"].title in window.lesson_text.text()
    window.preset_seeds.spin.setValue(1)


def test_a_lesson_whose_runs_were_changed_claims_nothing_of_them(qtbot, lab_window):
    window = lab_window
    window.preset_seeds.spin.setValue(2)
    assert window.load_preset("digits-mlp")
    (run,) = window.runs.values()
    run.experiment = run.experiment.replace(optimizer={"lr": run.experiment.optimizer.lr / 3})   # as Apply does
    window.training_tab.rewind(run, run.experiment)
    window.start_action.trigger()
    qtbot.waitUntil(lambda: _ended(window) and all(r.records for r in window.runs.values()), timeout=120_000)
    window.training_tab.runs_ended.emit(list(window.runs.values()))
    assert "In these runs" not in window.lesson_text.text()
    window.preset_seeds.spin.setValue(1)
