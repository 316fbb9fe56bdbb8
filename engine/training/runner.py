"""The headless runner: train one experiment to the end and write its results.

``DIR/metrics.csv`` has one row per optimizer step (row 0 is the untrained
network); evaluation columns are filled on evaluation steps and empty between
them.  ``DIR/summary.json`` holds the outcome and the fully resolved experiment,
so a run can be repeated from its own summary.

Files: the rows stream to a temporary ``DIR/.metrics.csv.*.tmp`` as the run goes
(:class:`~engine.training.updates.MetricsStream`, in chunks), so memory does not
grow with the steps; at the end both files are renamed into place by
:func:`engine.files.commit_files`, ``summary.json`` last as the commit mark: the
two never describe two different runs, whenever the process dies.  A write that
fails (a full disk) ends the run as ``error`` with the one line ``cannot write
DIR/metrics.csv: No space left on device``, and the files of an older run in DIR
stay as they were.

A single run also writes ``DIR/layers.csv``, one row per weight tensor on each histogram tick
(:data:`~engine.training.updates.LAYER_COLUMNS`: its weights and gradient, each weight's effective rate,
``||dtheta|| / ||theta||`` of the step, the fraction of zero gradients), committed with the other two.

A run of ``train.seeds`` K > 1 (:func:`~engine.training.members.trainer_for`) writes ``metrics.csv``
aggregated (step, epoch, lr, then ``<col>_mean``, ``<col>_min``, ``<col>_max`` of every other column),
``members.csv`` in long form (``member,seed,`` then each member's single-run row, per step and member;
:class:`~engine.training.updates.MembersStream`), ``layers.csv`` in long form too (``member,seed,`` then
each member's layer rows, :data:`~engine.training.updates.MEMBER_LAYER_COLUMNS`) and ``summary.json``
with the members' mean, min and max of the final numbers and each member's status
(:func:`summarize_members`); the four are committed together, ``summary.json`` last.

Stopping: while a run trains, SIGINT (Ctrl-C) and SIGTERM do not raise; they
ask the trainer to stop at the next step boundary (:class:`StopSignals`), so the
run ends as ``stopped`` with both files complete.  The caller turns
:attr:`StopSignals.exit_code` into the process's exit status (130 or 143).
"""
from __future__ import annotations

import json
import math
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Callable, TextIO

from engine.config import Experiment
from engine.experiment import experiment_to_dict, notes
from engine.files import AtomicFile, WriteError, commit_files, json_safe
from engine.status import RunStatus
from engine.training.events import Event, FinalEvent, MembersEvent, StepEvent
from engine.training.members import Members, trainer_for
from engine.training.metrics_files import METRIC_COLUMNS, LayersStream, MembersStream, MetricsStream, aggregate
from engine.training.trainer import Trainer
from engine.training.updates import member_mean

__all__ = ["METRIC_COLUMNS", "StopSignals", "run_experiment", "summarize"]

_Handler = Callable[[int, FrameType | None], object] | int | None


class StopSignals:
    """While entered, SIGINT and SIGTERM set a flag instead of interrupting; call the object to read it.

    Used as a trainer's ``should_stop``: the run stops at the next step boundary.  The previous
    handlers are restored on exit.  Off the main thread (where Python cannot install signal
    handlers) it installs nothing and only ever answers False.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[signal.Signals, _Handler] = {}

    def _request(self, signum: int, frame: FrameType | None) -> None:
        self.signum = signum

    def __call__(self) -> bool:
        return self.signum is not None

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number (SIGINT 130, SIGTERM 143)."""
        return 128 + (self.signum if self.signum is not None else signal.SIGINT)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._request)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        self._previous.clear()


FINAL_NUMBERS = ("train_loss", "train_acc", "val_loss", "val_acc")   # summary.json's final_<name>


def summarize(trainer: Trainer | Members, final: FinalEvent,
              members: MembersStream | None = None) -> dict[str, Any]:
    """The run's ``summary.json``; with ``members`` (a multi-seed run) :func:`summarize_members`'s."""
    if members is not None:
        return summarize_members(trainer, final, members)
    return _summary(trainer, final)


def _summary(trainer: Trainer | Members, final: FinalEvent) -> dict[str, Any]:
    last = trainer.last_eval
    return {
        "status": final.status,
        "message": final.message,
        "steps": final.step,
        "epochs": final.epoch,
        "final_lr": final.lr,
        "final_train_loss": last.train_loss if last else None,
        "final_train_acc": last.train_acc if last else None,
        "final_val_loss": last.val_loss if last else None,
        "final_val_acc": last.val_acc if last else None,
        "steps_per_sec": final.steps_per_sec,
        "elapsed_sec": final.elapsed,
        "notes": notes(trainer.experiment),
        "experiment": experiment_to_dict(trainer.experiment),
    }


