"""The training thread: a worker QObject that owns the engine's :class:`~engine.lab.Lab`.

The worker is moved to a QThread and runs one loop there: take the window's
commands from a thread-safe queue, step every running run once, and at most
``UPDATE_HZ`` times a second send the window everything new as arrays
(:class:`~engine.updates.RunUpdate`), so the cost of drawing never grows with
steps per second.  torch is imported here, off the GUI thread, so the window
appears before torch has loaded.

PySide6 rules that bite (../shared/STYLE.md): the window connects the
worker's signals only to ``@Slot`` methods of QObjects living in the GUI
thread; the worker catches every exception and always says it finished; it
is stopped with a command the loop checks, then ``quit()`` and ``wait()``,
never ``terminate()``.
"""
from __future__ import annotations

import queue
import threading
import time
import traceback
import weakref

from PySide6.QtCore import QObject, QThread, Signal, Slot

UPDATE_HZ = 30
IDLE_WAIT = 0.05            # seconds the loop sleeps on the queue when nothing trains

# Every training thread made, so tests can check none is left running.
LIVE_THREADS: "weakref.WeakSet[TrainingThread]" = weakref.WeakSet()


class TrainingWorker(QObject):
    ready = Signal()                 # torch loaded and warmed up: training can start at once
    updates = Signal(object)         # list[RunUpdate]
    data_ready = Signal(str, int, object)  # run id, generation, DataSplit: once per built run
    failed = Signal(str)             # the worker itself broke (never a single run: those end in error)
    finished = Signal()

    def __init__(self, update_hz: float = UPDATE_HZ):
        super().__init__()
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._interval = 1.0 / update_hz
        self._speed: float | None = None      # rounds per second; None: as fast as possible
        self._lab = None
        self._announced: set[tuple[str, int]] = set()
        # At most one batch in flight: a new one is sent only when the window has drawn the last,
        # so a slow redraw coalesces points in the lab's buffers instead of queueing events forever.
        self._window_free = threading.Event()
        self._window_free.set()

    def post(self, command: str, *args) -> None:
        """Queue a command for the loop (thread-safe: called from the GUI thread)."""
        self._commands.put((command, args))

    def acknowledge(self) -> None:
        """The window has drawn the last batch (thread-safe: called from the GUI thread)."""
        self._window_free.set()

    @Slot()
    def run(self) -> None:
        try:
            import torch
            torch.set_num_threads(1)   # the lab's small networks run fastest on one thread
            from engine.lab import Lab
            from engine.trainer import warm_up
            warm_up()
            self._lab = Lab()
            self.ready.emit()
            self._loop()
        except Exception:  # the worker must never die silently
            self.failed.emit(traceback.format_exc(limit=3).strip().splitlines()[-1])
        finally:
            self.finished.emit()

    # -- the loop ----------------------------------------------------------------------------------

    def _loop(self) -> None:
        lab = self._lab
        clock = time.perf_counter
        next_update = clock()
        next_round = clock()
        while True:
            if not self._drain_commands(wait=IDLE_WAIT if not lab.running else 0.0):
                break
            now = clock()
            if lab.running:
                if self._speed is None or now >= next_round:
                    lab.step_round()
                    next_round = max(next_round + 1.0 / self._speed, now) if self._speed else now
                else:
                    time.sleep(min(next_round - now, max(0.0, next_update - now), IDLE_WAIT))
            if clock() >= next_update:
                self._send()
                next_update = clock() + self._interval

    def _drain_commands(self, wait: float) -> bool:
        """Apply every queued command; False when told to quit."""
        try:
            command, args = self._commands.get(timeout=wait) if wait else self._commands.get_nowait()
        except queue.Empty:
            return True
        while True:
            if command == "quit":
                return False
            self._apply(command, args)
            try:
                command, args = self._commands.get_nowait()
            except queue.Empty:
                return True

    def _apply(self, command: str, args: tuple) -> None:
        lab = self._lab
        if command == "speed":
            self._speed = args[0]
        elif command == "step_once":
            lab.step_once()
            self._send()
        else:
            # add, remove, set_experiment, reset, start, pause, stop: the lab's own methods
            getattr(lab, command)(*args)
            self._send()

    def _send(self) -> None:
        if not self._window_free.is_set():
            return  # the window is still drawing: the points wait in the lab, nothing is lost
        lab = self._lab
        updates = lab.take_updates()
        for update in updates:
            key = (update.run_id, update.generation)
            if key not in self._announced and lab.data(update.run_id) is not None:
                self._announced.add(key)
                self.data_ready.emit(update.run_id, update.generation, lab.data(update.run_id))
        if updates:
            self._window_free.clear()
            self.updates.emit(updates)


class TrainingThread(QObject):
    """Starts the worker in its own QThread and stops it cleanly, in well under a second."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("training")
        self.worker = TrainingWorker()
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.finished.connect(self.thread.quit)
        LIVE_THREADS.add(self)

    def start(self) -> None:
        self.thread.start()

    def post(self, command: str, *args) -> None:
        self.worker.post(command, *args)

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Ask the loop to quit and join the thread; True when it has ended."""
        if not self.thread.isRunning():
            return True
        self.worker.post("quit")
        self.thread.quit()
        return self.thread.wait(timeout_ms)
