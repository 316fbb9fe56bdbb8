"""A search's files: ``trials.csv`` (one row per trial) and ``summary.json`` (best per method, the search).

``trials.csv``: ``method,trial,state,value,steps,seconds,worker`` and one column per searched key, named by its
path, in the order of the search file.  ``state`` is the status word (:func:`~.studies.trial_status`:
finished, diverged, error, stopped, running, queued); ``value`` the objective the sampler was told (a diverged
trial's is the penalty of :mod:`engine.labs.search.trial`, an error's is empty).  The rows come from the
storage, so they hold every node's trials, not only this process's; a surplus trial (asked for a slot another
node took) is no row.

``summary.json``: per method its budget, how many trials ended in each state, and its best trial (number,
value, values of the keys, worker), the objective and its direction, and the resolved search file, which reads
back as the same search (``main.py search DIR/summary.json`` is refused: give its ``search`` entry).

Population-based training (:mod:`engine.labs.search.pbt`) writes **one row per member** into ``trials.csv``
(``method`` pbt, ``trial`` the member's number, ``state`` how its last round ended, ``value`` its last round's
objective, ``steps`` its steps, ``seconds`` its rounds' sum, ``worker`` its last round's process, its last
hyperparameters), so a trial table stays one row per run; its ``summary.json`` entry has the budget (the
population), the states and the best (``trial`` the best member, ``params`` the hyperparameters of its best
round) like every method, and the lineage goes into ``DIR/pbt_lineage.json``: every member's rounds (step,
value, hyperparameters, status: its objective curve and schedule) and every exploit (step, member, parent,
hyperparameters before and after, the keys resampled, why).
"""
from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from engine.files import float_cell, json_safe, text_cell, write_csv_atomic, write_json_atomic
from engine.labs.search.methods import METHODS
from engine.labs.search.objectives import OBJECTIVES
from engine.labs.search.spec import Search
from engine.labs.search.studies import counted, optuna_methods, study_name, trial_params, trial_status

if TYPE_CHECKING:
    from engine.labs.search.pbt import PBTResult

TRIAL_COLUMNS = ("method", "trial", "state", "value", "steps", "seconds", "worker")
LINEAGE = "pbt_lineage.json"
TRIALS = "trials.csv"
SUMMARY = "summary.json"
RESULT_FILES = (TRIALS, SUMMARY, LINEAGE)
"""Every file :func:`write_search_files` may write into a search's folder."""


def method_trials(storage: BaseStorage, name: str, method: str) -> list[FrozenTrial]:
    study = optuna.load_study(study_name=study_name(name, method), storage=storage)
    return counted(study.get_trials(deepcopy=False))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, str)):
        return text_cell(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_cell(value)
    return text_cell(json.dumps(value))      # a list choice: its JSON text, e.g. [16, 16]


def trial_rows(search: Search, storage: BaseStorage, name: str) -> list[list[str]]:
    rows = []
    for method in optuna_methods(search):
        for t in method_trials(storage, name, method):
            params = trial_params(t, search)
            rows.append([method, str(t.number), trial_status(t), _cell(t.value), _cell(t.user_attrs.get("steps")),
                         _cell(t.user_attrs.get("seconds")), text_cell(t.user_attrs.get("worker", "")),
                         *(_cell(params.get(p.path)) for p in search.space)])
    return rows


def pbt_rows(search: Search, result: PBTResult) -> list[list[str]]:
    rows = []
    for history in result.members:
        if not history.rounds:
            continue
        last = history.rounds[-1]
        rows.append(["pbt", str(history.member), str(last.status), _cell(last.value), str(last.step),
                     _cell(sum(r.seconds for r in history.rounds)), text_cell(last.worker),
                     *(_cell(last.params.get(p.path)) for p in search.space)])
    return rows


def pbt_summary(search: Search, result: PBTResult) -> dict[str, Any]:
    """The ``pbt`` entry of ``summary.json``'s methods (the shape of the others)."""
    states = Counter(str(h.rounds[-1].status) for h in result.members if h.rounds)
    worker = next((r.worker for h in result.members if h.member == result.best_member for r in h.rounds), None)
    return {"budget": search.pbt.population, "states": dict(states),
            "best": None if result.best_member < 0 else {"trial": result.best_member, "value": result.best_value,
                                                         "params": result.best_params, "worker": worker},
            "rounds": max((len(h.rounds) for h in result.members), default=0), "exploits": len(result.events),
            "stopped": result.stopped, "lineage": LINEAGE}


def lineage(result: PBTResult) -> dict[str, Any]:
    """``pbt_lineage.json``: the settings, every member's rounds and every exploit, in order."""
    return {"config": result.config, "total_steps": result.total_steps, "stopped": result.stopped,
            "best": {"member": result.best_member, "value": result.best_value, "params": result.best_params},
            "members": [{"member": h.member, "rounds": [dataclasses.asdict(r) for r in h.rounds]}
                        for h in result.members],
            "exploits": [dataclasses.asdict(e) for e in result.events]}


def best_trial(search: Search, trials: list[FrozenTrial]) -> FrozenTrial | None:
    """The best finished trial (a diverged one never wins: its value is a penalty, not a result)."""
    goal = OBJECTIVES[search.settings.objective]
    best: FrozenTrial | None = None
    best_value = 0.0
    for t in trials:
        if t.state == TrialState.COMPLETE and t.value is not None and (best is None or goal.better(t.value, best_value)):
            best, best_value = t, t.value
    return best


def summary(search: Search, storage: BaseStorage, name: str, pbt: PBTResult | None = None) -> dict[str, Any]:
    methods: dict[str, Any] = {}
    for method in optuna_methods(search):
        trials = method_trials(storage, name, method)
        best = best_trial(search, trials)
        methods[method] = {
            "budget": METHODS[method].budget(search),
            "states": dict(Counter(trial_status(t) for t in trials)),
            "best": None if best is None else {"trial": best.number, "value": best.value,
                                               "params": trial_params(best, search),
                                               "worker": best.user_attrs.get("worker")},
        }
    if pbt is not None:
        methods["pbt"] = pbt_summary(search, pbt)
    goal = OBJECTIVES[search.settings.objective]
    return {"study": name, "objective": goal.name, "direction": goal.direction, "methods": methods,
            "search": search.to_dict()}


def write_search_files(search: Search, storage: BaseStorage, name: str, out: Path,
                       pbt: PBTResult | None = None) -> tuple[Path, ...]:
    """``out/trials.csv`` and ``out/summary.json`` (and ``out/pbt_lineage.json`` after population-based
    training), each written whole or not at all."""
    out.mkdir(parents=True, exist_ok=True)
    header = [*TRIAL_COLUMNS, *(p.path for p in search.space)]
    rows = trial_rows(search, storage, name) + (pbt_rows(search, pbt) if pbt is not None else [])
    trials = write_csv_atomic(out / TRIALS, header, rows)
    files: tuple[Path, ...] = (trials, write_json_atomic(out / SUMMARY, json_safe(summary(search, storage, name, pbt))))
    if pbt is not None:
        files += (write_json_atomic(out / LINEAGE, json_safe(lineage(pbt))),)
    return files
