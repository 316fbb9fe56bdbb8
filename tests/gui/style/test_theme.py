"""One theming path: style_plot (the window's theme) and follow_palette (the plot's own palette) paint
the same parts of a plot, through paint_plot; only where the colours come from differs."""
from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QFont, QPalette

from gui.style import palette
from gui.style.theme import (
    DARK,
    LIGHT,
    PRESENTER_DARK,
    PRESENTER_LIGHT,
    follow_palette,
    palette_for,
    pick,
    point_size,
    style_plot,
)
from gui.widgets.plotting import ThemedPlotWidget

AXES = ("left", "bottom", "right", "top")


@pytest.fixture
def plot(qtbot):
    """A plot with a title, and a legend that already shows one entry."""
    widget = ThemedPlotWidget()
    qtbot.addWidget(widget)
    item = widget.getPlotItem()
    item.setTitle("Loss")
    item.addLegend()
    item.plot([0, 1], [1, 0], name="run a")
    return widget


def _legend_html(widget) -> str:
    return widget.getPlotItem().legend.items[0][1].item.toHtml()


def _painted_in(widget, background: str, foreground: str) -> None:
    item = widget.getPlotItem()
    assert widget.backgroundBrush().color().name() == QColor(background).name()
    for name in AXES:
        axis = item.getAxis(name)
        assert axis.pen().color().name() == axis.textPen().color().name() == QColor(foreground).name(), name
    assert item.titleLabel.item.defaultTextColor().name() == QColor(foreground).name()
    assert f"color:{QColor(foreground).name()}" in _legend_html(widget)   # the entry shown before, recoloured


@pytest.mark.parametrize("presenter", [False, True])
def test_style_plot_paints_the_theme_colours_width_and_type(plot, presenter):
    changed = []
    plot.background_changed.connect(lambda: changed.append(True))
    style_plot(plot, DARK, presenter)
    _painted_in(plot, DARK.plot_background, DARK.plot_foreground)
    item = plot.getPlotItem()
    size = point_size(presenter) - 1
    for name in AXES:
        assert item.getAxis(name).pen().widthF() == (2 if presenter else 1)
        assert item.getAxis(name).style["tickFont"].pointSizeF() == size
    assert item.titleLabel.item.font().bold() and item.titleLabel.item.font().pointSizeF() == size
    assert f"font-size:{size:.0f}pt" in _legend_html(plot)
    assert changed      # a ThemedPlotWidget says so, and its view sets its HTML titles again
    style_plot(plot, LIGHT, presenter)
    _painted_in(plot, LIGHT.plot_background, LIGHT.plot_foreground)


def test_follow_palette_paints_the_widget_palette_and_keeps_the_plot_type(plot):
    item = plot.getPlotItem()
    small = QFont()
    small.setPointSizeF(6.5)
    item.getAxis("left").setTickFont(small)           # a small preview's own tick type
    plot.setPalette(palette_for(DARK))
    follow_palette(plot)
    _painted_in(plot, DARK.base, DARK.text)
    assert item.getAxis("left").style["tickFont"].pointSizeF() == 6.5
    assert item.getAxis("left").pen().widthF() == 1
    custom = QPalette(plot.palette())
    custom.setColor(QPalette.ColorRole.Base, QColor(palette.PRESENTER_LIGHT_LOOK["base"]))
    custom.setColor(QPalette.ColorRole.Text, QColor(palette.PRESENTER_LIGHT_LOOK["text"]))
    plot.setPalette(custom)
    follow_palette(plot)
    _painted_in(plot, PRESENTER_LIGHT.base, PRESENTER_LIGHT.text)


def test_the_looks_are_the_palette_colours():
    assert pick(dark=False, presenter=False) is LIGHT and pick(dark=True, presenter=True) is PRESENTER_DARK
    for theme, look in ((LIGHT, palette.LIGHT_LOOK), (DARK, palette.DARK_LOOK),
                        (PRESENTER_LIGHT, palette.PRESENTER_LIGHT_LOOK), (PRESENTER_DARK, palette.PRESENTER_DARK_LOOK)):
        assert {key: getattr(theme, key) for key in look} == dict(look)
        qt = palette_for(theme)
        assert qt.color(QPalette.ColorRole.Base).name() == QColor(theme.base).name()
        assert qt.color(QPalette.ColorRole.WindowText).name() == QColor(theme.text).name()
        assert qt.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text).name() == palette.MUTED_TEXT
        assert qt.color(QPalette.ColorRole.HighlightedText).name() == palette.HIGHLIGHTED_TEXT
