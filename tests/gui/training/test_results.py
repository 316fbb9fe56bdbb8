"""The Results tab: a row per run from its log, sorted by number, copied as exact CSV in the order shown."""
from __future__ import annotations

import csv
import io
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from engine.config import Experiment, OptimizerConfig, TrainConfig
from engine.status import FINAL, RunStatus
from engine.training.results import RESULT_COLUMNS, RunResult, run_result
from gui.training.results import NO_VALUE, ResultsTable

COL = {field: i for i, (field, _) in enumerate(RESULT_COLUMNS)}
ROWS = [RunResult("sgd", "finished", 900, 0.50, 0.80, 0.55, 0.095, 0.10, 300),
        RunResult("adam", "finished", 900, 0.10, 0.99, 0.30, 0.10, 0.96, 600),
        RunResult("new", "queued", 0)]


@pytest.fixture
def table(qtbot):
    view = ResultsTable()
    qtbot.addWidget(view)
    view.show_results(ROWS)
    return view


def column(view, field):
    return [view.table.item(r, COL[field]).text() for r in range(view.table.rowCount())]


def test_numbers_are_shown_rounded_and_a_run_without_evaluations_shows_a_dash(table):
    assert column(table, "name") == ["sgd", "adam", "new"]
    assert column(table, "val_acc") == ["9.5%", "10.0%", NO_VALUE]
    assert column(table, "steps") == ["900", "900", "0"]
    assert column(table, "best_step") == ["300", "600", NO_VALUE]


def test_sorting_is_by_the_number_not_the_text_and_survives_new_results(table):
    table.table.sortItems(COL["val_acc"], Qt.DescendingOrder)
    assert column(table, "name") == ["adam", "sgd", "new"]      # 10% > 9.5%, though as text "9.5%" > "10.0%"
    table.table.sortItems(COL["val_acc"], Qt.AscendingOrder)
    assert column(table, "name") == ["new", "sgd", "adam"]      # no value first
    table.show_results([ROWS[1], RunResult("sgd", "finished", 900, val_acc=0.99)])
    assert column(table, "name") == ["adam", "sgd"]             # the user's sort is kept


def test_copy_puts_exact_numbers_in_the_order_shown_on_the_clipboard(table, qtbot):
    table.table.sortItems(COL["train_loss"], Qt.AscendingOrder)
    with qtbot.waitSignal(table.copied) as copied:
        table.copy_button.click()
    rows = list(csv.reader(io.StringIO(copied.args[0])))
    assert [r[0] for r in rows[1:]] == ["new", "adam", "sgd"]
    assert float(rows[3][COL["val_acc"]]) == 0.095
    assert QApplication.clipboard().text() == copied.args[0]


def test_the_window_results_are_each_runs_last_evaluation(qtbot, lab_window):
    window = lab_window
    window.clear_runs()
    for name, opt in (("adam", "adam"), ("sgd", "sgd")):
        window.add_run(Experiment(name=name, optimizer=OptimizerConfig(name=opt, lr=0.01),
                                  train=TrainConfig(steps=80, eval_every=20)))
    window.start_action.trigger()
    qtbot.waitUntil(lambda: all(r.status in FINAL for r in window.runs.values()), timeout=60_000)
    tab = window.training_tab
    tab.tabs.setCurrentWidget(tab.results)
    results = {r.name: r for r in tab.results.results}
    assert set(results) == {"adam", "sgd"}
    for run in window.runs.values():
        last = run.log.evals[-1]
        row = results[run.name]
        assert row.status == RunStatus.FINISHED and row.steps == 80
        assert row.val_acc == float(last.val_acc[-1]) and row.train_loss == float(last.train_loss[-1])
        assert row.best_val_acc == max(float(v) for e in run.log.evals for v in e.val_acc)
        assert row == run_result(run.name, run.status, run.step, run.log.evals)      # a whole reading's numbers
    # the runs got no new evaluations: asked again (as every update batch asks), nothing is read again
    read = tab.results_book.rows_read
    assert read == sum(len(e) for r in window.runs.values() for e in r.log.evals)
    tab.show_results()
    tab.show_results()
    assert tab.results_book.rows_read == read
    # a rename shows at once
    run_id = next(iter(window.runs))
    tab.on_renamed(run_id, "renamed")
    assert "renamed" in column(tab.results, "name")


def test_a_long_run_name_is_never_cut_in_a_narrow_panel(qtbot):
    view = ResultsTable()
    qtbot.addWidget(view)
    view.resize(300, 200)
    view.show()
    long_name = "sgd+momentum with warm-up"
    view.show_results([RunResult(long_name, "finished", 10, val_acc=0.5)])
    metrics = view.table.fontMetrics()
    assert view.table.columnWidth(COL["name"]) >= metrics.horizontalAdvance(long_name)


def test_the_same_rows_again_leave_the_table_as_it_is_and_new_numbers_refill_it(table):
    table.table.item(0, 0).setData(Qt.UserRole + 1, "drawn before")
    table.show_results(list(ROWS))                      # every update batch asks; nothing changed
    assert table.table.item(0, 0).data(Qt.UserRole + 1) == "drawn before"
    table.show_results([RunResult("sgd", "finished", 900, val_acc=0.5), *ROWS[1:]])
    assert table.table.item(0, 0).data(Qt.UserRole + 1) is None and column(table, "val_acc")[0] == "50.0%"
