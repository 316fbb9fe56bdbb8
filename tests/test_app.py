"""gui.app's smoke test, the check the frozen app runs on itself: it must fail fast and say why, never hang."""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_smoke_test_reports_a_broken_training_engine_instead_of_hanging_on_its_message_box():
    """As in a bundle missing part of torch: the window shows a modal message box, which offscreen
    nobody can close; the smoke test must close it, print its text and exit 1 at once."""
    code = ("import sys, engine.labloop as loop\n"
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
