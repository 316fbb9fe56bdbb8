"""One member of a PBT population: its state between rounds, and one round of its training.

A round runs in a training process (:mod:`engine.labs.search.pbt_population` hands it out): it builds the
app's :class:`~engine.training.trainer.Trainer` for the member's hyperparameters, loads the member's saved
state (or starts fresh in round 0), trains ``interval`` steps, evaluates, and returns the new state with the
score.  Everything crossing the process boundary is a frozen dataclass of tensors and numbers (pickled).

Resuming a state, and the two traps of other implementations it avoids:

1. **the explored learning rate is the one used.**  ``optimizer.load_state_dict`` replaces the param groups
   with the saved ones, so loading the parent's optimizer state also restores the *parent's* ``lr`` (and
   momentum, weight decay, betas) over the explored ones.  :func:`resume` keeps the param-group settings of
   the freshly built optimizer (the explored hyperparameters) and puts them back after loading, then resets
   the schedule to its fresh state and steps it ``t`` times, so the rate at step ``t`` is what a run with the
   explored hyperparameters has at step ``t`` (``lr_t = schedule(lr_explored, t)``; for a constant schedule
   ``lr_explored`` itself).  For the member's own state this is the rate it would have had anyway.
2. **a copy owns its momentum buffers.**  ``load_state_dict`` keeps the very tensors it is given when their
   dtype and device already fit, so two trainers loaded from one state in one process would share their
   momentum (and Adam's moment) buffers, and one's steps would move the other.  :func:`resume` loads a deep
   copy; across processes the pickling copies too.

``TrainerState`` holds what a step changes; :meth:`~engine.training.trainer.Trainer.resume` loads it with the
two things it does not hold, the step count and the divergence ceiling (from the untrained network's loss).
"""
from __future__ import annotations

import copy
import math
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable

from engine.config import Experiment
from engine.experiment import ExperimentError
from engine.labs.search.objectives import OBJECTIVES
from engine.labs.search.trial import trial_experiment, worker_name
from engine.status import RunStatus


@dataclass(frozen=True)
class MemberState:
    """What a member carries from one round to the next (``trainer`` None before its first round)."""
    trainer: Any = None              # engine.training.trainer.TrainerState
    step: int = 0
    start_loss: float = math.nan     # the untrained network's training loss: its divergence ceiling
    untrained: float = math.nan      # the untrained network's objective number: a diverged member's floor


@dataclass(frozen=True)
class RoundResult:
    """One round of one member, as the training process returns it."""
    status: str                      # RunStatus: finished (the interval in full), diverged, error, stopped
    value: float                     # the objective's number at ``state.step`` (NaN for error and stopped)
    state: MemberState
    done: bool                       # the member has trained its total steps (or its run ended)
    total_steps: int
    seconds: float
    message: str
    worker: str
    threads: int = 0


_DATA: dict[str, Any] = {}
"""The datasets this process has loaded (by their settings and seed): a member's rounds share one."""


def _data(exp: Experiment):
    from engine.data.datasets import load_data
    key = repr((exp.data, exp.seed))
    if key not in _DATA:
        _DATA.clear()
        _DATA[key] = load_data(exp.data, exp.seed)
    return _DATA[key]


def resume(trainer, state: MemberState) -> None:
    """Load ``state`` into a freshly built ``trainer`` by the rules of the module doc (traps 1 and 2)."""
    fresh = [{k: copy.deepcopy(v) for k, v in g.items() if k != "params"} for g in trainer.optimizer.param_groups]
    fresh_schedule = copy.deepcopy(trainer.schedule.state_dict())
    trainer.resume(copy.deepcopy(state.trainer), state.step, state.start_loss)   # trap 2: never the caller's tensors
    for group, settings in zip(trainer.optimizer.param_groups, fresh):
        group.update(settings)                                 # trap 1: the explored settings, not the parent's
    trainer.schedule.load_state_dict(fresh_schedule)
    if trainer.schedule.active:
        with warnings.catch_warnings():       # torch's "scheduler stepped before the optimizer": on purpose here
            warnings.filterwarnings("ignore", "Detected call of")
            for _ in range(state.step):
                trainer.schedule.step()


