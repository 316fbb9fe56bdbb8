"""Exporting what the Training tab shows: a plot as PNG or SVG, a run's metrics as CSV.

A plot is named by a key: ``metrics:<plot>`` (loss, accuracy, ...),
``weights:<plot>`` (the Weights tab's plots) or ``boundary``; :func:`plot_names`
lists them with their menu titles.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PlotGroup:
    """One view's exportable plots: its widgets by name, each one's menu title, and the widget as it is
    exported (a context, in which the plot carries its legend: the window shows legends beside the
    plots, which a file of the plot alone would lose)."""

    widgets: Callable[[object], dict]
    title: Callable[[str], str]
    exporting: Callable[[object, str], AbstractContextManager]


# Keyed ``group:name``; a group with one plot (the boundary) is keyed by the group alone.
GROUPS: dict[str, PlotGroup] = {
    "metrics": PlotGroup(lambda tab: tab.plots.plot_widgets(),
                         lambda name: f"{name.replace('_', ' ').capitalize()} plot",
                         lambda tab, name: tab.plots.exporting(name)),
    "weights": PlotGroup(lambda tab: tab.histograms.plot_widgets(),
                         lambda name: f"Weights: {name.replace('_', ' ')}",
                         lambda tab, name: tab.histograms.exporting(name)),
    "boundary": PlotGroup(lambda tab: {"": tab.boundary.plot_widget()},
                          lambda name: "Decision boundary",
                          lambda tab, name: tab.boundary.exporting()),
}


def split_key(key: str) -> tuple[PlotGroup, str]:
    group, _, name = key.partition(":")
    if group not in GROUPS:
        raise ValueError(f"no plot {key!r}: a key starts with one of {', '.join(GROUPS)}")
    return GROUPS[group], name


def plot_names(tab) -> list[tuple[str, str]]:
    """(key, menu title) of every plot of the Training tab ``tab``, in the File menu's order."""
    return [(f"{group_key}:{name}" if name else group_key, group.title(name))
            for group_key, group in GROUPS.items() for name in group.widgets(tab)]


def plot_widget(tab, key: str):
    """The plot widget of that key (see :func:`plot_names`)."""
    group, name = split_key(key)
    return group.widgets(tab)[name]


def export_plot(tab, key: str, path: Path) -> None:
    """The plot of that key as a file: SVG when ``path`` ends in ``.svg``, else PNG, with its legend.

    Everything received is drawn first, so the file shows every point, not the
    last drawn round.
    """
    tab.flush_drawing()
    group, name = split_key(key)
    with group.exporting(tab, name) as widget:
        write_plot(widget, key, path)


def write_plot(widget, key: str, path: Path) -> None:
    """PNG through pyqtgraph's ImageExporter; SVG written from the plot's items
    (``gui.shell.svg_export``: pyqtgraph's SVGExporter fails on Qt 6.11's path data, and Qt's
    QSvgGenerator wrote pixmap atlases, cached axes and ``vector-effect`` strokes that other
    readers draw differently).

    A legend row set just before (an export's own) is laid out first, so the file holds it.
    """
    settle_layout(widget)
    if Path(path).suffix.lower() == ".svg":
        from gui.shell.svg_export import write_svg
        write_svg(widget, Path(path), f"Descent Lab: {key}")
    else:
        import pyqtgraph.exporters as exporters
        exporter = exporters.ImageExporter(widget.getPlotItem())
        exporter.parameters()["width"] = max(1200, int(widget.width()))
        exporter.export(str(path))


def settle_layout(widget) -> None:
    """Lay the plot out now: a legend row shown for the export asks for its height through the
    layout, which Qt otherwise does on a later event-loop turn, after the file is written."""
    from PySide6.QtWidgets import QApplication
    QApplication.sendPostedEvents()
    plot = widget.getPlotItem()
    plot.layout.activate()
    plot.layout.invalidate()
    plot.layout.activate()
    QApplication.sendPostedEvents()


def export_metrics(run, path: Path) -> None:
    """A run's whole history as ``metrics.csv`` (``engine.training.metrics_files.MetricsLog``: the headless
    runner writes the same format), streamed block by block into an atomic file: a two-million-step run
    is never one string in memory, and a failed write leaves the old file as it was."""
    from engine.files import AtomicFile
    with AtomicFile(Path(path)) as f:
        run.log.write_csv(f)
        f.commit()
