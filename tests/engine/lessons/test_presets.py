"""The presets' shape: each compares runs on the same data and seed, and the Lessons menu holds them.

What each preset claims, and at how many seeds it holds, is checked by tests/engine/lessons/test_claims.py
over the claims table in engine/lessons/claims/ (the same table ``main.py claims`` prints).
"""
import re

import pytest

from engine.labs.batchnorm import BATCHNORM_BATCHINGS, BatchNormRow, batchnorm_accuracy, batchnorm_table
from engine.lessons.presets import PRESETS
from engine.training.trainer import Trainer


def test_every_preset_compares_runs_on_the_same_data_and_seed():
    for preset in PRESETS.values():
        assert 2 <= len(re.findall(r"[.!?](?:\s|$)", preset.lesson)) <= 4, preset.name   # sentences
        assert len({exp.seed for exp in preset.runs}) == 1, preset.name
        assert len({exp.data for exp in preset.runs}) == 1, preset.name
        names = [exp.name for exp in preset.runs]
        assert len(set(names)) == len(names) and all(len(n) <= 24 for n in names), preset.name


def test_lessons_menu_holds_the_lessons():
    assert {"optimizers", "learning-rates", "warmup", "schedules", "regularization", "init-depth",
            "adam-l2-vs-adamw", "batchnorm-eval"} <= set(PRESETS)


def test_batchnorm_accuracy_rejects_what_it_cannot_measure():
    trainer = Trainer(PRESETS["batchnorm-eval"].runs[0].replace(train={"steps": 1}))
    with pytest.raises(ValueError, match="at least 2"):
        batchnorm_accuracy(trainer, 1)
    with pytest.raises(ValueError, match="statistics"):
        batchnorm_accuracy(trainer, 8, statistics="moving")
    with pytest.raises(ValueError, match="composition"):
        batchnorm_accuracy(trainer, 8, composition="sorted")
    # 797 validation digits in pairs leave one over: it joins the last pair instead of failing.
    assert 0 <= batchnorm_accuracy(trainer, 2) <= 1


def test_batchnorm_rows_say_whole_set_themselves():
    """The window prints a row's own label: the whole validation set is marked, never guessed from its size."""
    trainer = Trainer(PRESETS["batchnorm-eval"].runs[0].replace(train={"steps": 20, "histogram_every": 0}))
    trainer.run()
    rows = batchnorm_table(trainer)
    assert len(rows) == len(BATCHNORM_BATCHINGS) and all(isinstance(r, BatchNormRow) for r in rows)
    (whole,) = [r for r in rows if r.whole_set]
    assert whole.batch_size == len(trainer.data.y_val) and whole.batching == "whole set"
    assert [r.batching for r in rows if not r.whole_set] == ["2", "8", "32", "32"]
