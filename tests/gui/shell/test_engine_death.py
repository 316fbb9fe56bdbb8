"""The training process killed under the window: one line, the runs marked, and Start brings a fresh one."""
import os
import signal

from PySide6.QtCore import QSettings

from engine.config import Experiment, TrainConfig
from engine.status import RunStatus
from gui.shell.window import MainWindow

TIMEOUT = 60_000


def make_window(qtbot, tmp_path) -> MainWindow:
    window = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.show()
    return window


def kill_child(window) -> int:
    pid = window.training.worker.process.pid
    os.kill(pid, signal.SIGKILL)
    return pid


def test_a_killed_training_process_is_reported_and_start_brings_a_fresh_one(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    try:
        qtbot.waitUntil(lambda: window.ready, timeout=TIMEOUT)
        window.clear_runs()
        window.add_run(Experiment(name="long", train=TrainConfig(steps=200_000, eval_every=50)))
        window.add_run(Experiment(name="short", train=TrainConfig(steps=60, eval_every=20)))
        window.start_action.trigger()
        qtbot.waitUntil(lambda: all(r.step > 0 for r in window.runs.values()), timeout=TIMEOUT)
        old = kill_child(window)
        qtbot.waitUntil(lambda: bool(window.training_tab.engine_lost), timeout=TIMEOUT)
        runs = list(window.runs.values())
        assert "killed (SIGKILL)" in window.training_tab.engine_lost
        assert runs[0].status == RunStatus.ERROR and "SIGKILL" in runs[0].message
        assert "SIGKILL" in window.statusBar().currentMessage()
        assert window.start_action.isEnabled() and window.start_action.text() == "Start"
        assert not window.step_action.isEnabled()
        # Start: a fresh process gets both runs again (the list intact) and trains them
        window.start_action.trigger()
        qtbot.waitUntil(lambda: window.ready and runs[1].status == RunStatus.FINISHED, timeout=TIMEOUT)
        assert window.training.worker.process.pid != old
        assert [r.name for r in window.runs.values()] == ["long", "short"]
        assert runs[1].step == 60 and runs[0].status == RunStatus.RUNNING
    finally:
        window.close()
    assert not window.training.running()


def test_a_process_killed_before_it_was_ready_can_be_started_again(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    try:
        kill_child(window)
        qtbot.waitUntil(lambda: bool(window.training_tab.engine_lost), timeout=TIMEOUT)
        assert not window.ready and window.start_action.isEnabled()
        assert "SIGKILL" in window.training_tab.loading.text()
        window.start_action.trigger()
        qtbot.waitUntil(lambda: window.ready, timeout=TIMEOUT)
        assert window.form is not None and len(window.runs) == 1      # a first start's one run
        qtbot.waitUntil(lambda: next(iter(window.runs.values())).step > 0, timeout=TIMEOUT)  # Start meant start
    finally:
        window.close()
    assert not window.training.running()
