"""The legend of the four training plots: one above them in the window, one row inside a plot being exported.

A legend under each plot repeated every run four times, and in presenter mode on a 1024x768
projector the legends took more height than the curves.  So the window has one legend for all four:
the runs' colours and markers (the same colour and marker are the same run in each plot, the marker
on its evaluation points, so a grey print tells runs apart), then what each line style means;
entries wrap only between entries.  An exported plot leaves the window alone, so while it is
exported its own row (below its x axis: never over a curve) names the runs as well.
"""
from __future__ import annotations

from contextlib import contextmanager

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from gui.training.plot_runs import PlottedRun
from gui.training.plot_series import PLOTS, PlotInfo
from gui.widgets.plotting import GLYPHS, LegendRow, label_size, legend_glyph_html, plain_text, unique_entries

DIVERGED_NOTE = " (diverged: \u25b2 where it left the plot)"


def seeds_note(run: PlottedRun) -> str:
    """A multi-seed run's curves are its members' mean, its band their spread: the legend says so."""
    return f" (mean of {run.members} seeds)" if run.members > 1 else ""


def run_glyph(run: PlottedRun) -> str:
    """A run's key: a line through its marker, ``━■━``, as its evaluation curves are drawn."""
    line = GLYPHS["solid"][0]
    return f"{line}{run.marker.glyph}{line}"


class MetricLegend:
    """The label above the plots (``label``, for the view's layout) and the export rows of the view's ``widgets``."""

    def __init__(self, runs: dict[str, PlottedRun], widgets: dict[str, pg.PlotWidget]):
        self._runs = runs
        self._widgets = widgets
        self._rows: dict[str, LegendRow] = {}
        for info in PLOTS:
            row = LegendRow()
            widgets[info.key].getPlotItem().layout.addItem(row, 4, 1)   # a row below the x axis, exported with it
            row.set_collapsed(True)              # shown in exports only
            self._rows[info.key] = row
        self.label = QLabel(" ")
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setMinimumWidth(80)   # wraps instead of widening the window

    def _run_entries(self) -> list[str]:
        """Each shown run's key; when all are means of the same K seeds that is said once, after them (at
        1024x768 in large type "(mean of 16 seeds)" after every run took a line of the plots' height)."""
        shown = [r for r in self._runs.values() if r.visible]
        members = {r.members for r in shown}
        together = len(shown) > 1 and len(members) == 1 and members != {1}
        entries = [legend_glyph_html(r.color, run_glyph(r), r.name + ("" if together else seeds_note(r))
                                     + (DIVERGED_NOTE if r.diverged else "")) for r in shown]
        return entries + [f"(each the mean of {shown[0].members} seeds)"] if together else entries

    def update(self) -> None:
        """The runs' colours and markers, then what each line style means, above the plots; the runs'
        evaluation points get their markers back (a restyle, which comes before, resets them)."""
        for run in self._runs.values():
            run.mark_evaluations()
        keys = [info.key_entries for info in PLOTS if info.key_entries]
        self.label.setText(" &nbsp; ".join(self._run_entries()) + "<br>" + " &nbsp; ".join(unique_entries(keys)))
        for info in PLOTS:
            self._set_row(info, "")

    def _set_row(self, info: PlotInfo, text: str) -> None:
        plot = self._widgets[info.key].getPlotItem()
        row = self._rows[info.key]
        row.setText(text or " ", size=f"{label_size(plot):.0f}pt", color=pg.getConfigOption("foreground"))
        row.set_collapsed(not text)

    @contextmanager
    def exporting(self, key: str):
        """While a plot is exported to a file, its own legend row names the runs as well."""
        info = next(info for info in PLOTS if info.key == key)
        self._set_row(info, " &nbsp; ".join([*self._run_entries(), *filter(None, [info.key_entries])]))
        try:
            yield self._widgets[key]
        finally:
            self._set_row(info, info.key_entries)

    def text(self) -> str:
        """What a student reads as the legend above the plots: the runs, then the line styles."""
        return plain_text(self.label.text().replace("<br>", "\n"))
