"""The Help menu: the shortcuts that work, the lesson's text, and About with the versions installed."""
from __future__ import annotations

import os
from importlib import metadata

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox

from gui.shell import help as help_menu
from gui.shell.window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path):
    # The thread backend: a process backend spawns its training process even when the thread is not
    # started, and closing the window then waits for it to load torch (seconds a test, for nothing here).
    window = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), start_training_thread=False,
                        backend="thread")
    qtbot.addWidget(window)
    return window


def help_actions(window) -> list[str]:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_the_help_menu_has_shortcuts_the_lesson_and_about(window):
    assert help_actions(window) == ["&Keyboard shortcuts", "The &lesson", "&About Descent Lab"]


def test_the_shortcuts_listed_are_the_window_actions_keys(window):
    rows = dict(help_menu.shortcuts(window))
    assert rows["Start or pause every run"] == "Space"
    assert rows["Open experiment or run list"] == QKeySequence(QKeySequence.Open).toString(QKeySequence.NativeText)
    dialog = help_menu.ShortcutsDialog(window)
    shown = {(dialog.table.item(r, 0).text(), dialog.table.item(r, 1).text()) for r in range(dialog.table.rowCount())}
    assert shown == set(rows.items()) and len(shown) >= 6
    # a key taken away (a lesson lab takes Space) is no longer listed
    window.start_action.setShortcut(QKeySequence())
    assert "Start or pause every run" not in dict(help_menu.shortcuts(window))


def test_the_lesson_dialog_shows_the_lesson_with_readable_maths(window, qtbot):
    window.help.show_lesson()
    dialog = window.help.lesson
    qtbot.waitExposed(dialog)
    text = dialog.browser.toPlainText()
    for words in ("Stochastic gradient descent", "The hyperparameter search: a detective story", "Challenge",
                  "θₜ₊₁ = θₜ − η ĝₜ", "the Trajectories tab shows this section"):
        assert words in text
    assert "$" not in text and "\\frac" not in text
    window.help.show_lesson()
    assert window.help.lesson is dialog          # the same dialog, raised


def test_about_names_the_versions_installed(window, monkeypatch):
    said = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: said.append((title, text)))
    window.help.show_about()
    (title, text), = said
    assert title == "About Descent Lab"
    assert f"numpy</td><td>&nbsp;{np.__version__}" in text
    assert f"torch</td><td>&nbsp;{metadata.version('torch')}" in text
    versions = dict(help_menu.versions())
    import PySide6
    assert versions["PySide6"] == PySide6.__version__ and versions["Python"].count(".") == 2
