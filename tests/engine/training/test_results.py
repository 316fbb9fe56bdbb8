"""A run's results row: the last full-set evaluation, and the best validation accuracy at its first step."""
from __future__ import annotations

import csv
import io

import numpy as np

from engine.training.results import RESULT_COLUMNS, RunResult, results_csv, run_result
from engine.training.updates import EvalSeries


def evals(steps, val_acc, val_loss=None, train_loss=None, train_acc=None) -> EvalSeries:
    n = len(steps)
    arr = lambda v, d: np.array(v if v is not None else [d] * n, dtype=float)  # noqa: E731
    return EvalSeries(np.array(steps, np.int64), np.zeros(n), arr(train_loss, 0.5), arr(train_acc, 0.8),
                      arr(val_loss, 0.6), np.array(val_acc, dtype=float))


def test_final_numbers_are_the_last_evaluation_and_best_is_the_first_step_at_the_highest_accuracy():
    chunks = [evals([0, 50], [0.5, 0.9]), evals([100, 150], [0.7, 0.9], val_loss=[0.4, 0.45],
                                                 train_loss=[0.2, 0.1], train_acc=[0.95, 0.99])]
    result = run_result("adam", "finished", 150, chunks)
    assert result == RunResult("adam", "finished", 150, train_loss=0.1, train_acc=0.99, val_loss=0.45, val_acc=0.9,
                               best_val_acc=0.9, best_step=50)


def test_a_run_not_yet_evaluated_has_no_numbers_and_nan_is_never_best():
    assert run_result("new", "queued", 0, []) == RunResult("new", "queued", 0)
    diverged = run_result("x", "diverged", 30, [evals([0, 10, 20], [0.4, float("nan"), 0.3])])
    assert diverged.best_val_acc == 0.4 and diverged.best_step == 0 and diverged.val_acc == 0.3
    all_nan = run_result("y", "diverged", 5, [evals([0], [float("nan")])])
    assert all_nan.best_val_acc is None and all_nan.best_step is None


def test_the_csv_has_every_column_exact_numbers_empty_cells_and_no_formulas():
    rows = [RunResult("=cmd()", "finished", 1200, 0.1, 0.9876543210123, 0.3, 0.85, 0.9, 400),
            RunResult("waiting", "queued", 0)]
    table = list(csv.reader(io.StringIO(results_csv(rows))))
    assert table[0] == [heading for _, heading in RESULT_COLUMNS]
    assert table[1][0] == "'=cmd()" and float(table[1][4]) == 0.9876543210123 and table[1][-1] == "400"
    assert table[2] == ["waiting", "queued", "0", "", "", "", "", "", ""]
