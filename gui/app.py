"""Starting the window, and the smoke test the packaged app runs on itself.

Only Qt and pyqtgraph are imported before the window shows; torch loads in
the training thread (see ``gui.concurrency.training``), so the window appears first.

A double-clicked app has no console: ``run_app`` sends a failure to start (an
import error, a missing Qt platform plugin) to a log file in the user data
folder and a dialog (``gui.platform.failure_log``), never only to stderr.
"""
from __future__ import annotations

import os
import sys
import time
import traceback

from engine.status import FINAL, RunStatus

SMOKE_PRESET = "optimizers"
SMOKE_RUNS = 2
SMOKE_STEPS = 300
SMOKE_TIMEOUT = 120.0
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def _ensure_platform() -> None:
    """Offscreen when there is no display to draw on (CI, a terminal over ssh)."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_app(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Descent Lab")
    app.setOrganizationName("DescentLab")
    app.setDesktopFileName("descent-lab")  # ties the window to the installed descent-lab.desktop (its icon)
    app.setWindowIcon(app_icon())
    from gui.concurrency.collector import collect_on_gui_thread
    collect_on_gui_thread()     # a worker thread must never destroy Qt objects (the module says why)
    return app


def app_icon():
    """The window icon, every rendered size of resources/descent-lab.svg (Qt picks the nearest)."""
    from PySide6.QtGui import QIcon

    from gui.platform.paths import resource_path
    icon = QIcon()
    try:
        for size in ICON_SIZES:
            icon.addFile(str(resource_path(f"icons/descent-lab-{size}.png")))
    except FileNotFoundError as err:  # a plain icon is no reason not to start; the log says what is missing
        from gui.platform.failure_log import log_failure
        log_failure(f"Window icon: {err}")
    return icon


def run_app(argv: list[str] | None = None) -> int:
    _ensure_platform()
    from gui.platform import failure_log
    failure_log.install()
    try:
        from gui.concurrency.training import spawn_early
        spawn_early()           # the training process loads torch while Qt and the window load
        app = make_app(argv)
        from gui.shell.window import MainWindow
        if os.environ.get("DESCENT_LAB_STARTUP_PROBE"):
            return _startup_probe(app)
        window = MainWindow()
        window.show()
    except Exception:
        failure_log.report_failure("Start-up failed:\n" + traceback.format_exc())
        return 1
    return app.exec()


def _startup_probe(app) -> int:
    """For the benchmark: print when the window is on screen and when the first step is done, then quit.

    Uses throw-away settings so a teacher's saved runs are neither used nor changed.
    """
    import tempfile

    from PySide6.QtCore import QSettings

    from gui.shell.window import MainWindow
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(settings=QSettings(os.path.join(tmp, "probe.ini"), QSettings.IniFormat))
        window.show()
        app.processEvents()
        print(f"shown {time.time():.4f}", flush=True)
        _wait(app, lambda: window.ready, SMOKE_TIMEOUT)
        window.toggle_start()
        _wait(app, lambda: any(r.step >= 1 for r in window.runs.values()), SMOKE_TIMEOUT)
        print(f"first_step {time.time():.4f}", flush=True)
        window.close()
    return 0


def smoke_test() -> int:
    """Open the real window, train a preset's first two runs through the real worker, check every plot got data.

    Prints ``smoke test passed`` and returns 0, or prints the reason and returns 1.
    """
    _ensure_platform()
    import tempfile

    from PySide6.QtCore import QSettings
    app = make_app()
    from gui.shell.window import MainWindow
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(os.path.join(tmp, "smoke.ini"), QSettings.IniFormat)
        dialogs = _DialogCloser(app)  # before any event: a failure may arrive as a modal message box
        window = MainWindow(settings=settings)
        window.show()
        try:
            problem = _drive(app, window, dialogs.texts)
        except Exception as err:  # any failure is a reason, printed, never a hang
            problem = f"{type(err).__name__}: {err}"
        dialogs.stop()
        window.close()
        if window.training.thread.isRunning():
            problem = problem or "the training thread did not stop when the window closed"
    if problem:
        print(f"smoke test FAILED: {problem}")
        return 1
    print("smoke test passed")
    return 0


def _wait(app, condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.01)
    return False


class _DialogCloser:
    """Closes every modal dialog the smoke test meets, keeping its text as the failure.

    Offscreen nobody can click a message box, and its nested event loop would hold the test
    until the timeout; the frozen app's errors (e.g. "The training engine stopped: ...") come
    that way. A QTimer fires inside that nested loop, so it can close the box.
    """

    def __init__(self, app):
        from PySide6.QtCore import QTimer
        self.app, self.texts = app, []
        self.timer = QTimer()
        self.timer.timeout.connect(self.check)
        self.timer.start(100)

    def check(self) -> None:
        modal = self.app.activeModalWidget()
        if modal is not None:
            text = modal.text() if hasattr(modal, "text") else modal.windowTitle()
            self.texts.append(f"a dialog said: {text}")
            modal.close()

    def stop(self) -> None:
        self.timer.stop()


def _drive(app, window, dialogs: list[str]) -> str | None:
    problem = _drive_window(app, window, dialogs)
    return dialogs[0] if dialogs else problem


def _drive_window(app, window, dialogs: list[str]) -> str | None:
    if not _wait(app, lambda: window.ready or dialogs, SMOKE_TIMEOUT) or dialogs:
        return "torch did not load in time"
    from engine.lessons.presets import PRESETS
    window.clear_runs()
    for exp in PRESETS[SMOKE_PRESET].runs[:SMOKE_RUNS]:
        window.add_run(exp.replace(train={"steps": SMOKE_STEPS, "epochs": None}))
    window.runs_list.select(next(iter(window.runs)))
    window.toggle_start()
    final = FINAL
    if not _wait(app, lambda: dialogs or all(r.status in final for r in window.runs.values()), SMOKE_TIMEOUT):
        return "the runs did not finish in time: " + ", ".join(f"{r.name} {r.status}" for r in window.runs.values())
    _wait(app, lambda: False, 0.3)  # let the last updates draw
    for run in window.runs.values():
        if run.status != RunStatus.FINISHED:
            return f"run {run.name} ended {run.status}: {run.message}"
        for plot, series in (("loss", "batch"), ("loss", "val"), ("accuracy", "val"), ("lr", "lr"),
                             ("grad_norm", "grad_norm")):
            x, y = window.plots.curve_data(run.run_id, plot, series)
            if len(y) == 0:
                return f"the {plot} plot got no {series} data for {run.name}"
    window.tabs.setCurrentWidget(window.histograms)  # the Weights tab draws what it was sent while hidden
    _wait(app, lambda: False, 0.2)
    if window.histograms.heatmap_image() is None or window.histograms.heatmap_image().size == 0:
        return "the weight histograms got no data"
    image = window.boundary.image_array()
    if image is None or image.size == 0:
        return "the decision boundary was never drawn"
    return _check_help(window) or _check_labs(app, window, dialogs)


def _check_help(window) -> str | None:
    """Help > The lesson finds its text in the bundle, and About knows torch's version."""
    from gui.shell.help import versions
    window.help.show_lesson()
    text = window.help.lesson.browser.toPlainText()
    window.help.lesson.close()
    if "Check Your Understanding" not in text:
        return "Help > The lesson did not find the lesson's text"
    missing = [name for name, version in versions() if version == "not found" and name in ("torch", "numpy")]
    return f"About does not know the version of {', '.join(missing)}" if missing else None


def _points(curve) -> int:
    y = curve.getData()[1]
    return 0 if y is None else len(y)


def _check_labs(app, window, dialogs: list[str]) -> str | None:
    """Every lesson lab opens in the window and computes its first result.

    A frozen bundle that lost a module (or a library a lab needs) fails here,
    not in front of a class.
    """
    from gui.labs import LABS
    for info in LABS:
        window.show_lab(info.key)
    window.lab("finder").run_finder()
    done = {
        "trajectories": lambda lab: lab.trajectory(0) is not None,
        "init": lambda lab: lab.probe_result() is not None,
        "finder": lambda lab: lab.result is not None and not lab.busy(),
        "schedules": lambda lab: all(_points(row.curve) for row in lab.rows if row.check.isChecked()),
        "regularization": lambda lab: bool(lab.experiments()),
    }
    for key, ready in done.items():
        lab = window.lab(key)
        if not _wait(app, lambda ready=ready, lab=lab: dialogs or ready(lab), SMOKE_TIMEOUT) or dialogs:
            return dialogs[0] if dialogs else f"the {key} lab computed nothing in time"
    window.labs.setCurrentIndex(0)
    return None
