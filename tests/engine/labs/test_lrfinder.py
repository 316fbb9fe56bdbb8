"""The learning-rate finder: fastai's range test, numbers checked by hand, and it leaves no trace."""
import csv
import json
import math

import numpy as np
import pytest
import torch

from engine.config import AugmentConfig, DataConfig, Experiment, ModelConfig, ScheduleConfig, TrainConfig
from engine.labs.lrfinder import (
    AGREE_FACTOR,
    CHECK_COLUMNS,
    CSV_COLUMNS,
    CheckPoint,
    CheckResult,
    FinderCurve,
    FinderSettings,
    check_finder,
    check_lrs,
    check_verdict,
    find_lr,
    slide,
    smooth,
    steep,
    suggest,
    sweep_lrs,
    valley,
    with_lr,
    write_check_files,
    write_finder_files,
)
from engine.status import RunStatus, SweepStatus
from engine.training.events import StepEvent
from engine.training.jobs import TaskState
from engine.training.trainer import Trainer

# Small and quick; dropout, BatchNorm, warm-up and clipping so that every kind of state is in play.
TOUGH = Experiment(name="tough", seed=3, data=DataConfig(n_train=200, n_val=100),
                   model=ModelConfig(hidden=(16, 16), dropout=0.2, norm="batch"),
                   schedule=ScheduleConfig(name="cosine", warmup_steps=10),
                   augment=AugmentConfig(jitter=0.05, mixup=0.2),
                   train=TrainConfig(steps=60, grad_clip=1.0, histogram_every=0, eval_every=20))
PLAIN = Experiment(name="plain", data=DataConfig(n_train=200, n_val=100),
                   train=TrainConfig(steps=60, histogram_every=0))


def test_the_sweep_is_exactly_exponential_and_ends_on_end_lr():
    lrs = sweep_lrs(1e-7, 10.0, 100)
    assert len(lrs) == 100 and lrs[0] == 1e-7 and lrs[-1] == pytest.approx(10.0, rel=1e-12)
    ratios = lrs[1:] / lrs[:-1]
    assert np.allclose(ratios, 10 ** (8 / 99), rtol=1e-12, atol=0)     # the same factor every step
    result = find_lr(Trainer(PLAIN), FinderSettings(1e-4, 1.0, 30))
    assert np.array_equal(result.lrs, sweep_lrs(1e-4, 1.0, 30)[:result.steps])


def test_smoothing_is_an_ema_with_bias_correction_by_hand():
    losses = [2.0, 1.0, 4.0]
    b = 0.9
    a1 = (1 - b) * 2.0
    a2 = b * a1 + (1 - b) * 1.0
    a3 = b * a2 + (1 - b) * 4.0
    expected = [a1 / (1 - b), a2 / (1 - b ** 2), a3 / (1 - b ** 3)]
    assert np.allclose(smooth(losses, b), expected, rtol=1e-15)
    assert smooth(losses, b)[0] == 2.0                  # corrected: the first point is the first loss
    result = find_lr(Trainer(PLAIN), FinderSettings(steps=40))
    assert np.allclose(result.smoothed, smooth(result.losses, 0.98), rtol=1e-12)


def test_the_sweep_stops_when_the_smoothed_loss_passes_four_times_its_best():
    # SGD on the spiral: the loss explodes at large rates.
    exp = PLAIN.replace(optimizer={"name": "sgd", "momentum": 0.9})
    result = find_lr(Trainer(exp), FinderSettings(1e-4, 100.0, 100))
    assert result.stop_reason in (SweepStatus.DIVERGED, SweepStatus.NON_FINITE) and result.steps < 100
    best_before = np.minimum.accumulate(result.smoothed)
    if result.stop_reason == SweepStatus.DIVERGED:
        assert result.smoothed[-1] > 4 * best_before[-2]
    else:
        assert not math.isfinite(result.losses[-1])
    assert np.all(result.smoothed[:-1] <= 4 * best_before[:-1])       # not one step earlier
    assert result.divergence_lr == result.lrs[-1]
    assert result.summary()["range"]["divergence_lr"] == result.lrs[-1]


def test_a_gentle_sweep_finishes_and_a_stop_request_ends_it():
    result = find_lr(Trainer(PLAIN), FinderSettings(1e-6, 1e-3, 20))
    assert result.stop_reason == SweepStatus.FINISHED and result.steps == 20 and result.divergence_lr is None
    state = TaskState()
    state.request_stop()
    assert find_lr(Trainer(PLAIN), FinderSettings(steps=20), state).stop_reason == SweepStatus.STOPPED


