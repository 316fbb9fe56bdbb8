"""GUI tests: a modal question nobody answers would hold a test until its timeout, offscreen.

Every ``QMessageBox.question`` fails the test at once, with its text, unless the test answers it itself
(``monkeypatch.setattr(QMessageBox, "question", ...)`` after this fixture)."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_unanswered_question(monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    def unanswered(_parent, title, text, *args, **kwargs):
        raise AssertionError(f"a question nobody answers in a test: {title}: {text}")
    monkeypatch.setattr(QMessageBox, "question", unanswered)
