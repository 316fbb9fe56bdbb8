"""One trial: the base experiment with the suggested values, trained by the app's own :class:`Trainer`.

The values go into the experiment file's key paths and through the experiment validator, so a trial trains
exactly what ``main.py run`` would train from that file; a combination the validator refuses (nesterov with
no momentum) is a failed trial with its one-line reason, and the search goes on.

The value a trial reports (the rule for a run that did not finish):

* **finished**: the objective (:mod:`engine.labs.search.objectives`), an Optuna ``COMPLETE`` trial;
* **diverged**: a result, not a failure (the sampler must learn that this corner of the space blows up), so
  a value *no better than the untrained network*: for a loss the worse of the untrained network's
  validation loss and the last finite one, for an accuracy the worse of the two accuracies; the node tells
  it as Optuna ``PRUNED`` with that value as its last intermediate one (``engine.labs.search.work.tell``);
* **error** (the validator refused, or the trainer raised) and **stopped**: Optuna ``FAIL``, no value.
"""
from __future__ import annotations

import math
import os
import socket
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from engine.config import Experiment
from engine.experiment import ExperimentError, experiment_to_dict, parse_experiment
from engine.labs.search.objectives import OBJECTIVES
from engine.labs.search.spec import set_path
from engine.status import RunStatus
from engine.training.events import EvalEvent, Event


@dataclass(frozen=True)
class TrialResult:
    """What a worker hands back for one trial (plain numbers: it crosses a process boundary)."""
    status: str                 # a RunStatus value: finished, diverged, error, stopped
    value: float | None         # the objective by the rule above; None for error and stopped
    steps: int
    seconds: float
    message: str
    worker: str                 # host:pid of the process that trained it
    val_loss: float | None = None
    val_acc: float | None = None
    best_val_loss: float | None = None
    best_val_acc: float | None = None
    threads: int = 0            # torch's intra-op threads while it trained (1 in a search's training process)


def trial_experiment(base: Experiment, values: Mapping[str, Any]) -> Experiment:
    """``base`` with every ``path -> value`` set, checked by the experiment validator."""
    raw = experiment_to_dict(base)
    for path, value in values.items():
        raw = set_path(raw, path, value)
    return parse_experiment(raw)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def train_trial(base: Experiment, values: Mapping[str, Any], objective: str,
                should_stop: Callable[[], bool] = lambda: False) -> TrialResult:
    """Train one trial to the end (or to ``should_stop()``) and judge it by ``objective``."""
    from engine.training.trainer import Trainer
    started = time.perf_counter()
    try:
        trainer = Trainer(trial_experiment(base, values))
    except (ExperimentError, ValueError) as err:
        return TrialResult(RunStatus.ERROR, None, 0, time.perf_counter() - started, str(err), worker_name())
    evals: list[EvalEvent] = []

    def record(event: Event) -> None:
        if isinstance(event, EvalEvent):
            evals.append(event)

    final = trainer.run(record, should_stop)
    seconds = time.perf_counter() - started
    losses = [e.val_loss for e in evals if math.isfinite(e.val_loss)]
    accs = [e.val_acc for e in evals if math.isfinite(e.val_acc)]
    last = trainer.last_eval
    numbers = dict(val_loss=_finite(last.val_loss) if last else None, val_acc=_finite(last.val_acc) if last else None,
                   best_val_loss=min(losses) if losses else None, best_val_acc=max(accs) if accs else None)
    goal = OBJECTIVES[objective]
    value: float | None = None
    if final.status == RunStatus.FINISHED:
        value = numbers[goal.key]
    elif final.status == RunStatus.DIVERGED and evals:
        untrained = getattr(evals[0], goal.key.removeprefix("best_"))
        latest = numbers[goal.key.removeprefix("best_")]
        value = goal.worse_of(untrained, latest) if latest is not None else untrained
    status = final.status if value is not None or final.status != RunStatus.FINISHED else RunStatus.ERROR
    import torch
    return TrialResult(status, value, final.step, seconds, final.message, worker_name(), **numbers,
                       threads=torch.get_num_threads())
