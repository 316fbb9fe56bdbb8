"""File > Open under hostile files: every refusal is the one JSON reader's line, naming the file, in a
warning box; no exception escapes ``open_file`` and the run list stays as it was."""
import os
import sys

import pytest
from PySide6.QtWidgets import QMessageBox

from engine.config import Experiment, TrainConfig

DEEP = 10_000


@pytest.fixture
def boxes(monkeypatch):
    """Every warning or critical box the window would show, as (title, text), instead of showing it."""
    shown = []

    def box(_parent, title, text, *rest):
        shown.append((title, text))
        return QMessageBox.Ok

    monkeypatch.setattr(QMessageBox, "warning", box)
    monkeypatch.setattr(QMessageBox, "critical", box)
    return shown


def _names(window):
    return [r.name for r in window.runs.values()]


def _hostile_files(tmp_path):
    """(path, the words naming its problem) for each kind of file the reader refuses."""
    files = []
    dup = tmp_path / "dup.json"
    dup.write_text('{"optimizer": {"lr": 0.1, "lr": 10}}')
    files.append((dup, 'duplicate key "lr"'))
    deep = tmp_path / "deep.json"
    deep.write_text("[" * DEEP + "]" * DEEP)
    files.append((deep, f"nested {DEEP:,} levels deep"))
    huge = tmp_path / "huge.json"
    huge.write_text('{"seed": 1' + "0" * 5000 + "}")
    files.append((huge, "an integer of 5,001 digits"))
    if sys.platform != "win32":
        fifo = tmp_path / "pipe.json"
        os.mkfifo(fifo)
        files.append((fifo, "a FIFO (named pipe), not a regular file"))
    bad_key = tmp_path / "bad_key.json"
    bad_key.write_text('{"optimizer": {"lr": -1}}')
    files.append((bad_key, "optimizer.lr: must be > 0"))
    return files


def test_each_refused_file_is_one_line_naming_it_and_changes_nothing(lab_window, tmp_path, boxes):
    window = lab_window
    window.clear_runs()
    window.add_run(Experiment(name="keep me", train=TrainConfig(steps=40)))
    for path, words in _hostile_files(tmp_path):
        before = len(boxes)
        assert window.open_file(path) is False, path
        assert len(boxes) == before + 1, path
        title, text = boxes[-1]
        line = text.splitlines()[0]
        assert title == "Cannot open this file"
        assert line.startswith((str(path), path.name)) and words in line, line
        assert _names(window) == ["keep me"]


def test_an_unexpected_fault_is_a_box_too_not_an_exception(lab_window, tmp_path, boxes, monkeypatch):
    import engine.experiment

    def broken(path):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(engine.experiment, "load_run_list", broken)
    window = lab_window
    window.clear_runs()
    window.add_run(Experiment(name="keep me", train=TrainConfig(steps=40)))
    path = tmp_path / "runs.json"
    path.write_text("[]")
    assert window.open_file(path) is False
    assert boxes[-1][1].splitlines()[0] == "runs.json: cannot open: RecursionError: maximum recursion depth exceeded"
    assert _names(window) == ["keep me"]


def test_a_good_file_still_opens(lab_window, tmp_path, boxes):
    window = lab_window
    path = tmp_path / "one.json"
    path.write_text('{"name": "opened", "train": {"steps": 40}}')
    assert window.open_file(path) is True
    assert _names(window) == ["opened"] and not boxes
