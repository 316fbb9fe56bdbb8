"""The loop behind the training window, whatever carries its messages (no Qt here).

:class:`LabLoop` owns a :class:`~engine.training.session.Lab`.  It takes commands
(the frozen dataclasses of :mod:`engine.training.protocol`: ``AddRun(run_id, experiment)``,
``Start()``, ``Speed(20.0)``, ...), steps every running run once per round, keeps to the speed
limit, and at most ``update_hz`` times a second sends what is new.  At most one batch of updates
is in flight: the next is sent only after the window says ``Ack()``, so a slow redraw makes points
pile up in the lab's buffers (and arrive together) instead of queueing messages without end.

The same loop runs in a thread of the window's process (``gui.concurrency.training``'s
thread backend) or in a child process (:func:`serve`), where training and
drawing hold separate GILs on separate cores.

Messages sent: ``Ready()``, ``Updates((RunUpdate, ...))``, ``DataReady(run_id, generation, DataSplit)``,
``Inspection(name, run_id, result)``, ``Failed(text)``.

Inspections (the BatchNorm lesson's table, say) are handed in by whoever starts the loop, as a
mapping from a name to a function of a trained :class:`~engine.training.trainer.Trainer`: the loop
runs them on request and knows no lab or lesson (the layer contract in pyproject.toml keeps it so).
"""
from __future__ import annotations

import os
import time
import traceback
from typing import TYPE_CHECKING, Callable, Mapping

from engine.training.protocol import (
    Ack,
    AddRun,
    Command,
    DataReady,
    Failed,
    Inspect,
    Inspection,
    Message,
    Pause,
    Quit,
    Ready,
    RemoveRun,
    Reset,
    SetExperiment,
    Speed,
    Start,
    StepOnce,
    Stop,
    Updates,
)

if TYPE_CHECKING:
    from engine.training.trainer import Trainer

UPDATE_HZ = 30
IDLE_WAIT = 0.05          # seconds to wait for a command when nothing trains

Receive = Callable[[float], "Command | None"]   # wait up to the timeout for one command; None if none came
Send = Callable[[Message], None]
Inspector = Callable[["Trainer"], object]   # a trained run -> what the window shows of it


class LabLoop:
    def __init__(self, send: Send, update_hz: float = UPDATE_HZ,
                 inspections: Mapping[str, Inspector] | None = None):
        from engine.training.session import Lab
        self.lab = Lab()
        self._inspections = dict(inspections or {})
        self._send_message = send
        self._interval = 1.0 / update_hz
        self._speed: float | None = None       # rounds per second; None: as fast as possible
        self._window_free = True
        self._announced: set[tuple[str, int]] = set()

    def run(self, receive: Receive) -> None:
        """Until a :class:`~engine.training.protocol.Quit` command (or the channel closes)."""
        clock = time.perf_counter
        next_update = next_round = clock()
        lab = self.lab
        while True:
            if not self._commands(receive, 0.0 if lab.running else IDLE_WAIT):
                return
            now = clock()
            if lab.running:
                if self._speed is None or now >= next_round:
                    lab.step_round()
                    next_round = max(next_round + 1.0 / self._speed, now) if self._speed else now
                else:
                    time.sleep(min(next_round - now, max(0.0, next_update - now), IDLE_WAIT))
            now = clock()
            if now >= next_update and self.send_updates():
                # On a fixed cadence: a batch sent a little late (the window was still drawing) does
                # not push the next one later; after a longer gap the cadence restarts from now.
                next_update += self._interval
                if next_update < now:
                    next_update = now + self._interval

    def _commands(self, receive: Receive, wait: float) -> bool:
        """Apply every waiting command; False when told to quit."""
        message = receive(wait)
        while message is not None:
            if not self.apply(message):
                return False
            message = receive(0.0)
        return True

    def apply(self, command: Command) -> bool:
        """Carry out one command; False for :class:`~engine.training.protocol.Quit`.  A change to the
        run list or to what runs is reported at once (:meth:`send_updates`), so the window sees it."""
        lab = self.lab
        match command:
            case Quit():
                return False
            case Ack():
                self._window_free = True
                return True
            case Speed(rounds_per_second):
                self._speed = rounds_per_second
                return True
            case StepOnce():
                lab.step_once()
            case Inspect(name, run_id):
                if name not in self._inspections:
                    raise ValueError(f"unknown inspection {name!r} (choose from {', '.join(sorted(self._inspections))})")
                trainer = lab.single_trainer(run_id)     # a multi-seed run is not inspected: no network is it
                if trainer is not None:
                    self._send_message(Inspection(name, run_id, self._inspections[name](trainer)))
                return True
            case AddRun(run_id, experiment):
                lab.add(run_id, experiment)
            case RemoveRun(run_id):
                lab.remove(run_id)
            case SetExperiment(run_id, experiment):
                lab.set_experiment(run_id, experiment)
            case Reset(run_id):
                lab.reset(run_id)
            case Start():
                lab.start()
            case Pause():
                lab.pause()
            case Stop():
                lab.stop()
            case _:
                raise ValueError(f"unknown command {command!r}")
        self.send_updates()
        return True

    def send_updates(self) -> bool:
        """Send what is new, unless the window has not taken the last batch yet; True when sent."""
        if not self._window_free:
            return False  # the window is still busy with the last batch: the points wait in the lab
        lab = self.lab
        updates = lab.take_updates()
        for update in updates:
            key = (update.run_id, update.generation)
            data = lab.data(update.run_id)
            if key not in self._announced and data is not None:
                self._announced.add(key)
                self._send_message(DataReady(update.run_id, update.generation, data))
        if updates:
            self._window_free = False
            self._send_message(Updates(tuple(updates)))
        return True


def prepare() -> None:
    """Load torch and take one throw-away optimizer step, so the first real run starts at once."""
    import torch
    torch.set_num_threads(1)   # the lab's small networks run fastest on one thread
    from engine.training.trainer import warm_up
    warm_up()


def serve(commands, out, inspections: Mapping[str, Inspector] | None = None) -> None:
    """Entry point of the training child process: ``commands``/``out`` are the two ends of pipes.

    The commands and messages are the dataclasses of :mod:`engine.training.protocol`, pickled by the pipe.
    The process ends on ``Quit()`` or when the window's end of the pipe closes
    (the window crashed or was killed): it never outlives the app.
    """
    try:
        prepare()
        loop = LabLoop(out.send, inspections=inspections)
        out.send(Ready())

        def receive(timeout: float):
            try:
                if timeout <= 0 and not commands.poll():
                    return None
                if timeout > 0 and not commands.poll(timeout):
                    return None
                return commands.recv()
            except (EOFError, OSError):
                return Quit()

        loop.run(receive)
    except (BrokenPipeError, EOFError):
        pass  # the window went away
    except Exception:
        try:
            out.send(Failed(traceback.format_exc(limit=3).strip().splitlines()[-1]))
        except (BrokenPipeError, OSError):
            pass
    finally:
        out.close()
        # Skip the interpreter's slow teardown of torch (about a second): this process writes no
        # files and holds nothing to flush, and the window is waiting to close.
        os._exit(0)
