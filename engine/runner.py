"""The headless runner: train one experiment to the end and write its results.

``DIR/metrics.csv`` has one row per optimizer step (row 0 is the untrained
network); evaluation columns are filled on evaluation steps and empty between
them.  ``DIR/summary.json`` holds the outcome and the fully resolved experiment,
so a run can be repeated from its own summary.  Both are written atomically.
"""
from __future__ import annotations

import csv
import io
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TextIO

from .config import Experiment
from .events import EvalEvent, Event, FinalEvent, StepEvent
from .experiment import experiment_to_dict, notes
from .files import write_text_atomic
from .trainer import Trainer

METRIC_COLUMNS = ("step", "epoch", "lr", "train_loss", "grad_norm", "clipped",
                  "val_loss", "val_acc", "eval_train_loss", "eval_train_acc")


@dataclass
class MetricsTable:
    """Collects step and evaluation events into rows keyed by step."""
    rows: dict[int, dict] = field(default_factory=dict)

    def add(self, event: Event) -> None:
        if isinstance(event, StepEvent):
            self.rows.setdefault(event.step, {}).update(
                step=event.step, epoch=event.epoch, lr=event.lr, train_loss=event.loss,
                grad_norm=event.grad_norm, clipped=int(event.clipped))
        elif isinstance(event, EvalEvent):
            self.rows.setdefault(event.step, {}).update(
                step=event.step, epoch=event.epoch, val_loss=event.val_loss, val_acc=event.val_acc,
                eval_train_loss=event.train_loss, eval_train_acc=event.train_acc)

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=METRIC_COLUMNS, restval="", lineterminator="\n")
        writer.writeheader()
        for step in sorted(self.rows):
            writer.writerow({k: _cell(v) for k, v in self.rows[step].items()})
        return buf.getvalue()


def _cell(value):
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return value


def summarize(trainer: Trainer, final: FinalEvent) -> dict:
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


def _json_safe(value):
    """Strict JSON has no NaN or infinity: a diverged run's losses become null (its status says why)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


class Progress:
    """A one-line progress bar on a terminal, redrawn at most ten times a second."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, label: str = ""):
        self.total, self.stream, self.label = total, stream, label
        self.enabled = stream.isatty()
        self._last = 0.0
        self._loss = math.nan

    def update(self, event: Event, trainer: Trainer) -> None:
        if isinstance(event, StepEvent):
            self._loss = event.loss
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
                   on_event: Callable[[Event], None] | None = None, label: str = "") -> dict:
    """Train ``experiment`` to the end (Ctrl-C stops it cleanly) and write metrics.csv and summary.json."""
    trainer = Trainer(experiment)
    table = MetricsTable()
    progress = Progress(trainer.total_steps, label=label)

    def record(event: Event) -> None:
        table.add(event)
        progress.update(event, trainer)
        if on_event:
            on_event(event)

    try:
        final = trainer.run(record)
    except KeyboardInterrupt:
        final = trainer.stop()
        progress.update(final, trainer)
    out = Path(out_dir)
    write_text_atomic(out / "metrics.csv", table.to_csv())
    summary = summarize(trainer, final)
    write_text_atomic(out / "summary.json", json.dumps(_json_safe(summary), indent=2) + "\n")
    return summary
