"""Run one engine job (``job(state, *args)``, see ``engine.training.jobs``) in a QThread and relay what it reports.

The lesson tabs use it for work that takes from a fraction of a second to a
few seconds (a learning-rate sweep, training a deep net once per
initialization).  The job runs in a worker QObject moved to a QThread; its
signals reach :class:`TaskRunner`, which lives on the GUI thread, through
``@Slot`` methods only, and the runner re-emits them there, so a tab may
connect them to anything (CONTRIBUTING.md, Threads: a lambda connected to a worker
signal would run in the worker thread).  Every exception in the job is caught
and reported as ``failed`` with its one-line reason; ``finished`` always
follows.  Stopping is a flag the job checks, then ``quit()``/``wait()``.
"""
from __future__ import annotations

import traceback
import weakref
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from engine.training.jobs import TaskState

# Every runner made, so the tests can check no job thread is left running.
LIVE_RUNNERS: "weakref.WeakSet[TaskRunner]" = weakref.WeakSet()


class _JobWorker(QObject):
    partial = Signal(object)
    done = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, job: Callable, args: tuple, state: TaskState):
        super().__init__()
        self._job, self._args, self.state = job, args, state

    @Slot()
    def run(self) -> None:
        try:
            result = self._job(self.state, *self._args)
            self.done.emit(result)
        except Exception as err:  # the worker must never die silently
            line = traceback.format_exception_only(type(err), err)[-1].strip()
            self.failed.emit(line)
        finally:
            self.finished.emit()


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
        LIVE_RUNNERS.add(self)

    def busy(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def start(self, job: Callable, *args: Any) -> bool:
        """Start ``job`` unless one is running (then False: the caller says so, nothing is queued)."""
        if self.busy():
            return False
        self._cleanup()
        state = TaskState()
        worker = _JobWorker(job, args, state)
        state._on_report = worker.partial.emit  # emitted in the job's thread, queued to us
        thread = QThread()
        thread.setObjectName(self._name)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.partial.connect(self._on_partial)
        worker.done.connect(self._on_done)
        worker.failed.connect(self._on_failed)
        # Direct: quit() is thread-safe, and the thread must end even while the GUI thread waits in shutdown().
        worker.finished.connect(thread.quit, Qt.DirectConnection)
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