def test_valley_slide_steep_and_minimum_follow_fastai():
    lrs = np.geomspace(1e-3, 1.0, 12)
    losses = np.array([1.0, 0.99, 1.01, 0.9, 0.8, 0.85, 0.6, 0.5, 0.4, 0.45, 2.0, 3.0])
    # Longest descending subsequence 1.0, 0.99, 0.9, 0.8, 0.6, 0.5, 0.4 ends at 8, length 7:
    # start 8 - 7 = 1, span 7/3, pick 1 + int(2.33) + int(1.17) = 4.
    assert valley(lrs, losses) == (lrs[4], 4)
    slopes = np.diff(losses) / np.diff(np.log(lrs))
    assert steep(lrs, losses) == (lrs[int(np.argmin(slopes))], int(np.argmin(slopes)))
    # slide with lr_diff 3: walk left from the end while the slopes 3 apart differ by more than thresh.
    grad = np.gradient(losses)
    r, l, found = -1, -4, lrs[-4]
    while l >= -len(losses) and abs(grad[r] - grad[l]) > 0.005:
        found, r, l = lrs[l], r - 1, l - 1
    assert slide(lrs, losses, lr_diff=3) == found


def test_suggestions_lie_inside_the_sweep_and_below_where_it_blew_up():
    exp = PLAIN.replace(optimizer={"name": "sgd", "momentum": 0.9})
    for settings in (FinderSettings(1e-5, 100.0, 80), FinderSettings(), FinderSettings(1e-3, 1e3, 25)):
        result = find_lr(Trainer(exp), settings)
        assert [s.name for s in result.suggestions] == ["valley", "slide", "minimum", "steep"]
        top = result.divergence_lr if result.divergence_lr is not None else settings.end_lr
        for s in result.suggestions:
            assert settings.start_lr <= s.lr <= settings.end_lr, (settings, s)
            assert s.lr < top, (settings, s)
            assert result.lrs[0] <= s.mark_lr < result.lrs[-1]
        # minimum: a tenth of the rate where the trimmed curve is lowest
        m = result.suggestion("minimum")
        assert m.mark_loss == pytest.approx(np.interp(np.log(m.mark_lr), np.log(result.lrs), result.smoothed))
        assert m.lr == pytest.approx(max(m.mark_lr / 10, settings.start_lr))


def test_a_curve_too_short_to_judge_has_no_suggestions():
    assert suggest(np.array([1e-3, 1e-2]), np.array([1.0, 9.0]), 100) == ()
    three = suggest(np.array([1e-3, 1e-2, 1e-1, 1.0]), np.array([1.0, 0.5, 0.4, 9.0]), 100)
    assert three and all(s.lr < 1.0 for s in three)                   # the blow-up point is never picked


def _train(exp, finder_at=None):
    """Train to the end, running the finder before step ``finder_at``; losses, weights, and the global RNG."""
    torch.manual_seed(1234)
    trainer = Trainer(exp)
    losses = []
    while not trainer.done:
        if trainer.step_count == finder_at:
            find_lr(trainer, FinderSettings(steps=40))
        losses += [e.loss for e in trainer.step() if isinstance(e, StepEvent)]
    weights = [t.clone() for t in trainer.model.state_dict().values()]
    return losses, weights, trainer.last_eval, torch.rand(4)


@pytest.mark.parametrize("finder_at", [0, 23])
def test_a_run_after_the_finder_equals_a_run_without_it_bit_for_bit(finder_at):
    losses, weights, last, rng = _train(TOUGH)
    losses2, weights2, last2, rng2 = _train(TOUGH, finder_at)
    assert losses2 == losses and len(losses) == 60
    assert all(torch.equal(a, b) for a, b in zip(weights, weights2))   # BatchNorm buffers included
    assert last2 == last
    assert torch.equal(rng, rng2)                                      # the global generator too


def test_a_finder_step_is_a_trainer_step_at_the_same_rate():
    """The sweep trains with the trainer's own step: its losses are those of the run stepped at the
    sweep's rates (dropout, mixup, BatchNorm and clipping included), so its weights after each step are too."""
    exp = TOUGH.replace(schedule={"name": "constant", "warmup_steps": 0}, train={"divergence_factor": None})
    settings = FinderSettings(1e-3, 0.3, 25)
    result = find_lr(Trainer(exp), settings)
    assert result.stop_reason == SweepStatus.FINISHED and result.steps == 25
    run = Trainer(exp)
    events = []
    for lr in result.lrs:
        for group in run.optimizer.param_groups:
            group["lr"] = float(lr)
        events += [e for e in run.step() if isinstance(e, StepEvent)]
    assert [e.lr for e in events] == list(result.lrs)
    np.testing.assert_allclose(result.losses, [e.loss for e in events], rtol=1e-6, atol=0)
    assert any(e.clipped for e in events)                                # clipping was in play


