"""The search tab's engine jobs, run off the GUI thread by ``gui.concurrency.jobs.TaskRunner``.

Each is a plain ``job(state, ...)`` (``engine.training.jobs.TaskState``): it reports what it sees with
``state.report`` and ends early once ``state.stop_requested()``.

* :func:`race_job`: ``engine.labs.search.launch.start`` as node 0 of a new search (the trials train in the
  engine's child processes), every ``Asked``/``Told`` reported as it happens;
* :func:`join_job`: a class search found by its URL and name (its :class:`~engine.labs.search.spec.Search` reported
  first, so the tab can show its space), then ``launch.join``;
* :func:`watch_job`: the storage read every ``POLL_SECONDS``, each time the rows of every node's trials: a class
  search shows everybody's trials live, not only this window's.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from engine.labs.search.spec import Search
from gui.labs.search.book import TrialRow

POLL_SECONDS = 1.0
STOP_CHECK = 0.05


@dataclass(frozen=True)
class Snapshot:
    """Every trial the storage holds for the search, read at one moment."""
    rows: list[TrialRow]


@dataclass(frozen=True)
class Joined:
    """The class search that was joined: what it searches, in which storage, under which name."""
    search: Search
    url: str
    name: str


def snapshot(search: Search, storage, name: str) -> Snapshot:
    """The rows of every method's trials in ``storage`` (every node's), as ``trials.csv`` has them."""
    from engine.labs.search.results import method_trials
    from engine.labs.search.studies import optuna_methods, trial_message, trial_params, trial_status
    rows = []
    for method in optuna_methods(search):
        for t in method_trials(storage, name, method):
            a = t.user_attrs
            rows.append(TrialRow(method, t.number, trial_status(t), t.value, a.get("steps"), a.get("seconds"),
                                 str(a.get("worker", "")), trial_params(t, search), trial_message(t)))
    return Snapshot(rows)


def open_search_storage(url: str, search: Search | None = None):
    from engine.labs.search.storages import open_storage
    return open_storage(url, search.settings.heartbeat if search is not None else 10.0)


def race_job(state, search: Search, out: Path, url: str | None, name: str, workers: int):
    from engine.labs.search.launch import start
    return start(search, out, url, name, workers, should_stop=state.stop_requested, on_trial=state.report)


def join_job(state, url: str, name: str, workers: int):
    from engine.labs.search.launch import join
    from engine.labs.search.studies import find_search
    state.report(Joined(find_search(open_search_storage(url), name), url, name))
    return join(url, name, workers, should_stop=state.stop_requested, on_trial=state.report)


def _pause(state, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not state.stop_requested():
        time.sleep(STOP_CHECK)


def watch_job(state, search: Search, url: str, name: str, poll: float = POLL_SECONDS) -> None:
    """Report a :class:`Snapshot` every ``poll`` seconds until stopped; a storage that cannot be read for a
    moment (a proxy restarting) is tried again at the next poll."""
    storage = None
    while not state.stop_requested():
        try:
            storage = storage or open_search_storage(url, search)
            state.report(snapshot(search, storage, name))
        except Exception:        # the search's own runner reports what is wrong with its storage
            storage = None
        _pause(state, poll)
