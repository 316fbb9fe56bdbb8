"""A trained run as a lesson's claim reads it: how it ended, at which step, and its every evaluation.

One record per run, and one per member of a multi-seed run, built from the events alone: a member's
own events inside the :class:`~engine.training.events.MembersEvent`\\ s are exactly the events the single
run of its seed emits, so one read-out of records checks a claim on a run trained for the claims table
and on each member of a multi-seed run in the window alike (the claim seen live,
``engine.lessons.claims.live``).  A record holds a few dozen evaluations, never the steps.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.training.events import EvalEvent, Event, FinalEvent, MembersEvent


@dataclass(frozen=True)
class RunRecord:
    """How one run (or one member) ended and what it was evaluated at, in order."""
    status: str                     # finished, diverged, stopped or error (engine.status.RunStatus)
    step: int                       # the step it ended at
    evals: tuple[EvalEvent, ...]


class RecordKeeper:
    """The records of a run's ``members`` (1 for a single run), grown from its events.

    A member that ends on its own (finished or diverged) reports its own :class:`FinalEvent`; the rest end
    with the run's (stopped, or an error of the whole run).  :meth:`records` is None until the run has ended."""

    def __init__(self, members: int = 1):
        self.members = members
        self._evals: list[list[EvalEvent]] = [[] for _ in range(members)]
        self._final: list[FinalEvent | None] = [None] * members
        self._ended = False

    def add(self, event: Event) -> None:
        if isinstance(event, MembersEvent):
            for k, member in zip(event.members, event.events):
                if isinstance(member, EvalEvent):
                    self._evals[k].append(member)
                elif isinstance(member, FinalEvent):
                    self._final[k] = member
        elif isinstance(event, EvalEvent):
            self._evals[0].append(event)
        elif isinstance(event, FinalEvent):
            self._final = [own or event for own in self._final]
            self._ended = True

    def records(self) -> tuple[RunRecord, ...] | None:
        """Member k's record at index k, once the run has ended (None before)."""
        if not self._ended:
            return None
        return tuple(RunRecord(final.status, final.step, tuple(evals))
                     for final, evals in zip(self._final, self._evals) if final is not None)
