"""The Weights tab's effective rates and step sizes (issue 14): what the engine measured on a real run,
drawn as it came."""
from __future__ import annotations

import numpy as np
import pytest

from engine.config import Experiment
from engine.training.events import HistogramEvent
from engine.training.trainer import Trainer
from engine.training.updates import EMPTY_EVALS, EMPTY_STEPS, RunUpdate
from gui.style.palette import run_color
from gui.training.histogram_history import RATES
from gui.training.histograms import HistogramView


def _ticks(optimizer: dict) -> list[HistogramEvent]:
    exp = Experiment(seed=2).replace(optimizer=optimizer, train={"steps": 20, "histogram_every": 10},
                                     data={"n_train": 128, "n_val": 64})
    trainer = Trainer(exp)
    events: list = []
    trainer.run(events.append)
    return [e for e in events if isinstance(e, HistogramEvent)]


def _update(run_id: str, ticks) -> RunUpdate:
    return RunUpdate(run_id, "running", "", ticks[-1].step, 0.0, 1.0, EMPTY_STEPS, EMPTY_EVALS, histograms=tuple(ticks))


@pytest.fixture
def view(qtbot):
    view = HistogramView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    return view


def test_the_rates_kind_draws_the_log10_rate_histogram_and_its_spread(view):
    ticks = _ticks({"name": "adam", "lr": 0.01})
    view.add_run("adam", "adam", run_color(0))
    view.append(_update("adam", ticks))
    view.set_kind(RATES)
    layer = ticks[-1].layers[0]
    view.select_layer(layer.name)
    edges, counts = view.current_histogram()
    np.testing.assert_array_equal(edges, layer.rate.edges)
    np.testing.assert_array_equal(counts, layer.rate.counts)
    spread = 10 ** (layer.rate.edges[-1] - layer.rate.edges[0])
    assert f"a factor of {spread:.3g}" in view._hist_stats.text()
    assert f"||Δθ||/||θ|| = {layer.update_ratio:.2g}" in view._hist_stats.text()
    assert view.heatmap_image().shape[1] == 2                  # ticks 10 and 20: none at step 0
    assert "effective rates over training" in view.legend_text("heatmap")
    assert view._kind_combo.currentText() == "effective rates"


def test_the_step_size_plot_shows_each_layers_ratio_and_lambs_is_flat(view):
    adam, lamb = _ticks({"name": "adam", "lr": 0.01}), _ticks({"name": "lamb", "lr": 0.01, "weight_decay": 0.0})
    for i, (key, ticks) in enumerate((("adam", adam), ("lamb", lamb))):
        view.add_run(key, key, run_color(i))
        view.append(_update(key, ticks))
    for key, ticks in (("adam", adam), ("lamb", lamb)):
        _, y = view._step_curves[key].getOriginalDataset()
        assert list(y) == [layer.update_ratio for layer in ticks[-1].layers]
    _, lamb_y = view._step_curves["lamb"].getOriginalDataset()
    assert lamb_y == pytest.approx([0.01] * len(lamb_y), rel=1e-3)          # LAMB: lr * ||w|| every layer
    assert "step 20:" in view.legend_text("steps") and "lamb" in view.legend_text("steps")


def test_before_a_step_there_is_no_rate_and_the_plot_says_why(view):
    ticks = _ticks({"name": "sgd", "lr": 0.1})[:1]                # step 0 only
    view.add_run("a", "a", run_color(0))
    view.append(_update("a", ticks))
    view.set_kind(RATES)
    assert len(view.current_histogram()[1]) == 0
    title = view._hist_widget.getPlotItem().titleLabel.text
    assert "no rate before the first step" in title
    _, y = view._step_curves["a"].getOriginalDataset()
    assert y is None or len(y) == 0
    assert "no step measured yet" in view.legend_text("steps")


def test_sgds_one_rate_is_said_as_one_rate(view):
    view.add_run("sgd", "sgd", run_color(0))
    view.append(_update("sgd", _ticks({"name": "sgd", "lr": 0.05})))
    view.set_kind(RATES)
    assert "one rate for every weight, 0.05;" in view._hist_stats.text()


def test_the_gradients_line_says_how_many_are_exactly_zero_fp16s_underflow(view):
    """The mixed-precision lesson: without loss scaling the first layer's gradients all round to 0 in fp16,
    and the Weights tab says so under their histogram; with dynamic scaling they survive."""
    from engine.lessons.presets import PRESETS
    from gui.training.histogram_history import GRADIENTS

    short = {"steps": 20, "histogram_every": 10}
    for i, run in enumerate(PRESETS["mixed-precision"].runs[1:]):          # fp16 no scaling, fp16 dynamic
        events: list = []
        Trainer(run.replace(train=short)).run(events.append)
        ticks = [e for e in events if isinstance(e, HistogramEvent)]
        view.add_run(run.name, run.name, run_color(i))
        view.append(_update(run.name, ticks))
        view.select_run(run.name)
        view.set_kind(GRADIENTS)
        first = ticks[-1].layers[0]
        view.select_layer(first.name)
        text = view._hist_stats.text()
        if run.train.loss_scale == "none":
            assert first.zero_grad == 1.0 and "100% exactly 0" in text
        else:
            assert first.zero_grad < 0.01 and ("exactly 0" in text) == bool(first.zero_grad)
