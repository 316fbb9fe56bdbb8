"""The loop behind the training window, whatever carries its messages (no Qt here).

:class:`LabLoop` owns a :class:`~engine.training.session.Lab`.  It takes commands
(``("add", run_id, experiment)``, ``("start",)``, ``("speed", 20.0)``, ...),
steps every running run once per round, keeps to the speed limit, and at most
``update_hz`` times a second sends what is new.  At most one batch of updates
is in flight: the next is sent only after the window says ``("ack",)``, so a
slow redraw makes points pile up in the lab's buffers (and arrive together)
instead of queueing messages without end.

The same loop runs in a thread of the window's process (``gui.concurrency.training``'s
thread backend) or in a child process (:func:`serve`), where training and
drawing hold separate GILs on separate cores.

Messages sent: ``("ready",)``, ``("updates", [RunUpdate, ...])``,
``("data", run_id, generation, DataSplit)``, ``("inspection", name, run_id, result)``, ``("failed", text)``.

Inspections (the BatchNorm lesson's table, say) are handed in by whoever starts the loop, as a
mapping from a name to a function of a trained :class:`~engine.training.trainer.Trainer`: the loop
runs them on request and knows no lab or lesson (the layer contract in pyproject.toml keeps it so).
"""
from __future__ import annotations

import os
import time
import traceback
from typing import TYPE_CHECKING, Callable, Mapping

if TYPE_CHECKING:
    from engine.training.trainer import Trainer

UPDATE_HZ = 30
IDLE_WAIT = 0.05          # seconds to wait for a command when nothing trains

Message = tuple
Receive = Callable[[float], "Message | None"]   # wait up to the timeout for one command; None if none came
Send = Callable[[Message], None]
Inspection = Callable[["Trainer"], object]   # a trained run -> what the window shows of it

LAB_COMMANDS = ("add", "remove", "set_experiment", "reset", "start", "pause", "stop")


class LabLoop:
    def __init__(self, send: Send, update_hz: float = UPDATE_HZ,
                 inspections: Mapping[str, Inspection] | None = None):
        from engine.training.session import Lab
        self.lab = Lab()
        self._inspections = dict(inspections or {})
        self._send_message = send
        self._interval = 1.0 / update_hz
        self._speed: float | None = None       # rounds per second; None: as fast as possible
        self._window_free = True
        self._announced: set[tuple[str, int]] = set()

    def run(self, receive: Receive) -> None:
        """Until a ``("quit",)`` command (or the channel closes)."""
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

    def apply(self, message: Message) -> bool:
        command, args = message[0], message[1:]
        if command == "quit":
            return False
        if command == "ack":
            self._window_free = True
        elif command == "speed":
            self._speed = args[0]
        elif command == "step_once":
            self.lab.step_once()
            self.send_updates()
        elif command == "inspect":
            name, run_id = args
            if name not in self._inspections:
                raise ValueError(f"unknown inspection {name!r} (choose from {', '.join(sorted(self._inspections))})")
            trainer = self.lab.trainer(run_id)
            if trainer is not None:
                self._send_message(("inspection", name, run_id, self._inspections[name](trainer)))
        elif command in LAB_COMMANDS:
            getattr(self.lab, command)(*args)
            self.send_updates()
        else:
            raise ValueError(f"unknown command {command!r}")
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
                self._send_message(("data", update.run_id, update.generation, data))
        if updates:
            self._window_free = False
            self._send_message(("updates", updates))
        return True


def prepare() -> None:
    """Load torch and take one throw-away optimizer step, so the first real run starts at once."""
    import torch
    torch.set_num_threads(1)   # the lab's small networks run fastest on one thread
    from engine.training.trainer import warm_up
    warm_up()


def serve(commands, out, inspections: Mapping[str, Inspection] | None = None) -> None:
    """Entry point of the training child process: ``commands``/``out`` are the two ends of pipes.

    The process ends on ``("quit",)`` or when the window's end of the pipe closes
    (the window crashed or was killed): it never outlives the app.
    """
    try:
        prepare()
        loop = LabLoop(out.send, inspections=inspections)
        out.send(("ready",))

        def receive(timeout: float):
            try:
                if timeout <= 0 and not commands.poll():
                    return None
                if timeout > 0 and not commands.poll(timeout):
                    return None
                return commands.recv()
            except (EOFError, OSError):
                return ("quit",)

        loop.run(receive)
    except (BrokenPipeError, EOFError):
        pass  # the window went away
    except Exception:
        try:
            out.send(("failed", traceback.format_exc(limit=3).strip().splitlines()[-1]))
        except (BrokenPipeError, OSError):
            pass
    finally:
        out.close()
        # Skip the interpreter's slow teardown of torch (about a second): this process writes no
        # files and holds nothing to flush, and the window is waiting to close.
        os._exit(0)
