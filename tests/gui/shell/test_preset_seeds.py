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
