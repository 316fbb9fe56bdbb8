"""The finder under bad input: its rates bounded by data (engine.config), an overflowing step ends the
sweep as ``non_finite`` at that rate, and check.csv never holds a spreadsheet formula."""
import csv
import math

import numpy as np
import pytest
import torch

from engine.commands import BAD_INPUT
from engine.config import (
    FINDER_LR,
    FINDER_LR_RATIO,
    DataConfig,
    Experiment,
    ModelConfig,
    OptimizerConfig,
    TrainConfig,
)
from engine.labs.lrfinder import (
    CheckPoint,
    CheckResult,
    FinderSettings,
    SettingsError,
    check_verdict,
    find_lr,
    overflowed,
    write_check_files,
    write_finder_files,
)
from engine.status import RunStatus, SweepStatus
from engine.training.trainer import Trainer

# Three linear layers under plain SGD: each step multiplies the gradient through the product of the layers,
# so at rates near the top of the range the weights overflow float32 within a few steps (at every seed tried,
# 0-7: 14 to 17 steps of this sweep), with no dead ReLU to stop the growth.
DEEP_SGD = Experiment(name="deep", seed=0, data=DataConfig(n_train=64, n_val=32),
                      model=ModelConfig(hidden=(16, 16, 16), activation="linear"), optimizer=OptimizerConfig(name="sgd"),
                      train=TrainConfig(steps=10, histogram_every=0))
SMALL_ADAM = Experiment(name="small", seed=0, data=DataConfig(n_train=64, n_val=32), model=ModelConfig(hidden=(8,)),
                        train=TrainConfig(steps=10, histogram_every=0))


def _weights(trainer: Trainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in trainer.model.parameters()]


def test_the_rates_are_bounded_by_the_config_data_at_its_edges():
    low, high = FINDER_LR.low, FINDER_LR.high
    assert (low, high, FINDER_LR_RATIO.low, FINDER_LR_RATIO.high) == (1e-8, 1e4, 10, 1e10)
    FinderSettings(low, low * 1e3).check()                      # the lowest start
    FinderSettings(high / 10, high).check()                     # the highest end, one decade
    FinderSettings(1e-7, 1e3).check()                           # ten decades, the widest
    FinderSettings().check()                                    # the default, fastai's 1e-7 .. 10
    refused = {(1e-300, 1e300): "start_lr", (low / 2, 1e-3): "start_lr", (1e-7, high * 2): "end_lr",
               (1e-3, 1e300): "end_lr", (math.nan, 1.0): "start_lr", (1e-3, math.inf): "end_lr",
               (1e-3, 5e-3): "end_lr", (1e-3, 1e-3): "end_lr", (1e-3, 1e-4): "end_lr",
               (1e-8, 1e3): "end_lr"}                           # eleven decades
    for (start, end), key in refused.items():
        with pytest.raises(SettingsError) as err:
            FinderSettings(start, end).check()
        assert err.value.key == key and len(str(err.value).splitlines()) == 1, (start, end)
        assert str(err.value).startswith(key.replace("_", " ")), str(err.value)
    with pytest.raises(SettingsError, match=r"end lr / start lr must be in \[10, 1e\+10\], got 1000 / 1e-08"):
        FinderSettings(1e-8, 1e3).check()


def _lr_find(capsys, *args):
    import main
    code = main.main(["lr-find", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args, option, words", [
    (("--start-lr", "1e-300", "--end-lr", "1e300"), "--start-lr", "start lr must be in [1e-08, 10000], got 1e-300"),
    (("--end-lr", "1e300"), "--end-lr", "end lr must be in [1e-08, 10000], got 1e+300"),
    (("--start-lr", "1e-3", "--end-lr", "2e-3"), "--end-lr", "end lr / start lr must be in [10, 1e+10]"),
    (("--start-lr", "nan"), "--start-lr", "start lr must be in [1e-08, 10000], got nan"),
])
def test_the_command_names_the_option_in_one_line_and_exits_2(tmp_path, capsys, args, option, words):
    code, out, err = _lr_find(capsys, "--preset", "finder-fails", *args, "--out", str(tmp_path / "x"))
    assert code == BAD_INPUT and err.startswith(f"error: lr-find {option}: {words}"), err
    assert len(err.strip().splitlines()) == 1 and "sweeping" not in out
    assert not (tmp_path / "x").exists()


def test_a_sweep_to_the_top_rate_ends_non_finite_where_the_weights_overflow(tmp_path):
    trainer = Trainer(DEEP_SGD)
    before = _weights(trainer)
    settings = FinderSettings(1e-2, FINDER_LR.high, 30, stop_factor=1e300)   # only a non-finite number stops it
    result = find_lr(trainer, settings)
    assert result.stop_reason == SweepStatus.NON_FINITE and 1 < result.steps < 30
    assert result.lrs[-1] == pytest.approx(settings.start_lr * (settings.end_lr / settings.start_lr)
                                           ** ((result.steps - 1) / 29), rel=1e-12)
    assert np.isfinite(result.losses[:-1]).all()                # every earlier point finite, the sweep went on
    assert result.divergence_lr == result.lrs[-1]
    # The sweep left the trainer as it found it, and it trains on.
    assert all(torch.equal(a, b) for a, b in zip(before, _weights(trainer)))
    assert math.isfinite(trainer.train_step().loss)
    csv_path, json_path = write_finder_files(result, tmp_path)
    assert '"stop_reason": "non_finite"' in json_path.read_text()


def test_a_rate_float32_cannot_hold_ends_the_sweep_as_non_finite_not_an_exception(monkeypatch):
    # Past the bounds (the check switched off, as a caller bypassing it would): Adam's step lr / (1 - 0.9)
    # leaves float32 at 3.4e38 and torch raises inside the optimizer.
    monkeypatch.setattr(FinderSettings, "check", lambda self: None)
    trainer = Trainer(SMALL_ADAM)
    before = _weights(trainer)
    result = find_lr(trainer, FinderSettings(1e30, 1e300, 10, stop_factor=1e300))
    assert result.stop_reason == SweepStatus.NON_FINITE
    assert result.lrs[-1] > 3.4e38 / 10 >= result.lrs[0] and result.divergence_lr == result.lrs[-1]
    assert all(torch.equal(a, b) for a, b in zip(before, _weights(trainer)))


def test_only_overflow_counts_as_non_finite():
    assert overflowed(RuntimeError("value cannot be converted to type float without overflow"))
    assert not overflowed(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))


def test_check_csv_writes_text_cells_never_as_formulas(tmp_path):
    points = (CheckPoint(0, 0.01, 0.5, 0.9, RunStatus.FINISHED, "=HYPERLINK(\"http://x\",\"click\")"),
              CheckPoint(1, 1.0, math.nan, math.nan, RunStatus.ERROR, "+cmd|' /C calc'!A0"),
              CheckPoint(2, 0.1, 0.4, 0.9, RunStatus.FINISHED, "a=b stays as it is"))
    check = CheckResult(points, 50)
    write_check_files(check, check_verdict(0.02, check), tmp_path)
    with open(tmp_path / "check.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["message"] for r in rows] == ["'=HYPERLINK(\"http://x\",\"click\")", "'+cmd|' /C calc'!A0",
                                            "a=b stays as it is"]
    assert [r["status"] for r in rows] == ["finished", "error", "finished"]
