"""Start-up failures and crashes of the windowed app: written to a log file, shown where possible.

A double-clicked app has no console, so a traceback printed to stderr is lost. Three kinds of
failure are caught here and appended to ``paths.log_path()`` (the user data folder, never the
bundle's own folder):

* an exception while the window is being built (a module missing from the bundle, a broken
  settings file): :func:`report_failure`, from ``gui.app.run_app``;
* Qt's own fatal errors, above all *"no Qt platform plugin could be initialized"*: Qt calls its
  message handler and then aborts the process, so :func:`qt_message_handler` writes the log (with
  the warnings that led up to it) before that abort;
* an exception later in a slot (PySide6 prints it and carries on) through ``sys.excepthook``, and a
  hard crash (segfault, abort) through :mod:`faulthandler`, which writes the Python stack.

Then the user is told: a Qt message box when Qt is running on a real screen, otherwise the
platform's own dialog (a Windows MessageBox, macOS ``osascript``, ``zenity``/``kdialog``/
``xmessage`` on Linux) when there is a display. On ``offscreen`` (tests, CI) nobody could see a
dialog, so none is shown and the message goes to stderr as well.

No Qt import at module level: this must work when PySide6 itself failed to import.
"""
from __future__ import annotations

import collections
import datetime
import faulthandler
import os
import platform as platform_module
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

from gui.platform import paths

TITLE = "Descent Lab could not start"
MAX_LOG_BYTES = 1_000_000        # then the log moves to descent-lab.log.1 and a new one starts
RECENT_QT_MESSAGES = 20          # Qt warnings kept to explain a fatal error that follows them
_recent: collections.deque[str] = collections.deque(maxlen=RECENT_QT_MESSAGES)
_installed: dict = {}


def _header() -> str:
    from engine import __version__
    build = "frozen" if getattr(sys, "frozen", False) else "source"
    stamp = datetime.datetime.now().isoformat(timespec="seconds")
    return (f"=== {stamp} Descent Lab {__version__} ({build}), Python {platform_module.python_version()}, "
            f"{platform_module.platform()}, QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM', '')!r} ===")


def log_failure(text: str, log: Path | None = None) -> Path:
    """Append one dated entry to the log (made with its folders if missing); return the log's path."""
    log = Path(log) if log is not None else paths.log_path()
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        if log.stat().st_size > MAX_LOG_BYTES:
            log.replace(log.with_name(log.name + ".1"))
    except OSError:
        pass  # no log yet (or, on Windows, held open by faulthandler: it just grows)
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"{_header()}\n{text.rstrip()}\n\n")
    return log


def native_dialog_command(message: str, platform: str = sys.platform, env=os.environ,
                          which=shutil.which) -> list[str] | None:
    """The command that shows ``message`` in a dialog without Qt, or None where there is none.

    For when Qt cannot draw (no platform plugin). Linux needs a display and one of the usual
    dialog programs; Windows is handled by :func:`show_native_dialog` itself (a MessageBox).
    """
    if platform == "darwin":
        text = message.replace("\\", "\\\\").replace('"', '\\"')
        return ["osascript", "-e", f'display alert "{TITLE}" message "{text}" as critical']
    if platform.startswith("linux") and (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        for program, args in (("zenity", ["--error", f"--title={TITLE}", "--no-markup", f"--text={message}"]),
                              ("kdialog", ["--title", TITLE, "--error", message]),
                              ("xmessage", ["-center", f"{TITLE}\n\n{message}"])):
            found = which(program)
            if found:
                return [found, *args]
    return None


def show_native_dialog(message: str) -> bool:
    """Tell the user without Qt; True if a dialog was shown."""
    if sys.platform.startswith("win"):
        try:
            import ctypes
            ctypes.windll.user32.MessageBoxW(None, message, TITLE, 0x10)  # MB_ICONERROR
            return True
        except Exception:
            return False
    command = native_dialog_command(message)
    if command is None:
        return False
    try:
        subprocess.run(command, check=False, timeout=600, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return True
    except (OSError, subprocess.SubprocessError):
        return False


def _qt_can_show() -> bool:
    """A QApplication exists on a platform someone can see (not offscreen/minimal)."""
    widgets = sys.modules.get("PySide6.QtWidgets")
    if widgets is None or widgets.QApplication.instance() is None:
        return False
    return widgets.QApplication.platformName() not in ("offscreen", "minimal", "")


def show_failure(message: str) -> bool:
    """Tell the user in a dialog where one can be seen; True if one was shown."""
    if _offscreen():
        return False
    if _qt_can_show():
        from PySide6.QtWidgets import QMessageBox
        QMessageBox.critical(None, TITLE, message)
        return True
    return show_native_dialog(message)


def _offscreen() -> bool:
    """Asked to draw where nobody looks (tests, CI): then no dialog, stderr only."""
    return os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal")


def user_message(summary: str, log: Path) -> str:
    return f"{summary}\n\nThe details are in {log}"


def report_failure(text: str, log: Path | None = None) -> Path:
    """Log ``text`` (a traceback), print it to stderr, and show its last line in a dialog."""
    written = log_failure(text, log)
    if sys.stderr is not None:  # a windowed app on Windows has none
        print(text.rstrip(), file=sys.stderr)
        print(f"(written to {written})", file=sys.stderr)
    last = text.strip().splitlines()[-1] if text.strip() else "unknown error"
    show_failure(user_message(last, written))
    return written


def qt_message_handler(mode, context, message: str) -> None:
    """Qt's messages: warnings are kept (and printed); a fatal one is logged and shown before Qt aborts."""
    from PySide6.QtCore import QtMsgType
    if sys.stderr is not None:
        print(message, file=sys.stderr)
    if mode == QtMsgType.QtFatalMsg:
        text = "\n".join(["Qt fatal error:", message, "", "Qt messages before it:", *_recent])
        written = log_failure(text, _installed.get("log"))
        if not _offscreen():  # Qt cannot draw a dialog now: the platform's own one, if any
            show_native_dialog(user_message(message.splitlines()[0], written))
    else:
        _recent.append(message)


def _excepthook(kind, value, tb) -> None:
    log_failure("Uncaught exception:\n" + "".join(traceback.format_exception(kind, value, tb)),
                _installed.get("log"))
    _installed["previous_excepthook"](kind, value, tb)


def install(log: Path | None = None) -> Path:
    """Send Qt's fatal messages, uncaught exceptions and hard crashes to the log (once per process)."""
    log = Path(log) if log is not None else paths.log_path()
    if _installed.get("log") == log:
        return log
    _installed["log"] = log
    _installed.setdefault("previous_excepthook", sys.excepthook)
    sys.excepthook = _excepthook
    try:
        from PySide6.QtCore import qInstallMessageHandler
        qInstallMessageHandler(qt_message_handler)
    except ImportError:
        pass  # run_app reports the import error itself
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        _installed["fault_file"] = open(log, "a", encoding="utf-8")  # kept open: faulthandler writes on a crash
        faulthandler.enable(_installed["fault_file"])
    except OSError:
        pass
    return log
