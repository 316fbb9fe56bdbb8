"""A run of ``train.seeds: K`` members: the interface both member trainers have, the sequential one, the factory.

Member ``k`` of a K-member run is, exactly, the single run ``Trainer(member_experiment(experiment, k))``:
seed ``seed + k``, one seed, and ``data.seed`` set to the run's data seed, so its data is the run's
``load_data(experiment.data, experiment.seed)``, shared by every member: members differ only in initial
weights, batch order, dropout and augmentation draws, so their spread is the spread a seed makes, not the
spread of two datasets.  That single run is what the window's "Single out member k" adds.

:class:`SequentialMembers` is the plain implementation: K real :class:`~engine.training.trainer.Trainer`\\ s
stepped in lock-step, one step each per :meth:`SequentialMembers.step`.  It is the reference the vectorized
trainer (``engine.training.vectorized``) is tested against and the baseline the benchmark compares it with,
so it is nothing but the K single runs: each member's events are the ones its own run emits, grouped per
point into :class:`~engine.training.events.MembersEvent`\\ s (one per kind and step: the steps, then the
evaluations, the histograms, the members' own :class:`FinalEvent`\\ s; a member that has ended reports no
more), and the run as a whole ends with one plain :class:`FinalEvent`:

* ``finished`` when any member finished (the message counts the ones that diverged: "3 of 16 members
  diverged"), ``diverged`` when every member diverged;
* ``stopped`` and ``error`` as for one run (:meth:`stop`, :meth:`fail`): the whole run ends there.

:func:`trainer_for` picks the trainer of an experiment: a plain ``Trainer`` for one seed, the vectorized
trainer when it supports the experiment (``vectorizable(experiment)`` returns None), else the sequential one.

Callers that need one network (the LR finder, a search trial, the BatchNorm inspection) build
``Trainer(experiment)`` themselves, which trains member 0 exactly: a ``Trainer`` ignores ``train.seeds``.
"""
from __future__ import annotations

import importlib
import time
from typing import Callable, Protocol

import numpy as np

from engine.config import Experiment
from engine.data.datasets import DataSplit, load_data
from engine.experiment import resolve
from engine.status import RunStatus
from engine.training.ending import Driven, error_line
from engine.training.events import EvalEvent, Event, FinalEvent, HistogramEvent, MembersEvent, StepEvent
from engine.training.trainer import Trainer
from engine.training.updates import mean_eval

MemberEvent = StepEvent | EvalEvent | HistogramEvent | FinalEvent

# Within one step of one member, its events come in this order (a FinalEvent's step is the step it ended at).
_KIND_ORDER = {StepEvent: 0, EvalEvent: 1, HistogramEvent: 2, FinalEvent: 3}


class Members(Protocol):
    """What a K-member trainer offers (both :class:`SequentialMembers` and the vectorized one)."""
    experiment: Experiment
    data: DataSplit
    total_steps: int
    steps_per_epoch: int
    step_count: int
    status: str | None
    final: FinalEvent | None
    elapsed: float
    last_eval: EvalEvent | None      # the members' mean (over the members still reporting), or None
    seeds: tuple[int, ...]
    K: int

    @property
    def notes(self) -> tuple[str, ...]: ...
    @property
    def done(self) -> bool: ...
    @property
    def lr(self) -> float: ...
    @property
    def epoch(self) -> float: ...
    @property
    def member_status(self) -> tuple[str, ...]: ...
    def step(self) -> list[Event]: ...
    def run(self, on_event: Callable[[Event], None] | None = None,
            should_stop: Callable[[], bool] = lambda: False) -> FinalEvent: ...
    def stop(self) -> list[Event]: ...
    def fail(self, err: BaseException) -> list[Event]: ...
    def predict_proba(self, x) -> np.ndarray: ...


def member_experiment(experiment: Experiment, k: int) -> Experiment:
    """The single run that member ``k`` of ``experiment`` is: seed ``seed + k``, one seed, and the run's data
    (``data.seed`` kept at the data's own seed), so it trains alone to exactly member k's numbers."""
    data_seed = experiment.data.seed if experiment.data.seed is not None else experiment.seed
    return experiment.replace(seed=experiment.seed + k, data={"seed": data_seed}, train={"seeds": 1})


def group_members(per_member: list[tuple[int, list[Event]]]) -> list[Event]:
    """The events of one lock-step step, ``(k, member k's events)`` in member order, as MembersEvents:
    one per (step, kind), ordered as a single run orders them (step ``s``'s evaluation before step
    ``s + 1``; a step, then its evaluation, its histograms, the members that ended there)."""
    groups: dict[tuple[int, int], list[tuple[int, MemberEvent]]] = {}
    for k, events in per_member:
        for event in events:
            assert not isinstance(event, MembersEvent)     # a member is a single run
            groups.setdefault((event.step, _KIND_ORDER[type(event)]), []).append((k, event))
    return [MembersEvent(tuple(k for k, _ in group), tuple(e for _, e in group))
            for _, group in sorted(groups.items(), key=lambda item: item[0])]