def test_the_finder_reports_its_curve_live():
    reports = []
    result = find_lr(Trainer(PLAIN), FinderSettings(steps=30), TaskState(reports.append))
    assert reports and all(isinstance(r, FinderCurve) for r in reports)
    assert np.array_equal(reports[-1].smoothed, result.smoothed) and reports[-1].planned == 30


def test_bad_settings_are_refused_with_a_reason():
    for settings, words in ((FinderSettings(start_lr=0), "start lr"), (FinderSettings(end_lr=1e-9), "end lr"),
                            (FinderSettings(steps=1), "steps"), (FinderSettings(start_lr=math.nan), "start lr")):
        with pytest.raises(ValueError, match=words):
            find_lr(Trainer(PLAIN), settings)


def test_the_checks_rates_lie_closer_than_the_verdicts_factor():
    """The check's grid resolves its own verdict (issue 11): neighbouring rates less than AGREE_FACTOR apart
    over the widest span the lesson preset sweeps (pick / 30 to the sweep's end of 10), so the rate nearest the
    pick lies within sqrt(AGREE_FACTOR) of it.  Eight rates (3.6x apart there) did not."""
    from engine.labs.lrfinder import CHECK_RUNS, FinderResult, Suggestion
    lrs = sweep_lrs()
    result = FinderResult(lrs, np.ones(len(lrs)), np.ones(len(lrs)), SweepStatus.FINISHED,
                          (Suggestion("valley", 0.0376, 0.0376, 1.0),))
    rates = check_lrs(result)
    assert len(rates) == CHECK_RUNS and rates[-1] == pytest.approx(10.0) and rates[0] == pytest.approx(0.0376 / 30)
    step = rates[1] / rates[0]
    assert step < AGREE_FACTOR / 1.5
    assert min(abs(math.log(r / 0.0376)) for r in rates) <= math.log(step) / 2 + 1e-12


def test_check_trains_at_each_rate_and_reports_each_run_as_it_ends():
    result = find_lr(Trainer(PLAIN), FinderSettings(steps=40))
    lrs = check_lrs(result, 8)
    assert len(lrs) == 8 and np.allclose(np.diff(np.log(lrs)), np.log(lrs[1] / lrs[0]))
    assert lrs[0] >= result.settings.start_lr and lrs[-1] <= result.settings.end_lr
    assert lrs[0] < result.suggestion("valley").lr < lrs[-1]
    reports = []
    check = check_finder(TaskState(reports.append), PLAIN, [1e-4, 0.01, 1e4], steps=30)
    assert [p.lr for p in reports] == [1e-4, 0.01, 1e4] and all(isinstance(p, CheckPoint) for p in reports)
    low, good, wild = check.points
    assert good.status == RunStatus.FINISHED and good.val_loss < low.val_loss       # the known: 0.01 beats 1e-4 for Adam
    assert wild.status == "diverged" and math.isnan(wild.val_loss)       # shown as diverged, not as a loss
    assert check.best is good
    # The run equals training the experiment at that rate for that many steps.
    trainer = Trainer(with_lr(PLAIN, 0.01).replace(train={"steps": 30, "eval_every": 30}))
    trainer.run()
    assert good.val_loss == trainer.last_eval.val_loss


def _check(*points):
    """A hand-made check: (lr, val_loss, status) per run."""
    return CheckResult(tuple(CheckPoint(i, lr, loss, 0.5, status, status)
                             for i, (lr, loss, status) in enumerate(points)), 50)


def test_the_verdict_agrees_within_three_times_the_pick_and_names_the_finders_mistake():
    runs = ((0.001, 0.9, RunStatus.FINISHED), (0.01, 0.5, RunStatus.FINISHED), (0.1, 0.2, RunStatus.FINISHED), (1.0, math.nan, "diverged"))
    # Best finished run: lr 0.1 (the diverged one at 1.0 never counts).
    for pick, agrees, words in ((0.1 / 3, True, "within 3x"), (0.1 * 3, True, "within 3x"),
                                (0.01, False, "10x the valley pick (lr 0.01): the finder was too cautious"),
                                (0.5, False, "5.0x below the valley pick (lr 0.5): the finder was too bold")):
        verdict = check_verdict(pick, _check(*runs))
        assert (verdict.best_lr, verdict.best_val_loss, verdict.pick_lr) == (0.1, 0.2, pick)
        assert verdict.ratio == pytest.approx(0.1 / pick) and verdict.agrees is agrees
        assert verdict.factor == AGREE_FACTOR == 3.0
        assert verdict.sentence.startswith("Best check run: lr 0.1, val loss 0.2, ") and words in verdict.sentence
    assert check_verdict(0.1 / 3.01, _check(*runs)).agrees is False                  # just outside 3x
    nothing = check_verdict(0.01, _check((1.0, math.nan, "diverged")))
    assert nothing.best_lr is None and nothing.agrees is None and "No check run finished" in nothing.sentence
    no_pick = check_verdict(None, _check(*runs))
    assert no_pick.best_lr == 0.1 and no_pick.agrees is None and "no pick" in no_pick.sentence


