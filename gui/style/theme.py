"""Light and dark looks, and presenter mode for a projector (bigger type, thicker lines, more contrast)."""
from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication


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


LIGHT = Theme("light", window="#f3f3f3", base="#ffffff", text="#1b1b1b", button="#e8e8e8",
              highlight="#2f6fce", plot_background="#ffffff", plot_foreground="#303030")
DARK = Theme("dark", window="#23262b", base="#1a1c20", text="#e8e8e8", button="#33373d",
             highlight="#4f8fee", plot_background="#14161a", plot_foreground="#d0d0d0")
# Presenter mode pushes contrast to the end: projectors wash out greys.
PRESENTER_LIGHT = Theme("light", window="#ffffff", base="#ffffff", text="#000000", button="#eeeeee",
                        highlight="#0044cc", plot_background="#ffffff", plot_foreground="#000000")
PRESENTER_DARK = Theme("dark", window="#000000", base="#1c1c1c", text="#ffffff", button="#3a3a3a",
                       highlight="#3d8bff", plot_background="#000000", plot_foreground="#ffffff")

BASE_POINT_SIZE = 10
PRESENTER_SCALE = 1.4
LINE_WIDTH = 1.0
PRESENTER_LINE_WIDTH = 3.5


def pick(dark: bool, presenter: bool) -> Theme:
    if presenter:
        return PRESENTER_DARK if dark else PRESENTER_LIGHT
    return DARK if dark else LIGHT


def palette_for(theme: Theme) -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.Window: theme.window, QPalette.WindowText: theme.text, QPalette.Base: theme.base,
        QPalette.AlternateBase: theme.window, QPalette.Text: theme.text, QPalette.Button: theme.button,
        QPalette.ButtonText: theme.text, QPalette.Highlight: theme.highlight,
        QPalette.HighlightedText: "#ffffff", QPalette.ToolTipBase: theme.base, QPalette.ToolTipText: theme.text,
        QPalette.PlaceholderText: "#8a8a8a",
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.Text, QPalette.WindowText, QPalette.ButtonText):
        palette.setColor(QPalette.Disabled, role, QColor("#8a8a8a"))
    return palette


def apply_theme(app: QApplication, theme: Theme, presenter: bool) -> None:
    """The application palette and font; plots are styled by :func:`style_plot`."""
    app.setStyle("Fusion")  # the one style that honours a palette on every platform
    app.setPalette(palette_for(theme))
    font = QFont(app.font())
    font.setPointSizeF(BASE_POINT_SIZE * (PRESENTER_SCALE if presenter else 1.0))
    app.setFont(font)
    pg.setConfigOptions(background=theme.plot_background, foreground=theme.plot_foreground, antialias=False)


def style_plot(widget: pg.PlotWidget, theme: Theme, presenter: bool) -> None:
    """Background, axes and tick labels of one existing plot, to match the theme."""
    widget.setBackground(theme.plot_background)
    item = widget.getPlotItem()
    pen = pg.mkPen(theme.plot_foreground, width=2 if presenter else 1)
    font = QFont()
    font.setPointSizeF(BASE_POINT_SIZE * (PRESENTER_SCALE if presenter else 1.0) - 1)
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        axis.setPen(pen)
        axis.setTextPen(pen)
        axis.setTickFont(font)
        axis.label.setFont(font)
    title = item.titleLabel
    title.item.setDefaultTextColor(QColor(theme.plot_foreground))
    title_font = QFont(font)
    title_font.setBold(True)
    title.item.setFont(title_font)
    if item.legend is not None:
        item.legend.setLabelTextColor(theme.plot_foreground)
        item.legend.setLabelTextSize(f"{font.pointSizeF():.0f}pt")


def follow_palette(widget: pg.PlotWidget) -> None:
    """A plot drawn in the widget palette's colours: background, axes and its legend's text.

    For the lab tabs, which must read well on their own (in tests, or before the
    window styles them) and follow a light/dark switch through ``PaletteChange``.
    """
    palette = widget.palette()
    widget.setBackground(palette.color(QPalette.ColorRole.Base))
    text = palette.color(QPalette.ColorRole.Text)
    item = widget.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(text)
        axis.setTextPen(text)
    if item.legend is not None:
        item.legend.setLabelTextColor(text)
        for _sample, label in item.legend.items:
            label.setText(label.text, color=QColor(text))
