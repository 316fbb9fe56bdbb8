"""Presenter mode on a 1024x768 projector, the classroom case: the window fits, no text is cut, tick
labels never overlap, and the form folds away so the plots get the room.

Offscreen, with what Qt reports about fonts (sizeHint, fontMetrics): no pixels are compared.
"""
import pytest
from PySide6.QtCore import QSettings

from gui.shell.window import MainWindow
from gui.widgets.plotting import fit_ticks
from tests.gui.shell.layout_checks import (
    PROJECTOR,
    clipped_texts,
    overlapping_ticks,
    presenter_window,
    settle,
)


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


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


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_a_multi_seed_runs_band_choice_fits_a_projector_too(qtbot, settings, dark):
    """The band choice appears only while a multi-seed run is plotted, and with it the window still fits."""
    from PySide6.QtGui import QColor

    from gui.training.metric_plots import MetricPlots
    from tests.gui.training.test_bands import multi_seed_update
    w = presenter_window(qtbot, settings, dark)
    plots = w.findChild(MetricPlots)
    assert plots.controls.band_combo.isHidden()
    plots.add_run("bands", "adam", QColor("#1f77b4"))
    plots.append(multi_seed_update("bands")[0])
    settle(qtbot, w)
    assert not plots.controls.band_combo.isHidden()
    hint = w.minimumSizeHint()
    assert hint.width() <= PROJECTOR[0] and hint.height() <= PROJECTOR[1], hint
    plots.remove_run("bands")
    assert plots.controls.band_combo.isHidden()
    w.close()
