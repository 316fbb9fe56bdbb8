"""The claims of the optimization lessons: optimizers, learning rates, warm-up, schedules and the
learning-rate finder's Challenge."""
from __future__ import annotations

import math

from engine.lessons.claims.measuring import LN2, ReadPreset, Records, finished, last_numbers, preset_claim, reach
from engine.lessons.claims.table import cond


def _adam_on_spiral(runs: Records) -> dict[str, float]:
    (name,) = runs
    return last_numbers(runs, ("val acc", "train acc"), {name: ""})


def _optimizers(runs: Records) -> dict[str, float]:
    numbers = {f"{name} step at 90%": reach(run.evals, 0.9) for name, run in runs.items()}
    numbers["all finished"] = finished(runs)
    return numbers


def _learning_rates(runs: Records) -> dict[str, float]:
    from engine.status import RunStatus
    high = runs["lr 30 (too high)"]
    return {"lr 30 diverged": float(high.status == RunStatus.DIVERGED), "lr 30 steps": float(high.step),
            "lr 0.001 start val loss": runs["lr 0.001 (too low)"].evals[0].val_loss,
            **last_numbers(runs, ("val loss",), {"lr 0.001 (too low)": "lr 0.001"}),
            **last_numbers(runs, ("val loss", "val acc"), {"lr 0.05 (about right)": "lr 0.05"})}


def _warmup(runs: Records) -> dict[str, float]:
    from engine.status import RunStatus
    cold, warm = runs["no warm-up"], runs["warm-up 500"]
    return {"cold diverged": float(cold.status == RunStatus.DIVERGED),
            **last_numbers(runs, ("train loss",), {"no warm-up": "cold"}),
            "warm finished": float(warm.status == RunStatus.FINISHED),
            **last_numbers(runs, ("val acc", "train loss"), {"warm-up 500": "warm"})}


def _schedules(runs: Records) -> dict[str, float]:
    numbers = last_numbers(runs, ("train loss", "val acc"))
    numbers["all finished"] = finished(runs)
    return numbers


adam_on_spiral = ReadPreset("adam-on-spiral", _adam_on_spiral)
optimizers = ReadPreset("optimizers", _optimizers)
learning_rates = ReadPreset("learning-rates", _learning_rates)
warmup = ReadPreset("warmup", _warmup)
schedules = ReadPreset("schedules", _schedules)


def finder_fails(seed: int) -> dict[str, float]:
    from engine.labs.lrfinder import check_finder, check_lrs, find_lr
    from engine.lessons.presets import FINDER_PRESETS
    from engine.training.jobs import TaskState
    from engine.training.trainer import Trainer

    preset = FINDER_PRESETS["finder-fails"]
    exp = preset.experiment.replace(seed=seed)
    result = find_lr(Trainer(exp))
    pick = result.suggestion("valley")
    if pick is None:
        return {"valley lr": math.nan, "best / valley": math.nan, "nearest val loss": math.nan,
                "best val loss": math.nan, "factor": preset.factor}
    valley = pick.lr
    check = check_finder(TaskState(), exp, check_lrs(result), preset.check_steps)
    best = check.best
    nearest = min(check.points, key=lambda p: abs(math.log(p.lr / valley)))
    return {"valley lr": valley, "best lr": best.lr if best else math.nan,
            "best / valley": best.lr / valley if best else math.nan,
            "nearest val loss": nearest.val_loss, "best val loss": best.val_loss if best else math.nan,
            "factor": preset.factor}


CLAIMS = (
    preset_claim("adam-on-spiral", adam_on_spiral, (
        # val acc 0.9475/0.9475/0.945 after its 2,000 steps: separated, not perfectly
        cond("Adam separates the spiral arms (val acc > 90%)", lambda m: m["val acc"] > 0.9),)),
    preset_claim("optimizers", optimizers, (
        # seeds 0/1/2: sgd 1000/1200/1000, sgd+momentum 200, adam and adamw 150
        cond("plain SGD reaches 90% val acc", lambda m: m["sgd step at 90%"] < math.inf),
        cond("plain SGD takes at least 2x momentum's steps", lambda m: m["sgd step at 90%"] >= 2 * m["sgd+momentum step at 90%"]),
        cond("Adam and AdamW reach 90% no later than momentum",
             lambda m: max(m["adam step at 90%"], m["adamw step at 90%"]) <= m["sgd+momentum step at 90%"]),
        cond("every run finishes", lambda m: m["all finished"] == 1.0))),
    preset_claim("learning-rates", learning_rates, (
        # lr 30 diverges at step 3/3/5; val loss lr 0.001 0.63/0.62/0.58, lr 0.05 0.11/0.12/0.17
        cond("lr 30 diverges within 20 steps", lambda m: m["lr 30 diverged"] == 1.0 and m["lr 30 steps"] < 20),
        cond("lr 0.001 moves but stays above 0.5 val loss",
             lambda m: 0.5 < m["lr 0.001 val loss"] < m["lr 0.001 start val loss"]),
        cond("lr 0.05 ends below 0.25 val loss and above 90% val acc",
             lambda m: m["lr 0.05 val loss"] < 0.25 and m["lr 0.05 val acc"] > 0.9))),
    preset_claim("warmup", warmup, (
        # seeds 0-9: without warm-up 1-9 diverge within 7 steps, 0 ends dead at ln 2; with it all >= 0.99
        cond("without warm-up the run diverges or dies at chance",
             lambda m: m["cold diverged"] == 1.0 or m["cold train loss"] > LN2 - 0.01),
        cond("with warm-up it finishes at >= 98% val acc and train loss < 0.05",
             lambda m: m["warm finished"] == 1.0 and m["warm val acc"] >= 0.98 and m["warm train loss"] < 0.05))),
    preset_claim("schedules", schedules, (
        # final train loss: constant 0.45/0.24/0.23, step 0.21/0.10/0.13, cosine 0.085/0.067/0.047, one-cycle 0.089/0.070/0.040
        # seeds 0-9: constant / cosine 1.85 to 10.8 (median 3.3), constant / one-cycle 2.6 to 11.7
        cond("cosine and one-cycle end at least 1.5x below the constant rate's train loss",
             lambda m: all(m[f"{s} train loss"] < m["constant train loss"] / 1.5 for s in ("cosine", "one-cycle"))),
        cond("cosine and one-cycle end with higher val acc than constant",
             lambda m: all(m[f"{s} val acc"] > m["constant val acc"] for s in ("cosine", "one-cycle"))),
        cond("step ends below the constant rate's train loss", lambda m: m["step train loss"] < m["constant train loss"]),
        cond("every run finishes", lambda m: m["all finished"] == 1.0))),
    preset_claim("finder-fails", finder_fails, (
        # 15 check rates, seeds 0-9: best / valley 7.5 to 70 (seed 0: 10.7), nearest / best val loss 8 to 725
        cond("the best check rate lies more than factor x above the valley pick",
             lambda m: m["best / valley"] > m["factor"]),
        cond("the run nearest the valley ends with factor x the best's val loss",
             lambda m: m["nearest val loss"] > m["factor"] * m["best val loss"]))),
)
