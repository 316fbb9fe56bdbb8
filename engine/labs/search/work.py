"""One worker node of a search: it asks the samplers, trains the trials in child processes, tells the results.

A node is one process that suggests (the ``search`` command is node 0, each ``search-worker`` another) and a
pool of ``processes`` child processes that train (``multiprocessing`` *spawn*, torch at one thread in each).
Suggesting and training never share a process: ``GPSampler`` fits its Gaussian process with torch and limits
torch's threads while it does, and a trial in the same process would be slowed by it (and would slow the fit).
One sampler per method per node, whatever the number of child processes, so a node's trials are the seed's
trials; with one child process the trials run one after another, asked in turn (grid 0, random 0, grid 1, ...),
and a fixed seed gives the same trials and the same numbers.

How a trial is told (Optuna's states, the ``status`` user attribute says which of ours):

* finished: ``COMPLETE`` with the objective;
* diverged: ``PRUNED``, its value (reported as the trial's last intermediate value) no better than the
  untrained network (:func:`engine.labs.search.trial.train_trial`): TPE counts a pruned trial among the bad ones,
  so it learns that corner blows up; the search goes on;
* error (the validator refused the combination, the trainer raised): ``FAIL``, with its one-line ``message``;
* stopped (Ctrl-C, SIGTERM): ``FAIL``, and a copy is queued (:func:`~.storages.queue_again`) (same
  parameters, same budget slot), so the search started again trains it; every finished trial is kept.

Every ``heartbeat`` seconds the node writes a sign of life into its running trials and reaps the trials of
nodes gone silent (:func:`engine.labs.search.storages.reap`).
"""
from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable

import optuna
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from engine.config import Experiment
from engine.labs.search.methods import METHODS, quiet_optuna
from engine.labs.search.spec import Search
from engine.labs.search.storages import beat, queue_again, reap
from engine.labs.search.studies import (
    SURPLUS,
    optuna_methods,
    progress,
    slot_of,
    study_name,
    trial_params,
)
from engine.labs.search.trial import TrialResult, train_trial
from engine.status import RunStatus

POLL = 0.5
"""Seconds between looks at the stop flag and, while this node waits for others (``--workers 0``), the storage."""

_CHILD_STOP: Any = None