def test_check_files_hold_each_run_and_the_verdict(tmp_path):
    check = _check((0.01, 0.5, RunStatus.FINISHED), (1.0, math.nan, "diverged"))
    verdict = check_verdict(0.02, check)
    write_check_files(check, verdict, tmp_path)
    with open(tmp_path / "check.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CHECK_COLUMNS == ("run", "lr", "val_loss", "val_acc", "status", "message")
    assert [(r["lr"], r["val_loss"], r["status"]) for r in rows] == [("0.01", "0.5", "finished"),
                                                                     ("1.0", "nan", "diverged")]
    saved = json.loads((tmp_path / "verdict.json").read_text())
    assert saved == {**verdict.summary(), "check_steps": 50, "check_runs": 2}
    assert saved["agrees"] is True and saved["verdict"] == verdict.sentence


def test_a_stopped_check_reports_what_it_finished():
    state = TaskState()
    state.request_stop()
    assert check_finder(state, PLAIN, [0.01, 0.1], steps=10).points == ()


def test_one_cycle_with_its_own_peak_is_checked_at_the_rate_asked():
    exp = PLAIN.replace(schedule={"name": "one_cycle", "max_lr": 0.5})
    assert with_lr(exp, 0.02).schedule.max_lr == 0.02 and with_lr(exp, 0.02).optimizer.lr == 0.02
    assert with_lr(PLAIN, 0.02).schedule == PLAIN.schedule


def test_files_hold_the_curve_and_the_suggestions(tmp_path):
    result = find_lr(Trainer(PLAIN), FinderSettings(steps=40))
    write_finder_files(result, tmp_path)
    with open(tmp_path / "lr_find.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS == ("step", "lr", "loss", "smoothed_loss")
    assert [int(r["step"]) for r in rows] == list(range(1, result.steps + 1))
    assert np.array_equal([float(r["lr"]) for r in rows], result.lrs)
    assert np.array_equal([float(r["smoothed_loss"]) for r in rows], result.smoothed)
    summary = json.loads((tmp_path / "suggestions.json").read_text())
    assert set(summary["suggestions"]) == {"valley", "slide", "minimum", "steep"}
    assert summary["suggestions"]["valley"] == result.suggestion("valley").lr
    assert summary["stop_reason"] == result.stop_reason and summary["range"]["start_lr"] == 1e-7


def _cli(capsys, *args):
    """``main.py lr-find ARGS`` in this process (same code path as the shell, without a second torch import)."""
    import main
    code = main.main(["lr-find", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_both_files_and_refuses_bad_input_in_one_line(tmp_path, capsys):
    exp_file = tmp_path / "exp.json"
    exp_file.write_text(json.dumps({"data": {"n_train": 200, "n_val": 100}}))
    code, out, err = _cli(capsys, str(exp_file), "--out", str(tmp_path / "out"), "--steps", "30")
    assert code == 0, err
    lines = (tmp_path / "out" / "lr_find.csv").read_text().splitlines()
    assert lines[0] == "step,lr,loss,smoothed_loss" and len(lines) == 31
    summary = json.loads((tmp_path / "out" / "suggestions.json").read_text())
    assert summary["stop_reason"] == "finished" and summary["steps_taken"] == 30
    assert summary["range"] == {"start_lr": 1e-7, "end_lr": 10.0, "steps": 30, "swept_from": 1e-7,
                                "swept_to": float(lines[-1].split(",")[1]), "divergence_lr": None}
    assert "valley" in out
    code, _, err = _cli(capsys, "--preset", "finder-fails", "--steps", "20", "--out", str(tmp_path / "p"))
    assert code == 0 and (tmp_path / "p" / "suggestions.json").exists(), err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"optimizer": {"lr": -1}}))
    for args, words in (((str(bad),), "optimizer.lr"), (("--preset", "nope"), "unknown preset"),
                        ((str(exp_file), "--end-lr", "1e-9"), "end lr"),
                        ((str(exp_file), "--steps", "many"), "steps"), ((), "experiment file or --preset")):
        code, _, err = _cli(capsys, *args, "--out", str(tmp_path / "x"))
        assert code == 2 and err.startswith("error: ") and words in err, err
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
