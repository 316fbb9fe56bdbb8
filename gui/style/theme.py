"""Light and dark looks, and presenter mode for a projector (bigger type, thicker lines, more contrast).

One path styles every plot: a :class:`PlotLook` (background, foreground, axis width, type size) is
painted onto a plot by :func:`paint_plot`.  Where the look comes from is the only difference between
the two ways a view is styled:

* :func:`style_plot` takes it from the window's :class:`Theme` and presenter mode (the window calls
  it on every plot of the Training tab and of the labs, on start and at every switch);
* :func:`follow_palette` takes it from the plot's own ``QPalette`` (Base behind, Text in front) and
  keeps the plot's type size: for a plot that must read well on its own (a lab in a test, the
  form's schedule preview) and follows a light/dark switch through its ``PaletteChange``.

:func:`apply_theme` sets the application's palette and font, so a palette-following plot and a
themed one agree.  The colours themselves are in ``gui.style.palette``.
"""
from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from gui.style.palette import (
    DARK_LOOK,
    HIGHLIGHTED_TEXT,
    LIGHT_LOOK,
    MUTED_TEXT,
    PRESENTER_DARK_LOOK,
    PRESENTER_LIGHT_LOOK,
)
from gui.widgets.plotting import fit_ticks


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    base: str
    text: str
    button: str
    highlight: str
    plot_background: str
    plot_foreground: str


LIGHT = Theme("light", **LIGHT_LOOK)
DARK = Theme("dark", **DARK_LOOK)
PRESENTER_LIGHT = Theme("light", **PRESENTER_LIGHT_LOOK)
PRESENTER_DARK = Theme("dark", **PRESENTER_DARK_LOOK)

BASE_POINT_SIZE = 10
PRESENTER_SCALE = 1.4
LINE_WIDTH = 1.0
PRESENTER_LINE_WIDTH = 3.5


def pick(dark: bool, presenter: bool) -> Theme:
    if presenter:
        return PRESENTER_DARK if dark else PRESENTER_LIGHT
    return DARK if dark else LIGHT


def point_size(presenter: bool) -> float:
    """The application's type size: larger in presenter mode, for the back row."""
    return BASE_POINT_SIZE * (PRESENTER_SCALE if presenter else 1.0)


def palette_for(theme: Theme) -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.Window: theme.window, QPalette.WindowText: theme.text, QPalette.Base: theme.base,
        QPalette.AlternateBase: theme.window, QPalette.Text: theme.text, QPalette.Button: theme.button,
        QPalette.ButtonText: theme.text, QPalette.Highlight: theme.highlight,
        QPalette.HighlightedText: HIGHLIGHTED_TEXT, QPalette.ToolTipBase: theme.base,
        QPalette.ToolTipText: theme.text, QPalette.PlaceholderText: MUTED_TEXT,
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.Text, QPalette.WindowText, QPalette.ButtonText):
        palette.setColor(QPalette.Disabled, role, QColor(MUTED_TEXT))
    return palette


def apply_theme(app: QApplication, theme: Theme, presenter: bool) -> None:
    """The application palette and font, and pyqtgraph's defaults for plots made from now on; existing
    plots are styled by :func:`style_plot`."""
    app.setStyle("Fusion")  # the one style that honours a palette on every platform
    app.setPalette(palette_for(theme))
    font = QFont(app.font())
    font.setPointSizeF(point_size(presenter))
    app.setFont(font)
    pg.setConfigOptions(background=theme.plot_background, foreground=theme.plot_foreground, antialias=False)


# -- plots ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlotLook:
    """What a plot's frame is drawn in: its background; the axes, ticks, title and legend text in the
    foreground, axes ``axis_width`` px wide; type of ``point_size`` points (None: the plot keeps its own)."""
    background: QColor
    foreground: QColor
    axis_width: float = 1.0
    point_size: float | None = None


def theme_look(theme: Theme, presenter: bool) -> PlotLook:
    """A plot in the window's theme: axis and tick type one point under the application's."""
    return PlotLook(QColor(theme.plot_background), QColor(theme.plot_foreground),
                    axis_width=2 if presenter else 1, point_size=point_size(presenter) - 1)


def palette_look(palette: QPalette) -> PlotLook:
    """A plot in a widget palette's colours: Base behind, Text in front; its type as it is."""
    return PlotLook(palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text))


def paint_plot(widget: pg.PlotWidget, look: PlotLook) -> None:
    """Background, axes, tick labels, title and legend text of one existing plot, in ``look``.

    Every axis is fitted (``gui.widgets.plotting.fit_ticks``): its labels never overlap at any width.

    The background goes first: a ``ThemedPlotWidget`` reports it, and its view sets its HTML titles
    and legend rows again (their colour is baked into the HTML) once this has run.
    """
    widget.setBackground(look.background)
    item = widget.getPlotItem()
    pen = pg.mkPen(look.foreground, width=look.axis_width)
    font = None
    if look.point_size is not None:
        font = QFont()
        font.setPointSizeF(look.point_size)
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        fit_ticks(axis)              # tick density from the axis's length and its labels' width
        axis.setPen(pen)
        axis.setTextPen(pen)
        if font is not None:
            axis.setTickFont(font)
            axis.label.setFont(font)
    title = item.titleLabel
    title.item.setDefaultTextColor(QColor(look.foreground))
    if font is not None:
        title_font = QFont(font)
        title_font.setBold(True)
        title.item.setFont(title_font)
    legend = item.legend
    if legend is not None:
        legend.setLabelTextColor(look.foreground)
        if font is not None:
            legend.setLabelTextSize(f"{font.pointSizeF():.0f}pt")
        for _sample, label in legend.items:
            label.setText(label.text)     # the entries already shown take the new colour and size now


def style_plot(widget: pg.PlotWidget, theme: Theme, presenter: bool) -> None:
    """One existing plot in the window's theme (see :func:`theme_look`)."""
    paint_plot(widget, theme_look(theme, presenter))


def follow_palette(widget: pg.PlotWidget) -> None:
    """One plot in its own widget palette's colours (see :func:`palette_look`); call it again on the
    plot's ``PaletteChange`` to follow a light/dark switch."""
    paint_plot(widget, palette_look(widget.palette()))
