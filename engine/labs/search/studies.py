"""A search's studies in a storage: their names, the budget each holds, and the rows of their trials.

A search named ``NAME`` is one ordinary Optuna study per method, ``NAME.grid``, ``NAME.random``, ... (so an
Optuna dashboard opens them as they are), each holding the resolved search file as the user attribute
``search``, so a worker that joins knows everything from the storage alone.  ``NAME.workers`` holds one trial
per worker that joined, numbered by the storage: that number (plus one; the starting process is worker 0) is
the worker's index, from which its sampler seed is derived (:func:`engine.labs.search.methods.worker_seed`).

The budget is counted in *slots*: trial ``n`` of a method, unless it is a copy queued again after its worker
was lost (or stopped), takes slot ``n - (copies numbered before it)``; a copy inherits the slot of the trial it
repeats (the user attribute ``slot``, copied by Optuna's retry callback).  A method is done when every slot
below its budget has one trial that ended (finished, diverged or failed) and no copy waits; a trial that finds
its slot at or past the budget (two workers asked at once for the last one) is marked ``surplus`` and failed
at once, and no file counts it.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from engine.experiment import ExperimentError
from engine.labs.search.methods import METHODS
from engine.labs.search.objectives import OBJECTIVES
from engine.labs.search.spec import Search, parse_search
from engine.status import RunStatus

SURPLUS = "surplus"
# The states of a trial that has used its budget slot: finished (COMPLETE), diverged (PRUNED: a result the
# sampler learns from, engine.labs.search.work.tell) and error or stopped (FAIL; a stopped one has a copy
# queued).  PRUNED was missing here: a race with one diverging trial never ended, its node waiting forever.
ENDED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def study_name(name: str, method: str) -> str:
    return f"{name}.{method}"


def optuna_methods(search: Search) -> tuple[str, ...]:
    return tuple(m for m in search.methods if m in METHODS)


def create_studies(search: Search, storage: BaseStorage, name: str) -> None:
    """Create (or find again: a search resumes) one study per Optuna method of ``search``.

    A study of that name holding another search is refused, naming ``--study``: resuming must not mix two."""
    text = json.dumps(search.to_dict(), sort_keys=True)
    for method in optuna_methods(search):
        study = optuna.create_study(storage=storage, study_name=study_name(name, method), load_if_exists=True,
                                    direction=OBJECTIVES[search.settings.objective].study_direction)
        held = study.user_attrs.get("search")
        if held is None:
            study.set_user_attr("search", search.to_dict())
            study.set_user_attr("method", method)
            study.set_user_attr("budget", METHODS[method].budget(search))
        elif json.dumps(held, sort_keys=True) != text:
            raise ExperimentError("--study", f"{study_name(name, method)} in this storage holds another search; "
                                  f"give another --study (or --out), or the same search file to resume it")


def find_search(storage: BaseStorage, name: str) -> Search:
    """The search a running study ``name`` holds (what ``search-worker`` joins)."""
    names = set(optuna.get_all_study_names(storage=storage))
    for method in METHODS:
        if study_name(name, method) in names:
            study = optuna.load_study(study_name=study_name(name, method), storage=storage)
            return parse_search(study.user_attrs["search"])
    raise ExperimentError("--study", f"no search named {name!r} in this storage (known: "
                          f"{', '.join(sorted({n.rsplit('.', 1)[0] for n in names})) or 'none'})")


def join_as_worker(storage: BaseStorage, name: str, label: str) -> int:
    """This process's worker index: 1 + the number the storage gave its trial in ``NAME.workers``."""
    study = optuna.create_study(storage=storage, study_name=f"{name}.workers", load_if_exists=True)
    token = uuid.uuid4().hex
    study.add_trial(optuna.create_trial(value=0.0, user_attrs={"worker": label, "token": token}))
    mine = next(t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("token") == token)
    return mine.number + 1


def is_copy(trial: FrozenTrial) -> bool:
    return "failed_trial" in trial.system_attrs


def slot_of(trial: FrozenTrial, trials: list[FrozenTrial]) -> int:
    """The budget slot ``trial`` fills (see the module doc)."""
    if "slot" in trial.user_attrs:
        return int(trial.user_attrs["slot"])
    return sum(1 for t in trials if t.number < trial.number and not is_copy(t))


def counted(trials: list[FrozenTrial]) -> list[FrozenTrial]:
    """The trials the files show: every one but the surplus."""
    return [t for t in trials if t.user_attrs.get("status") != SURPLUS]


@dataclass(frozen=True)
class Progress:
    """Where one method stands: its budget, the slots that ended, what runs and what waits."""
    method: str
    budget: int
    ended: int
    running: int
    waiting: int
    fresh: int             # trials that are not copies: slots handed out so far

    @property
    def done(self) -> bool:
        return self.ended >= self.budget and self.waiting == 0

    @property
    def can_ask(self) -> bool:
        return self.waiting > 0 or self.fresh < self.budget


def progress(study: optuna.Study, method: str, budget: int) -> Progress:
    trials = counted(study.get_trials(deepcopy=False))
    retried = {t.system_attrs["failed_trial"] for t in trials if is_copy(t)}
    ended = {slot_of(t, trials) for t in trials if t.state in ENDED and t.number not in retried}
    return Progress(method, budget, len({s for s in ended if s < budget}),
                    sum(t.state == TrialState.RUNNING for t in trials),
                    sum(t.state == TrialState.WAITING for t in trials),
                    sum(not is_copy(t) for t in trials))


def trial_status(trial: FrozenTrial) -> str:
    """The trial's status word (``engine.status.RunStatus``) for the files."""
    status = trial.user_attrs.get("status")
    if trial.state == TrialState.RUNNING:
        return RunStatus.RUNNING
    if trial.state == TrialState.WAITING:
        return RunStatus.QUEUED
    if status in (RunStatus.FINISHED, RunStatus.DIVERGED, RunStatus.ERROR, RunStatus.STOPPED):
        return status
    return RunStatus.ERROR        # failed while it said "running": its worker was lost (storages.reap)


def trial_message(trial: FrozenTrial) -> str:
    if trial.state == TrialState.FAIL and trial.user_attrs.get("status") not in (RunStatus.ERROR, RunStatus.STOPPED):
        return "worker lost: no sign of life within the grace"
    return str(trial.user_attrs.get("message", ""))


def trial_params(trial: FrozenTrial, search: Search) -> dict[str, Any]:
    return {p.path: p.value(trial.params[p.path]) for p in search.space if p.path in trial.params}
