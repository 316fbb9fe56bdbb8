"""The one x range of the four training plots: from step 0 to a stop past the furthest run, capped by the plan.

Before any step the x range is the plan (the runs' planned length); then it follows the steps
*taken*, from 0 to the next of the stops (:func:`x_stop_above`) past the furthest run, capped by
the plan: a run of 1e8 planned steps does not squeeze the others against x = 0, and runs that end at
their plan fill the width.  Fixed between stops, the axes are not laid out again on every update;
with the x range growing on every update, pyqtgraph lays out and repaints every axis each time.
Measured with benchmarks/gui_bench.py under Xvfb (a fixed range): GUI-thread stall p99 380 -> 56 ms,
refresh 23 -> 28 per second.

The plots share the range by value (:meth:`SharedXRange._follow`), not with pyqtgraph's
``setXLink``, which lines views up by screen position and so shifts a plot whose axis is wider.
"""
from __future__ import annotations

import math

import pyqtgraph as pg

from gui.training.plot_runs import PlottedRun

X_STOPS = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)   # the x range ends at one of these x 10^k (a few a decade)


def x_stop_above(x: float) -> float:
    """The smallest ``X_STOPS[i] x 10^k`` above ``x`` (> 0): where the x range ends while runs take steps.

    Growing the range by stops instead of with every update keeps the axes still between stops (an axis
    laid out again on every update was most of a redraw, see the module's docstring): about eight
    relayouts a decade of steps, and the curves always fill more than half of the width.
    """
    if x <= 0:
        return 1.0
    decade = 10.0 ** math.floor(math.log10(x))
    for factor in (*X_STOPS, 10.0):
        if factor * decade > x * (1 + 1e-12):
            return factor * decade
    return 10.0 * decade


class SharedXRange:
    """Plans, extends and links the x range of the view's ``widgets`` (the loss plot leads) over its ``runs``."""

    def __init__(self, runs: dict[str, PlottedRun], widgets: dict[str, pg.PlotWidget]):
        self._runs = runs
        self._widgets = widgets
        self._planned: dict[str, float] = {}
        self._end: float | None = None          # where the x range ends now (None: not set yet)
        self._linking = False
        for widget in widgets.values():
            widget.getPlotItem().getViewBox().sigXRangeChanged.connect(self._follow)

    def plan(self, steps: float, epochs: float, x_axis: str) -> None:
        """The planned length of the runs (0: none): the x range never goes past it."""
        self._planned = {"step": float(steps), "epoch": float(epochs)}
        self._end = None
        self.extend(x_axis)

    def restart(self, x_axis: str) -> None:
        """The range set again from scratch (the x unit changed)."""
        self._end = None
        self.extend(x_axis)

    def _taken(self, x_axis: str) -> float:
        """The furthest x any run has reached, in the current unit."""
        ends = [float(table[x_axis][-1]) for run in self._runs.values()
                for table in (run.points.steps, run.points.evals) if len(table)]
        return max(ends, default=0.0)

    def extend(self, x_axis: str) -> None:
        """The range after the runs grew: unchanged until the furthest run passes the next stop."""
        planned = self._planned.get(x_axis, 0.0)
        taken = self._taken(x_axis)
        if taken <= 0 and planned <= 0:
            end = None
        elif taken <= 0:
            end = planned       # before any step, the plan shows how long the runs will be
        else:
            end = x_stop_above(taken)
            if planned >= taken:
                end = min(end, planned)
        if end == self._end and end is not None:
            return
        self._end = end
        for widget in self._widgets.values():
            item = widget.getPlotItem()
            if end is None:
                item.enableAutoRange(x=True)
            else:
                item.enableAutoRange(x=False)
        if end is not None:
            self._widgets["loss"].getPlotItem().setXRange(0, end, padding=0.02)

    def x_range(self) -> tuple[float, float]:
        """The shared x range of the plots."""
        x0, x1 = self._widgets["loss"].getPlotItem().getViewBox().viewRange()[0]
        return float(x0), float(x1)

    def _follow(self, view, x_range) -> None:
        """The x range of one plot becomes every plot's, value for value (zoom, pan, or set here)."""
        if self._linking:
            return
        self._linking = True
        try:
            x0, x1 = (float(v) for v in x_range)
            for widget in self._widgets.values():
                box = widget.getPlotItem().getViewBox()
                if box is not view:
                    box.setXRange(x0, x1, padding=0)
        finally:
            self._linking = False