def build_member(base: Experiment, values: dict[str, Any], state: MemberState):
    """The member's trainer at ``state`` (raises ExperimentError/ValueError for a refused combination,
    RuntimeError when the state does not fit the network, e.g. an explored width)."""
    from engine.training.trainer import Trainer
    exp = trial_experiment(base, values)
    trainer = Trainer(exp, data=_data(exp))
    if state.trainer is not None:
        resume(trainer, state)
    return trainer


def train_round(base: Experiment, values: dict[str, Any], objective: str, state: MemberState, interval: int,
                should_stop: Callable[[], bool] = lambda: False) -> RoundResult:
    """Train one member ``interval`` steps from ``state`` (fewer at its end) and judge it."""
    import torch

    from engine.training.events import EvalEvent
    started = time.perf_counter()
    metric = OBJECTIVES[objective].key.removeprefix("best_")

    def ended(status: str, message: str, new: MemberState = state, value: float = math.nan,
              done: bool = True, total: int = 0) -> RoundResult:
        return RoundResult(status, value, new, done, total, time.perf_counter() - started, message, worker_name(),
                           torch.get_num_threads())

    try:
        trainer = build_member(base, values, state)
    except (ExperimentError, ValueError) as err:
        return ended(RunStatus.ERROR, str(err).splitlines()[0] if str(err) else type(err).__name__)
    except RuntimeError as err:
        return ended(RunStatus.ERROR, f"the copied state does not fit this member's network ({err})".splitlines()[0])
    start_loss, untrained = state.start_loss, state.untrained
    target = min(state.step + interval, trainer.total_steps)
    latest = None
    try:
        while trainer.step_count < target and not trainer.done:
            if should_stop():
                return ended(RunStatus.STOPPED, f"stopped at step {trainer.step_count}")
            for event in trainer.step():
                if isinstance(event, EvalEvent):
                    if event.step == 0:
                        start_loss, untrained = event.train_loss, getattr(event, metric)
                    latest = event
        if trainer.status in (None, RunStatus.FINISHED) and (latest is None or latest.step != trainer.step_count):
            latest = trainer.evaluate()
    except Exception as err:         # the trainer raised (not the numbers: those end a run as diverged)
        return ended(RunStatus.ERROR, f"{type(err).__name__}: {err}".splitlines()[0])
    new = MemberState(trainer.save_state(), trainer.step_count, start_loss, untrained)
    goal = OBJECTIVES[objective]
    if trainer.status == RunStatus.DIVERGED:
        last = getattr(trainer.last_eval, metric, math.nan) if trainer.last_eval is not None else math.nan
        value = goal.worse_of(untrained, last) if math.isfinite(last) else untrained
        message = trainer.final.message if trainer.final is not None else "diverged"
        return ended(RunStatus.DIVERGED, message, new, value, True, trainer.total_steps)
    value = getattr(latest, metric) if latest is not None else math.nan
    if not math.isfinite(value):
        return ended(RunStatus.DIVERGED, f"the {metric} became non-finite", new, untrained, True, trainer.total_steps)
    return ended(RunStatus.FINISHED, f"trained to step {trainer.step_count}", new, value,
                 trainer.step_count >= trainer.total_steps, trainer.total_steps)


def child_round(base: Experiment, values: dict[str, Any], objective: str, state: MemberState,
                interval: int) -> RoundResult:
    """:func:`train_round` in a training process of :mod:`engine.labs.search.work`'s pool set-up (one torch
    thread, the node's stop event)."""
    from engine.labs.search import work
    stop = work._CHILD_STOP
    return train_round(base, values, objective, state, interval,
                       should_stop=stop.is_set if stop is not None else (lambda: False))
