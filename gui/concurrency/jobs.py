"""Run one engine job (``job(state, *args)``, see ``engine.training.jobs``) in a QThread and relay what it reports.

The lesson tabs use it for work that takes from a fraction of a second to a
few seconds (a learning-rate sweep, training a deep net once per
initialization).  The job runs in a worker QObject moved to a QThread; its
signals reach :class:`TaskRunner`, which lives on the GUI thread, through
``@Slot`` methods only, and the runner re-emits them there, so a tab may
connect them to anything (CONTRIBUTING.md, Threads: a lambda connected to a worker
signal would run in the worker thread).  The worker is a
:class:`~gui.concurrency.worker_base.WorkerBase`: every exception in the job is
caught and reported as ``failed`` with its one-line reason; ``finished`` always
follows.  Stopping is a flag the job checks, then ``quit()``/``wait()``.
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.training.jobs import TaskState
from gui.concurrency.worker_base import WorkerBase, thread_for, track


class _JobWorker(WorkerBase):
    partial = Signal(object)
    done = Signal(object)
    # failed(str), finished: WorkerBase

    def __init__(self, job: Callable, args: tuple, state: TaskState):
        super().__init__()
        self._job, self._args, self.state = job, args, state

    def work(self) -> None:
        self.done.emit(self._job(self.state, *self._args))


class TaskRunner(QObject):
    """One job at a time: ``start(job, *args)``; signals ``partial``, ``done``, ``failed``, ``finished``."""

    partial = Signal(object)
    done = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, parent: QObject | None = None, name: str = "task"):
        super().__init__(parent)
        self._name = name
        self._thread: QThread | None = None
        self._worker: _JobWorker | None = None
        self.setObjectName(name)
        track(self)

    def busy(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def running(self) -> bool:
        """Whether a job's thread is running (what the registry of ``worker_base`` asks)."""
        return self.busy()

    def start(self, job: Callable, *args: Any) -> bool:
        """Start ``job`` unless one is running (then False: the caller says so, nothing is queued)."""
        if self.busy():
            return False
        self._cleanup()
        state = TaskState()
        worker = _JobWorker(job, args, state)
        state._on_report = worker.partial.emit  # emitted in the job's thread, queued to us
        thread = thread_for(worker, self._name)
        worker.partial.connect(self._on_partial)
        worker.done.connect(self._on_done)
        worker.failed.connect(self._on_failed)
        thread.finished.connect(self._on_finished)
        self._thread, self._worker = thread, worker
        thread.start()
        return True

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.state.request_stop()

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Ask the job to stop and join its thread; True when it has ended."""
        self.cancel()
        if self._thread is None:
            return True
        ended = self._thread.wait(timeout_ms)
        if ended:
            self._cleanup()
        return ended

    def _cleanup(self) -> None:
        if self._thread is not None and not self._thread.isRunning():
            self._thread.deleteLater()
            self._worker.deleteLater()
            self._thread = self._worker = None

    @Slot(object)
    def _on_partial(self, value) -> None:
        self.partial.emit(value)

    @Slot(object)
    def _on_done(self, value) -> None:
        self.done.emit(value)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.failed.emit(message)

    @Slot()
    def _on_finished(self) -> None:
        self.finished.emit()
