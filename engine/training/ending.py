"""How every trainer of one run is driven to its end and ends: one run, one :class:`FinalEvent`.

A single run (:class:`~engine.training.trainer.Trainer`) and a multi-seed run (its members, sequential or
vectorized) differ in how they step, never in how they are driven or how they end, so that part is here once:
:class:`Driven` gives ``run`` (step to the end or to ``should_stop()``; an exception ends the run as
``error``, reported, never raised), ``done`` and ``_finish`` (the run's FinalEvent, its rate
``step_count / elapsed``), and :func:`error_line` the one-line words of a failure.
"""
from __future__ import annotations

from typing import Callable

from engine.training.events import Event, FinalEvent


def error_line(err: BaseException) -> str:
    """A failure in one line for the user: ``TypeName: first line of the message``."""
    return f"{type(err).__name__}: {err}".splitlines()[0]


class Driven:
    """The ending of a trainer: it provides ``step``, ``stop``, ``fail``, ``step_count``, ``elapsed``,
    ``epoch`` and ``lr``, and keeps ``final`` (None until the run has ended) and ``status``."""

    final: FinalEvent | None
    status: str | None
    step_count: int
    elapsed: float

    @property
    def epoch(self) -> float:
        raise NotImplementedError

    @property
    def lr(self) -> float:
        raise NotImplementedError

    def step(self) -> list[Event]:
        raise NotImplementedError

    def stop(self) -> list[Event]:
        raise NotImplementedError

    def fail(self, err: BaseException) -> list[Event]:
        raise NotImplementedError

    @property
    def done(self) -> bool:
        return self.final is not None

    def run(self, on_event: Callable[[Event], None] | None = None,
            should_stop: Callable[[], bool] = lambda: False) -> FinalEvent:
        """Train to the end, or until ``should_stop()`` is true; exceptions end the run as ``error``."""
        emit = on_event or (lambda e: None)
        try:
            while not self.done:
                for event in self.stop() if should_stop() else self.step():
                    emit(event)
        except Exception as err:  # reported, never raised: the caller gets an error status
            for event in self.fail(err):
                emit(event)
        assert self.final is not None   # the loop ends only once the run has ended
        return self.final

    def _finish(self, status: str, message: str) -> FinalEvent:
        self.status = status
        rate = self.step_count / self.elapsed if self.elapsed > 0 else 0.0
        self.final = FinalEvent(status, self.step_count, self.epoch, self.lr, message, self.elapsed, rate)
        return self.final
