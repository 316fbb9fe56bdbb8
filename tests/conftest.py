"""Shared test set-up: Qt runs offscreen, torch on one thread (small nets are fastest so, and timing noise is
lower), and the app's user data folder (the failure log, the Training tab's spill files) is a throw-away
folder of this test process, so no test writes into the home folder of whoever runs the suite.

No test can hang the suite: pytest-timeout (``timeout`` in pyproject.toml) fails a test that runs too long,
from a Python thread; behind it, :func:`faulthandler.dump_traceback_later` is a watchdog in C that needs no
GIL, so a test stuck in a C call that holds the GIL (a deadlocked library, a nested event loop) still ends:
every thread's traceback is printed and the test process exits (xdist reports the crashed test and goes on
with a fresh worker)."""
import atexit
import faulthandler
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

WATCHDOG_MARGIN_S = 120.0     # beyond pytest-timeout's limit: the last resort, not the usual way a slow test fails
# One folder for the whole run, named by the process that runs the session (xdist's controller, the parent
# of its workers): each process writes its watchdog file there when it runs a test, the controller prints any
# that fired, then removes the folder.
_CONTROLLER = os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()
WATCHDOG_DIR = Path(tempfile.gettempdir()) / f"descent-lab-watchdog-{_CONTROLLER}"
_watchdog_file = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Arm the C watchdog for the test's set-up, call and tear-down; disarm it after.

    Its file starts with the test's id, so a dump says which test it was; it goes to a file, not to standard
    error, because pytest captures that during a test (and an xdist worker's is not shown)."""
    global _watchdog_file
    if _watchdog_file is None:
        WATCHDOG_DIR.mkdir(exist_ok=True)
        _watchdog_file = open(WATCHDOG_DIR / f"watchdog-{os.getpid()}.txt", "w+")
    _watchdog_file.seek(0)
    _watchdog_file.truncate()
    _watchdog_file.write(f"{item.nodeid}\n")
    _watchdog_file.flush()
    faulthandler.dump_traceback_later(_limit(item) + WATCHDOG_MARGIN_S, exit=True, file=_watchdog_file)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def _limit(item) -> float:
    """pytest-timeout's limit for this test (its marker, else ``--timeout``, else the ini's), 0 = none: then an hour."""
    marker = item.get_closest_marker("timeout")
    limit = marker.args[0] if marker is not None and marker.args else (
        item.config.getoption("timeout", None) or item.config.getini("timeout"))
    return float(limit or 0) or 3600.0


def pytest_terminal_summary(terminalreporter):
    """Every watchdog that fired in this run: the test, and every thread's stack at that moment."""
    for path in sorted(WATCHDOG_DIR.glob("watchdog-*.txt")):
        text = path.read_text(errors="replace")
        if "Timeout (" in text:
            terminalreporter.section("watchdog: a test held its process past its timeout", sep="=")
            terminalreporter.write_line(text)


def pytest_unconfigure(config):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        shutil.rmtree(WATCHDOG_DIR, ignore_errors=True)


@pytest.fixture(autouse=True)
def collected_between_tests():
    """Once a GUI test has switched automatic collection off (gui.concurrency.collector), the collector's
    check runs after every test on this, the main thread, as its timer would in the app: an engine test that
    never runs an event loop still has its cyclic garbage collected."""
    yield
    collector = sys.modules.get("gui.concurrency.collector")
    if collector is not None and collector.installed() is not None:
        collector.installed().check()


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
