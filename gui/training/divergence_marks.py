"""Diverged runs on the loss and gradient-norm plots: the y range follows the runs still finite and sane.

A run at lr 10 reaches a loss of 1.5e7 in a few steps; drawn whole, it turns every healthy run into a
flat line at 0.  So on a capped plot (:data:`CAPPED`) a diverged run is drawn only up to its first
step whose value is not finite or above ``HEADROOM x ceiling``, where the *ceiling* is the largest
value the healthy runs hold (the diverged runs' first values when every run diverged), and a
triangle in its colour marks, at the top edge of what is drawn, where it left.  Its data stay whole
(``curve_data``); only the drawing is cut.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from engine.training.updates import RunUpdate
from gui.training.plot_runs import PlottedRun

HEADROOM = 2.0              # a diverged run is drawn while it stays below this many times the healthy runs' peak
DIVERGED_SYMBOL = "t1"      # a triangle pointing up: the run went off the top here

# The plots a diverged run must not flatten, and the values (table, column) each one draws.
CAPPED: dict[str, tuple[tuple[str, str], ...]] = {
    "loss": (("steps", "loss"), ("evals", "train_loss"), ("evals", "val_loss")),
    "grad_norm": (("steps", "grad_norm"),),
}


def finite_max(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if len(finite) else -math.inf


def note_peaks(run: PlottedRun, update: RunUpdate) -> None:
    """The run's largest finite value on each capped plot, grown by the update's new points."""
    for plot, sources in CAPPED.items():
        for table, column in sources:
            values = getattr(update.steps if table == "steps" else update.evals, column)
            if len(values):
                run.peaks[plot] = max(run.peaks.get(plot, -math.inf), finite_max(values))


def exit_point(run: PlottedRun, plot: str, limit: float) -> tuple[float, int] | None:
    """``(limit, first step not drawn)``: the first step with a value above ``limit`` or not finite.

    Sets ``run.kept_peaks[plot]``, the largest value drawn before it (where the mark sits).
    """
    exit_step: int | None = None
    kept = -math.inf
    for table_name, column in CAPPED[plot]:
        table = run.points.table(table_name)
        values = table[column]
        bad = ~np.isfinite(values) | (values > limit)
        if bad.any():
            step = int(table["step"][int(np.argmax(bad))])
            exit_step = step if exit_step is None else min(exit_step, step)
    if exit_step is None:
        run.kept_peaks.pop(plot, None)
        return None
    for table_name, column in CAPPED[plot]:
        table = run.points.table(table_name)
        kept = max(kept, finite_max(table[column][:int(np.searchsorted(table["step"], exit_step))]))
    run.kept_peaks[plot] = kept
    return (limit, exit_step)


class DivergenceMarks:
    """Where each diverged run is cut on the capped plots, and the triangles that mark it.

    Works on the view's own ``runs`` and ``widgets`` (the same dicts, not copies).
    """

    def __init__(self, runs: dict[str, PlottedRun], widgets: dict[str, pg.PlotWidget]):
        self._runs = runs
        self._widgets = widgets

    def ceiling(self, plot: str) -> float | None:
        """The top of the sane range of a capped plot: the largest value of the runs that did not diverge
        (of the diverged runs' first values when every run diverged)."""
        healthy = [r.peaks[plot] for r in self._runs.values()
                   if not r.diverged and math.isfinite(r.peaks.get(plot, -math.inf))]
        if healthy:
            return max(healthy)
        column = CAPPED[plot][0][1]
        firsts = [float(r.points.steps[column][0]) for r in self._runs.values()
                  if r.diverged and len(r.points.steps) and math.isfinite(r.points.steps[column][0])]
        return max(firsts) if firsts else None

    def review(self, x_axis: str) -> None:
        """Cut each diverged run where it left the sane range (``HEADROOM`` x :meth:`ceiling`) and mark it.

        The autorange then follows the runs still finite and sane, so one run at 1.5e7 no longer turns the
        healthy ones into a line at 0.  Recomputed only when a limit or a status changes.
        """
        for plot in CAPPED:
            ceiling = self.ceiling(plot)
            limit = None if ceiling is None else HEADROOM * max(ceiling, 0.0)
            for run in self._runs.values():
                old = run.cuts.get(plot)
                if not run.diverged or limit is None:
                    new = None
                elif old is not None and old[0] == limit:
                    continue
                else:
                    new = exit_point(run, plot, limit)
                if new == old:
                    continue
                if new is None:
                    run.cuts.pop(plot, None)
                else:
                    run.cuts[plot] = new
                run.redraw(x_axis, plot)
            self._place_marks(plot, ceiling, x_axis)

    def replace(self, x_axis: str) -> None:
        """The marks moved to the x unit now shown."""
        for plot in CAPPED:
            self._place_marks(plot, self.ceiling(plot), x_axis)

    def _place_marks(self, plot: str, ceiling: float | None, x_axis: str) -> None:
        """A triangle in the run's colour at the top edge of the plot, at the run's last sane step."""
        cut_runs = [r for r in self._runs.values() if plot in r.cuts]
        tops = [r.kept_peaks.get(plot, -math.inf) for r in cut_runs] + [ceiling if ceiling is not None else -math.inf]
        top = max(tops)
        item = self._widgets[plot].getPlotItem()
        for run in self._runs.values():
            if plot not in run.cuts or not math.isfinite(top):
                mark = run.marks.pop(plot, None)
                if mark is not None:
                    item.removeItem(mark)
                continue
            steps = run.points.steps
            n = int(np.searchsorted(steps["step"], run.cuts[plot][1]))
            index = max(n - 1, 0)
            x = float(steps[x_axis][index]) if len(steps) else 0.0
            mark = run.marks.get(plot)
            if mark is None:
                mark = pg.PlotDataItem(pen=None, symbol=DIVERGED_SYMBOL, symbolSize=13,
                                       symbolBrush=run.color, symbolPen=pg.mkPen(run.color))
                mark.setZValue(5)
                item.addItem(mark)
                run.marks[plot] = mark
            mark.setData([x], [top])
            mark.setVisible(run.visible)
            step = int(steps["step"][index]) if len(steps) else 0
            mark.setToolTip(f"{run.name} diverged: it left the plot after step {step:,}")

    def drop(self, run: PlottedRun) -> None:
        """The run's marks removed and its cuts forgotten (it was removed or restarts)."""
        for plot, mark in run.marks.items():
            self._widgets[plot].getPlotItem().removeItem(mark)
        run.marks.clear()
        run.cuts.clear()
        run.kept_peaks.clear()

    def position(self, run_id: str, plot: str) -> tuple[float, float] | None:
        """Where a diverged run's mark sits on a capped plot (x in the current unit, y), or None."""
        mark = self._runs[run_id].marks.get(plot)
        if mark is None:
            return None
        x, y = mark.getOriginalDataset()
        return float(x[0]), float(y[0])