def summarize_members(trainer: Trainer | Members, final: FinalEvent, stream: MembersStream) -> dict[str, Any]:
    """A multi-seed run's summary: a single run's keys, ``final_<name>`` the members' mean, with
    ``final_<name>_min`` and ``_max`` beside it, and ``members``: each member's seed, status, steps and
    final numbers (its last evaluation).

    The final numbers aggregate the members that ended as the run did (``final_members`` of them): the
    finished ones of a finished run, so a member that diverged early, with its last evaluation from
    before, does not pull the mean; it is counted in the message and has its own entry."""
    statuses = stream_statuses(trainer, stream)
    counted = [k for k, s in enumerate(statuses) if s == final.status] or list(range(len(statuses)))
    summary = _summary(trainer, final)
    for name in FINAL_NUMBERS:
        values = [getattr(stream.last_evals[k], name) for k in counted if k in stream.last_evals]
        mean, low, high = aggregate(values) if values else (None, None, None)
        summary.update({f"final_{name}": mean, f"final_{name}_min": low, f"final_{name}_max": high})
    summary["final_members"] = len(counted)
    summary["members"] = [
        {"member": k, "seed": stream.seeds[k], "status": status,
         "steps": stream.finals[k].step if k in stream.finals else final.step,
         "message": stream.finals[k].message if k in stream.finals else final.message,
         **{f"final_{name}": getattr(stream.last_evals[k], name) if k in stream.last_evals else None
            for name in FINAL_NUMBERS}}
        for k, status in enumerate(statuses)]
    return summary


def stream_statuses(trainer: Trainer | Members, stream: MembersStream) -> tuple[str, ...]:
    """Each member's status: the trainer's word for it (members stopped with the run say ``stopped``)."""
    statuses = getattr(trainer, "member_status", None)
    if statuses is not None:
        return tuple(str(s) for s in statuses)
    return tuple(str(stream.finals[k].status) if k in stream.finals else RunStatus.RUNNING
                 for k in range(len(stream.seeds)))


class Progress:
    """A one-line progress bar on a terminal, redrawn at most ten times a second."""

    def __init__(self, total: int, stream: TextIO | None = None, label: str = ""):
        # sys.stderr as it is now, not as it was when this module was imported (a test may have swapped it)
        self.stream = stream if stream is not None else sys.stderr
        self.total, self.label = total, label
        self.enabled = self.stream.isatty()
        self._last = 0.0
        self._loss = math.nan

    def update(self, event: Event, trainer: Trainer | Members) -> None:
        if isinstance(event, StepEvent):
            self._loss = event.loss
        elif isinstance(event, MembersEvent) and isinstance(event.events[0], StepEvent):
            self._loss = float(member_mean([[e.loss for e in event.events if isinstance(e, StepEvent)]])[0])
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and not isinstance(event, FinalEvent)):
            return
        self._last = now
        done = trainer.step_count
        filled = int(30 * done / max(1, self.total))
        rate = done / trainer.elapsed if trainer.elapsed else 0.0
        self.stream.write(f"\r{self.label}[{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total} steps "
                          f"{rate:,.0f} steps/s  loss {self._loss:.4g}   ")
        if isinstance(event, FinalEvent):
            self.stream.write("\n")
        self.stream.flush()


def run_experiment(experiment: Experiment, out_dir: str | Path,
                   on_event: Callable[[Event], None] | None = None, label: str = "",
                   should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:
    """Train ``experiment`` to the end and write metrics.csv and summary.json; returns the summary.

    The run stops early, at a step boundary and with both files complete, once ``should_stop()``
    is true; without one, SIGINT and SIGTERM stop it (a :class:`StopSignals` for this run alone).
    If the files cannot be written, the run stops there (no use training what cannot be kept) and
    the summary returned says ``error`` with the :class:`~engine.files.WriteError`'s line; nothing of
    it is written and an older run's files in ``out_dir`` stay.
    """
    if should_stop is None:
        with StopSignals() as stop:
            return run_experiment(experiment, out_dir, on_event, label, stop)
    trainer = trainer_for(experiment)   # the data loads first: a run refused here leaves no folder behind
    out = Path(out_dir)
    progress = Progress(trainer.total_steps, label=label)
    failed: list[WriteError] = []
    files: list[AtomicFile] = []
    members: MembersStream | None = None
    try:
        files.append(AtomicFile(out / "metrics.csv"))
        metrics: MetricsStream | MembersStream
        if isinstance(trainer, Trainer):
            metrics = MetricsStream(files[0])
            files.append(AtomicFile(out / "layers.csv"))
            layers = LayersStream(files[1])
        else:   # a multi-seed run: members.csv and its members' layers.csv are committed with the others
            files.append(AtomicFile(out / "members.csv"))
            files.append(AtomicFile(out / "layers.csv"))
            metrics = members = MembersStream(files[0], files[1], trainer.seeds)
            layers = LayersStream(files[2], trainer.seeds)

        def record(event: Event) -> None:
            if not failed:
                try:
                    metrics.add(event)
                    layers.add(event)
                except WriteError as err:
                    failed.append(err)
            progress.update(event, trainer)
            if on_event:
                on_event(event)

        final = trainer.run(record, lambda: bool(failed) or should_stop())
        if failed:
            raise failed[0]
        metrics.flush()
        summary = summarize(trainer, final, members)
        with AtomicFile(out / "summary.json") as summary_file:
            summary_file.write(json.dumps(json_safe(summary), indent=2) + "\n")
            commit_files([*files, summary_file])
        return summary
    except WriteError as err:
        return _write_failed(trainer, err, members)
    finally:
        for file in files:
            file.discard()      # renamed already, or nothing of it stays


def _write_failed(trainer: Trainer | Members, err: WriteError, members: MembersStream | None) -> dict[str, Any]:
    """The summary of a run whose files could not be written: ``error``, and the one line why (the run
    stops there if it had not ended: e.g. its folder went read-only after the command checked it)."""
    if not trainer.done:
        trainer.stop()
    assert trainer.final is not None
    return {**summarize(trainer, trainer.final, members), "status": RunStatus.ERROR, "message": str(err)}
