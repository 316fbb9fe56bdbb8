"""The schedule race: one experiment, trained once per learning-rate schedule.

The lesson compares schedules by the rate each one gives at every step, then by
what that does to training.  :data:`RACE` lists the contenders (warm-up + cosine
is cosine with ``warmup_steps`` in front); :func:`race_experiments` turns an
experiment into one experiment per contender, with only its schedule replaced
and every schedule checked by the experiment validator, so a bad parameter is
refused with the same one-line message the experiment file gives.  The race
tab and ``main.py race`` both build their runs here.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from engine.config import MAX_CURVE_STEPS, Experiment
from engine.experiment import ExperimentError, experiment_to_dict, parse_experiment
from engine.files import text_cell, write_csv_atomic
from engine.optim.schedules import SCHEDULES, lr_curve

WARMUP_FRACTION = 0.1           # warm-up + cosine's default warm-up: a tenth of the planned steps


@dataclass(frozen=True)
class RaceEntry:
    """One contender: a label, the schedule it runs, the keys a teacher may set for it."""
    label: str
    schedule: str
    keys: tuple[str, ...]
    description: str


def _takes(name: str) -> tuple[str, ...]:
    # cycle_momentum is a switch about momentum, not about the rate: the race leaves it at its default.
    return tuple(k for k in SCHEDULES[name].takes if k != "cycle_momentum")


RACE: tuple[RaceEntry, ...] = (
    RaceEntry("constant", "constant", (), SCHEDULES["constant"].description),
    RaceEntry("step", "step", _takes("step"), SCHEDULES["step"].description),
    RaceEntry("exponential", "exponential", _takes("exponential"), SCHEDULES["exponential"].description),
    RaceEntry("cosine", "cosine", _takes("cosine"), SCHEDULES["cosine"].description),
    RaceEntry("warmup+cosine", "cosine", ("warmup_steps",) + _takes("cosine"),
              "Ramp the rate up linearly over the first steps, then glide down along half a cosine: "
              "the warm-up keeps the first random gradients from throwing the weights far away."),
    RaceEntry("one-cycle", "one_cycle", _takes("one_cycle"), SCHEDULES["one_cycle"].description),
)
RACE_BY_LABEL = {entry.label: entry for entry in RACE}


def race_experiment(experiment: Experiment, entry: RaceEntry, values: Mapping[str, Any] | None = None) -> Experiment:
    """``experiment`` under the entry's schedule with ``values`` for its keys, named after the entry.

    The form's warm-up is not carried over: each contender is a whole schedule
    in itself (warm-up + cosine defaults to a tenth of the planned steps).
    Raises ``ExperimentError`` naming ``schedule.KEY`` for a bad value.
    """
    values = dict(values or {})
    if "warmup_steps" in entry.keys and "warmup_steps" not in values:
        total = experiment.total_steps()
        default = max(2, int(total * WARMUP_FRACTION))
        # A warm-up must end before training does: a race too short for one runs this contender without it
        # (a key the user never set must not be the reason a race is refused).
        values["warmup_steps"] = default if default < total else 0
    raw = experiment_to_dict(experiment)
    raw["name"] = entry.label
    raw["schedule"] = {"name": entry.schedule, **values}
    return parse_experiment(raw)


def race_experiments(experiment: Experiment, params: Mapping[str, Mapping[str, Any]] | None = None,
                     labels: Iterable[str] | None = None) -> list[Experiment]:
    """One experiment per contender (all of :data:`RACE`, or those named in ``labels``, in race order)."""
    params = params or {}
    chosen = list(labels) if labels is not None else [entry.label for entry in RACE]
    unknown = [label for label in chosen if label not in RACE_BY_LABEL]
    if unknown:
        raise ValueError(f"unknown schedule {unknown[0]!r} (choose from {', '.join(RACE_BY_LABEL)})")
    return [race_experiment(experiment, entry, params.get(entry.label)) for entry in RACE if entry.label in chosen]


def race_curves(experiments: Iterable[Experiment]) -> dict[str, np.ndarray]:
    """Each contender's learning rate at every planned step, as training will use it.

    A curve is one scheduler step per entry, so its length is bounded (:data:`MAX_CURVE_STEPS`)
    before any is computed: a race of 10^8 steps would otherwise run for hours.
    """
    experiments = list(experiments)
    for exp in experiments:
        total = exp.total_steps()
        if total > MAX_CURVE_STEPS:
            key = "train.epochs" if exp.train.epochs is not None else "train.steps"
            raise ExperimentError(key, f"a schedule race draws at most {MAX_CURVE_STEPS:,} steps, "
                                  f"got {total:,}")
    return {exp.name: lr_curve(exp.schedule, exp.optimizer.lr, exp.total_steps()) for exp in experiments}


def write_curves_csv(curves: Mapping[str, np.ndarray], path: str | Path) -> Path:
    """``step`` then one column per contender: the rate used at that step."""
    names = list(curves)
    length = max((len(c) for c in curves.values()), default=0)
    rows = ([step, *(repr(float(curves[n][step])) if step < len(curves[n]) else "" for n in names)]
            for step in range(length))
    return write_csv_atomic(Path(path), ["step", *names], rows)


#: The columns of ``race.csv``: one row per contender, its final numbers from its run summary.
RACE_FINALS = ("final_train_loss", "final_val_loss", "final_val_acc")
RACE_COLUMNS = ("schedule", "status", "steps", *RACE_FINALS)


def race_row(label: str, summary: Mapping[str, Any]) -> list:
    """One ``race.csv`` row from a contender's run summary (``engine.training.runner.run_experiment``)."""
    return [text_cell(label), summary["status"], summary["steps"],
            *("" if summary[k] is None else repr(float(summary[k])) for k in RACE_FINALS)]


def write_race_csv(rows: Iterable[list], path: str | Path) -> Path:
    """``race.csv``: the schedules' final train loss, validation loss and accuracy, side by side."""
    return write_csv_atomic(Path(path), list(RACE_COLUMNS), rows)
