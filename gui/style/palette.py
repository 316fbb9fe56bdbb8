"""Every colour of the window: the looks (light, dark, presenter), one per run, one per class, and
the few marks that mean one thing (a clipped step, an error, a run's final status).

A colour is spelled here once, with what it is for, and the views use it by name
(``tests/gui/style/test_palette.py`` finds any colour literal spelled elsewhere in ``gui/``).

Run colours are lines on a plot whose background the user may choose light or
dark (a projector in a lit room wants white, a screen at night black).  A line
is readable when its contrast with the background is at least 3:1 (WCAG 2.1,
"non-text contrast").  With relative luminance L (sRGB, linearized), the
contrast of two colours is (L1 + 0.05) / (L2 + 0.05); against white (L = 1)
and near-black (#1e1e1e, L = 0.013) both stay >= 3 only for 0.11 <= L <= 0.30,
checked by ``tests/gui/training/test_metric_plots.py``.

They must also stay apart for the one student in twelve who sees colour
differently.  The first four are Okabe and Ito's colour-blind-safe blue,
vermillion, bluish green and reddish purple (all four inside the luminance band);
the other four were picked, one at a time, as the colour in that band farthest
from those already chosen, where "far" is the smallest CIELAB distance over
normal sight and the three dichromacies simulated with Machado, Oliveira and
Fernandes' (2009) matrices at full severity.  Every pair of the eight stays at
least 15 CIELAB units apart in every one of the four views
(``tests/gui/style/test_palette.py``).  Marker shapes tell runs apart where colour
cannot (a grey handout, a washed-out projector): run ``i``'s evaluation points are
``RUN_MARKERS[i % 8]`` (a circle, a square, a diamond, a star, ...), in the plots and
in the legend.  Not dashes: in the metric plots a dashed line already means the
validation set.  There are as many markers as colours, so a view that knows only a
run's colour knows its marker too (:func:`run_marker_of`).

Class colours fill the decision-boundary plot, where the background is always
pale (uncertain regions fade toward it), so they follow Okabe and Ito's
colour-blind-safe set: two classes, the common case, are blue and vermillion,
which every form of colour blindness tells apart.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from PySide6.QtGui import QColor

from engine.status import RunStatus

# -- the looks ----------------------------------------------------------------------------------------
# One set of roles per look, read by gui.style.theme (its Theme fields): window (panes), base (fields,
# lists), text, button, highlight (selection, default button), plot_background, plot_foreground (axes,
# ticks, titles).  Presenter mode pushes contrast to the end: projectors wash out greys.

LIGHT_LOOK = MappingProxyType(dict(
    window="#f3f3f3", base="#ffffff", text="#1b1b1b", button="#e8e8e8", highlight="#2f6fce",
    plot_background="#ffffff", plot_foreground="#303030"))
DARK_LOOK = MappingProxyType(dict(
    window="#23262b", base="#1a1c20", text="#e8e8e8", button="#33373d", highlight="#4f8fee",
    plot_background="#14161a", plot_foreground="#d0d0d0"))
PRESENTER_LIGHT_LOOK = MappingProxyType(dict(
    window="#ffffff", base="#ffffff", text="#000000", button="#eeeeee", highlight="#0044cc",
    plot_background="#ffffff", plot_foreground="#000000"))
PRESENTER_DARK_LOOK = MappingProxyType(dict(
    window="#000000", base="#1c1c1c", text="#ffffff", button="#3a3a3a", highlight="#3d8bff",
    plot_background="#000000", plot_foreground="#ffffff"))
HIGHLIGHTED_TEXT = "#ffffff"      # text on the highlight colour (a selected row), in every look
MUTED_TEXT = "#8a8a8a"            # placeholder text and disabled text: mid grey, readable on light and dark

# -- runs and classes ---------------------------------------------------------------------------------

RUN_COLORS: tuple[str, ...] = (
    "#0072B2",  # blue (Okabe-Ito)
    "#D55E00",  # vermillion (Okabe-Ito)
    "#009E73",  # bluish green (Okabe-Ito)
    "#CC79A7",  # reddish purple (Okabe-Ito)
    "#9326FF",  # violet
    "#DF0043",  # crimson
    "#FF00E6",  # magenta
    "#49733F",  # moss
)



@dataclass(frozen=True)
class RunMarker:
    """The shape of a run's evaluation points: ``symbol`` as pyqtgraph names it, ``glyph`` the same shape
    as text (a legend).  Filled shapes only, so a filled marker (train set) and an open one (val set)
    stay apart; none is the upward triangle that marks where a diverged run left the plot."""
    symbol: str
    glyph: str


RUN_MARKERS: tuple[RunMarker, ...] = (
    RunMarker("o", "\u25cf"),       # circle
    RunMarker("s", "\u25a0"),       # square
    RunMarker("d", "\u25c6"),       # diamond
    RunMarker("star", "\u2605"),    # star
    RunMarker("t", "\u25bc"),       # triangle, pointing down
    RunMarker("h", "\u2b22"),       # hexagon
    RunMarker("p", "\u2b1f"),       # pentagon
    RunMarker("t2", "\u25b6"),      # triangle, pointing right
)

CLASS_COLORS: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#8C564B",  # brown
    "#6A3D9A",  # purple
    "#7F7F7F",  # grey
)

BOUNDARY_BACKGROUND = "#FFFFFF"   # what an undecided region of the boundary plot fades to
POINT_OUTLINE = "#202020"         # dark edge that keeps a training point visible on its own class's tint
CLIPPED_MARK = "#FF2020"          # steps whose gradient grad_clip scaled down
ERROR = "#e5484d"                 # invalid input (outline, one-line message): reads on light and dark alike
NEUTRAL = "#9A9A9A"               # legend keys that describe a line style, not a run
ZERO_LINE = "#888888"             # the zero line under a signed curve (the regularization lab's gap)
# The regularization lab's bars, beside its runs' gap lines, so in no run's colour: accuracies in a grey that
# reads on light and dark (train filled, validation open, as the metric plots mark the two sets), the gap in
# Okabe and Ito's orange, of the palette's colours the farthest from every run colour (at least 17 CIELAB
# units in normal sight and each dichromacy: tests/gui/labs/test_lab_colours.py).
ACCURACY_BAR = "#767676"
GAP_BAR = "#E69F00"
TRANSPARENT = "#00000000"         # nothing: the background of a dashed swatch
# The trajectories map: loss from low (light sand) to high (dusk), under coloured paths.
MAP_COLORS = ("#fbf8ef", "#ece3c9", "#d9cbab", "#bdb09b", "#9a94a0", "#77748a")
MARK_FILL, MARK_EDGE = "#ffffff", "#000000"     # the minima's stars and the start: white with a black edge
CONTOUR = "#46000000"             # the map's contour lines: black at alpha 70 (#AARRGGBB, as QColor reads it)

# A run's status in the run list, where it ended unusually or well (the other statuses keep the text colour):
# Okabe and Ito's vermillion and bluish green, told apart by every form of colour blindness.
STATUS_COLORS = MappingProxyType({
    RunStatus.DIVERGED: "#d55e00",    # vermillion: the loss blew up
    RunStatus.ERROR: "#cc3311",       # red: the run itself failed
    RunStatus.FINISHED: "#009e73",    # bluish green: every planned step taken
})


def run_color(index: int) -> QColor:
    """The colour of the ``index``-th run (0-based), cycling after ``len(RUN_COLORS)``."""
    return QColor(RUN_COLORS[index % len(RUN_COLORS)])


def run_marker(index: int) -> RunMarker:
    """The marker of the ``index``-th run's evaluation points, cycling with its colour (as many of each)."""
    return RUN_MARKERS[index % len(RUN_MARKERS)]


def run_marker_of(color: QColor | str) -> RunMarker:
    """The marker of the run drawn in ``color``: the marker of the same index as the colour (the first
    marker for a colour that is no run's)."""
    name = QColor(color).name().lower()
    for index, run in enumerate(RUN_COLORS):
        if run.lower() == name:
            return run_marker(index)
    return RUN_MARKERS[0]


def class_color(index: int) -> QColor:
    """The colour of class ``index``; the datasets have at most 10 classes, more cycle."""
    return QColor(CLASS_COLORS[index % len(CLASS_COLORS)])


def class_rgb(n_classes: int) -> np.ndarray:
    """(n_classes, 3) float array of the class colours in [0, 255], for vectorized image blending."""
    return np.array([class_color(k).getRgb()[:3] for k in range(n_classes)], dtype=np.float64)


def with_alpha(color: QColor, alpha: int) -> QColor:
    """A copy of ``color`` with opacity ``alpha`` in 0..255 (the faint raw curves, histogram fills)."""
    faded = QColor(color)
    faded.setAlpha(alpha)
    return faded
