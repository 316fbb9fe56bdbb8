"""A corrupt settings file: every bad value is ignored with a line in the log, and the window starts clean."""
import json

import pytest
from PySide6.QtCore import QSettings

from gui.platform import paths
from gui.shell.settings import last_runs, text_setting

BAD_RUN_LISTS = {
    "a number": "5",
    "a list of words": "a, b",                 # QSettings hands this back as a Python list
    "not JSON": "{oops",
    "deep JSON": "[" * 10_000 + "]" * 10_000,
    "a list of numbers": "[1, 2]",
    "an unknown key": json.dumps([{"optimizer": {"nme": "sgd"}}]),
    "duplicate keys": '[{"name": "a", "name": "b"}]',
    "an object": json.dumps({"name": "a"}),
}


@pytest.fixture
def log(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return paths.log_path()


def ini(tmp_path, text: str) -> QSettings:
    path = tmp_path / "settings.ini"
    path.write_text(text)
    return QSettings(str(path), QSettings.IniFormat)


@pytest.mark.parametrize("case", BAD_RUN_LISTS)
def test_a_bad_saved_run_list_is_ignored_with_a_line_in_the_log(tmp_path, log, case):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    raw = BAD_RUN_LISTS[case]
    if case == "a list of words":
        settings = ini(tmp_path, f"[last]\nruns={raw}\n")
    else:
        settings.setValue("last/runs", raw)
    assert last_runs(settings) == []
    lines = [line for line in log.read_text().splitlines() if line.startswith("settings:")]
    assert len(lines) == 1 and "last/runs" in lines[0], lines


def test_a_good_run_list_comes_back_and_logs_nothing(tmp_path, log):
    from engine.experiment import experiment_to_dict, parse_experiment
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    exp = parse_experiment({"name": "kept", "train": {"steps": 77}})
    settings.setValue("last/runs", json.dumps([experiment_to_dict(exp)]))
    assert [e.name for e in last_runs(settings)] == ["kept"]
    assert not log.exists()


def test_a_text_setting_that_is_not_text_falls_back_to_the_default(tmp_path, log):
    settings = ini(tmp_path, "[last]\nfolder=1, 2\n")
    assert text_setting(settings, "last/folder", "/home") == "/home"
    assert "last/folder" in log.read_text()


def test_the_window_starts_clean_from_a_corrupt_settings_file(qtbot, tmp_path, log):
    from gui.shell.window import MainWindow
    settings = ini(tmp_path, "[last]\nruns=a, b\nfolder=1, 2\n[view]\ndark=banana\npresenter=a, b\n"
                             "[window]\nform_width=abc\ngeometry=zzz\nmain_split=@ByteArray(garbage)\n")
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.ready, timeout=60_000)
    try:
        assert window.start_action.isEnabled()
        assert len(window.runs) == 1                     # the form's own run, as on a first start
        assert window.statusBar().currentMessage().startswith("Ready")
        assert "last/runs" in log.read_text()
    finally:
        window.close()
