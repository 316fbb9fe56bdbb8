"""gui.app's smoke test, the check the frozen app runs on itself: it must fail fast and say why, never hang."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_smoke_test_reports_a_broken_training_engine_instead_of_hanging_on_its_message_box():
    """As in a bundle missing part of torch: the window shows a modal message box, which offscreen
    nobody can close; the smoke test must close it, print its text and exit 1 at once."""
    code = ("import sys, engine.training.loop as loop\n"
            "def broken():\n"
            "    raise OSError('could not get source code')\n"
            "loop.prepare = broken\n"
            "from gui.app import smoke_test\n"
            "sys.exit(smoke_test())\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DESCENT_LAB_BACKEND="thread")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=90)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "smoke test FAILED: a dialog said: The training engine stopped: OSError: could not get source code" \
        in proc.stdout


def test_smoke_test_passes():
    """The whole smoke test as the frozen app runs it, in its own process: exit 0."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DESCENT_LAB_BACKEND="thread")
    ok = subprocess.run([sys.executable, "main.py", "--smoke-test"], cwd=REPO, env=env, capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0 and "smoke test passed" in ok.stdout, ok.stdout + ok.stderr


def test_the_smoke_tests_lab_check_fails_when_a_lesson_lab_cannot_be_built(lab_window, monkeypatch):
    """A lab whose module is missing, as in a bundle that lost it: the smoke test's lab check lets the error
    through (smoke_test prints it as "smoke test FAILED: ModuleNotFoundError: ..." and exits 1) instead of
    skipping that lab.  In this process, on a ready window: a second smoke test in its own process cost
    ~20 s of the quick suite for the same check."""
    import dataclasses

    from PySide6.QtWidgets import QApplication

    import gui.app
    import gui.labs as labs

    def missing(window):
        raise ModuleNotFoundError("No module named 'gui.labs.init'")

    broken = tuple(dataclasses.replace(i, build=missing) if i.key == "init" else i for i in labs.LABS)
    monkeypatch.setattr(labs, "LABS", broken)
    lab_window.lab_holders["init"].info = next(i for i in broken if i.key == "init")
    with pytest.raises(ModuleNotFoundError, match="No module named 'gui.labs.init'"):
        gui.app._check_labs(QApplication.instance(), lab_window, [])
    assert lab_window.lab_holders["init"].lab is None            # nothing half-built left in its tab
