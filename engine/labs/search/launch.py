"""Starting a search and joining one: the two things the ``search`` and ``search-worker`` commands do.

:func:`start` creates (or finds again) the search's studies in the storage (:func:`open_search`), works as
node 0 and, when every method's budget is done or it is stopped, writes ``trials.csv`` and ``summary.json`` from
the storage, so the files hold every node's trials (:func:`run_search`); the command opens first and prints
after, so a storage it cannot open is refused before its first line.  :func:`join` finds the search a storage holds by its name, takes the next
worker index (:func:`~.studies.join_as_worker`) and works until the budget is done.

Population-based training (``"pbt"`` among the methods) runs after the Optuna methods, on the same number of
training processes of *this node* (:func:`engine.labs.search.pbt.run_pbt`): it is no Optuna study, so a
joining worker never trains its members, and ``--workers 0`` (train nothing here) does not run it.  Its
events reach ``on_trial`` too (:class:`~.pbt.MemberRound`, :class:`~.pbt.Exploit`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

from optuna.storages import BaseStorage

from engine.config import SEARCH_WORKERS_PER_CORE, search_workers
from engine.experiment import ExperimentError
from engine.labs.search.methods import quiet_optuna
from engine.labs.search.pbt import Exploit, MemberRound, PBTResult, run_pbt
from engine.labs.search.spec import Search
from engine.labs.search.storages import open_storage, storage_file
from engine.labs.search.studies import create_studies, find_search, join_as_worker
from engine.labs.search.trial import worker_name
from engine.labs.search.work import Asked, Told, work

JOURNAL = "search.journal"
"""The default storage: a journal file in the output folder (a search survives a crash and resumes)."""


SearchEvent = Union[Asked, Told, MemberRound, Exploit]
"""What ``on_trial`` hears: a trial handed out and told, a PBT member's round and an exploit."""


@dataclass(frozen=True)
class Finished:
    search: Search
    told: list[Told]              # the trials this process's node told
    files: tuple[Path, ...]       # trials.csv, summary.json (none for a joining worker), pbt_lineage.json
    pbt: PBTResult | None = None  # the population, when pbt was among the methods and it ran here


def default_storage(out: Path) -> str:
    return str(out / JOURNAL)


def check_workers(workers: int) -> None:
    """Refuse a node's count of training processes outside :func:`engine.config.search_workers`, naming
    ``--workers`` (the window's count is refused by the same line)."""
    problem = search_workers().check(workers)
    if problem:
        raise ExperimentError("--workers", f"{problem}, got {workers} (at most {SEARCH_WORKERS_PER_CORE} training "
                                           f"processes per core; this machine has {os.cpu_count() or 1})")


def open_search(search: Search, out: Path, storage_url: str | None, name: str) -> BaseStorage:
    """The search's storage, opened, and its studies created (or found again: a search resumes), before any work:
    a storage that cannot be opened or a ``name`` that holds another search is its one line here, before the
    command prints its first line or trains anything.  The default storage's folder ``out`` is made here (and
    only for it: a refused search leaves no folder behind)."""
    quiet_optuna()
    url = storage_url or default_storage(out)
    check_apart(url, out)
    if storage_url is None:
        out.mkdir(parents=True, exist_ok=True)
    storage = open_storage(url, search.settings.heartbeat)
    create_studies(search, storage, name)
    return storage


def check_apart(storage_url: str, out: Path) -> None:
    """Refuse a journal or SQLite file that is one of the files the search writes into ``out`` at the end: the
    results would be written over the storage, and every trial in it lost (``--storage DIR/trials.csv``)."""
    from engine.labs.search.results import RESULT_FILES
    path = storage_file(storage_url)
    if path is None:
        return
    held = path.resolve()
    for name in RESULT_FILES:
        if held == (out / name).resolve():
            raise ExperimentError("--storage", f"{path} is the {name} the search writes into --out {out}; give "
                                               f"the storage another name (the default is {out / JOURNAL})")


def run_search(search: Search, storage: BaseStorage, out: Path, name: str, workers: int,
               should_stop: Callable[[], bool] = lambda: False,
               on_trial: Callable[[SearchEvent], None] | None = None) -> Finished:
    """Work as node 0 on the opened search (:func:`open_search`), then population-based training, then the
    files from the storage (written also when stopped: they hold every trial told so far)."""
    from engine.labs.search.results import write_search_files
    check_workers(workers)
    told = work(storage, name, search, 0, workers, should_stop, on_trial)
    pbt = None
    if "pbt" in search.methods and workers > 0 and not should_stop():
        pbt = run_pbt(search, workers, should_stop, on_trial)
    return Finished(search, told, write_search_files(search, storage, name, out, pbt), pbt)


def start(search: Search, out: Path, storage_url: str | None, name: str, workers: int,
          should_stop: Callable[[], bool] = lambda: False,
          on_trial: Callable[[SearchEvent], None] | None = None) -> Finished:
    """:func:`open_search`, then :func:`run_search`: a whole search from this node."""
    check_workers(workers)
    storage = open_search(search, out, storage_url, name)
    return run_search(search, storage, out, name, workers, should_stop, on_trial)


def join(storage_url: str, name: str, workers: int, should_stop: Callable[[], bool] = lambda: False,
         on_trial: Callable[[Asked | Told], None] | None = None) -> Finished:
    """Join the running search ``name`` of the storage ``storage_url`` as the next worker.  The storage must
    exist (``create=False``): a mistyped journal path is refused in one line, not made into an empty journal
    that is then said to hold no search."""
    check_workers(workers)
    quiet_optuna()
    storage = open_storage(storage_url, 10.0, create=False)
    search = find_search(storage, name)
    if search.settings.heartbeat != 10.0:
        storage = open_storage(storage_url, search.settings.heartbeat, create=False)
    worker = join_as_worker(storage, name, worker_name())
    return Finished(search, work(storage, name, search, worker, workers, should_stop, on_trial), ())
