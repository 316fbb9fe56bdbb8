"""What a projector shows, measured the way Qt lays it out: the checks the presenter-mode tests share.

``clipped_texts`` finds labels, buttons and tabs whose text does not fit them; ``clipped_cells`` the table
cells whose text is wider (or, wrapped, taller) than the cell; ``overlapping_ticks`` the
tick labels of an axis that run into each other as pyqtgraph would draw them now; ``plot_problems`` both
of those, and a title or axis label wider than its plot, for every plot inside a widget.  All of it reads
what Qt reports about fonts (sizeHint, fontMetrics, pyqtgraph's own draw specs): no pixel is compared, so
the checks hold with any installed font.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetrics, QImage, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLabel,
    QPushButton,
    QStyle,
    QStyleOptionComboBox,
    QStyleOptionViewItem,
    QTabBar,
    QTableView,
)

from gui.shell.window import MainWindow
from gui.widgets.plotting import plain_text

TIMEOUT = 60_000
PROJECTOR = (1024, 768)
FLAT_LINES = 4       # a plot's view is at least this many lines of its tick labels high: else it is flattened


def presenter_window(qtbot, settings, dark: bool, size: tuple[int, int] = PROJECTOR,
                     backend: str | None = None) -> MainWindow:
    """A shown, ready window of ``size`` in presenter mode, light or dark (``backend``: the training
    thread's, see ``gui.concurrency.training``; None for the app's own)."""
    w = MainWindow(settings=settings, backend=backend)
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    qtbot.waitUntil(lambda: w.ready, timeout=TIMEOUT)
    w.presenter_action.trigger()
    w.set_dark(dark)
    settle(qtbot, w)
    return w


def settle(qtbot, w) -> None:
    """Let layouts and the restyling (one event-loop turn later) finish."""
    for _ in range(5):
        QApplication.processEvents()
    qtbot.wait(50)
    QApplication.processEvents()


def clipped_texts(w) -> list[str]:
    """Labels, combo boxes, buttons and tabs on screen whose text does not fit in them."""
    problems = []
    for label in w.findChildren(QLabel):
        if not label.isVisibleTo(w) or not label.text().strip() or label.width() == 0:
            continue
        if label.wordWrap():     # wraps: its longest unbreakable piece must fit
            if label.minimumSizeHint().width() > label.width() + 1:
                problems.append(f"wrapped label {label.text()[:40]!r}: needs {label.minimumSizeHint().width()}, "
                                f"has {label.width()}")
        elif label.sizeHint().width() > label.width() + 1:
            problems.append(f"label {label.text()[:40]!r}: needs {label.sizeHint().width()}, has {label.width()}")
    for combo in w.findChildren(QComboBox):
        if not combo.isVisibleTo(w) or combo.width() == 0 or not combo.currentText():
            continue
        option = QStyleOptionComboBox()
        combo.initStyleOption(option)
        room = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, combo).width()
        needed = QFontMetrics(combo.font()).horizontalAdvance(combo.currentText())
        if needed > room + 1:
            problems.append(f"combo box {combo.currentText()[:40]!r}: needs {needed}, has {room}")
    for button in w.findChildren(QPushButton):
        if button.isVisibleTo(w) and button.sizeHint().width() > button.width() + 1:
            problems.append(f"button {button.text()!r}: needs {button.sizeHint().width()}, has {button.width()}")
    for bar in w.findChildren(QTabBar):
        if not bar.isVisibleTo(w):
            continue
        metrics = QFontMetrics(bar.font())
        for i in range(bar.count()):
            rect = bar.tabRect(i)
            text = bar.tabText(i).replace("&", "")
            if metrics.horizontalAdvance(text) > rect.width():
                problems.append(f"tab {text!r}: needs {metrics.horizontalAdvance(text)}, has {rect.width()}")
            if not bar.rect().contains(rect):
                problems.append(f"tab {text!r} out of its bar: {rect} in {bar.rect()}")
    return problems


def clipped_cells(root, name: str = "") -> list[str]:
    """Cells of every shown table under ``root`` whose text does not fit its cell (a table wider than its
    view scrolls sideways: that is not a cut).

    The width a cell needs is what the table's own delegate asks for (``sizeHint``: its text in the cell's
    font, by the table's ``QFontMetrics``, plus the style's margins and any colour swatch); a wrapping
    table (``wordWrap``) lays the text out at the cell's width, so an unbreakable piece wider than the
    column or wrapped lines taller than the row are caught too.  Relative to the widget's own metrics:
    no pixel of any font is assumed."""
    problems = []
    for table in root.findChildren(QTableView):
        if not table.isVisibleTo(root) or table.width() == 0:
            continue
        model, where = table.model(), f"{name} table {type(table).__name__}"
        shown = [c for c in range(model.columnCount()) if not table.isColumnHidden(c)]
        for row in range(model.rowCount()):
            if table.isRowHidden(row):
                continue
            for col in shown:
                index = model.index(row, col)
                text = str(model.data(index, Qt.ItemDataRole.DisplayRole) or "")
                if not text.strip():
                    continue
                option = QStyleOptionViewItem()
                table.initViewItemOption(option)
                option.rect = table.visualRect(index)
                needed = table.itemDelegateForIndex(index).sizeHint(option, index)
                cell = option.rect
                if needed.width() > cell.width() + 1 or needed.height() > cell.height() + 1:
                    problems.append(f"{where}: cell ({row}, {col}) {text[:40]!r} needs {needed.width()}x"
                                    f"{needed.height()}, has {cell.width()}x{cell.height()}")
    return problems


def overlapping_ticks(axis) -> list[str]:
    """Tick labels of ``axis`` that overlap as pyqtgraph would draw them now (its own draw specs)."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    if specs is None:
        return []
    rects = [(QRectF(rect), text) for rect, _flags, text in specs[2] if text and text.strip()]
    problems = []
    for i, (a, text_a) in enumerate(rects):
        for b, text_b in rects[i + 1:]:
            if a.intersects(b):
                problems.append(f"{axis.orientation}: {text_a!r} overlaps {text_b!r}")
    return problems


