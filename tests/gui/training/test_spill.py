"""Where the window keeps a run's steps on disk (issue 11): the user data folder, or the system's temporary
folder with a one-line note in the status bar when the data folder cannot be written."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.gui.shell.test_window import _Training, _update, short


def _tab(qtbot, monkeypatch, data: Path):
    from gui.training.tab import TrainingTab
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("LOCALAPPDATA", str(data))
    monkeypatch.setenv("HOME", str(data))
    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.training = _Training()
    said: list[str] = []
    tab.message.connect(lambda text, _ms: said.append(text))
    return tab, said


def test_a_runs_steps_go_to_the_user_data_folder(qtbot, monkeypatch, tmp_path):
    from gui.platform.paths import user_data_dir
    from gui.training.tab import spill_folder
    tab, said = _tab(qtbot, monkeypatch, tmp_path / "data")
    assert spill_folder() == user_data_dir() / "spill" and str(tmp_path / "data") in str(spill_folder())
    run_id = tab.add_run(short("a", steps=3))
    tab.on_updates([_update(run_id, "running", [1, 2, 3], [(0, 0.5, 0.5)])])
    log = tab.runs[run_id].log
    assert log.spill_folder == spill_folder() and spill_folder().is_dir() and log.note is None
    assert not any("temporary folder" in line for line in said)
    log.close()


def test_an_unwritable_data_folder_sends_the_steps_to_the_system_temp_and_says_so_once_a_run(qtbot, monkeypatch,
                                                                                            tmp_path):
    (tmp_path / "afile").write_text("keep")
    tab, said = _tab(qtbot, monkeypatch, tmp_path / "afile")      # the data folder would be under a file
    first, second = tab.add_run(short("a", steps=3)), tab.add_run(short("b", steps=3))
    tab.on_updates([_update(first, "running", [1, 2], [(0, 0.5, 0.5)]), _update(second, "running", [1, 2], [])])
    tab.on_updates([_update(first, "running", [3], [])])
    for run_id in (first, second):
        log = tab.runs[run_id].log
        assert log.spill_folder == Path(tempfile.gettempdir()) and len(log) == 2 + (run_id == first)
        log.close()
    notes = [line for line in said if "temporary folder" in line]
    assert len(notes) == 2 and "\n" not in notes[0] and str(tmp_path / "afile") in notes[0]   # not again at batch 2
