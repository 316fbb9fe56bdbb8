"""The search tab races the engine's search: the same trials and numbers as ``launch.start`` for the same seed,
its best-so-far lines the running best of the told values, its map the grid's lines, its table and CSV the
storage's trials; Apply best fills the training form; the space widgets round-trip a search file."""
from __future__ import annotations

import csv
import json
import multiprocessing

import numpy as np
import pytest

from engine.labs.search.launch import start
from engine.labs.search.spec import load_search, parse_search
from engine.status import RunStatus
from gui.labs.search import SearchTab
from gui.labs.search.book import TrialRow

RACE_TIMEOUT = 300_000
TINY = {"name": "tiny", "data": {"dataset": "spiral", "n_train": 64, "n_val": 64}, "model": {"hidden": [8]},
        "optimizer": {"name": "sgd"}, "train": {"steps": 5, "batch_size": 16, "eval_every": 5}}
SEARCH = {"base": TINY, "space": {"optimizer.lr": {"log": [1e-3, 1.0]}, "model.dropout": {"uniform": [0.0, 0.5]}},
          "methods": ["grid", "random", "tpe", "gp"], "trials": 4, "objective": "val_loss", "seed": 5,
          "startup": 2}


@pytest.fixture
def tab(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from engine.experiment import parse_experiment
    from gui.shell.files import FileDialogs
    widget = SearchTab(lambda: parse_experiment(TINY))
    widget.files = FileDialogs(widget, QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    widget.out_root = tmp_path / "searches"
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def write_search(path, raw) -> None:
    path.write_text(json.dumps(raw))


def test_each_method_races_in_the_tab_to_the_headless_numbers(qtbot, tab, tmp_path):
    write_search(tmp_path / "race.json", SEARCH)
    assert tab.load_file(tmp_path / "race.json") is not None
    tab.workers.setValue(1)
    with qtbot.waitSignal(tab.runner.finished, timeout=RACE_TIMEOUT):
        assert tab.start()
    assert tab.run_error.isHidden(), tab.run_error.text()
    headless = start(parse_search(SEARCH), tmp_path / "headless", None, "search", 1).told
    want = {(t.method, t.number): t.result.value for t in headless}
    assert len(want) == 16 and all(t.result.status == RunStatus.FINISHED for t in headless)
    book = tab.view.book
    assert {k: r.value for k, r in book.rows.items()} == pytest.approx(want, rel=1e-9, abs=0)
    assert {r.state for r in book.rows.values()} == {RunStatus.FINISHED}

    for method in SEARCH["methods"]:          # best so far: the running minimum of the told values, in trial order
        told = [want[(method, n)] for n in range(4)]
        line = tab.view.best_plot.lines[method]
        assert np.array_equal(line.xData, np.arange(4))
        assert np.allclose(line.yData, np.minimum.accumulate(told), rtol=0, atol=0)

    lr_grid, _ = tab.view.map.drawn("grid")        # grid: 2 x 2 points, on two lines of each key
    lr_random, _ = tab.view.map.drawn("random")
    assert len(set(np.round(lr_grid, 12))) == 2 and len(set(np.round(lr_random, 12))) == 4
    assert tab.view.map.widget.getPlotItem().ctrl.logXCheck.isChecked()      # lr's range is log
    assert not tab.view.map.widget.getPlotItem().ctrl.logYCheck.isChecked()

    assert tab.view.table.rowCount() == 16
    tab.view.table.sortItems(3)             # by value: the best trial first
    best = min(want, key=want.get)
    assert tab.view.table.row_of(0).key == best
    assert f"{best[0]} #{best[1]}" in tab.status.text()

    out = tab.export_csv(tmp_path / "export.csv")
    assert out is not None
    assert (tmp_path / "export.csv").read_text() == (tab.out / "trials.csv").read_text()
    rows = list(csv.DictReader(open(out)))
    assert {(r["method"], int(r["trial"])) for r in rows} == set(want)
    assert not multiprocessing.active_children()

    # Another node's search, joined through its storage with no training process here: every one of its trials
    # shows, read from the storage (a class search's window shows the whole study, not only its own trials).
    tab.workers.setValue(0)
    with qtbot.waitSignal(tab.runner.finished, timeout=RACE_TIMEOUT):
        assert tab.join(str(tmp_path / "headless" / "search.journal"), "search")
    assert tab.run_error.isHidden(), tab.run_error.text()
    assert {k: r.value for k, r in tab.view.book.rows.items()} == pytest.approx(want, rel=1e-9, abs=0)
    assert {r.worker for r in tab.view.book.rows.values()} == {t.result.worker for t in headless}
    assert "class search" in tab.base_label.text() and tab.form.trials.value() == 4


def test_the_space_widgets_round_trip_a_search_file(qtbot, tab, tmp_path):
    raw = {"base": TINY, "space": {"optimizer.lr": {"log": [0.0003, 0.3]}, "model.dropout": {"uniform": [0.05, 0.45]},
                                   "train.batch_size": {"int": [8, 64]}, "optimizer.name": {"choice": ["sgd", "adam"]},
                                   "model.hidden": {"choice": [[16, 16], [32]]}},
           "methods": ["random", "tpe"], "trials": 9, "objective": "best_val_acc", "seed": 11, "startup": 3,
           "heartbeat": 4.0}
    write_search(tmp_path / "in.json", raw)
    search = tab.load_file(tmp_path / "in.json")
    assert [row.path for row in tab.form.rows] == list(raw["space"])
    assert tab.form.rows[4].choices.text() == "[16, 16], [32]"
    assert tab.form.methods["tpe"].isChecked() and not tab.form.methods["grid"].isChecked()
    saved = tab.save_file(tmp_path / "out.json")
    assert saved is not None
    again = load_search(saved)
    assert again.to_dict() == search.to_dict() == load_search(tmp_path / "in.json").to_dict()
    assert tab.view.x_key.currentText() == "optimizer.lr" and tab.view.y_key.currentText() == "model.dropout"


def test_bad_input_is_one_line_at_its_place(qtbot, tab, tmp_path):
    (tmp_path / "bad.json").write_text('{"base": {}, "space": {"optimizer.lr": {"log": [0, 1]}}}')
    before = [row.path for row in tab.form.rows]
    assert tab.load_file(tmp_path / "bad.json") is None
    line = tab.file_error.text()
    assert line.startswith("bad.json: space.optimizer.lr.log[0]: ") and "\n" not in line and not tab.file_error.isHidden()
    assert [row.path for row in tab.form.rows] == before          # nothing changed
    row = tab.form.rows[0]
    row.low.setText("abc")
    assert not tab.start()
    assert row.message.text() == "log: low: write a number, got 'abc'" and tab.form.settings_error.isHidden()
    row.low.setText("-1")
    assert tab.built_search() is None and row.message.text().startswith("log[0]: ") and "-1" in row.message.text()
    row.low.setText("1e-4")
    for box in tab.form.methods.values():
        box.setChecked(False)
    assert tab.built_search() is None
    assert tab.form.methods_error.text().startswith("methods: must be a non-empty list")
    assert row.message.isHidden()
    tab._source = lambda: None         # an invalid training form
    tab.form.methods["random"].setChecked(True)
    assert tab.built_search() is None and "training form has an error" in tab.base_error.text()


def test_the_workers_box_allows_what_workers_allows(tab):
    """One bound for a node's training processes, engine.config's, read by the tab as by ``--workers``."""
    from engine.config import search_workers
    allowed = search_workers()
    assert (tab.workers.minimum(), tab.workers.maximum()) == (allowed.low, allowed.high)
    assert allowed.check(tab.workers.maximum()) is None and allowed.check(tab.workers.maximum() + 1) is not None


def fill(tab, values):
    """A finished race, as the tab's book holds it, without training (the race test trains)."""
    search = tab.built_search()
    tab.search = search
    from gui.labs.search.book import TrialBook
    book = TrialBook(search.settings.objective, search.methods)
    tab.view.reset(book, search.space, search.methods)
    for i, (lr, dropout, value) in enumerate(values):
        book.add(TrialRow("random", i, RunStatus.FINISHED, value, 5, 0.1, "here",
                          {"optimizer.lr": lr, "model.dropout": dropout}))
    tab.view.draw()
    return search


def test_apply_best_puts_the_best_trials_settings_in_the_form(qtbot, lab_window):
    tab = lab_window.show_lab("search")
    assert isinstance(tab, SearchTab)
    fill(tab, [(0.5, 0.1, 0.9), (0.02, 0.3, 0.4), (0.003, 0.2, 0.6), (0.7, 0.0, float("nan"))])
    assert tab.view.best_button.isEnabled()
    tab.view.best_button.click()
    exp = lab_window.form_experiment()
    assert exp.optimizer.lr == 0.02 and exp.model.dropout == 0.3 and exp.name == "random #1"
    assert "Importance" in tab.view.importance.text() and "6 to go" in tab.view.importance.text()
    tab.view.table.select(("random", 2))
    tab.view.open_button.click()          # its curves: trained again as the Training tab's one run
    assert [r.name for r in lab_window.runs.values()] == ["random #2"]
    assert lab_window.labs.currentIndex() == 0
    run = next(iter(lab_window.runs.values()))
    assert run.experiment.optimizer.lr == 0.003 and run.experiment.model.dropout == 0.2
    lab_window.stop_runs()


def test_importance_once_there_are_enough_trials(qtbot, tab):
    rng = np.random.default_rng(0)
    lrs = 10 ** rng.uniform(-4, 0, 20)
    fill(tab, [(lr, d, abs(np.log10(lr) + 1.5)) for lr, d in zip(lrs, rng.uniform(0, 0.5, 20))])
    from gui.labs.search.importance import importances
    found = importances(tab.view.book, tab.search.space)
    assert found is not None and found["optimizer.lr"] > found["model.dropout"]
    assert "PED-ANOVA, 20 finished trials" in tab.view.importance.text()


def test_the_lessons_menu_opens_the_search_tab_with_its_preset(qtbot, lab_window):
    menu = lab_window._lesson_menu
    action = next(a for a in menu.actions() if a.text() == "Random beats grid")
    action.trigger()
    tab = lab_window.lab("search")
    assert lab_window.labs.currentWidget() is lab_window.lab_holders["search"]
    assert [row.path for row in tab.form.rows] == ["optimizer.lr", "model.init_std", "schedule.eta_min"]
    assert tab.form.trials.value() == 27 and tab.form.chosen_methods() == ["grid", "random"]
    assert "random-beats-grid" in tab.base_label.text()
    # the lesson says at how many seeds its claim held (claims_measured.json), as a training lesson does
    from engine.lessons.claims import measured
    found = measured("search random-beats-grid")
    assert found is not None and f"This claim {found.text}." in tab.base_label.text()


def test_closing_the_window_mid_search_stops_the_workers(qtbot, lab_window, tmp_path):
    tab = lab_window.show_lab("search")
    tab.out_root = tmp_path / "searches"
    slow = {**SEARCH, "base": {**TINY, "train": {"steps": 100_000, "batch_size": 16, "eval_every": 1000}},
            "methods": ["random"]}
    write_search(tmp_path / "slow.json", slow)
    tab.load_file(tmp_path / "slow.json")
    tab.workers.setValue(1)
    assert tab.start()
    qtbot.waitUntil(lambda: any(r.state == RunStatus.RUNNING for r in tab.view.book.rows.values()),
                    timeout=RACE_TIMEOUT)
    lab_window.close()
    assert not tab.busy() and not tab.watcher.busy()
    assert not multiprocessing.active_children()
    from gui.labs.search.jobs import open_search_storage, snapshot
    states = [r.state for r in snapshot(tab.search, open_search_storage(tab.url, tab.search), tab.study).rows]
    assert states == [RunStatus.STOPPED, RunStatus.QUEUED]       # stopped, and queued again for a restart


def test_a_hosted_class_search_is_joined_through_its_proxy(qtbot, tab, tmp_path):
    """The teacher's tab hosts a proxy on 127.0.0.1 and races; a student's tab joins it by grpc:// URL and name,
    trains nothing (workers 0) and still shows every trial the teacher's node trained."""
    from PySide6.QtCore import QSettings

    from engine.experiment import parse_experiment
    from gui.shell.files import FileDialogs
    raw = {**SEARCH, "methods": ["random"], "trials": 3}
    write_search(tmp_path / "class.json", raw)
    tab.load_file(tmp_path / "class.json")
    tab.workers.setValue(1)
    assert tab.host("127.0.0.1", 0)
    address = tab.host_of.address()
    assert address.startswith("grpc://127.0.0.1:") and address in tab.classroom.info.text()
    student = SearchTab(lambda: parse_experiment(TINY))
    student.files = FileDialogs(student, QSettings(str(tmp_path / "t.ini"), QSettings.IniFormat))
    qtbot.addWidget(student)
    try:
        assert tab.start() and tab.study == "class-1" and "class-1" in tab.classroom.info.text()
        qtbot.waitUntil(lambda: bool(tab.view.book.rows), timeout=RACE_TIMEOUT)      # the studies exist: join them
        student.workers.setValue(0)
        student.classroom.url.setText(address)
        student.classroom.study.setText("class-1")
        with qtbot.waitSignal(student.runner.finished, timeout=RACE_TIMEOUT):
            student.classroom.join_button.click()
        qtbot.waitUntil(lambda: not tab.busy(), timeout=RACE_TIMEOUT)
        assert student.run_error.isHidden(), student.run_error.text()
        mine = {k: r.value for k, r in tab.view.book.rows.items()}
        assert len(mine) == 3 and {k: r.value for k, r in student.view.book.rows.items()} == mine
        assert [p.path for p in student.search.space] == ["optimizer.lr", "model.dropout"]
    finally:
        student.shutdown()
    student.classroom.study.setText("nobody")           # a name the teacher's storage does not hold: one line there
    with qtbot.waitSignal(student.runner.finished, timeout=RACE_TIMEOUT):
        student.classroom.join_button.click()
    line = student.classroom.message.text()
    assert line.startswith("Search: no search named 'nobody'") and "class-1" in line and "\n" not in line
    student.shutdown()
    tab.stop_hosting()
    assert tab.host_of is None and tab.classroom.info.isHidden()


def test_population_based_training_reaches_its_view(qtbot, tab, tmp_path):
    """PBT's rounds and exploits go to the Population view as they come, and its result when the race ends."""
    raw = {**SEARCH, "base": {**TINY, "train": {"steps": 4, "batch_size": 16, "eval_every": 2}},
           "space": {"optimizer.lr": {"log": [1e-3, 1.0]}}, "methods": ["pbt"], "trials": 2,
           "pbt": {"population": 4, "interval": 2}}
    write_search(tmp_path / "pbt.json", raw)
    assert tab.load_file(tmp_path / "pbt.json") is not None
    assert tab.form.methods["pbt"].isChecked() and tab.form.population.value() == 4
    tab.workers.setValue(1)
    with qtbot.waitSignal(tab.runner.finished, timeout=RACE_TIMEOUT):
        assert tab.start()
    assert tab.run_error.isHidden(), tab.run_error.text()
    view = tab.pbt_view
    assert view is not None
    assert tab.views.tabText(tab.views.indexOf(view)) == "Population"
    assert tab.result.pbt is not None and view.result is tab.result.pbt
    assert sum(len(r) for r in view.rounds.values()) == 4 * 2          # 4 members, 2 rounds of 2 steps
    assert not tab.view.best_plot.lines                                 # no Optuna trials: no best-so-far line
