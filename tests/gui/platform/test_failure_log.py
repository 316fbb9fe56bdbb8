"""gui.platform.failure_log: a failure to start is written to the log in the user data folder, never lost.

The start-up cases run the app from source in a child process (the same code the frozen app runs),
with XDG_DATA_HOME pointed at a temporary folder and no display, so no dialog can block a test.
"""
import os
import subprocess
import sys
from pathlib import Path

from gui.platform import failure_log

REPO = Path(__file__).resolve().parents[3]


def _app_env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), HOME=str(tmp_path / "home"), **extra)
    return env


def _log(tmp_path) -> Path:
    return tmp_path / "data" / "descent-lab" / "logs" / "descent-lab.log"


def test_log_failure_appends_dated_entries_and_makes_the_folders(tmp_path):
    log = tmp_path / "a" / "b" / "descent-lab.log"
    assert failure_log.log_failure("first\n", log) == log
    failure_log.log_failure("second", log)
    text = log.read_text()
    assert text.count("=== ") == 2 and "Descent Lab 0.1" in text and "(source)" in text
    assert text.index("first") < text.index("second")


def test_a_long_log_is_rotated_not_grown_forever(tmp_path, monkeypatch):
    log = tmp_path / "descent-lab.log"
    monkeypatch.setattr(failure_log, "MAX_LOG_BYTES", 100)
    failure_log.log_failure("x" * 200, log)
    failure_log.log_failure("newest", log)
    assert "newest" in log.read_text() and "x" * 200 not in log.read_text()
    assert "x" * 200 in (tmp_path / "descent-lab.log.1").read_text()


def test_report_failure_logs_and_prints_but_shows_no_dialog_offscreen(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    shown = []
    monkeypatch.setattr(failure_log, "show_native_dialog", lambda message: shown.append(message) or True)
    log = failure_log.report_failure("Traceback (most recent call last):\nImportError: no module named x",
                                     tmp_path / "f.log")
    assert "ImportError: no module named x" in log.read_text()
    assert "ImportError: no module named x" in capsys.readouterr().err
    assert shown == []


def test_native_dialog_command_per_platform():
    message = 'no Qt platform plugin "xcb"'
    mac = failure_log.native_dialog_command(message, "darwin", {}, lambda name: None)
    assert mac[0] == "osascript" and '\\"xcb\\"' in mac[-1]
    found = {"xmessage": "/usr/bin/xmessage"}
    linux = failure_log.native_dialog_command(message, "linux", {"DISPLAY": ":0"}, found.get)
    assert linux[0] == "/usr/bin/xmessage" and message in linux[-1]
    found["zenity"] = "/usr/bin/zenity"  # preferred when present
    assert failure_log.native_dialog_command(message, "linux", {"DISPLAY": ":0"}, found.get)[0] == "/usr/bin/zenity"
    # no display, or no dialog program: nothing to show it with (the log still has it)
    assert failure_log.native_dialog_command(message, "linux", {}, found.get) is None
    assert failure_log.native_dialog_command(message, "linux", {"DISPLAY": ":0"}, lambda name: None) is None


def test_a_missing_qt_platform_plugin_is_logged_before_qt_aborts(tmp_path):
    """The classic silent death of a frozen Qt app: Qt aborts the process; the log must say why first."""
    proc = subprocess.run([sys.executable, "main.py"], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=_app_env(tmp_path, QT_QPA_PLATFORM="no-such-platform"))
    assert proc.returncode != 0
    text = _log(tmp_path).read_text()
    assert "Qt fatal error" in text and "no Qt platform plugin could be initialized" in text
    assert 'Could not find the Qt platform plugin "no-such-platform"' in text  # the warning that explains it
    assert "Fatal Python error: Aborted" in text  # faulthandler's stack, after Qt's abort


def test_an_import_error_at_start_up_is_logged_with_its_traceback(tmp_path):
    code = ("import sys; sys.modules['gui.shell.window'] = None  # as if left out of the bundle\n"
            "from gui.app import run_app; sys.exit(run_app())")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=_app_env(tmp_path, QT_QPA_PLATFORM="offscreen"))
    assert proc.returncode == 1
    text = _log(tmp_path).read_text()
    assert "Start-up failed" in text and "ModuleNotFoundError" in text and "gui.shell.window" in text
    assert str(_log(tmp_path)) in proc.stderr  # the terminal user is told where the log is
