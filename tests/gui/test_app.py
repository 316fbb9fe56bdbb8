"""gui.app's smoke test, the check the frozen app runs on itself: it must fail fast and say why, never hang."""
import os
import subprocess
import sys
from pathlib import Path

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


def test_smoke_test_passes_and_fails_when_a_lesson_lab_cannot_be_built():
    """The whole smoke test once as it is (exit 0), and once with a lab whose module is missing, as a
    bundle that lost it would be: it must name the missing module and exit 1."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DESCENT_LAB_BACKEND="thread")
    ok = subprocess.run([sys.executable, "main.py", "--smoke-test"], cwd=REPO, env=env, capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0 and "smoke test passed" in ok.stdout, ok.stdout + ok.stderr
    code = ("import sys, dataclasses, gui.labs as labs\n"
            "def missing(window):\n"
            "    raise ModuleNotFoundError(\"No module named 'gui.labs.init'\")\n"
            "labs.LABS = tuple(dataclasses.replace(i, build=missing) if i.key == 'init' else i for i in labs.LABS)\n"
            "from gui.app import smoke_test\n"
            "sys.exit(smoke_test())\n")
    broken = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=120)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "smoke test FAILED: ModuleNotFoundError: No module named 'gui.labs.init'" in broken.stdout