def run_status(statuses: tuple[str, ...], steps: int, notes: tuple[str, ...] = ()) -> tuple[str, str]:
    """The status and message of a run whose members have all ended after ``steps``, from theirs (stop and
    error aside): "finished 2000 steps; 3 of 16 members diverged" and the run's notes, or "all 16 members
    diverged"."""
    K = len(statuses)
    diverged = sum(s == RunStatus.DIVERGED for s in statuses)
    if diverged == K:
        return RunStatus.DIVERGED, f"all {K} members diverged"
    words = [f"finished {steps} steps", *([f"{diverged} of {K} members diverged"] if diverged else []), *notes]
    return RunStatus.FINISHED, "; ".join(words)


class SequentialMembers(Driven):
    """K real Trainers of seeds ``seed + k`` on the run's shared data, stepped in lock-step.

    ``trainers[k]`` is member ``k``'s own Trainer (the equivalence tests read it); nothing of a member's
    step is changed by the others, since a Trainer borrows the global generator only inside its step."""

    def __init__(self, experiment: Experiment, data: DataSplit | None = None):
        self.experiment = resolve(experiment)
        exp = self.experiment
        self.K = exp.train.seeds
        self.seeds = tuple(exp.seed + k for k in range(self.K))
        self.data = data if data is not None else load_data(exp.data, exp.seed)
        self.trainers = [Trainer(member_experiment(exp, k), data=self.data) for k in range(self.K)]
        first = self.trainers[0]
        self.total_steps, self.steps_per_epoch = first.total_steps, first.steps_per_epoch
        self.step_count = 0
        self.status: str | None = None
        self.final: FinalEvent | None = None
        self.elapsed = 0.0
        self.last_eval: EvalEvent | None = None

    @property
    def notes(self) -> tuple[str, ...]:
        return self.trainers[0].notes

    @property
    def lr(self) -> float:
        """The rate of the first member still training (every member has the same schedule)."""
        return next((t for t in self.trainers if not t.done), self.trainers[0]).lr

    @property
    def epoch(self) -> float:
        return self.step_count / self.steps_per_epoch

    @property
    def member_status(self) -> tuple[str, ...]:
        """Each member's status: ``running`` while it trains, then its own final one."""
        return tuple(t.status or RunStatus.RUNNING for t in self.trainers)

    def step(self) -> list[Event]:
        """One step of every member still training; their events grouped per point, then, once every
        member has ended, the run's FinalEvent."""
        if self.done:
            return []
        started = time.perf_counter()
        live = [(k, t) for k, t in enumerate(self.trainers) if not t.done]
        events = group_members([(k, t.step()) for k, t in live])
        self.step_count = max(t.step_count for _, t in live)
        for event in events:
            assert isinstance(event, MembersEvent)
            if isinstance(event.events[0], EvalEvent):
                self.last_eval = mean_eval(event)
        self.elapsed += time.perf_counter() - started
        if all(t.done for t in self.trainers):
            events.append(self._finish(*run_status(self.member_status, self.step_count, self.notes)))
        return events

    def stop(self) -> list[Event]:
        """End the run (every member still training) at the user's request: ``[FinalEvent]``."""
        if self.done:
            return []
        for t in self.trainers:
            t.stop()
        return [self._finish(RunStatus.STOPPED, f"stopped by the user at step {self.step_count}")]

    def fail(self, err: BaseException) -> list[Event]:
        """End the run because something raised (one member's bug is the run's): one line."""
        if self.done:
            return []
        for t in self.trainers:
            t.fail(err)
        return [self._finish(RunStatus.ERROR, error_line(err))]

    def predict_proba(self, x) -> np.ndarray:
        """Each member's class probabilities for ``x``: shape (K, n, classes)."""
        return np.stack([t.predict_proba(x) for t in self.trainers])


def vectorized_members(experiment: Experiment) -> type | None:
    """The vectorized trainer's class when it exists and supports ``experiment``, else None.

    Imported here, lazily, so the sequential trainer works whether or not the vectorized one is built."""
    try:
        vectorized = importlib.import_module("engine.training.vectorized")
    except ImportError:
        return None
    supported: Callable[[Experiment], str | None] = vectorized.vectorizable
    return vectorized.VectorizedMembers if supported(experiment) is None else None


def trainer_for(experiment: Experiment, data: DataSplit | None = None) -> Trainer | Members:
    """The trainer of ``experiment``: a :class:`Trainer` for one seed; for K > 1 the vectorized members when
    they support the experiment, else :class:`SequentialMembers` (the same numbers, K times the cost)."""
    if experiment.train.seeds == 1:
        return Trainer(experiment, data)
    kind = vectorized_members(experiment) or SequentialMembers
    members: Members = kind(experiment, data)
    return members

