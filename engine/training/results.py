"""A run's results in one row: where it ended, and the best it reached on the validation set.

The final losses and accuracies are the last full-set evaluation's (the training
set evaluated whole, not the last noisy batch), so a run's train and validation
numbers are measured the same way at the same step and their difference is the
generalization gap the lesson talks about.  "Best" is the highest validation
accuracy of any evaluation, with the first step that reached it: the step early
stopping would have kept.  A run that has not been evaluated yet has no numbers
(``None``), never zeros.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.files import csv_text, float_cell, text_cell
from engine.training.updates import EvalSeries


@dataclass(frozen=True)
class RunResult:
    name: str
    status: str
    steps: int
    train_loss: float | None = None
    train_acc: float | None = None
    val_loss: float | None = None
    val_acc: float | None = None
    best_val_acc: float | None = None
    best_step: int | None = None


# (field, column heading): the table's columns and the CSV's, in this order.
RESULT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "run"), ("status", "status"), ("steps", "steps"),
    ("train_loss", "train loss"), ("train_acc", "train acc"), ("val_loss", "val loss"), ("val_acc", "val acc"),
    ("best_val_acc", "best val acc"), ("best_step", "best at step"),
)


def run_result(name: str, status: str, steps: int, evals: Sequence[EvalSeries]) -> RunResult:
    """The row of a run named ``name`` from its evaluations (``MetricsLog.evals``: chunks in step order)."""
    chunks = [e for e in evals if len(e)]
    if not chunks:
        return RunResult(name, str(status), int(steps))
    step = np.concatenate([e.step for e in chunks])
    val_acc = np.concatenate([e.val_acc for e in chunks])
    last = chunks[-1]
    finite = np.isfinite(val_acc)
    best = int(np.argmax(np.where(finite, val_acc, -np.inf))) if finite.any() else None
    return RunResult(name, str(status), int(steps),
                     train_loss=float(last.train_loss[-1]), train_acc=float(last.train_acc[-1]),
                     val_loss=float(last.val_loss[-1]), val_acc=float(last.val_acc[-1]),
                     best_val_acc=None if best is None else float(val_acc[best]),
                     best_step=None if best is None else int(step[best]))


def results_csv(results: Iterable[RunResult]) -> str:
    """The rows as CSV in the app's dialect: names guarded against formulas, floats exact, no value empty."""
    def cell(field: str, value):
        if field in ("name", "status"):
            return text_cell(value)
        if value is None or isinstance(value, float):
            return float_cell(value)
        return value
    return csv_text([heading for _, heading in RESULT_COLUMNS],
                    ([cell(f, getattr(r, f)) for f, _ in RESULT_COLUMNS] for r in results))
