"""The PBT node: the population's rounds in training processes, exploit and explore between them.

:class:`Population` holds every member's hyperparameters and saved state; each round it hands every member
still training to :class:`RoundPool` (``workers`` child processes set up as the Optuna trials' are, by
:func:`engine.labs.search.work._child_init`: one torch thread, the node's stop event), collects the
:class:`~engine.labs.search.pbt.MemberRound` of each as it arrives, and then, in member order, decides the
exploits (:func:`~engine.labs.search.pbt_explore.exploit_plan`) and explores
(:func:`~engine.labs.search.pbt_explore.explore`) with one generator seeded by the search's seed.  The
decisions depend only on the scores, so the lineage is the seed's whatever the number of workers.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Callable

import optuna

from engine.labs.search.objectives import OBJECTIVES
from engine.labs.search.pbt import Exploit, MemberHistory, MemberRound, PBTResult, best_of
from engine.labs.search.pbt_explore import Standing, exploit_plan, explore, generator
from engine.labs.search.pbt_member import MemberState, RoundResult, child_round, train_round
from engine.labs.search.spec import Search
from engine.labs.search.work import _child_init, submit
from engine.status import RunStatus

POLL = 0.5
"""Seconds between looks at the stop flag while a round trains."""

Job = tuple[Any, dict[str, Any], str, MemberState, int]     # train_round's arguments but the stop flag


def first_points(search: Search, n: int) -> list[dict[str, Any]]:
    """Random search's first ``n`` points (sampler representation): an Optuna ``RandomSampler`` of the
    search's seed asked as a worker node asks it (:mod:`engine.labs.search.work`), in an in-memory study."""
    from engine.labs.search.methods import quiet_optuna
    quiet_optuna()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=search.settings.seed))
    distributions = {p.path: p.distribution() for p in search.space}
    return [dict(study.ask(distributions).params) for _ in range(n)]


class RoundPool:
    """Trains the members of one round in ``workers`` child processes (``0``: in this process)."""

    def __init__(self, workers: int):
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        self.context = multiprocessing.get_context("spawn")
        self.stop = self.context.Event()

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=self.context, initializer=_child_init,
                                            initargs=(self.stop, os.getpid()))
        return self.pool

    def train(self, jobs: dict[int, Job], should_stop: Callable[[], bool],
              on_done: Callable[[int, RoundResult], None]) -> dict[int, RoundResult]:
        results: dict[int, RoundResult] = {}
        if not self.workers:
            for member in sorted(jobs):
                results[member] = train_round(*jobs[member], should_stop=should_stop)
                on_done(member, results[member])
            return results
        pool = self._pool()
        pending: dict[Future[RoundResult], int] = {submit(pool, child_round, *jobs[m]): m for m in sorted(jobs)}
        while pending:
            finished, _ = wait(tuple(pending), timeout=POLL, return_when=FIRST_COMPLETED)
            if should_stop():
                self.stop.set()          # the running rounds end at their next step as stopped
            for future in finished:
                member = pending.pop(future)
                try:
                    result = future.result()
                except Exception as err:         # the child died (killed, out of memory): this round failed
                    status = RunStatus.STOPPED if should_stop() else RunStatus.ERROR
                    result = RoundResult(status, float("nan"), jobs[member][3], True, 0, 0.0,
                                         f"the training process failed: {err!r}", "")
                    self.close()
                results[member] = result
                on_done(member, result)
        return results

    def close(self) -> None:
        self.stop.set()
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
        self.stop = self.context.Event()


class Population:
    """A PBT run's state on the node: members' values and states, the rounds and exploits so far."""

    def __init__(self, search: Search, on_event: Callable[[MemberRound | Exploit], None] | None = None):
        self.search, self.on_event = search, on_event
        self.goal = OBJECTIVES[search.settings.objective]
        self.size = search.pbt.population
        self.rng = generator(search.settings.seed)
        self.values = first_points(search, self.size)          # sampler representation
        self.states = [MemberState() for _ in range(self.size)]
        self.training = [True] * self.size
        self.rounds: list[list[MemberRound]] = [[] for _ in range(self.size)]
        self.events: list[Exploit] = []
        self.total = 0

    def params(self, member: int) -> dict[str, Any]:
        """The member's hyperparameters as the experiment reads them."""
        return self.experiment_values(self.values[member])

    def experiment_values(self, values: dict[str, Any]) -> dict[str, Any]:
        return {p.path: p.value(values[p.path]) for p in self.search.space}

    def _emit(self, event: MemberRound | Exploit) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def run(self, workers: int, should_stop: Callable[[], bool] = lambda: False) -> PBTResult:
        pool = RoundPool(min(workers, self.size))
        stopped = False
        try:
            generation = 0
            while any(self.training):
                if should_stop():
                    stopped = True
                    break
                results = self.train_round(pool, generation, should_stop)
                if any(r.status == RunStatus.STOPPED for r in results.values()) or should_stop():
                    stopped = True
                    break
                self.exploit(results)
                generation += 1
        finally:
            pool.close()
        return self.result(stopped)

    def train_round(self, pool: RoundPool, generation: int, should_stop: Callable[[], bool]) -> dict[int, RoundResult]:
        s = self.search
        jobs: dict[int, Job] = {m: (s.base, self.params(m), s.settings.objective, self.states[m], s.pbt.interval)
                                for m in range(self.size) if self.training[m]}
        used = {m: self.params(m) for m in jobs}

        def done(member: int, result: RoundResult) -> None:
            if result.status == RunStatus.STOPPED:
                return                                       # the round under way is dropped
            step = result.state.step if result.status != RunStatus.ERROR else self.states[member].step
            entry = MemberRound(member, generation, step, result.value, used[member], result.status,
                                result.seconds, result.worker, result.message)
            self.rounds[member].append(entry)
            self._emit(entry)

        results = pool.train(jobs, should_stop, done)
        for member, result in results.items():
            if result.status == RunStatus.STOPPED:
                continue
            if result.status != RunStatus.ERROR:
                self.states[member] = result.state
            self.training[member] = not result.done
            self.total = max(self.total, result.total_steps)
        return results

    def exploit(self, results: dict[int, RoundResult]) -> None:
        """Exploit and explore after a round, unless no healthy member trains on (the end)."""
        if not any(self.training[m] for m, r in results.items() if r.status == RunStatus.FINISHED):
            return
        standings = [Standing(m, r.value, r.status) for m, r in sorted(results.items())]
        for member, parent, reason in exploit_plan(standings, self.goal, self.search.pbt.quantile, self.rng):
            before = self.params(member)
            values, resampled = explore(self.search.space, self.values[parent], self.search.pbt.resample, self.rng)
            self.values[member] = values
            self.states[member] = self.states[parent]        # copied (deep) where it is loaded: pbt_member
            self.training[member] = True
            event = Exploit(self.states[parent].step, member, parent, before, self.params(member), resampled,
                            reason)
            self.events.append(event)
            self._emit(event)

    def result(self, stopped: bool) -> PBTResult:
        members = tuple(MemberHistory(m, tuple(self.rounds[m])) for m in range(self.size))
        best, value, params = best_of(self.search, members)
        config = {"population": self.size, "interval": self.search.pbt.interval,
                  "quantile": self.search.pbt.quantile, "resample": self.search.pbt.resample}
        return PBTResult(members, tuple(self.events), best, value, params, stopped, self.total, config)
