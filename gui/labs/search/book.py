"""The tab's record of a search: one row per trial of every node, and what the plots read off it.

A row comes from two places.  This window's own node reports each trial as it is handed to a training process
(``engine.labs.search.work.Asked``: running) and as it ends (``Told``); every other node's trials (a class
search: the teacher's, the other students') are read from the storage (:func:`~gui.labs.search.jobs.snapshot`).
Both say the same things about a trial, keyed by ``(method, trial number)``; an ended trial is never turned back
into a running one by an older snapshot that arrives after its ``Told``.

Best so far, per method: ``b_n = min(v_0 .. v_n)`` over the finished trials in trial order (``max`` for an
accuracy); a diverged trial's value is a penalty, not a result, so it never counts (as
``engine.labs.search.results.best_trial``).  No Qt here: the tests read the numbers straight off the book.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.labs.search.objectives import OBJECTIVES
from engine.labs.search.work import Asked, Told
from engine.status import RunStatus

ENDED = (RunStatus.FINISHED, RunStatus.DIVERGED, RunStatus.ERROR, RunStatus.STOPPED)


@dataclass(frozen=True)
class TrialRow:
    """One trial as the table shows it (the columns of ``trials.csv``)."""
    method: str
    number: int
    state: str                           # a RunStatus word
    value: float | None = None
    steps: int | None = None
    seconds: float | None = None
    worker: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    message: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return self.method, self.number


def row_of(event: Asked | Told) -> TrialRow:
    if isinstance(event, Asked):
        return TrialRow(event.method, event.number, RunStatus.RUNNING, values=dict(event.values))
    r = event.result
    return TrialRow(event.method, event.number, r.status, r.value, r.steps, r.seconds, r.worker, message=r.message)


class TrialBook:
    """Every trial seen so far, by ``(method, number)``; ``objective`` says which way is better."""

    def __init__(self, objective: str = "val_loss", methods: tuple[str, ...] = ()):
        self.goal = OBJECTIVES[objective]
        self.methods = methods
        self.rows: dict[tuple[str, int], TrialRow] = {}
        self.version = 0                     # bumped on every change: the views redraw only then

    def add(self, row: TrialRow) -> bool:
        """Merge ``row`` in; True when anything changed.  A Told row keeps the values its Asked row had."""
        old = self.rows.get(row.key)
        if old is not None:
            if old.state in ENDED and row.state not in ENDED:
                return False                 # a snapshot older than the Told that ended it
            if not row.values and old.values:
                row = TrialRow(**{**row.__dict__, "values": old.values})
            if not row.worker and old.worker:
                row = TrialRow(**{**row.__dict__, "worker": old.worker})
            if row == old:
                return False
        self.rows[row.key] = row
        self.version += 1
        return True

    def add_event(self, event: Asked | Told) -> bool:
        return self.add(row_of(event))

    def merge(self, rows: list[TrialRow]) -> bool:
        changed = False
        for row in rows:
            changed = self.add(row) or changed
        return changed

    def ordered(self) -> list[TrialRow]:
        """Method by method (in the search's order), each by trial number."""
        order = {m: i for i, m in enumerate(self.methods)}
        return sorted(self.rows.values(), key=lambda r: (order.get(r.method, len(order)), r.method, r.number))

    def finished(self, method: str | None = None) -> list[TrialRow]:
        return [r for r in self.ordered() if r.state == RunStatus.FINISHED and r.value is not None
                and (method is None or r.method == method)]

    def best_so_far(self, method: str) -> tuple[np.ndarray, np.ndarray]:
        """(trial numbers, best value up to and including each) over the method's finished trials."""
        rows = self.finished(method)
        x = np.array([r.number for r in rows], dtype=float)
        v = np.array([r.value for r in rows], dtype=float)
        if not len(v):
            return x, v
        best = np.minimum.accumulate(v) if self.goal.direction == "minimize" else np.maximum.accumulate(v)
        return x, best

    def best(self, method: str | None = None) -> TrialRow | None:
        """The best finished trial (of one method, or of all: the race's winner; the first on a tie)."""
        best: TrialRow | None = None
        for r in self.finished(method):
            if best is None or self.goal.better(r.value, best.value):
                best = r
        return best

    def counts(self) -> dict[str, int]:
        """How many trials are in each state (the status line)."""
        out: dict[str, int] = {}
        for r in self.rows.values():
            out[r.state] = out.get(r.state, 0) + 1
        return out

    def summary(self, out=None) -> str:
        """The status line when a search has ended: its trials by state, and the race's best."""
        counts = ", ".join(f"{n} {state}" for state, n in sorted(self.counts().items()))
        best = self.best()
        if best is None:
            return f"Ended: {counts or 'no trials'}."
        return (f"Ended: {counts}. Best {self.goal.name} {best.value:.4g}: {best.method} #{best.number}"
                + (f" (files in {out})" if out else "") + ".")
