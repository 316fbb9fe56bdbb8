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
    """The row of a run named ``name`` from its evaluations (``MetricsLog.evals``: chunks in step order),
    read whole: :class:`ResultsBook` reads on from where it stopped, with the same numbers."""
    return ResultsBook().result(name, 0, name, status, steps, evals)


@dataclass
class _Seen:
    """What :class:`ResultsBook` keeps of one run: how many evaluations it has read, and the best of them."""
    generation: int
    count: int = 0
    best_val_acc: float | None = None
    best_step: int | None = None


class ResultsBook:
    """:func:`run_result` of each run, kept up to date from the evaluations it has not read yet.

    The Results tab asks for every run's row at every update batch; reading a run's whole history each
    time is O(evaluations) on the GUI thread, which a run of 1e7 steps makes noticeable.  The book keeps,
    per run, the number of evaluations read and the best so far, and reads only the rows after them:

        best_n = max(best_{n-1}, max(val_acc[seen:n]))     (the first step that reached it, NaN never best)

    A run with no new evaluations costs nothing; a run whose ``generation`` changed (a reset, new
    settings) or whose evaluations shrank is read again from the start.  The rows equal a reading of
    the whole history (:func:`run_result`), number for number (``tests/engine/training/test_results.py``).
    ``rows_read`` counts the evaluation rows read, for those tests.
    """

    def __init__(self) -> None:
        self._seen: dict[str, _Seen] = {}
        self.rows_read = 0

    def result(self, key: str, generation: int, name: str, status: str, steps: int,
               evals: Sequence[EvalSeries]) -> RunResult:
        chunks = [e for e in evals if len(e)]
        count = sum(len(e) for e in chunks)
        seen = self._seen.get(key)
        if seen is None or seen.generation != generation or count < seen.count:
            seen = self._seen[key] = _Seen(generation)
        if count > seen.count:
            self._read(seen, chunks, count)
        if not chunks:
            return RunResult(name, str(status), int(steps))
        last = chunks[-1]
        return RunResult(name, str(status), int(steps),
                         train_loss=float(last.train_loss[-1]), train_acc=float(last.train_acc[-1]),
                         val_loss=float(last.val_loss[-1]), val_acc=float(last.val_acc[-1]),
                         best_val_acc=seen.best_val_acc, best_step=seen.best_step)

    def _read(self, seen: _Seen, chunks: list[EvalSeries], count: int) -> None:
        """The rows ``seen.count`` to ``count`` of ``chunks`` folded into ``seen``'s best."""
        start = 0
        for chunk in chunks:
            stop = start + len(chunk)
            if stop > seen.count:
                skip = max(seen.count - start, 0)
                val_acc = chunk.val_acc[skip:]
                self.rows_read += len(val_acc)
                finite = np.isfinite(val_acc)
                if finite.any():
                    i = int(np.argmax(np.where(finite, val_acc, -np.inf)))
                    if seen.best_val_acc is None or val_acc[i] > seen.best_val_acc:
                        seen.best_val_acc, seen.best_step = float(val_acc[i]), int(chunk.step[skip + i])
            start = stop
        seen.count = count

    def keep_only(self, keys: Iterable[str]) -> None:
        """Forget the runs not in ``keys`` (removed runs)."""
        keep = set(keys)
        for key in [k for k in self._seen if k not in keep]:
            del self._seen[key]


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