def _title_width(label: pg.LabelItem) -> float:
    """The width a plot title needs: if it wraps (a ``LegendRow``), its longest word; else its whole text."""
    if label.item.textWidth() > 0:
        document = label.item.document().clone()
        document.setTextWidth(0)              # wrapped as narrow as it goes: one word a line
        return document.idealWidth()
    return label.item.boundingRect().width()


def plot_problems(root, name: str = "") -> list[str]:
    """For every shown pyqtgraph plot under ``root``: overlapping tick labels on each shown axis, an axis
    label longer than its axis, a view flattened to a few lines of text, a legend box that spills out of
    its view, and a title wider than its plot (or, wrapping, a word wider than it)."""
    problems = []
    for widget in root.findChildren(pg.PlotWidget):
        if not widget.isVisibleTo(root) or widget.width() == 0:
            continue
        item = widget.getPlotItem()
        where = f"{name} plot {_plain(item.titleLabel.text)[:30]!r}"
        for side, entry in item.axes.items():
            axis = entry["item"]
            if not axis.isVisible():
                continue
            problems += [f"{where}: {p}" for p in overlapping_ticks(axis)]
            if axis.label.isVisible() and axis.labelText:
                length = axis.height() if side in ("left", "right") else axis.width()
                needed = axis.label.boundingRect().width()
                if needed > length + 1:
                    problems.append(f"{where}: {side} label {axis.labelText!r} needs {needed:.0f}, has {length:.0f}")
        view = item.getViewBox()
        lines = QFontMetrics(item.getAxis("left").style["tickFont"] or widget.font()).lineSpacing()
        if view.height() < FLAT_LINES * lines:
            problems.append(f"{where}: flattened, its view {view.height():.0f} px high, "
                            f"less than {FLAT_LINES} lines of its ticks ({FLAT_LINES * lines} px)")
        legend = item.legend
        if legend is not None and legend.isVisible() and legend.items:
            inside = view.sceneBoundingRect().adjusted(-1, -1, 1, 1)
            if not inside.contains(legend.sceneBoundingRect()):
                box = legend.sceneBoundingRect()
                problems.append(f"{where}: its legend ({box.width():.0f}x{box.height():.0f}) spills out of its "
                                f"view ({view.width():.0f}x{view.height():.0f})")
        title = item.titleLabel
        if title.isVisible() and _plain(title.text).strip():
            needed = _title_width(title)
            if needed > item.width() + 1:
                problems.append(f"{where}: title needs {needed:.0f}, plot has {item.width():.0f}")
    return problems


def _plain(text: str) -> str:
    return plain_text(text or "")
