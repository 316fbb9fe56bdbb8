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


def _independent(steps, val_acc, last):
    """The row's best by hand: the highest finite val acc, at the first step that reached it."""
    finite = [(a, s) for s, a in zip(steps, val_acc) if np.isfinite(a)]
    best = max(a for a, _ in finite) if finite else None
    return best, (next(s for a, s in finite if a == best) if finite else None), last


def test_the_book_reads_only_new_evaluations_and_gives_a_whole_readings_numbers():
    """The Results tab's book (issue 11 review): a run without new evaluations is not read again, and every
    row equals a reading of the whole history, whatever the batches the evaluations came in."""
    from engine.training.metrics_files import MetricsLog
    from engine.training.results import ResultsBook
    from engine.training.updates import EMPTY_STEPS, RunUpdate

    rng = np.random.default_rng(0)
    val_acc = np.round(rng.uniform(0.3, 0.9, 200), 2)          # rounded: ties, so "first step" matters
    val_acc[[5, 77]] = np.nan
    steps = np.arange(200) * 10
    log, book = MetricsLog(), ResultsBook()
    read_before, start = 0, 0
    for size in [1, 0, 3, 17, 0, 50, 129]:
        stop = start + size
        chunk = evals(steps[start:stop].tolist(), val_acc[start:stop].tolist())
        log.append(RunUpdate("r", "running", "", int(steps[max(stop - 1, 0)]), 0.0, 0.0, EMPTY_STEPS, chunk))
        row = book.result("r", 0, "run", "running", stop, log.evals)
        assert book.rows_read - read_before == size            # only the new rows were read
        read_before = book.rows_read
        assert row == run_result("run", "running", stop, log.evals)
        best, best_step, _ = _independent(steps[:stop], val_acc[:stop], None)
        assert (row.best_val_acc, row.best_step) == (best, best_step)
        assert book.result("r", 0, "run", "running", stop, log.evals) == row and book.rows_read == read_before
        start = stop
    assert row.best_val_acc == np.nanmax(val_acc) and row.val_acc == val_acc[-1]


def test_the_book_reads_a_run_again_after_a_reset_and_forgets_removed_runs():
    from engine.training.results import ResultsBook

    book = ResultsBook()
    first = [evals([0, 10], [0.2, 0.9])]
    assert book.result("r", 0, "run", "running", 10, first).best_val_acc == 0.9
    again = [evals([0, 10], [0.4, 0.5])]                       # generation 1: a reset, new history
    assert book.result("r", 1, "run", "running", 10, again).best_val_acc == 0.5
    shrunk = [evals([0], [0.3])]                               # the same generation, but fewer rows: read again
    assert book.result("r", 1, "run", "running", 0, shrunk).best_val_acc == 0.3
    assert book.result("other", 0, "b", "queued", 0, []) == RunResult("b", "queued", 0)
    book.keep_only(["r"])
    read = book.rows_read
    assert book.result("other", 0, "b", "running", 0, first).best_val_acc == 0.9 and book.rows_read == read + 2
