"""What a long engine job sees of whoever runs it: a place to report partial results, and a stop flag.

The lesson labs (finder, initialization explorer, trajectories) are plain
functions ``job(state, ...)`` that call ``state.report(partial)`` as results
come in and return early when ``state.stop_requested()``; the same function
serves a headless command (``TaskState()`` reports nowhere), a test, and the
window (``gui.concurrency.jobs`` runs it in a QThread and relays the reports).  This is
the shape of Orange's ``TaskState``: the job never knows a widget exists.
"""
from __future__ import annotations

import threading
from typing import Any, Callable


class TaskState:
    """Thread-safe: the job reports from its thread, anyone may ask it to stop from another."""

    def __init__(self, on_report: Callable[[Any], None] | None = None):
        self._on_report = on_report
        self._stop = threading.Event()

    def report(self, partial: Any) -> None:
        """Hand a partial result (a frozen dataclass or arrays, never a live tensor) to the caller."""
        if self._on_report is not None:
            self._on_report(partial)

    def request_stop(self) -> None:
        self._stop.set()

    def stop_requested(self) -> bool:
        return self._stop.is_set()
