"""Exporting what the Training tab shows: a plot as PNG or SVG, a run's metrics as CSV.

A plot is named by a key: ``metrics:<plot>`` (loss, accuracy, ...),
``weights:<plot>`` (the Weights tab's plots) or ``boundary``; :func:`plot_names`
lists them with their menu titles.
"""
from __future__ import annotations

from pathlib import Path


def plot_names(tab) -> list[tuple[str, str]]:
    """(key, menu title) of every plot of the Training tab ``tab``, in the File menu's order."""
    names = [(f"metrics:{k}", f"{k.replace('_', ' ').capitalize()} plot") for k in tab.plots.plot_widgets()]
    names += [(f"weights:{k}", f"Weights: {k.replace('_', ' ')}") for k in tab.histograms.plot_widgets()]
    names.append(("boundary", "Decision boundary"))
    return names


def plot_widget(tab, key: str):
    """The plot widget of that key (see :func:`plot_names`)."""
    if key == "boundary":
        return tab.boundary.plot_widget()
    group, name = key.split(":")
    return (tab.plots if group == "metrics" else tab.histograms).plot_widgets()[name]


def export_plot(tab, key: str, path: Path) -> None:
    """The plot of that key as a file: SVG when ``path`` ends in ``.svg``, else PNG.

    Everything received is drawn first, so the file shows every point, not the
    last drawn round; a metrics plot is exported as its full-history view.
    """
    tab.flush_drawing()
    if key in tab.plots.plot_widgets():
        with tab.plots.exporting(key) as widget:
            write_plot(widget, key, path)
    else:
        write_plot(plot_widget(tab, key), key, path)


def write_plot(widget, key: str, path: Path) -> None:
    """PNG through pyqtgraph's ImageExporter; SVG through Qt's own QSvgGenerator.

    pyqtgraph 0.14's SVGExporter cannot parse the path data Qt 6.11 writes
    (pyqtgraph issue #3485: "not enough values to unpack"), so SVG is
    rendered by Qt directly: still vector, and it cannot fail that way.
    """
    if Path(path).suffix.lower() == ".svg":
        from PySide6.QtCore import QRect, QSize
        from PySide6.QtGui import QPainter
        from PySide6.QtSvg import QSvgGenerator
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(QSize(widget.width(), widget.height()))
        generator.setViewBox(QRect(0, 0, widget.width(), widget.height()))
        generator.setTitle(f"Descent Lab: {key}")
        painter = QPainter(generator)
        try:
            widget.render(painter)
        finally:
            painter.end()
    else:
        import pyqtgraph.exporters as exporters
        exporter = exporters.ImageExporter(widget.getPlotItem())
        exporter.parameters()["width"] = max(1200, int(widget.width()))
        exporter.export(str(path))


def export_metrics(run, path: Path) -> None:
    """A run's whole history as ``metrics.csv`` (``engine.training.updates.MetricsLog``: the headless
    runner writes the same format), streamed block by block into an atomic file: a two-million-step run
    is never one string in memory, and a failed write leaves the old file as it was."""
    from engine.files import AtomicFile
    with AtomicFile(Path(path)) as f:
        run.log.write_csv(f)
        f.commit()
