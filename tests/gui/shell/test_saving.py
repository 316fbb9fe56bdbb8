"""Every save and export: a suffix added when the name has none, the place checked first, an error dialog
with one line when it cannot be written, and nothing changed then."""
from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from engine.config import Experiment, TrainConfig
from gui.shell.files import FileDialogs, with_suffix

FILTERS = "Run lists (*.json)"


@pytest.fixture
def dialogs(qtbot, tmp_path, monkeypatch):
    parent = QWidget()
    qtbot.addWidget(parent)
    said: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _parent, title, text: said.append((title, text)))
    files = FileDialogs(parent, QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    files.said = said
    return files


def write_json(path):
    path.write_text(json.dumps({"ok": True}))


def test_a_name_without_a_suffix_gets_the_filters(tmp_path):
    assert with_suffix(tmp_path / "runs", FILTERS) == tmp_path / "runs.json"
    assert with_suffix(tmp_path / "runs.JSON", FILTERS) == tmp_path / "runs.JSON"
    assert with_suffix(tmp_path / "plot", "SVG image (*.svg)") == tmp_path / "plot.svg"
    assert with_suffix(tmp_path / "notes.txt", FILTERS) == tmp_path / "notes.txt"   # a suffix the user typed stays


def test_the_dialogs_name_is_given_the_chosen_filters_suffix(dialogs, tmp_path, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "plot"), "SVG image (*.svg)"))
    written = dialogs.write(None, "Export plot", "PNG image (*.png);;SVG image (*.svg)", write_json)
    assert written == tmp_path / "plot.svg" and written.is_file() and dialogs.said == []


@pytest.mark.parametrize("place, words", [
    ("folder.json", "is a folder"),
    ("missing/x.json", "does not exist"),
    ("afile/x.json", "is a file, not a folder"),
    ("bad\x00name.json", "NUL"),
    ("n" * 300 + ".json", "too long"),
])
def test_an_unwritable_place_is_one_line_in_a_dialog_and_nothing_is_written(dialogs, tmp_path, place, words):
    (tmp_path / "folder.json").mkdir()
    (tmp_path / "afile").write_text("keep")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert dialogs.write(tmp_path / place, "Save run list", FILTERS, write_json) is None
    (title, text), = dialogs.said
    assert title == "Save run list: not saved" and words in text.splitlines()[0]
    assert "Nothing was changed." in text
    assert sorted(p.name for p in tmp_path.iterdir()) == before and (tmp_path / "afile").read_text() == "keep"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc refuses new files, even to root")
def test_a_folder_the_system_refuses_is_found_before_writing(dialogs):
    calls = []
    assert dialogs.write(__import__("pathlib").Path("/proc/descent-lab.json"), "Save run list", FILTERS,
                         calls.append) is None
    assert calls == [] and "cannot write in /proc" in dialogs.said[0][1]


def test_a_write_that_fails_or_leaves_no_file_is_an_error_and_the_old_file_stays(dialogs, tmp_path):
    old = tmp_path / "runs.json"
    old.write_text("old")

    def full_disk(path):
        raise OSError(28, "No space left on device")
    assert dialogs.write(old, "Save run list", FILTERS, full_disk) is None
    assert "No space left on device" in dialogs.said[-1][1] and old.read_text() == "old"
    assert dialogs.write(tmp_path / "plot.png", "Export plot", "PNG image (*.png)", lambda p: None) is None
    assert "nothing was written" in dialogs.said[-1][1]


def test_the_weights_plots_export_their_data_though_that_tab_was_never_opened(qtbot, tmp_path, lab_window):
    from gui.shell.export import plot_names
    window = lab_window
    window.clear_runs()
    window.add_run(Experiment(name="w", train=TrainConfig(steps=40, eval_every=20, histogram_every=10)))
    assert window.tabs.currentWidget() is window.boundary        # the Weights tab never shown
    window.start_action.trigger()
    qtbot.waitUntil(lambda: all(r.status == "finished" for r in window.runs.values()), timeout=60_000)
    key = next(k for k, _ in plot_names(window.training_tab) if k.startswith("weights:"))
    assert window.export_plot(key, tmp_path / "weights")           # no suffix: PNG, the first filter's
    assert (tmp_path / "weights.png").stat().st_size > 1000
    image = window.histograms.heatmap_image()
    assert image is not None and image.size > 0
    assert "Saved" in window.statusBar().currentMessage()
