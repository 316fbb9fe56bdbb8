"""A status bar whose message never runs under its permanent labels: too long for the room left, it ends
in "…", and the whole line is its tooltip.

Qt's ``QStatusBar`` draws a message clipped at the first permanent widget (step, epoch, elapsed, speed),
mid-word: on a 1024 px projector in large type "Lesson loaded: Effective step sizes: SGD, Adam and L"
ran straight into "step 1,000".  Here :meth:`showMessage` gives Qt the message elided to the width left
(``QFontMetrics.elidedText``), again whenever the bar or a permanent label changes width (a label's
text grows as a run trains: "step 1,000"), with the time the message has left; :meth:`currentMessage`
still answers the whole message.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QStatusBar, QWidget

MARGIN = 24         # the status bar's own spacing around its message (its frame, the size grip), generously
MESSAGE_LEFT = 6    # where Qt starts the message (QStatusBarPrivate::messageRect)


class ElidingStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._permanent: list[QWidget] = []
        self._whole = ""
        self._until: float | None = None        # when the message goes (monotonic seconds), None: it stays
        self.messageChanged.connect(self._on_changed)

    def addPermanentWidget(self, widget: QWidget, stretch: int = 0) -> None:
        self._permanent.append(widget)
        widget.installEventFilter(self)
        super().addPermanentWidget(widget, stretch)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._refit()
        return False

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._refit()

    def room(self) -> int:
        """Pixels left for a message: Qt draws it from 6 px in to just before the first permanent widget
        (``QStatusBarPrivate::messageRect``); before the bar is laid out, its width less theirs."""
        shown = [w for w in self._permanent if w.isVisible()]
        if shown and self.isVisible() and all(w.width() > 0 for w in shown):
            return max(0, min(w.x() for w in shown) - MESSAGE_LEFT - 2)
        taken = sum(max(w.width(), w.minimumSizeHint().width()) for w in shown)
        return max(0, self.width() - taken - MARGIN)

    @Slot(str)
    @Slot(str, int)
    def showMessage(self, text: str, timeout: int = 0) -> None:
        self._whole = text
        self._until = time.monotonic() + timeout / 1000 if timeout > 0 else None
        self._show(timeout)

    def _elided(self) -> str:
        return QFontMetrics(self.font()).elidedText(self._whole, Qt.TextElideMode.ElideRight, self.room())

    def _show(self, timeout: int) -> None:
        shown = self._elided()
        self.setToolTip(self._whole if shown != self._whole else "")
        super().showMessage(shown, timeout)

    def _refit(self) -> None:
        """The message elided again to the room there is now, for the time it has left."""
        if not self._whole or not super().currentMessage():
            return
        left = 0 if self._until is None else max(1, round(1000 * (self._until - time.monotonic())))
        if self._elided() != super().currentMessage():
            self._show(left)

    def currentMessage(self) -> str:
        return self._whole if super().currentMessage() else ""

    @Slot(str)
    def _on_changed(self, text: str) -> None:
        if not text:                    # cleared (its time ran out, or clearMessage)
            self._whole = ""
            self.setToolTip("")
