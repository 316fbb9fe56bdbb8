"""The search methods on Optuna's samplers: one table, method name -> how to build its sampler.

Every method gets the search's seed and the same number of start-up trials, so random search, TPE and the
Gaussian process draw the *same* first points (TPE and GP start with a ``RandomSampler`` of that seed, drawn
in the same order): the race is paired, and any difference later is the model's doing.

Seeds and several workers (each worker process asks its own sampler):

* **grid** must have the *same* seed on every worker.  ``GridSampler`` shuffles its grid with the seed and
  gives trial ``n`` the ``n``-th point of its shuffled list; two workers with two shuffles hand trials 0 and 1
  points from different orders, so some point is tried twice and another never;
* **random, TPE, GP** need *different* seeds: with one seed every worker draws the same sequence and every
  point is tried once per worker.  Worker ``w`` draws with :func:`worker_seed` ``(seed, w, r)``: the seed itself
  for worker 0 of a fresh search (a one-worker search is the seed's search), a
  ``numpy.random.SeedSequence([seed, w, r])`` draw for the others (deterministic, and unrelated for
  neighbouring ``w``).  ``r`` is the number of trials the study held when the worker started: a search resumed
  after a crash must not draw again the points it already tried (a restarted sampler repeats its sequence).

Population-based training is no sampler (Optuna has none): :mod:`engine.labs.search.pbt`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import optuna
from optuna.samplers import BaseSampler, GPSampler, GridSampler, RandomSampler, TPESampler

from engine.labs.search.space import grid_points, grid_size
from engine.labs.search.spec import Search


class BudgetGridSampler(GridSampler):
    """Optuna's grid sampler, told nothing about stopping: ours stops at the budget.

    ``GridSampler.after_trial`` calls ``study.stop()`` once the grid is used up, which only works inside
    ``study.optimize``; a search asks and tells (the trials run in other processes), where it raises.
    """

    def after_trial(self, study, trial, state, values) -> None:
        return None


def worker_seed(seed: int, worker: int, restart: int = 0) -> int:
    """The seed of worker ``worker``'s sampler for random, TPE and GP (see the module doc)."""
    if worker == 0 and restart == 0:
        return seed
    return int(np.random.SeedSequence([seed, worker, restart]).generate_state(1)[0])


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    sampler: Callable[[Search, int, int], BaseSampler]   # (search, worker index, trials at start) -> sampler
    budget: Callable[[Search], int]                 # trials this method spends


def _grid(search: Search, worker: int, restart: int) -> BaseSampler:
    return BudgetGridSampler(grid_points(search.space, search.trials), seed=search.settings.seed)


def grid_budget(search: Search) -> int:
    return grid_size(grid_points(search.space, search.trials))


def _random(search: Search, worker: int, restart: int) -> BaseSampler:
    return RandomSampler(seed=worker_seed(search.settings.seed, worker, restart))


def _tpe(search: Search, worker: int, restart: int) -> BaseSampler:
    return TPESampler(seed=worker_seed(search.settings.seed, worker, restart), n_startup_trials=search.settings.startup)


def _gp(search: Search, worker: int, restart: int) -> BaseSampler:
    return GPSampler(seed=worker_seed(search.settings.seed, worker, restart), n_startup_trials=search.settings.startup)


METHODS: dict[str, Method] = {m.name: m for m in (
    Method("grid", "every combination of a few values per key: the grid the budget buys", _grid, grid_budget),
    Method("random", "independent draws from each range", _random, lambda s: s.trials),
    Method("tpe", "tree-structured Parzen estimator: densities of good and bad trials, picks their best ratio",
           _tpe, lambda s: s.trials),
    Method("gp", "Gaussian-process surrogate of the objective, picks by log expected improvement", _gp,
           lambda s: s.trials),
)}
"""The Optuna methods; ``pbt`` (no sampler) is run by :func:`engine.labs.search.pbt.run_pbt`."""


def quiet_optuna() -> None:
    """Optuna logs every trial at INFO; the commands print their own lines."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
