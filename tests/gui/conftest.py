"""GUI tests collect garbage on the GUI thread only, as the app does (:mod:`gui.concurrency.collector`: a
worker thread that collects Qt objects can deadlock with the GUI thread), and a modal dialog nobody answers would hold a test forever, offscreen (a nested event loop
that no timeout of a Python thread can always break).

Every static modal box and file dialog (``QMessageBox.question``, ``critical``, ``warning``,
``information``, ``about``; ``QFileDialog.getOpenFileName``, ``getSaveFileName``,
``getExistingDirectory``) fails the test at once, with its title and text, unless the test answers it
itself (``monkeypatch.setattr(QMessageBox, "critical", ...)`` after this fixture)."""
from __future__ import annotations

import pytest

BOXES = ("question", "critical", "warning", "information", "about")
FILE_DIALOGS = ("getOpenFileName", "getSaveFileName", "getExistingDirectory")


def _unanswered(kind: str):
    def unanswered(_parent=None, title="", text="", *args, **kwargs):
        raise AssertionError(f"a modal {kind} nobody answers in a test: {title}: {text}")
    return unanswered


@pytest.fixture(autouse=True)
def no_unanswered_dialog(monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QMessageBox
    for name in BOXES:
        monkeypatch.setattr(QMessageBox, name, _unanswered(f"QMessageBox.{name}"))
    for name in FILE_DIALOGS:
        monkeypatch.setattr(QFileDialog, name, _unanswered(f"QFileDialog.{name}"))


@pytest.fixture(scope="session", autouse=True)
def garbage_collected_on_the_gui_thread(qapp):
    from gui.concurrency.collector import collect_on_gui_thread
    collect_on_gui_thread()
