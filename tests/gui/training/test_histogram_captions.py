"""The Weights plots say what they are: in words (``HistogramView.legend_text``) and inside an exported file,
where the window's run picker, layer list and keys under the plots are not."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from types import SimpleNamespace

import numpy as np
import pytest

from engine.training.events import ActivationStats, Histogram, HistogramEvent, LayerHistogram
from engine.training.updates import EMPTY_EVALS, EMPTY_STEPS, RunUpdate
from gui.shell import export
from gui.style.palette import run_color
from gui.training.histograms import HistogramView
from gui.widgets.plotting import LegendRow, plain_text


def histogram(values: np.ndarray) -> Histogram:
    counts, edges = np.histogram(values, 20)
    return Histogram(counts, edges, float(values.mean()), float(values.std()))


def update(run_id: str, step: int, scale: float) -> RunUpdate:
    rng = np.random.default_rng(step)
    layers = tuple(LayerHistogram(name, histogram(rng.normal(size=300) * scale), histogram(rng.normal(size=300) * 1e-3))
                   for name in ("hidden1.weight", "out.weight"))
    event = HistogramEvent(step, layers, (ActivationStats("hidden1", 0.0, scale), ActivationStats("out", 0.0, scale / 2)))
    return RunUpdate(run_id, "running", "", step, 0.0, 1.0, EMPTY_STEPS, EMPTY_EVALS, histograms=(event,))


@pytest.fixture
def view(qtbot):
    view = HistogramView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    view.add_run("a", "wide init", run_color(0))
    view.add_run("b", "narrow init", run_color(1))
    view.append(update("a", 40, 1.0))
    view.append(update("b", 40, 0.1))
    view.select_layer("out.weight")
    return view


def svg_words(path) -> str:
    root = ET.parse(path).getroot()
    return " ".join(el.text or "" for el in root.iter() if el.tag.endswith(("text", "title"))).replace("\xa0", " ")


def test_each_weights_plot_says_whose_which_layer_and_what(view):
    hist = view.legend_text("histogram")
    assert "run wide init" in hist and "out.weight" in hist and "weights at step 40" in hist
    store = view._store()
    assert f"std {store.latest['weight'].std:.3g}" in hist and "300 values" in hist
    heat = view.legend_text("heatmap")
    assert "run wide init" in heat and "out.weight" in heat and "colour the count" in heat
    acts = view.legend_text("activations")
    assert "wide init" in acts and "narrow init" in acts and "step 40" in acts
    view.set_gradients(True)
    assert "gradients at step 40" in view.legend_text("histogram") and "symmetric log" in view.legend_text("heatmap")


def test_before_any_histogram_the_caption_says_so(qtbot):
    view = HistogramView()
    qtbot.addWidget(view)
    view.add_run("a", "fresh", run_color(0))
    assert "no weight histogram yet" in view.legend_text("histogram")
    assert "no run has reported yet" in view.legend_text("activations")


@pytest.mark.parametrize("plot", ["histogram", "heatmap", "activations"])
def test_an_exported_weights_plot_carries_its_caption(view, tmp_path, plot):
    """In the SVG as text; for PNG and SVG alike a row inside the plot while it is written, gone after."""
    tab = SimpleNamespace(histograms=view, flush_drawing=lambda: None)
    key = f"weights:{plot}"
    with export.GROUPS["weights"].exporting(tab, plot) as widget:
        plot_item = widget.getPlotItem()
        rows = [item for item in plot_item.childItems()
                if isinstance(item, LegendRow) and item is not plot_item.titleLabel]   # titles wrap as rows too
        shown = [plain_text(row.text) for row in rows if row.isVisible()]
        assert shown == [view.legend_text(plot)]
    assert not any(row.isVisible() for row in rows)
    path = tmp_path / f"{plot}.svg"
    export.export_plot(tab, key, path)
    words = svg_words(path)
    assert "wide init" in words, words
    if plot != "activations":
        assert "out.weight" in words, words
    else:
        assert "narrow init" in words, words
    export.export_plot(tab, key, tmp_path / f"{plot}.png")
    assert (tmp_path / f"{plot}.png").stat().st_size > 0
