"""Presenter mode on a 1024x768 projector, the classroom case: the window fits, no text is cut, tick
labels never overlap, and the form folds away so the plots get the room.

Offscreen, with what Qt reports about fonts (sizeHint, fontMetrics): no pixels are compared.
"""
import pytest
from PySide6.QtCore import QRectF, QSettings
from PySide6.QtGui import QFontMetrics, QImage, QPainter
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QTabBar

from gui.shell.window import MainWindow
from gui.widgets.plotting import fit_ticks

TIMEOUT = 60_000
PROJECTOR = (1024, 768)


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


def presenter_window(qtbot, settings, dark: bool) -> MainWindow:
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(*PROJECTOR)
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
    """Labels, buttons and tabs on screen whose text does not fit in them."""
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


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_presenter_window_fits_a_projector(qtbot, settings, dark):
    w = presenter_window(qtbot, settings, dark)
    hint = w.minimumSizeHint()
    assert hint.width() <= PROJECTOR[0] and hint.height() <= PROJECTOR[1], hint
    minimum = w.minimumSize()
    assert minimum.width() <= PROJECTOR[0] and minimum.height() <= PROJECTOR[1]
    assert w.width() <= PROJECTOR[0] and w.height() <= PROJECTOR[1]   # it did not grow past the screen
    w.look.form_action.trigger()            # the form unfolded fits too
    settle(qtbot, w)
    hint = w.minimumSizeHint()
    assert hint.width() <= PROJECTOR[0] and hint.height() <= PROJECTOR[1], hint
    w.close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_no_text_is_clipped_at_1024x768(qtbot, settings, dark):
    w = presenter_window(qtbot, settings, dark)
    assert clipped_texts(w) == []
    w.tabs.setCurrentWidget(w.histograms)
    settle(qtbot, w)
    assert clipped_texts(w) == []
    w.close()


def test_metric_plot_ticks_do_not_overlap(qtbot, settings):
    w = presenter_window(qtbot, settings, dark=False)
    for _unfolded in (True, False):
        w.look.form_action.trigger()        # folded and unfolded: two widths of every plot
        settle(qtbot, w)
        for key, widget in w.plots.plot_widgets().items():
            item = widget.getPlotItem()
            item.setXRange(0, 2000, padding=0)   # labels as wide as a lesson's: 500, 1000, 1500
            settle(qtbot, w)
            for name in ("left", "bottom"):
                assert overlapping_ticks(item.getAxis(name)) == [], key
    w.close()


def test_fitted_axis_spaces_wide_labels_on_a_narrow_plot(qtbot):
    import pyqtgraph as pg
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(160, 120)
    widget.show()
    axis = widget.getPlotItem().getAxis("bottom")
    fit_ticks(axis)
    widget.getPlotItem().setXRange(0, 200_000, padding=0)
    qtbot.wait(20)
    assert overlapping_ticks(axis) == []
    labelled = axis.tickValues(0, 200_000, axis.width())[0][1]
    assert 2 <= len(labelled) <= 3      # 0, 100000, 200000 at most on 120 px


def test_the_form_folds_away_and_comes_back(qtbot, settings):
    w = presenter_window(qtbot, settings, dark=False)
    assert w.look.form_action.isChecked() and w.training_tab.form_folded   # folded by default on a projector
    assert not w.form.isVisible()
    w.look.form_action.trigger()
    settle(qtbot, w)
    assert not w.training_tab.form_folded and w.form.isVisible()
    w.look.form_action.trigger()
    assert w.training_tab.form_folded
    w.presenter_action.trigger()            # at the desk the form is back, as it was there
    assert not w.training_tab.form_folded and not w.look.form_action.isChecked()
    w.close()
    again = MainWindow(settings=settings, start_training_thread=False)
    qtbot.addWidget(again)
    assert not again.look.form_folded        # remembered: the desk look, unfolded
    again.presenter_action.trigger()
    assert again.look.form_folded            # and presenter mode, folded
