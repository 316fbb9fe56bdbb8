"""Nothing lost, nothing silent: trained runs are replaced only when the teacher says so, the form's edits
of a run are kept when another run (or the Challenge) takes the form, and Start refuses an invalid form."""
from __future__ import annotations

import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtWidgets import QMessageBox

from engine.config import Experiment, TrainConfig
from engine.experiment import experiment_to_dict
from engine.status import FINAL

TIMEOUT = 60_000


def short(name, steps=40):
    return Experiment(name=name, train=TrainConfig(steps=steps, eval_every=20))


@pytest.fixture
def trained(qtbot, lab_window):
    window = lab_window
    window.clear_runs()
    window.add_run(short("mine"))
    window.start_action.trigger()
    qtbot.waitUntil(lambda: all(r.status in FINAL for r in window.runs.values()), timeout=TIMEOUT)
    return window


def answer(monkeypatch, button):
    asked = []

    def question(_parent, title, text, *args, **kwargs):
        asked.append(text)
        return button
    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def names(window):
    return [r.name for r in window.runs.values()]


@pytest.mark.parametrize("replace", ["lesson", "file", "race"])
def test_trained_runs_are_replaced_only_when_the_teacher_says_so(trained, monkeypatch, tmp_path, replace):
    window = trained
    path = tmp_path / "runs.json"
    path.write_text(json.dumps([experiment_to_dict(short("from-file"))]))
    do = {"lesson": lambda: window.load_preset("optimizers"), "file": lambda: window.open_file(path),
          "race": lambda: window.train_set([short("r1"), short("r2")], "Schedule race")}[replace]
    asked = answer(monkeypatch, QMessageBox.Cancel)
    assert do() is False
    assert names(window) == ["mine"] and next(iter(window.runs.values())).step == 40
    assert "40 steps trained" in asked[0] and "Save run list" in asked[0]
    answer(monkeypatch, QMessageBox.Yes)
    assert do() is True and "mine" not in names(window)
    window.stop_runs()


def test_runs_not_yet_trained_are_replaced_without_a_question(lab_window):
    lab_window.clear_runs()
    lab_window.add_run(short("untrained"))
    assert lab_window.load_preset("optimizers") is True        # the guard fixture fails any question asked


def test_edits_of_a_run_are_kept_when_another_run_is_selected_and_come_back(qtbot, lab_window):
    window = lab_window
    window.clear_runs()
    a, b = window.add_run(short("a")), window.add_run(short("b"))
    window.runs_list.select(a)
    edited = window.form.experiment().replace(optimizer={"lr": 0.0123})
    window.form.set_experiment(edited)
    window.runs_list.select(b)
    assert window.form.experiment().name == "b"
    assert "changes to a are kept" in window.statusBar().currentMessage()
    window.runs_list.select(a)
    assert window.form.experiment().optimizer.lr == 0.0123
    assert "back in the form" in window.statusBar().currentMessage()
    assert window.runs[a].experiment.optimizer.lr != 0.0123      # a draft, not applied


def test_the_challenge_keeps_the_forms_edits_and_says_so(qtbot, lab_window):
    window = lab_window
    window.clear_runs()
    a = window.add_run(short("a"))
    window.runs_list.select(a)
    window.form.set_experiment(window.form.experiment().replace(optimizer={"lr": 0.0456}))
    window.open_question("finder-challenge")
    assert window.form.experiment().optimizer.lr != 0.0456
    assert "changes to a are kept" in window.statusBar().currentMessage()
    window.runs_list.select(a)
    assert window.form.experiment().optimizer.lr == 0.0456


def test_start_refuses_an_invalid_form_and_says_why(qtbot, lab_window):
    window = lab_window
    window.clear_runs()
    run = window.add_run(short("a"))
    window.runs_list.select(run)
    window.form.field("model.hidden").editor.setText("32, x")         # not a list of widths
    assert not window.form.is_valid()
    window.start_action.trigger()
    assert window.start_action.text() == "Start" and not window.controls.any_running   # nothing was started
    assert "The form has an error" in window.statusBar().currentMessage()


def test_start_after_stop_says_what_to_do(qtbot, lab_window):
    window = lab_window
    window.clear_runs()
    window.add_run(Experiment(name="long", train=TrainConfig(steps=100_000, eval_every=50)))
    window.start_action.trigger()
    qtbot.waitUntil(lambda: next(iter(window.runs.values())).step > 0, timeout=TIMEOUT)
    window.stop_action.trigger()
    qtbot.waitUntil(lambda: all(r.status in FINAL for r in window.runs.values()), timeout=TIMEOUT)
    window.start_action.trigger()
    assert "Reset (R) trains them again" in window.statusBar().currentMessage()
    assert window.start_action.text() == "Start" and not window.controls.any_running


def test_space_starts_while_a_number_field_has_focus_and_stays_a_character_in_a_text_field(qtbot, lab_window):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QAbstractSpinBox
    window = lab_window
    window.clear_runs()
    window.add_run(Experiment(name="long", train=TrainConfig(steps=100_000, eval_every=50)))
    window.activateWindow()
    spin = next(w for w in window.form.findChildren(QAbstractSpinBox) if w.isVisible())
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=5000)
    before = spin.text()
    qtbot.keyClick(spin.lineEdit(), Qt.Key_Space)
    assert window.controls.any_running and spin.text() == before
    qtbot.keyClick(spin.lineEdit(), Qt.Key_Space)          # and pauses
    assert not window.controls.any_running
    name = window.form.field("name").editor
    name.setFocus()
    qtbot.waitUntil(name.hasFocus, timeout=5000)
    name.setText("two")
    name.end(False)
    qtbot.keyClick(name, Qt.Key_Space)
    assert name.text() == "two " and not window.controls.any_running
    window.stop_runs()


def test_edits_that_became_a_new_run_are_no_draft_of_the_old_one(qtbot, lab_window):
    window = lab_window
    window.clear_runs()
    a = window.add_run(short("a"))
    window.runs_list.select(a)
    window.form.set_experiment(window.form.experiment().replace(name="b", optimizer={"lr": 0.0789}))
    window.add_button.click()
    assert [r.name for r in window.runs.values()] == ["a", "b"]
    assert "kept" not in window.statusBar().currentMessage()
    window.runs_list.select(a)
    assert window.form.experiment().optimizer.lr != 0.0789 and window.form.experiment().name == "a"


def test_a_labs_race_starts_its_own_runs_whatever_the_form_holds(qtbot, lab_window):
    window = lab_window
    window.clear_runs()
    window.form.field("model.hidden").editor.setText("32, x")
    assert not window.form.is_valid()
    assert window.train_set([short("r1", steps=30), short("r2", steps=30)], "Schedule race")
    assert window.controls.any_running
    qtbot.waitUntil(lambda: all(r.status == "finished" for r in window.runs.values()), timeout=TIMEOUT)
