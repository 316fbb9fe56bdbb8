"""Several runs trained side by side, one step each in turn: what the training window drives.

The driver every side-by-side caller uses is here: :func:`step_in_turn` takes one
step of each trainer in order (:func:`step_safely`: an exception ends that run as
``error``, never the others), :func:`train_in_turn` repeats it until every run has
ended or a stop is asked, and :class:`SharedData` loads one dataset per data
settings and seed for the trainers that share it.  Interleaving costs nothing in
reproducibility: a trainer borrows the global generator only inside its own step,
so each run's numbers equal the numbers it gives alone.

A :class:`Lab` owns the runs of the window's run list.  Each call of
:meth:`Lab.step_round` takes one optimizer step of every running run, so their
curves grow together; :meth:`Lab.take_updates` hands out what is new in each
run as arrays (:class:`~engine.training.updates.RunUpdate`) at whatever rate the view
asks.  It is plain Python: the GUI's worker thread calls it, the tests call it
directly.  It never raises because of one run: a run that cannot be built or
that fails ends in ``error`` with its message, and the others go on.

A run of ``train.seeds`` K > 1 is built by :func:`~engine.training.members.trainer_for` (its K members
in one trainer) and steps once per round like any other; its updates carry the members' mean as the
series and their :class:`~engine.training.updates.Spread` beside (``members=K``), member 0's histograms,
and the members' mean probabilities as its boundary (:meth:`Lab.boundary`).
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch

from engine.config import Experiment
from engine.data.datasets import DataSplit, load_data
from engine.status import RunStatus
from engine.training.events import Event, FinalEvent
from engine.training.members import Members, trainer_for
from engine.training.records import RecordKeeper
from engine.training.trainer import Trainer
from engine.training.updates import EMPTY_EVALS, EMPTY_STEPS, Boundary, RunUpdate, UpdateBuffer

BOUNDARY_GRID = 90          # points per side of the decision-boundary grid
BOUNDARY_INTERVAL = 0.25    # seconds between two boundaries of one run: a fixed rate, never every step
RATE_WINDOW = 1.0           # seconds over which steps/s is measured


# -- the driver: trainers stepped in turn ------------------------------------------------------------

def step_safely(trainer: Trainer | Members) -> list[Event]:
    """One step of ``trainer``; an exception ends that run as ``error`` (its message in the
    :class:`FinalEvent`) instead of ending every run.  An ended trainer gives ``[]``."""
    try:
        return trainer.step()
    except Exception as err:  # one run failing never stops the others
        return trainer.fail(err)


def step_in_turn(trainers: Iterable[Trainer | Members]) -> Iterator[list[Event]]:
    """One step of each trainer, in order (:func:`step_safely`); yields each one's events right after
    its step, so a caller records them before the next trainer steps."""
    for trainer in trainers:
        yield step_safely(trainer)


def train_in_turn(trainers: Sequence[Trainer | Members], on_events: Callable[[int, list[Event]], None] | None = None,
                  should_stop: Callable[[], bool] = lambda: False,
                  after_round: Callable[[], None] | None = None) -> None:
    """Rounds of :func:`step_in_turn` until every trainer has ended, so all their curves grow together.

    ``on_events(i, events)`` hears trainer ``i``'s events of each step; ``after_round()`` is called
    after each round.  Once ``should_stop()`` is true (asked before each round) every run still
    going is stopped where it is (its ``stopped`` :class:`FinalEvent` goes to ``on_events`` too).
    """
    hear = on_events or (lambda i, events: None)
    while not all(t.done for t in trainers):
        if should_stop():
            for i, t in enumerate(trainers):
                hear(i, t.stop())
            return
        for i, events in enumerate(step_in_turn(trainers)):
            hear(i, events)
        if after_round is not None:
            after_round()


class SharedData:
    """One loaded dataset per (data settings, seed): the trainers that agree on both share it (read-only)."""

    def __init__(self) -> None:
        self._data: dict[tuple, DataSplit] = {}

    def __call__(self, experiment: Experiment) -> DataSplit:
        key = (experiment.data, experiment.seed)
        if key not in self._data:
            self._data[key] = load_data(experiment.data, experiment.seed)
        return self._data[key]


# -- the window's runs ----------------------------------------------------------------------------------

@dataclass
class _Run:
    run_id: str
    experiment: Experiment
    generation: int = 0
    trainer: Trainer | Members | None = None
    buffer: UpdateBuffer | None = None
    records: RecordKeeper | None = None     # each member's record, handed out once the run has ended
    status: str = RunStatus.QUEUED
    message: str = ""
    history: deque = field(default_factory=lambda: deque(maxlen=256))  # (time, step) for steps/s
    boundary_due: float = 0.0
    boundary_owed: bool = False   # the next update carries a boundary whatever the cadence (run ended, one step)
    dirty: bool = True      # something to report even without new points (status, reset)


class Lab:
    """The runs of one window, stepped together."""

    def __init__(self, boundary_grid: int = BOUNDARY_GRID, boundary_interval: float = BOUNDARY_INTERVAL):
        self._runs: dict[str, _Run] = {}
        self._data = SharedData()
        self.boundary_grid = boundary_grid
        self.boundary_interval = boundary_interval

    # -- the run list -----------------------------------------------------------------------------

    def add(self, run_id: str, experiment: Experiment) -> None:
        """Add a run (queued); its trainer is built when it first steps."""
        self._runs[run_id] = _Run(run_id, experiment)

    def remove(self, run_id: str) -> None:
        self._runs.pop(run_id, None)

    def set_experiment(self, run_id: str, experiment: Experiment) -> None:
        """Give a run new settings; they take effect from its start, so the run is rewound."""
        run = self._runs[run_id]
        run.experiment = experiment
        self._rewind(run)

    def reset(self, run_id: str | None = None) -> None:
        """Rewind one run or all: same seed, so the same data and initial weights, a fair restart."""
        for run in ([self._runs[run_id]] if run_id else self._runs.values()):
            self._rewind(run)

    def _rewind(self, run: _Run) -> None:
        run.generation += 1
        run.trainer, run.buffer, run.records = None, None, None
        run.status, run.message, run.dirty = RunStatus.QUEUED, "", True
        run.boundary_owed = False
        run.history.clear()

    @property
    def run_ids(self) -> list[str]:
        return list(self._runs)

    def status(self, run_id: str) -> str:
        return self._runs[run_id].status

    def trainer(self, run_id: str) -> Trainer | Members | None:
        """The run's trainer once built: a :class:`Trainer`, or the members of a multi-seed run."""
        return self._runs[run_id].trainer

    def single_trainer(self, run_id: str) -> Trainer | None:
        """The run's :class:`Trainer` when it is a single-seed run (an inspection measures one network)."""
        trainer = self._runs[run_id].trainer
        return trainer if isinstance(trainer, Trainer) else None

    def data(self, run_id: str) -> DataSplit | None:
        """The run's dataset, once its trainer is built (the boundary view draws its points)."""
        trainer = self._runs[run_id].trainer
        return trainer.data if trainer else None

    # -- driving ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Every run that has not ended trains (again)."""
        for run in self._runs.values():
            if run.status in (RunStatus.QUEUED, RunStatus.PAUSED):
                run.status, run.dirty = RunStatus.RUNNING, True

    def pause(self) -> None:
        for run in self._runs.values():
            if run.status == RunStatus.RUNNING:
                run.status, run.dirty = RunStatus.PAUSED, True

    def stop(self) -> None:
        """End every run that has started (queued runs stay queued)."""
        for run in self._runs.values():
            if run.trainer is not None and run.status in (RunStatus.RUNNING, RunStatus.PAUSED):
                self._record(run, run.trainer.stop())

    @property
    def running(self) -> bool:
        return any(run.status == RunStatus.RUNNING for run in self._runs.values())

    def step_round(self) -> int:
        """One step of every running run, in run-list order; returns how many stepped."""
        return self._step_in_turn([run for run in self._runs.values() if run.status == RunStatus.RUNNING])

    def step_once(self) -> int:
        """One step of every run that has not ended, running or not (slow motion); they stay paused."""
        runs = [run for run in self._runs.values() if run.status in (RunStatus.QUEUED, RunStatus.PAUSED, RunStatus.RUNNING)]
        for run in runs:
            if run.status == RunStatus.QUEUED:
                run.status = RunStatus.PAUSED
            run.boundary_owed = True    # slow motion: every single step shows its boundary
        return self._step_in_turn(runs)

    def _step_in_turn(self, runs: list[_Run]) -> int:
        """:func:`step_in_turn` over ``runs``' trainers (built first; one that cannot be built ends in error)."""
        built = [run for run in runs if run.trainer is not None or self._build(run)]
        for run, events in zip(built, step_in_turn(run.trainer for run in built if run.trainer is not None)):
            assert run.trainer is not None  # kept by the filter above
            self._record(run, events)
            run.history.append((time.perf_counter(), run.trainer.step_count))
        return len(runs)

    def _build(self, run: _Run) -> bool:
        """Give the run its trainer (True), or end it in ``error`` with the reason (False)."""
        try:
            run.trainer = trainer_for(run.experiment, data=self._data(run.experiment))
        except Exception as err:  # a bad data path, say: the run shows it, the lab goes on
            run.status, run.message, run.dirty = RunStatus.ERROR, str(err).splitlines()[0], True
            return False
        run.buffer = UpdateBuffer(run.run_id, members=run.experiment.train.seeds)
        run.records = RecordKeeper(run.experiment.train.seeds)
        return True

    def _record(self, run: _Run, events) -> None:
        assert run.buffer is not None  # set by _build together with the trainer
        for event in events:
            run.buffer.add(event)
            if run.records is not None:
                run.records.add(event)
            if isinstance(event, FinalEvent):
                run.status, run.message, run.dirty = event.status, event.message, True
                run.boundary_owed = True    # the final picture is the last step's, not the cadence's last

    # -- what the view receives ------------------------------------------------------------------------

    def take_updates(self, now: float | None = None) -> list[RunUpdate]:
        """What is new in each run since the last call (runs with nothing new are left out).

        Boundaries come on a cadence (``boundary_interval``) while a run trains, and besides it once a
        run has ended and after :meth:`step_once`: the picture a finished or stepped run leaves on screen
        is the one of its last step.
        """
        now = time.perf_counter() if now is None else now
        updates = []
        for run in self._runs.values():
            trainer = run.trainer
            boundary = None
            due = now >= run.boundary_due and (run.status == RunStatus.RUNNING or run.dirty or trainer is not None
                                               and trainer.step_count <= 1)
            if trainer is not None and trainer.data.kind == "plane" and (run.boundary_owed or due):
                boundary = self.boundary(run.run_id)
                run.boundary_due = now + self.boundary_interval
                run.boundary_owed = False
            if run.buffer is not None:
                assert trainer is not None  # the buffer is only made once the trainer is built
                update = run.buffer.take(run.status, trainer.step_count, trainer.epoch, self._rate(run),
                                         boundary)
            else:
                update = RunUpdate(run.run_id, run.status, run.message, 0, 0.0, 0.0, EMPTY_STEPS, EMPTY_EVALS)
            update = replace(update, generation=run.generation, message=run.message, records=self._ended_records(run))
            if update.has_data or run.dirty or update.records:
                updates.append(update)
                run.dirty = False
        return updates

    @staticmethod
    def _ended_records(run: _Run) -> tuple:
        """The run's member records, once, in the first update after it ended (a lesson's claim reads them)."""
        records = run.records.records() if run.records is not None else None
        if records is None:
            return ()
        run.records = None
        return records

    def _rate(self, run: _Run) -> float:
        if run.status != RunStatus.RUNNING or len(run.history) < 2:
            return 0.0
        t_end, s_end = run.history[-1]
        for t, s in run.history:
            if t_end - t <= RATE_WINDOW:
                return (s_end - s) / (t_end - t) if t_end > t else 0.0
        return 0.0

    @torch.no_grad()
    def boundary(self, run_id: str) -> Boundary | None:
        """The run's class probabilities over a grid covering its data (2-D datasets only).

        A multi-seed run's are its members' mean probabilities, ``p(c|x) = (1/n) sum_k p_k(c|x)`` over the
        n members that have not diverged (all K once every one has): where the members agree the picture is
        as sharp as one run's, where they disagree it fades, which is the band of a boundary.  It costs one
        forward pass of each member over the grid (``predict_proba`` gives all K at once)."""
        trainer = self._runs[run_id].trainer
        if trainer is None or trainer.data.extent is None:
            return None
        x0, x1, y0, y1 = trainer.data.extent
        xs = np.linspace(x0, x1, self.boundary_grid, dtype=np.float32)
        ys = np.linspace(y0, y1, self.boundary_grid, dtype=np.float32)
        gx, gy = np.meshgrid(xs, ys)
        points = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=1))
        probs = trainer.predict_proba(points)
        if not isinstance(trainer, Trainer):     # (K, n, classes): the mean of the members still sound
            sound = [k for k, s in enumerate(trainer.member_status) if s != RunStatus.DIVERGED]
            probs = probs[sound].mean(axis=0) if sound else probs.mean(axis=0)
        probs = probs.reshape(len(ys), len(xs), -1).astype(np.float32)
        return Boundary(trainer.step_count, xs, ys, probs)


