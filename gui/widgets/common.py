"""Widgets every tab uses: the red one-line error under a field, and a run's colour swatch."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QWidget

from gui.style.palette import ERROR, TRANSPARENT


def error_label() -> QLabel:
    """Red words. Only the text colour is set, never a style sheet: a style sheet on the form would
    freeze the palette of every widget under it, and a later switch to a dark palette would miss them."""
    label = QLabel()
    label.setWordWrap(True)
    pal = label.palette()
    pal.setColor(QPalette.ColorRole.WindowText, QColor(ERROR))
    label.setPalette(pal)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


def show_line(label: QLabel, line: str | None) -> None:
    """One line in a message label, shown; no line (None or ""), the label hidden (it takes no room)."""
    label.setText(line or "")
    label.setVisible(bool(line))


def swatch(color: QColor | str, size: int = 14, dashed: bool = False) -> QIcon:
    """A square of ``color`` for a list or a legend; ``dashed``: two bars, for a dashed line's key."""
    pix = QPixmap(size, size)
    if not dashed:
        pix.fill(QColor(color))
        return QIcon(pix)
    pix.fill(QColor(TRANSPARENT))
    painter = QPainter(pix)
    bar = size * 3 // 7
    for x in (0, size - bar):
        painter.fillRect(x, 0, bar, size, QColor(color))
    painter.end()
    return QIcon(pix)


def fit_column(panel: QWidget, scroll: QScrollArea | None, min_width: int) -> None:
    """A lab's controls column: ``min_width`` px, or as wide as its contents need in large type (presenter
    mode); its scroll area (when built) that width plus a vertical scroll bar, so nothing is cut sideways."""
    width = max(min_width, panel.minimumSizeHint().width())
    panel.setFixedWidth(width)
    if scroll is not None:
        scroll.setFixedWidth(width + scroll.verticalScrollBar().sizeHint().width())
