"""Where training runs while the window draws: a QThread, or a child process behind one.

Either way the window talks to a worker QObject living in a QThread, with
the same signals (``ready``, ``updates``, ``data_ready``, ``inspected``,
``failed``, ``finished``) and the same two calls (``post(command)``,
``acknowledge()``); the loop itself is the engine's Qt-free
:class:`~engine.training.loop.LabLoop`.  Both workers are a
:class:`~gui.concurrency.worker_base.WorkerBase`, and what crosses between
them and the loop is the frozen dataclasses of :mod:`engine.training.protocol`:
:meth:`TrainingThread.post` is the one place a command's name (``"start"``,
``"add"``) becomes one.

* ``thread``: the loop runs in the QThread.  Simple, but drawing and training
  then share one GIL: measured here, the window's painting slowed training a
  lot (see the README's benchmark table).
* ``process`` (the default): the loop runs in a child process started at once
  and warmed while the window opens; the QThread only relays its messages
  through a pipe.  Training and drawing use separate cores.

PySide6 rules that bite (CONTRIBUTING.md, Threads): the window connects these
signals only to ``@Slot`` methods of its own QObjects; every exception in a
worker is caught and reported; stopping is a command the loop checks, then
``quit()`` and ``wait()`` of the thread, never ``terminate()`` of a thread.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import signal

from PySide6.QtCore import QObject, QThread, Signal

from engine.training.protocol import Ack, Command, DataReady, Failed, Inspection, Message, Quit, Ready, Updates, command
from gui.concurrency.worker_base import WorkerBase, thread_for, track

BACKENDS = ("process", "thread")
DEFAULT_BACKEND = os.environ.get("DESCENT_LAB_BACKEND", "process")


class _Worker(WorkerBase):
    ready = Signal()                        # training can start at once
    updates = Signal(object)                # list[RunUpdate]
    data_ready = Signal(str, int, object)   # run id, generation, DataSplit: once per built run
    inspected = Signal(str, str, object)    # inspection name, run id, its result (engine.labs.INSPECTIONS)
    died = Signal(str)                      # the training process ended unasked (killed, crashed): why, one line
    # failed(str): the worker itself broke (a single run's failure is its own status); finished: WorkerBase

    def post(self, message: Command) -> None:
        raise NotImplementedError

    def _dispatch(self, message: Message) -> None:
        """One message of the loop, as the signal the window hears."""
        match message:
            case Updates(updates):
                self.updates.emit(list(updates))
            case DataReady(run_id, generation, data):
                self.data_ready.emit(run_id, generation, data)
            case Ready():
                self.ready.emit()
            case Inspection(name, run_id, result):
                self.inspected.emit(name, run_id, result)
            case Failed(text):
                self.failed.emit(text)
            case _:
                raise ValueError(f"unknown message from the training loop: {message!r}")

    def acknowledge(self) -> None:
        """The window has drawn the last batch: the loop may send the next (thread-safe)."""
        self.post(Ack())


class ThreadWorker(_Worker):
    """Runs the LabLoop in its QThread; commands arrive through a thread-safe queue."""

    def __init__(self):
        super().__init__()
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()

    def post(self, message: Command) -> None:
        self._commands.put(message)

    def _receive(self, timeout: float) -> Command | None:
        try:
            return self._commands.get(timeout=timeout) if timeout > 0 else self._commands.get_nowait()
        except queue.Empty:
            return None

    def work(self) -> None:
        from engine.labs import INSPECTIONS
        from engine.training.loop import LabLoop, prepare
        prepare()
        loop = LabLoop(self._dispatch, inspections=INSPECTIONS)
        self.ready.emit()
        loop.run(self._receive)


def _spawn() -> tuple:
    """A training process started: (process, its commands' pipe end, its messages' pipe end)."""
    from engine.labs import INSPECTIONS
    from engine.training.loop import serve
    ctx = multiprocessing.get_context("spawn")
    child_commands, commands = ctx.Pipe(duplex=False)
    messages, child_out = ctx.Pipe(duplex=False)
    process = ctx.Process(target=serve, args=(child_commands, child_out, INSPECTIONS), name="descent-lab-training",
                          daemon=True)
    process.start()
    child_commands.close()
    child_out.close()
    return process, commands, messages


_early: tuple | None = None


def spawn_early() -> None:
    """Start the window's training process now, before Qt and the window are loaded: the first
    :class:`ProcessWorker` takes it.  Why: the child spends ~2.5 s of one core loading torch and warming
    its optimizer step (``engine.training.loop.prepare``; torch's compiler stack alone is ~1 s, imported
    on the first ``optimizer.step()``), and started when the window was built it began ~0.6 s late
    (measured with benchmarks/gui_bench.py: process start to first step).  Nothing is lost if no window
    takes it: it is a daemon and ends when this process does, or when its pipe closes."""
    global _early
    if _early is None:
        _early = _spawn()


class ProcessWorker(_Worker):
    """Starts the training process (or takes the one :func:`spawn_early` started), then relays its
    messages from its QThread.

    The child is started on the GUI thread, so it loads torch while the
    window opens; the relay thread meanwhile loads the engine for the form
    (torch too: its registries name torch's optimizers), never the GUI thread.
    """

    def __init__(self):
        super().__init__()
        global _early
        early, _early = _early, None
        self.process, self._commands, self._messages = early or _spawn()
        self._quitting = False     # set before we ask the child to quit: an end of file is then no death

    def post(self, message: Command) -> None:
        try:
            self._commands.send(message)
        except (BrokenPipeError, OSError):
            pass  # the child has ended; the relay reports why

    def work(self) -> None:
        import engine.experiment  # noqa: F401  (the form's registries, loaded off the GUI thread)
        from engine.training.loop import prepare
        prepare()
        while True:
            try:
                message = self._messages.recv()
            except (EOFError, OSError):
                break  # the child ended (quit, or crashed: then it said why first, if it could)
            self._dispatch(message)
        if not self._quitting:
            self.process.join(5.0)
            self.died.emit(death_line(self.process.exitcode))

    def stop_process(self, timeout: float) -> None:
        self._quitting = True
        self.post(Quit())
        self.process.join(timeout)
        if self.process.is_alive():  # a process (unlike a thread) can be ended safely from outside
            self.process.terminate()
            self.process.join(1.0)
        self._commands.close()


def death_line(exitcode: int | None) -> str:
    """The one line that says how the training process ended: ``killed by SIGKILL``, ``exit code 3``."""
    if exitcode is None:
        return "the training process stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the training process was killed ({name})"
    return f"the training process ended on its own (exit code {exitcode})"


class TrainingThread(QObject):
    """The worker in its own QThread, started and stopped cleanly (in well under a second)."""

    def __init__(self, parent: QObject | None = None, backend: str = DEFAULT_BACKEND):
        super().__init__(parent)
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.backend = backend
        self.setObjectName(f"training-{backend}")
        self.worker, self.thread = self._new_worker()
        track(self)

    def _new_worker(self) -> tuple[_Worker, QThread]:
        worker = ProcessWorker() if self.backend == "process" else ThreadWorker()
        return worker, thread_for(worker, self.objectName())

    def start(self) -> None:
        self.thread.start()

    def restart(self) -> _Worker:
        """A fresh worker (and training process) in place of one that died; returns it, not started.

        The caller connects its signals again (the old worker's connections went with it), then calls
        :meth:`start`, so no signal of the new worker comes before it is heard."""
        self.shutdown(2000)
        old_worker, old_thread = self.worker, self.thread
        self.worker, self.thread = self._new_worker()
        old_worker.deleteLater()
        old_thread.deleteLater()
        return self.worker

    def post(self, name: str | Command, *args) -> None:
        """Send the command ``name`` (a key of ``engine.training.protocol.COMMANDS``: ``post("add",
        run_id, experiment)``, ``post("start")``) to the loop; a command dataclass is sent as it is.

        An unknown name raises ``ValueError`` naming the choices, here on the caller's thread."""
        self.worker.post(command(name, *args) if isinstance(name, str) else name)

    def running(self) -> bool:
        """Whether its thread, or its training process, is still running (the registry asks)."""
        if isinstance(self.worker, ProcessWorker) and self.worker.process.is_alive():
            return True
        return self.thread.isRunning()

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Ask the loop to quit and join the thread (and the process); True when all has ended."""
        if isinstance(self.worker, ProcessWorker):
            if self.worker.process.exitcode is None:
                self.worker.stop_process(timeout_ms / 1000)
        else:
            self.worker.post(Quit())
        if not self.thread.isRunning():
            return True
        self.thread.quit()
        return self.thread.wait(timeout_ms)
