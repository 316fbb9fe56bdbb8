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


def test_the_plot_controls_come_back_as_the_teacher_left_them(qtbot, tmp_path, log):
    """x axis, smoothing, log loss and the band choice are saved with the window and restored in the next."""
    from gui.shell.settings import save_window
    from gui.shell.window import MainWindow
    path = tmp_path / "settings.ini"
    first = MainWindow(settings=QSettings(str(path), QSettings.IniFormat), backend="thread")
    qtbot.addWidget(first)
    plots = first.training_tab.plots
    assert (plots.x_axis(), plots.log_loss(), plots.band_kind()) == ("step", False, "range")
    plots.set_x_axis("epoch")
    plots.set_smoothing(0.9)
    plots.set_log_loss(True)
    plots.set_band_kind("middle")
    save_window(first)
    first.close()
    second = MainWindow(settings=QSettings(str(path), QSettings.IniFormat), backend="thread")
    qtbot.addWidget(second)
    try:
        plots = second.training_tab.plots
        assert (plots.x_axis(), plots.smoothing(), plots.log_loss(), plots.band_kind()) == ("epoch", 0.9, True,
                                                                                              "middle")
        assert plots.controls.band_combo.currentData() == "middle"
    finally:
        second.close()
    assert not log.exists()


def test_bad_plot_settings_are_ignored_one_line_each_and_the_controls_keep_their_defaults(qtbot, tmp_path, log):
    from gui.shell.settings import PLOT_VIEW, restore_plot_view
    from gui.training.metric_plots import MetricPlots
    plots = MetricPlots()
    qtbot.addWidget(plots)
    before = plots.smoothing()
    restore_plot_view(ini(tmp_path, "[plots]\nx_axis=minutes\nsmoothing=nan\nlog_loss=maybe\nband=a, b\n"), plots)
    assert (plots.x_axis(), plots.smoothing(), plots.log_loss(), plots.band_kind()) == ("step", before, False, "range")
    lines = [line for line in log.read_text().splitlines() if line.startswith("settings:")]
    assert [line.split()[2].rstrip(":") for line in lines] == list(PLOT_VIEW)
