"""The Help menu: the keyboard shortcuts, the lesson the app teaches, and About with the versions.

The shortcuts are read from the window's own actions when the dialog opens, so the
list is the keys that work (a lesson lab that takes Space for itself gives it back
before the list is read); the lesson is ``engine.lessons.lesson``'s Markdown, its
simulation markers naming this app's tabs; the versions are read from the installed
packages' metadata, so About never has to import torch into the window's process.
"""
from __future__ import annotations

import platform
import sys
from collections.abc import Callable
from importlib import metadata

from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

import engine
from engine.lessons.lesson import lesson_markdown
from gui.labs import LABS

# (shown name, module, its distributions as pip names them): what the app runs on.  A module this
# process has already imported gives its __version__; the others (torch lives in the training
# process) are read from the installed metadata, so About imports nothing.
PACKAGES = (("PySide6", "PySide6", ("PySide6", "PySide6_Essentials")), ("pyqtgraph", "pyqtgraph", ("pyqtgraph",)),
            ("numpy", "numpy", ("numpy",)), ("torch", "torch", ("torch",)),
            ("scikit-learn", "sklearn", ("scikit-learn",)), ("Optuna", "optuna", ("optuna",)))


def _version(module: str, distributions: tuple[str, ...]) -> str | None:
    loaded = getattr(sys.modules.get(module), "__version__", None)
    if loaded:
        return str(loaded)
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def versions() -> list[tuple[str, str]]:
    """(name, version) of the app, Python, Qt and each package the app runs on ("not found" if absent)."""
    found = [("Descent Lab", engine.__version__), ("Python", platform.python_version()), ("Qt", qVersion())]
    for shown, module, distributions in PACKAGES:
        found.append((shown, _version(module, distributions) or "not found"))
    return found


def shortcuts(window: QWidget) -> list[tuple[str, str]]:
    """(what it does, its keys) of every action of ``window`` that has a shortcut, in menu order."""
    rows = []
    for action in window.actions():
        keys = action.shortcut()
        if keys.isEmpty():
            continue
        what = action.text().replace("&", "").rstrip("…").strip()
        tip = action.toolTip().split(" (")[0]
        rows.append((tip if tip and tip != action.text() else what, keys.toString(QKeySequence.NativeText)))
    return rows


class ShortcutsDialog(QDialog):
    """A two-column table: what a key does, and the key."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcuts(window)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["What it does", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setWordWrap(True)
        for r, (what, keys) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(what))
            self.table.setItem(r, 1, QTableWidgetItem(keys))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        self.table.resizeRowsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(min(640, window.width()), min(480, window.height()))


class LessonDialog(QDialog):
    """The lesson's text, scrolling, beside the window (not modal: the class keeps working)."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.setWindowTitle("The lesson: Design and Optimization of Deep Learning")
        self.setModal(False)
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(False)
        self.browser.setMarkdown(lesson_markdown({info.key: info.title for info in LABS}))
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(min(820, window.width()), max(300, window.height() - 80))


def about_text() -> str:
    rows = "".join(f"<tr><td>{name}</td><td>&nbsp;{version}</td></tr>" for name, version in versions())
    return ("<p><b>Descent Lab</b> teaches how deep networks are optimized by letting a class watch it "
            "happen: loss curves, weight histograms and decision boundaries move live, runs side by side.</p>"
            f"<table>{rows}</table>")


class HelpMenu:
    """Fills the window's Help menu; keeps the lesson dialog so a second click raises the same one."""

    def __init__(self, window: QMainWindow, make_action: Callable[..., QAction]):
        self.window = window
        self._make_action = make_action
        self.lesson: LessonDialog | None = None
        self.shortcuts_dialog: ShortcutsDialog | None = None

    def fill(self, menu: QMenu) -> None:
        menu.addAction(self._make_action("&Keyboard shortcuts", self.show_shortcuts, QKeySequence.HelpContents))
        menu.addAction(self._make_action("The &lesson", self.show_lesson))
        menu.addSeparator()
        about = self._make_action("&About Descent Lab", self.show_about)
        about.setMenuRole(QAction.AboutRole)
        menu.addAction(about)

    def show_shortcuts(self) -> None:
        self.shortcuts_dialog = ShortcutsDialog(self.window)
        self.shortcuts_dialog.setAttribute(Qt.WA_DeleteOnClose)
        self.shortcuts_dialog.show()

    def show_lesson(self) -> None:
        if self.lesson is None:
            self.lesson = LessonDialog(self.window)
        self.lesson.show()
        self.lesson.raise_()

    def show_about(self) -> None:
        QMessageBox.about(self.window, "About Descent Lab", about_text())
