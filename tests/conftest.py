"""Shared test set-up: Qt runs offscreen, torch on one thread (small nets are fastest so, and timing noise is
lower), and the app's user data folder (the failure log, the Training tab's spill files) is a throw-away
folder of this test process, so no test writes into the home folder of whoever runs the suite."""
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_DATA_HOME = tempfile.mkdtemp(prefix="descent-lab-test-data-")
os.environ["XDG_DATA_HOME"] = _DATA_HOME          # gui.platform.paths.user_data_dir reads it on Linux
atexit.register(shutil.rmtree, _DATA_HOME, ignore_errors=True)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

torch.set_num_threads(1)


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def no_thread_left_running(request):
    """Fail any test that leaves a QThread (or a Python thread) running, as napari's conftest does."""
    import threading
    before = set(threading.enumerate())
    yield
    registry = sys.modules.get("gui.concurrency.worker_base")
    if registry is not None:
        running = registry.still_running()
        names = [owner.objectName() for owner in running]
        for owner in running:  # stop them, so one failure does not cascade
            owner.shutdown(15000)
        assert not names, f"worker thread(s) still running after the test: {names}"
    leftover = [t for t in set(threading.enumerate()) - before if t.is_alive() and not t.daemon]
    assert not leftover, f"threads still running after the test: {leftover}"


@pytest.fixture
def lab_window(qtbot, tmp_path):
    """A shown, ready main window on the thread backend, for tests of its wiring (it starts at once:
    torch is loaded here) with throw-away settings; it must close with its thread stopped."""
    from PySide6.QtCore import QSettings

    from gui.shell.window import MainWindow
    w = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), backend="thread")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.ready, timeout=60_000)
    yield w
    w.close()
    assert not w.training.thread.isRunning()