def _exit_with(parent: int) -> None:
    """A training process whose node was killed (SIGKILL: no goodbye) ends too, instead of training on for
    nobody: its trial is failed and queued again by the reaper of another node."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _child_init(stop: Any, node: int) -> None:
    """A training process: one torch thread; Ctrl-C and SIGTERM are the node's to handle (it sets ``stop``).
    ``node`` is the node's pid, passed in: read here with ``os.getppid()`` it would already be init's when the
    node was killed while this process was starting up."""
    global _CHILD_STOP
    _CHILD_STOP = stop
    threading.Thread(target=_exit_with, args=(node,), daemon=True).start()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    import torch

    import engine.data.datasets  # noqa: F401  (imported once here, not in the first trial's seconds)
    import engine.training.trainer  # noqa: F401
    torch.set_num_threads(1)


STOPS = {signal.SIGINT, signal.SIGTERM}


def submit(pool: ProcessPoolExecutor, fn: Callable[..., Any], *args: Any) -> Future[Any]:
    """``pool.submit(fn, *args)`` with SIGINT and SIGTERM blocked in this thread meanwhile.  Submitting is where a
    *spawn* pool starts its processes, and a process starts with the signal mask of the thread that started it,
    so its processes never hear the node's Ctrl-C (a terminal sends it to the whole group) or SIGTERM: before,
    one arriving while a process was still importing (before :func:`_child_init` ignores them) killed it with a
    ``KeyboardInterrupt``, and its trial ended "the training process failed: BrokenProcessPool" with the pool
    broken.  Blocked, not ignored: a signal meant for the node waits until the submit is done and is then heard
    (``StopSignals``); none is lost.  Where there are no signal masks (Windows) it is a plain submit."""
    if not hasattr(signal, "pthread_sigmask"):
        return pool.submit(fn, *args)
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
    try:
        return pool.submit(fn, *args)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _child_train(base: Experiment, values: dict[str, Any], objective: str) -> TrialResult:
    return train_trial(base, values, objective, should_stop=_CHILD_STOP.is_set)


@dataclass(frozen=True)
class Asked:
    """A trial this node has just handed to a training process (it is ``RUNNING`` in the storage)."""
    method: str
    number: int
    values: dict[str, Any]


@dataclass(frozen=True)
class Told:
    """One trial this node finished: what the command prints a line for."""
    method: str
    number: int
    result: TrialResult


def tell(study: optuna.Study, trial: optuna.Trial, result: TrialResult) -> None:
    """Record ``result`` on ``trial`` by the rule of the module doc (the attributes first: a finished
    trial cannot be changed)."""
    attrs = {"status": result.status, "steps": result.steps, "seconds": result.seconds, "worker": result.worker,
             "message": result.message, "val_loss": result.val_loss, "val_acc": result.val_acc,
             "best_val_loss": result.best_val_loss, "best_val_acc": result.best_val_acc,
             "threads": result.threads}
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
    if result.status == RunStatus.FINISHED and result.value is not None:
        study.tell(trial, result.value)
    elif result.status == RunStatus.DIVERGED and result.value is not None:
        trial.report(result.value, result.steps)
        study.tell(trial, state=TrialState.PRUNED)
    else:
        frozen = study.tell(trial, state=TrialState.FAIL)
        if result.status == RunStatus.STOPPED:
            queue_again(study, frozen)


class Node:
    """The studies of one search as this node sees them, with its own samplers (worker index ``worker``)."""

    def __init__(self, storage: BaseStorage, name: str, search: Search, worker: int):
        quiet_optuna()
        self.search, self.storage = search, storage
        self.methods = optuna_methods(search)
        held = {m: len(optuna.load_study(study_name=study_name(name, m), storage=storage).get_trials(deepcopy=False))
                for m in self.methods}
        self.studies = {m: optuna.load_study(study_name=study_name(name, m), storage=storage,
                                             sampler=METHODS[m].sampler(search, worker, held[m]))
                        for m in self.methods}
        self.budgets = {m: METHODS[m].budget(search) for m in self.methods}
        self.distributions = {p.path: p.distribution() for p in search.space}
        self._turn = itertools.cycle(self.methods)

    def done(self) -> bool:
        return all(progress(self.studies[m], m, self.budgets[m]).done for m in self.methods)

    def ask(self) -> tuple[str, optuna.Trial] | None:
        """The next trial, from the next method (in turn) with a budget slot free; None when none has one."""
        for _ in self.methods:
            method = next(self._turn)
            study = self.studies[method]
            if not progress(study, method, self.budgets[method]).can_ask:
                continue
            with warnings.catch_warnings():     # an RDB storage's heartbeat: this node beats it itself
                warnings.filterwarnings("ignore", "Heartbeat of storage is supposed to be used with Study.optimize")
                trial = study.ask(self.distributions)
            frozen = study._storage.get_trial(trial._trial_id)
            slot = slot_of(frozen, study.get_trials(deepcopy=False))
            if slot >= self.budgets[method]:       # another node took the last slot at the same moment
                trial.set_user_attr("status", SURPLUS)
                study.tell(trial, state=TrialState.FAIL)
                continue
            trial.set_user_attr("slot", slot)
            trial.set_user_attr("status", RunStatus.RUNNING)
            return method, trial
        return None

    def values(self, trial: optuna.Trial) -> dict[str, Any]:
        frozen = trial.study._storage.get_trial(trial._trial_id)
        return trial_params(frozen, self.search)

    def keep_alive(self, running: list[tuple[str, optuna.Trial]]) -> None:
        for method, trial in running:
            beat(self.studies[method]._storage, trial._trial_id)
        for study in self.studies.values():
            reap(study, self.search.settings.heartbeat)


def work(storage: BaseStorage, name: str, search: Search, worker: int, processes: int,
         should_stop: Callable[[], bool] = lambda: False,
         on_trial: Callable[[Asked | Told], None] | None = None) -> list[Told]:
    """Train trials of the study ``name`` in ``processes`` child processes until every method's budget is done
    (by any node) or ``should_stop()``; ``processes = 0`` trains nothing and only waits for the other nodes.
    Returns the trials this node told, in the order it told them."""
    node = Node(storage, name, search, worker)
    told: list[Told] = []
    running: dict[Future[TrialResult], tuple[str, optuna.Trial]] = {}
    pause = threading.Event()
    context = multiprocessing.get_context("spawn")
    stop = context.Event()

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(processes, mp_context=context, initializer=_child_init,
                                   initargs=(stop, os.getpid()))

    pool = new_pool() if processes else None

    def finish(future: Future[TrialResult]) -> None:
        method, trial = running.pop(future)
        try:
            result = future.result()
        except Exception as err:         # the child died (killed, out of memory): an error, the search goes on;
            # while stopping (a Ctrl-C reaching a child still starting up), a stop: the trial is queued again
            status = RunStatus.STOPPED if should_stop() else RunStatus.ERROR
            result = TrialResult(status, None, 0, 0.0, f"the training process failed: {err!r}", "")
        tell(node.studies[method], trial, result)
        entry = Told(method, trial.number, result)
        told.append(entry)
        if on_trial is not None:
            on_trial(entry)

    last_beat = time.monotonic()
    tick = min(POLL, search.settings.heartbeat)       # a node must beat well within the grace of 3 beats
    try:
        while not should_stop():
            while pool is not None and len(running) < processes and not should_stop():
                asked = node.ask()
                if asked is None:
                    break
                method, trial = asked
                values = node.values(trial)
                try:
                    future = submit(pool, _child_train, search.base, values, search.settings.objective)
                except BrokenProcessPool:            # a child died and took the pool with it: a new pool
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = new_pool()
                    future = submit(pool, _child_train, search.base, values, search.settings.objective)
                running[future] = asked
                if on_trial is not None:
                    on_trial(Asked(method, trial.number, values))
            if not running:
                if node.done():
                    break
                pause.wait(tick)          # the other nodes' trials run (or a copy will be queued): look again
                if time.monotonic() - last_beat >= search.settings.heartbeat:
                    node.keep_alive([])
                    last_beat = time.monotonic()
                continue
            finished, _ = wait(tuple(running), timeout=tick, return_when=FIRST_COMPLETED)
            for future in finished:
                finish(future)
            if time.monotonic() - last_beat >= search.settings.heartbeat:
                node.keep_alive(list(running.values()))
                last_beat = time.monotonic()
    finally:
        stop.set()                  # the running trials end at their next step as stopped, and are queued again
        for future in tuple(running):
            finish(future)
        if pool is not None:
            pool.shutdown()
    return told
