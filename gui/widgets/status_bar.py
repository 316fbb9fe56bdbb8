"""A status bar whose message never runs under its permanent labels: too long for the room left, it ends
in "…", and the whole line is its tooltip.

Qt's ``QStatusBar`` draws a message clipped at the first permanent widget (step, epoch, elapsed, speed),
mid-word: on a 1024 px projector in large type "Lesson loaded: Effective step sizes: SGD, Adam and L"
ran straight into "step 1,000".  Here :meth:`showMessage` gives Qt the message elided to the width left
(``QFontMetrics.elidedText``), and :meth:`currentMessage` still answers the whole message.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QStatusBar, QWidget

MARGIN = 24     # the status bar's own spacing around its message (its frame, the size grip), generously


class ElidingStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._permanent: list[QWidget] = []
        self._whole = ""
        self.messageChanged.connect(self._on_changed)

    def addPermanentWidget(self, widget: QWidget, stretch: int = 0) -> None:
        self._permanent.append(widget)
        super().addPermanentWidget(widget, stretch)

    def room(self) -> int:
        """Pixels left for a message: the bar's width less its permanent widgets'."""
        taken = sum(max(w.width(), w.minimumSizeHint().width()) for w in self._permanent if w.isVisible())
        return max(0, self.width() - taken - MARGIN)

    @Slot(str)
    @Slot(str, int)
    def showMessage(self, text: str, timeout: int = 0) -> None:
        self._whole = text
        shown = QFontMetrics(self.font()).elidedText(text, Qt.TextElideMode.ElideRight, self.room())
        self.setToolTip(text if shown != text else "")
        super().showMessage(shown, timeout)

    def currentMessage(self) -> str:
        return self._whole if super().currentMessage() else ""

    @Slot(str)
    def _on_changed(self, text: str) -> None:
        if not text:                    # cleared (its time ran out, or clearMessage)
            self._whole = ""
            self.setToolTip("")
