"""The one shape of a worker, and the one list of the threads the window has started.

A worker (superqt's ``WorkerBase`` shape) is a QObject moved to a QThread: the thread's ``started``
calls its :meth:`WorkerBase.run` slot, which calls :meth:`WorkerBase.work`, catches every exception
and reports it as ``failed`` with a one-line reason, and always emits ``finished`` last, which ends
the thread (CONTRIBUTING.md, Threads).  :func:`thread_for` makes that thread.

Whoever owns such a thread (the training thread, a lab's job runner) registers itself with
:func:`track`; :func:`still_running` lists the owners whose thread has not ended, and the tests fail
one that leaves a thread running (``tests/conftest.py``), then stop it with its ``shutdown``.
"""
from __future__ import annotations

import weakref
from typing import Protocol

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot


def error_line(err: BaseException) -> str:
    """``Type: first line of the message`` (``module.Type`` outside the builtins), the one line a
    user reads when a worker breaks."""
    kind = type(err)
    name = kind.__qualname__ if kind.__module__ in ("builtins", "__main__") else f"{kind.__module__}.{kind.__qualname__}"
    lines = str(err).strip().splitlines()
    return f"{name}: {lines[0]}" if lines else name


class WorkerBase(QObject):
    """A QObject whose ``run`` slot calls :meth:`work` in its thread; subclasses add their signals.

    ``failed(str)``: ``work`` raised (the one-line :func:`error_line`); ``finished``: always, last.
    """

    failed = Signal(str)
    finished = Signal()

    def work(self) -> None:
        raise NotImplementedError

    @Slot()
    def run(self) -> None:
        try:
            self.work()
        except Exception as err:  # a worker must never die silently
            self.failed.emit(error_line(err))
        finally:
            self.finished.emit()


def thread_for(worker: WorkerBase, name: str) -> QThread:
    """A QThread named ``name`` that runs ``worker`` when started and ends when it has finished.

    ``finished`` is connected directly to ``quit()`` (thread-safe), so the thread ends even while the
    GUI thread is blocked waiting for it."""
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.finished.connect(thread.quit, Qt.DirectConnection)
    return thread


class ThreadOwner(Protocol):
    """What the registry needs of an owner of a worker thread."""

    def objectName(self) -> str: ...
    def running(self) -> bool: ...
    def shutdown(self, timeout_ms: int = ...) -> bool: ...


# Every owner of a worker thread, for as long as it exists: the one registry the tests check.
LIVE: "weakref.WeakSet[ThreadOwner]" = weakref.WeakSet()


def track(owner: ThreadOwner) -> None:
    LIVE.add(owner)


def still_running() -> list[ThreadOwner]:
    """The registered owners whose thread is still running."""
    return [owner for owner in list(LIVE) if owner.running()]
