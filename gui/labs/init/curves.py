"""How the init lab draws a scheme: its colour and line style, a std on a log axis, the legend's words.

One fixed colour per scheme (registry order), so a scheme keeps its colour
whichever are checked; the ``*_uniform`` schemes are dashed, the normal ones
solid.  A std that is exactly 0 has no place on a log axis, so it is drawn on
a floor one decade below the smallest positive value shown, and an overflow
(``inf``/``nan``) is left out; the legend says which.
"""
from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from engine.model.inits import INITS
from gui.style.palette import NEUTRAL, RUN_COLORS

SCHEME_COLORS: dict[str, str] = {name: RUN_COLORS[i % len(RUN_COLORS)] for i, name in enumerate(INITS)}


def scheme_color(scheme: str) -> str:
    return SCHEME_COLORS.get(scheme, NEUTRAL)


def dashed(scheme: str) -> bool:
    return scheme.endswith("_uniform")


def scheme_pen(scheme: str, width: float = 2.0):
    style = Qt.DashLine if dashed(scheme) else Qt.SolidLine
    return pg.mkPen(scheme_color(scheme), width=width, style=style)


def scheme_label(scheme: str, std: float) -> str:
    """The scheme's name; ``normal`` with its std, the one scheme whose numbers depend on a setting."""
    return f"normal (std {std:g})" if scheme == "normal" else scheme


def fmt_std(value: float) -> str:
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return "overflow"
    return f"{value:.2g}"


def log_curve(values: np.ndarray, floor: float) -> tuple[np.ndarray, str]:
    """Values ready for a log axis: exact zeros drawn at ``floor``, non-finite ones left out (nan).

    Returns them and a legend note ("", "= 0", "0 from layer 7", "overflow from layer 31").
    """
    values = np.asarray(values, dtype=np.float64)
    out = values.copy()
    finite = np.isfinite(values)
    zero = values == 0
    out[zero] = floor
    out[~finite] = np.nan
    note = ""
    if not finite.all():
        note = f"overflow from layer {int(np.argmin(finite)) + 1}"
    elif zero.all():
        note = "= 0"
    elif zero.any():
        note = f"0 from layer {int(np.argmax(zero)) + 1}"
    return out, note


def log_floor(arrays: list[np.ndarray]) -> float:
    """A level one decade below the smallest positive finite value shown (where "exactly 0" is drawn)."""
    positive = [a[np.isfinite(a) & (a > 0)] for a in arrays]
    positive = [p for p in positive if p.size]
    if not positive:
        return 1e-3
    smallest = min(float(p.min()) for p in positive)
    return 10.0 ** (math.floor(math.log10(smallest)) - 1)


def legend_html(entries: list[tuple[str, str]]) -> str:
    """A legend as one wrapped line of rich text: a line key in the scheme's colour, then the text."""
    parts = []
    for scheme, text in entries:
        key = "╍╍" if dashed(scheme) else "━━"
        parts.append(f"<span style='color:{scheme_color(scheme)}'><b>{key}</b></span>"
                     f"&nbsp;{html.escape(text).replace(' ', '&nbsp;')}")
    return " &nbsp; ".join(parts)
