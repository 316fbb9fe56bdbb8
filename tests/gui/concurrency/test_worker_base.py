"""The one worker shape: ``work`` runs in the worker's thread, a failure is one line, ``finished`` always comes;
and the one registry lists the owners whose thread still runs."""
import threading

import pytest
from PySide6.QtCore import QObject

from gui.concurrency import worker_base
from gui.concurrency.worker_base import WorkerBase, error_line, still_running, thread_for, track


class _Broken(WorkerBase):
    def work(self):
        self.thread_name = threading.current_thread().name
        raise KeyError("no such run\nsecond line")


class _Waiting(WorkerBase):
    def __init__(self):
        super().__init__()
        self.release = threading.Event()

    def work(self):
        self.release.wait()


class _Owner(QObject):
    def __init__(self, worker):
        super().__init__()
        self.setObjectName("test-owner")
        self.worker = worker
        self.thread = thread_for(worker, "test-owner")
        track(self)

    def running(self):
        return self.thread.isRunning()

    def shutdown(self, timeout_ms=2000):
        self.worker.release.set()
        return self.thread.wait(timeout_ms)


def test_a_failing_work_is_one_line_then_finished_and_the_thread_ends(qtbot):
    worker = _Broken()
    thread = thread_for(worker, "broken")
    heard = []
    worker.failed.connect(lambda text: heard.append(("failed", text)))
    worker.finished.connect(lambda: heard.append(("finished",)))
    with qtbot.waitSignal(thread.finished, timeout=5000):
        thread.start()
    assert heard == [("failed", "KeyError: 'no such run\\nsecond line'"), ("finished",)]
    assert worker.thread_name != threading.main_thread().name
    assert thread.wait(5000)


def test_the_error_line_is_the_type_and_the_first_line():
    assert error_line(ValueError("bad lr\nmore")) == "ValueError: bad lr"
    assert error_line(RuntimeError()) == "RuntimeError"
    assert error_line(pytest.UsageError("x")).endswith("UsageError: x")
    assert "." in error_line(pytest.UsageError("x"))       # outside the builtins: the module is named


def test_the_registry_lists_a_running_owner_until_it_is_shut_down(qtbot):
    owner = _Owner(_Waiting())
    assert owner not in still_running() and owner in worker_base.LIVE
    owner.thread.start()
    qtbot.waitUntil(owner.thread.isRunning, timeout=5000)
    assert owner in still_running()
    assert owner.shutdown(5000)
    assert owner not in still_running()
