"""The plot views: metric curves, weight histograms, decision boundary, and their colours.

The data come from the real engine (two short runs, batched into updates by
UpdateBuffer as the window's worker does), so the views are tested on the
arrays they will get.  Every test checks numbers: what is held, what is drawn,
what a control changes.
"""
from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor

from engine.config import DataConfig, Experiment
from engine.data.datasets import load_data
from engine.training.trainer import Trainer
from engine.training.updates import EMPTY_EVALS, Boundary, EvalSeries, RunUpdate, StepSeries, UpdateBuffer
from gui.style.palette import BOUNDARY_BACKGROUND, NEUTRAL, RUN_COLORS, class_color, class_rgb, run_color, with_alpha
from gui.style.theme import DARK, LIGHT, PRESENTER_DARK, PRESENTER_LIGHT
from gui.training.boundary import NO_RUN_MESSAGE, BoundaryView, boundary_rgba
from gui.training.heatmap import HEATMAP_BINS, rebin
from gui.training.histograms import HistogramView
from gui.training.metric_plots import EVAL_SYMBOL_LIMIT, MetricPlots
from gui.training.x_range import x_stop_above
from gui.widgets.plotting import CHUNK, GLYPHS, legend_glyph_html, plain_text
from tests.engine.test_smoothing import hand_ema  # the one loop the EMA is checked against
from tests.engine.training.test_reservoir import envelope_holds

ROOT = Path(__file__).resolve().parents[3]
GRID = 40


# -- real training data -------------------------------------------------------------------------------

class Recorded:
    """One run's trainer and the updates a view would have received, taken every few steps."""

    def __init__(self, run_id: str, experiment: Experiment, every: int):
        self.run_id = run_id
        self.trainer = Trainer(experiment)
        buffer = UpdateBuffer(run_id)
        self.updates: list[RunUpdate] = []
        while not self.trainer.done:
            for event in self.trainer.step():
                buffer.add(event)
            if self.trainer.step_count % every == 0 or self.trainer.done:
                self.updates.append(buffer.take("running", self.trainer.step_count, self.trainer.epoch, 100.0))
        self.boundary = boundary_of(self.trainer)

    def steps(self, column: str) -> np.ndarray:
        return np.concatenate([getattr(u.steps, column) for u in self.updates])

    def evals(self, column: str) -> np.ndarray:
        return np.concatenate([getattr(u.evals, column) for u in self.updates])

    def hist_events(self):
        return [h for u in self.updates for h in u.histograms]


def boundary_of(trainer: Trainer) -> Boundary:
    x0, x1, y0, y1 = trainer.data.extent
    xs, ys = np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID)
    gx, gy = np.meshgrid(xs, ys)   # gx[j, i] = xs[i], gy[j, i] = ys[j]
    points = torch.tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=torch.float32)
    probs = trainer.predict_proba(points).reshape(GRID, GRID, -1)
    return Boundary(trainer.step_count, xs, ys, probs)


@pytest.fixture(scope="module")
def runs() -> dict[str, Recorded]:
    """Adam on moons with a tight grad_clip (some steps clipped); SGD on three gaussian blobs with warm-up and
    cosine.  Updates every 7 and 9 steps, so update edges fall anywhere."""
    a = Experiment(name="adam").replace(
        data={"dataset": "moons", "n_train": 200, "n_val": 100},
        train={"steps": 120, "eval_every": 10, "histogram_every": 10, "grad_clip": 0.3, "batch_size": 16})
    b = Experiment(name="sgd", seed=1).replace(
        data={"dataset": "gaussians", "n_train": 200, "n_val": 100, "noise": 0.2},
        model={"hidden": (16, 16, 16)},
        optimizer={"name": "sgd", "lr": 0.1, "momentum": 0.9},
        schedule={"name": "cosine", "warmup_steps": 20},
        train={"steps": 90, "eval_every": 15, "histogram_every": 15})
    return {"a": Recorded("a", a, 7), "b": Recorded("b", b, 9)}


def fed(qtbot, view, runs, before_feeding=lambda view: None):
    """A view at 900x700 with runs "a" (adam) and "b" (sgd) added and every update of theirs appended."""
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.add_run("a", "adam", run_color(0))
    view.add_run("b", "sgd", run_color(1))
    before_feeding(view)
    for rec in runs.values():
        for update in rec.updates:
            view.append(update)
    return view


@pytest.fixture
def metric_plots(qtbot, runs):
    view = fed(qtbot, MetricPlots(), runs, before_feeding=lambda v: v.set_clip_threshold("a", 0.3))
    return view


def step_update(run_id, step, loss, clipped=None, evals=EMPTY_EVALS):
    step = np.asarray(step, np.int64)
    n = len(step)
    clipped = np.zeros(n, bool) if clipped is None else clipped
    steps = StepSeries(step, step / 100.0, np.full(n, 0.01), np.asarray(loss, np.float64), np.ones(n), clipped)
    return RunUpdate(run_id, "running", "", int(step[-1]) if n else 0, 0.0, 1.0, steps, evals)


# -- colours --------------------------------------------------------------------------------------------

def _luminance(color: QColor) -> float:
    def lin(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(color.red()) + 0.7152 * lin(color.green()) + 0.0722 * lin(color.blue())


def _lab(color: QColor) -> np.ndarray:
    def lin(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = lin(color.red()), lin(color.green()), lin(color.blue())
    xyz = np.array([0.4124 * r + 0.3576 * g + 0.1805 * b, 0.2126 * r + 0.7152 * g + 0.0722 * b,
                    0.0193 * r + 0.1192 * g + 0.9505 * b]) / np.array([0.9505, 1.0, 1.089])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_run_colours_are_distinct_and_readable_on_light_and_dark_backgrounds():
    colors = [run_color(i) for i in range(len(RUN_COLORS))]
    assert len(set(c.name() for c in colors)) == len(colors) >= 8
    for color in colors:
        lum = _luminance(color)
        for background in {t.plot_background for t in (LIGHT, DARK, PRESENTER_LIGHT, PRESENTER_DARK)}:
            bg = _luminance(QColor(background))
            contrast = (max(lum, bg) + 0.05) / (min(lum, bg) + 0.05)
            assert contrast >= 2.95, (color.name(), background, contrast)   # WCAG non-text contrast 3:1
    labs = [_lab(c) for c in colors]
    closest = min(np.linalg.norm(labs[i] - labs[j]) for i in range(len(labs)) for j in range(i))
    assert closest > 20   # CIE76 delta E: clearly different colours, not shades of one
    assert run_color(len(RUN_COLORS)).name() == run_color(0).name()
    assert len({class_color(k).name() for k in range(10)}) == 10


def test_a_legend_entry_is_its_key_in_colour_then_its_unbreakable_escaped_text():
    entry = legend_glyph_html(run_color(0), GLYPHS["val"], "adam & sgd")
    assert entry == f"<span style='color:{run_color(0).name()}'>╍○╍</span>&nbsp;adam&nbsp;&amp;&nbsp;sgd"
    assert plain_text(entry) == "╍○╍ adam & sgd"
    faint = legend_glyph_html(with_alpha(QColor(NEUTRAL), 110), GLYPHS["solid"], "mini-batch")
    assert faint.startswith(f"<span style='color:#6e{NEUTRAL[1:].lower()}'>")   # translucent keys keep their alpha
    # the form the Initialization lab writes by hand (a bold key in a scheme colour), from the same function
    assert legend_glyph_html(NEUTRAL, GLYPHS["dash"], "he uniform", bold=True) == (
        f"<span style='color:{NEUTRAL}'><b>╍╍</b></span>&nbsp;he&nbsp;uniform")


# -- metric plots -----------------------------------------------------------------------------------------

def test_curve_data_is_the_concatenated_updates(metric_plots, runs):
    for run_id, rec in runs.items():
        step = rec.steps("step")
        for plot, series, column in (("loss", "batch", "loss"), ("lr", "lr", "lr"),
                                     ("grad_norm", "grad_norm", "grad_norm")):
            x, y = metric_plots.curve_data(run_id, plot, series)
            np.testing.assert_array_equal(x, step)
            np.testing.assert_array_equal(y, rec.steps(column))
        eval_step = rec.evals("step")
        assert eval_step[0] == 0 and len(eval_step) > 5
        for plot, series, column in (("loss", "train", "train_loss"), ("loss", "val", "val_loss"),
                                     ("accuracy", "train", "train_acc"), ("accuracy", "val", "val_acc")):
            x, y = metric_plots.curve_data(run_id, plot, series)
            np.testing.assert_array_equal(x, eval_step)
            np.testing.assert_array_equal(y, rec.evals(column))
    # what is drawn is what is held (small runs: one chunk, no downsampling at this width)
    item = metric_plots.curve_items("b", "lr", "lr")[0]
    np.testing.assert_array_equal(item.getOriginalDataset()[1], runs["b"].steps("lr"))


def test_smoothed_loss_is_the_debiased_ema_continued_across_updates(metric_plots, runs):
    for run_id, rec in runs.items():
        x, y = metric_plots.curve_data(run_id, "loss", "smoothed")
        np.testing.assert_allclose(y, hand_ema(rec.steps("loss"), 0.6), rtol=1e-12)
    assert metric_plots.smoothing() == 0.6


def test_changing_smoothing_recomputes_once_and_appending_continues(metric_plots, runs, qtbot):
    metric_plots.set_smoothing(0.9)
    _, y = metric_plots.curve_data("a", "loss", "smoothed")
    np.testing.assert_allclose(y, hand_ema(runs["a"].steps("loss"), 0.9), rtol=1e-12)
    assert metric_plots.controls.slider.value() == 90 and metric_plots.controls.smoothing_label.text() == "0.90"
    # new points after the change continue the 0.9 average
    n = len(runs["a"].steps("loss"))
    more = np.linspace(0.5, 0.1, 25)
    metric_plots.append(step_update("a", np.arange(n + 1, n + 26), more))
    _, y = metric_plots.curve_data("a", "loss", "smoothed")
    np.testing.assert_allclose(y, hand_ema(np.concatenate([runs["a"].steps("loss"), more]), 0.9), rtol=1e-12)
    # the slider goes through the same setter (after its short debounce)
    metric_plots.controls.slider.setValue(20)
    qtbot.waitUntil(lambda: metric_plots.smoothing() == 0.2, timeout=1000)
    _, y = metric_plots.curve_data("b", "loss", "smoothed")
    np.testing.assert_allclose(y, hand_ema(runs["b"].steps("loss"), 0.2), rtol=1e-12)
    metric_plots.set_smoothing(5.0)
    assert metric_plots.smoothing() == 0.99


def test_log_loss_switches_the_loss_axis_and_its_curves(metric_plots, runs):
    loss_plot = metric_plots.plot_widgets()["loss"].getPlotItem()
    assert not loss_plot.getAxis("left").logMode
    metric_plots.set_log_loss(True)
    assert loss_plot.getAxis("left").logMode and metric_plots.controls.log_box.isChecked()
    item = metric_plots.curve_items("a", "loss", "batch")[0]
    np.testing.assert_allclose(10 ** item.getData()[1], runs["a"].steps("loss"), rtol=1e-9)
    assert not metric_plots.plot_widgets()["accuracy"].getPlotItem().getAxis("left").logMode  # only the loss
    assert metric_plots.plot_widgets()["lr"].getPlotItem().getAxis("left").logMode  # rates are always on log
    metric_plots.controls.log_box.click()          # the checkbox drives the same setting
    assert not loss_plot.getAxis("left").logMode


def test_epoch_axis_uses_the_epoch_arrays(metric_plots, runs):
    metric_plots.set_x_axis("epoch")
    rec = runs["b"]
    x, y = metric_plots.curve_data("b", "loss", "batch")
    np.testing.assert_array_equal(x, rec.steps("epoch"))
    np.testing.assert_array_equal(y, rec.steps("loss"))
    x, _ = metric_plots.curve_data("b", "accuracy", "val")
    np.testing.assert_array_equal(x, rec.evals("epoch"))
    item = metric_plots.curve_items("b", "grad_norm", "grad_norm")[0]
    np.testing.assert_array_equal(item.getOriginalDataset()[0], rec.steps("epoch"))
    plot = metric_plots.plot_widgets()["accuracy"].getPlotItem()
    assert plot.getAxis("bottom").labelText == "epoch" and metric_plots.controls.x_combo.currentText() == "x: epoch"
    metric_plots.controls.x_combo.setCurrentText("x: step")
    np.testing.assert_array_equal(metric_plots.curve_data("b", "loss", "batch")[0], rec.steps("step"))
    with pytest.raises(ValueError):
        metric_plots.set_x_axis("seconds")


def test_clipped_steps_are_marked_exactly_and_the_threshold_is_a_dashed_line(metric_plots, runs):
    rec = runs["a"]
    clipped = rec.steps("clipped")
    assert 0 < clipped.sum() < len(clipped)       # grad_clip 0.3 clips some steps, not all
    x, y = metric_plots.curve_data("a", "grad_norm", "clipped")
    np.testing.assert_array_equal(x, rec.steps("step")[clipped])
    np.testing.assert_array_equal(y, rec.steps("grad_norm")[clipped])
    assert (y > 0.3).all()
    item = metric_plots.curve_items("a", "grad_norm", "clipped")[0]
    np.testing.assert_array_equal(item.getOriginalDataset()[0], x)
    assert item.opts["symbol"] is not None and item.opts["pen"] is None    # markers only, no line
    assert len(metric_plots.curve_data("b", "grad_norm", "clipped")[0]) == 0   # b has no grad_clip
    line = metric_plots.threshold_line("a")
    assert line.value() == 0.3 and line.pen.style() == Qt.PenStyle.DashLine
    assert line.pen.color().name() == run_color(0).name()
    metric_plots.set_clip_threshold("a", None)
    assert metric_plots.threshold_line("a") is None
    assert line not in metric_plots.plot_widgets()["grad_norm"].getPlotItem().items


def test_hidden_run_draws_nothing_and_leaves_the_legend(metric_plots):
    metric_plots.set_run_visible("b", False)
    for plot, series in (("loss", "batch"), ("loss", "smoothed"), ("accuracy", "val"), ("lr", "lr")):
        assert not any(i.isVisible() for i in metric_plots.curve_items("b", plot, series))
        assert all(i.isVisible() for i in metric_plots.curve_items("a", plot, series))
    assert "sgd" not in metric_plots.legend_text("loss") and "adam" in metric_plots.legend_text("loss")
    metric_plots.set_run_visible("b", True)
    assert all(i.isVisible() for i in metric_plots.curve_items("b", "loss", "batch"))
    assert "sgd" in metric_plots.legend_text("accuracy")


def test_clear_run_empties_its_curves_and_restarts_its_smoothing(metric_plots, runs):
    metric_plots.clear_run("a")
    for plot, series in (("loss", "batch"), ("loss", "smoothed"), ("loss", "val"), ("accuracy", "train"),
                         ("lr", "lr"), ("grad_norm", "grad_norm"), ("grad_norm", "clipped")):
        assert len(metric_plots.curve_data("a", plot, series)[0]) == 0
        items = metric_plots.curve_items("a", plot, series)
        shown = items[0].getOriginalDataset()[0]
        assert len(items) == 1 and (shown is None or len(shown) == 0)
    assert len(metric_plots.curve_data("b", "loss", "batch")[0]) == len(runs["b"].steps("loss"))
    assert metric_plots.threshold_line("a") is not None      # its settings stay
    metric_plots.append(step_update("a", [1, 2, 3], [2.0, 1.0, 0.5]))
    np.testing.assert_allclose(metric_plots.curve_data("a", "loss", "smoothed")[1], hand_ema([2.0, 1.0, 0.5], 0.6))


def test_rename_remove_and_line_width(metric_plots):
    metric_plots.rename_run("a", "adam, clipped")
    assert "adam, clipped" in metric_plots.legend_text("lr")
    metric_plots.set_line_width(3.5)
    assert metric_plots.curve_items("b", "loss", "smoothed")[0].opts["pen"].widthF() == 3.5
    assert metric_plots.threshold_line("a").pen.widthF() == 3.5
    items = metric_plots.curve_items("b", "loss", "batch")
    metric_plots.remove_run("b")
    assert not any(i in metric_plots.plot_widgets()["loss"].getPlotItem().items for i in items)
    assert "sgd" not in metric_plots.legend_text("loss")
    with pytest.raises(KeyError):
        metric_plots.curve_data("b", "loss", "batch")
    assert set(metric_plots.plot_widgets()) == {"loss", "accuracy", "lr", "grad_norm"}


def test_a_million_steps_append_cheaply_and_draw_downsampled(qtbot):
    view = MetricPlots()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    view.add_run("big", "long run", run_color(2))
    total, updates = 1_000_000, 300
    bounds = np.linspace(0, total, updates + 1).astype(int)
    rng = np.random.default_rng(0)
    loss = np.exp(-np.arange(total) / 2e5) + 0.1 * rng.random(total)
    loss[-50:] = np.inf                         # it diverges at the end: must not break anything
    loss[-20:] = np.nan
    times = []
    for index, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        steps = np.arange(lo + 1, hi + 1)
        eval_at = steps[steps % 100 == 0]
        evals = EvalSeries(eval_at, eval_at / 1000.0, *(np.full(len(eval_at), 0.5) for _ in range(4)))
        update = step_update("big", steps, loss[lo:hi], clipped=(steps % 97 == 0), evals=evals)
        start = time.perf_counter()
        view.append(update)
        times.append(time.perf_counter() - start)
        if index % 60 == 0:
            view.grab()                          # the window draws between updates now and then; the ranges follow
    view.grab()
    times = np.array(times) * 1000
    print(f"\nappend of ~{total // updates} steps into a run growing to {total:,}: "
          f"mean {times.mean():.2f} ms, median {np.median(times):.2f} ms, max {times.max():.2f} ms, "
          f"last 30 mean {times[-30:].mean():.2f} ms")
    x, y = view.curve_data("big", "loss", "batch")
    table = view._runs["big"].points.steps
    assert len(x) == len(y) <= table.cap < total and x[-1] == total     # bounded: an envelope of the old part
    envelope_holds(x, y, table.recent_start, np.arange(1, total + 1), loss)
    items = view.curve_items("big", "loss", "batch")
    assert len(items) == math.ceil(len(x) / CHUNK)         # full chunks left alone, one growing
    drawn = sum(len(item.getData()[0]) for item in items)
    assert drawn < total / 20, drawn                         # pyqtgraph draws a peak-downsampled copy
    assert len(view.curve_data("big", "accuracy", "val")[0]) == total // 100
    assert view.curve_items("big", "accuracy", "val")[0].opts["symbol"] is None   # > EVAL_SYMBOL_LIMIT
    assert total // 100 > EVAL_SYMBOL_LIMIT
    smoothed = view.curve_data("big", "loss", "smoothed")[1]
    assert np.isfinite(smoothed[:-50]).all() and not np.isfinite(smoothed[-50:]).any()


# -- histograms -------------------------------------------------------------------------------------------

@pytest.fixture
def hist_view(qtbot, runs):
    return fed(qtbot, HistogramView(), runs)


def test_histogram_shows_the_latest_counts_of_the_chosen_layer_and_its_gradient(hist_view, runs):
    events = runs["b"].hist_events()
    names = [layer.name for layer in events[0].layers]
    hist_view.select_run("b")
    assert hist_view.layer_names() == names and len(names) == 4
    hist_view.select_layer(names[2])
    latest = events[-1].layers[2]
    edges, counts = hist_view.current_histogram()
    np.testing.assert_array_equal(counts, latest.weight.counts)
    np.testing.assert_array_equal(edges, latest.weight.edges)
    hist_view.set_gradients(True)
    edges, counts = hist_view.current_histogram()
    np.testing.assert_array_equal(counts, latest.grad.counts)
    np.testing.assert_array_equal(edges, latest.grad.edges)
    assert hist_view._kind_combo.currentData() == "grad"
    hist_view._layer_list.setCurrentRow(0)                       # the list drives the same selection
    np.testing.assert_array_equal(hist_view.current_histogram()[1], events[-1].layers[0].grad.counts)
    hist_view._run_combo.setCurrentIndex(0)                      # and the combo picks the run
    np.testing.assert_array_equal(hist_view.current_histogram()[1],
                                  runs["a"].hist_events()[-1].layers[0].grad.counts)


def test_heatmap_has_a_column_per_tick_summing_to_the_tensor_size(hist_view, runs):
    events = runs["a"].hist_events()
    hist_view.select_run("a")
    hist_view.select_layer("hidden2.linear.weight")
    image = hist_view.heatmap_image()
    numel = 16 * 16
    assert image.shape == (HEATMAP_BINS, len(events))
    np.testing.assert_array_equal(hist_view.heatmap_steps(), [e.step for e in events])
    np.testing.assert_allclose(image.sum(axis=0), numel)
    edges = hist_view.heatmap_edges()
    layer = [e.layers[1].weight for e in events]
    assert edges[0] == min(h.edges[0] for h in layer) and edges[-1] == max(h.edges[-1] for h in layer)
    centres = (edges[:-1] + edges[1:]) / 2
    means = centres @ image / numel           # rebinning keeps each column's mean within a grid bin
    np.testing.assert_allclose(means, [h.mean for h in layer], atol=edges[1] - edges[0])
    hist_view.set_gradients(True)             # no gradient at step 0: one column fewer
    image = hist_view.heatmap_image()
    assert image.shape == (HEATMAP_BINS, len(events) - 1)
    np.testing.assert_allclose(image.sum(axis=0), numel)
    drawn = hist_view._image.image
    np.testing.assert_allclose(drawn, image)


def test_heatmap_grown_update_by_update_equals_one_built_at_once(qtbot, hist_view, runs):
    live = HistogramView()      # shows the layer while the updates arrive: synced, and widened, at each one
    qtbot.addWidget(live)
    live.add_run("b", "sgd", run_color(1))
    live.set_gradients(True)
    widths = set()
    for update in runs["b"].updates:
        live.append(update)
        if live.heatmap_edges() is not None:
            widths.add(round(float(live.heatmap_edges()[-1] - live.heatmap_edges()[0]), 12))
    assert live.layer_names()[0] == "hidden1.linear.weight" and len(widths) > 1   # the grid did grow
    hist_view.select_run("b")               # built in one go when first shown
    hist_view.select_layer("hidden1.linear.weight")
    hist_view.set_gradients(True)
    np.testing.assert_allclose(live.heatmap_image(), hist_view.heatmap_image(), atol=1e-9)
    np.testing.assert_array_equal(live.heatmap_edges(), hist_view.heatmap_edges())


def test_rebin_keeps_every_count_and_is_exact_on_its_own_edges():
    rng = np.random.default_rng(1)
    counts, edges = [], []
    for scale in (0.1, 1.0, 3.0):
        c, e = np.histogram(rng.normal(size=500) * scale, 40)
        counts.append(c)
        edges.append(e)
    counts, edges = np.array(counts), np.array(edges)
    np.testing.assert_allclose(rebin(counts[1:2], edges[1:2], edges[1])[0], counts[1])
    wide = rebin(counts, edges, np.linspace(-15, 15, 61))
    np.testing.assert_allclose(wide.sum(axis=1), 500)
    narrow = rebin(counts, edges, np.linspace(-1, 1, 11))     # values outside fall in the end bins
    np.testing.assert_allclose(narrow.sum(axis=1), 500)


def test_activation_std_by_layer_and_clearing(hist_view, runs):
    last = runs["b"].hist_events()[-1].activations
    names, stds = hist_view.activation_data("b")
    assert names == [a.name for a in last] == ["hidden1", "hidden2", "hidden3"]
    np.testing.assert_array_equal(stds, [a.std for a in last])
    np.testing.assert_array_equal(hist_view._act_curves["b"].getOriginalDataset()[1], stds)
    hist_view.select_run("b")
    hist_view.clear_run("b")
    assert hist_view.heatmap_image().shape == (HEATMAP_BINS, 0) and hist_view.layer_names() == []
    assert len(hist_view.current_histogram()[1]) == 0
    hist_view.remove_run("b")
    assert hist_view._run_combo.count() == 1 and hist_view.heatmap_image().shape[1] == len(runs["a"].hist_events())
    assert set(hist_view.plot_widgets()) == {"histogram", "heatmap", "activations", "steps"}


# -- decision boundary ------------------------------------------------------------------------------------

def _nearest_class(rgb: np.ndarray, k: int) -> np.ndarray:
    return np.linalg.norm(rgb[..., None, :] - class_rgb(k), axis=-1).argmin(axis=-1)


def test_boundary_pixels_take_the_colour_of_the_argmax_class(qtbot, runs):
    view = BoundaryView()
    qtbot.addWidget(view)
    rec = runs["b"]           # three gaussian blobs
    view.set_data("b", rec.trainer.data)
    view.show("b", rec.boundary)
    image = view.image_array()
    probs = rec.boundary.probs
    assert image.shape == (GRID, GRID, 4) and image.dtype == np.uint8
    winner = probs.argmax(axis=-1)
    confident = probs.max(axis=-1) > 0.8
    assert confident.sum() > 50 and len(np.unique(winner[confident])) == 3
    np.testing.assert_array_equal(_nearest_class(image[..., :3].astype(float), 3)[confident], winner[confident])
    # certainty fades to the background: a 1/3-1/3-1/3 pixel is the background itself
    even = boundary_rgba(np.full((1, 1, 3), 1 / 3), QColor(BOUNDARY_BACKGROUND))
    assert QColor(*even[0, 0, :3]).name() == QColor(BOUNDARY_BACKGROUND).name()


def test_boundary_is_drawn_where_its_grid_says(qtbot, runs):
    """On screen, a grid point's pixel has its class's tint: x to the right, y up (no transposed image)."""
    split = runs["a"].trainer.data
    x0, x1, y0, y1 = split.extent
    xs, ys = np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID)
    gx, gy = np.meshgrid(xs, ys)
    probs = np.zeros((GRID, GRID, 2), np.float32)
    block = (gx < x0 + 0.3 * (x1 - x0)) & (gy > y0 + 0.4 * (y1 - y0))
    probs[..., 0] = np.where(block, 1.0, 0.0)      # class 0 only in an upper-left block: any flip or transpose moves it
    probs[..., 1] = 1.0 - probs[..., 0]
    view = BoundaryView()
    qtbot.addWidget(view)
    view.resize(700, 600)
    view.show()
    view.set_data("a", split)
    view.show("a", Boundary(5, xs, ys, probs))
    view._train.setVisible(False)                         # probe the image, not the points
    qtbot.wait(20)
    widget = view.plot_widget()
    frame = widget.grab().toImage()
    vb = widget.getPlotItem().getViewBox()
    ratio = frame.width() / widget.width()
    for fx, fy, cls in ((0.15, 0.8, 0), (0.15, 0.2, 1), (0.8, 0.8, 1), (0.8, 0.15, 1)):
        point = widget.mapFromScene(vb.mapViewToScene(QPointF(x0 + fx * (x1 - x0), y0 + fy * (y1 - y0))))
        pixel = frame.pixelColor(int(point.x() * ratio), int(point.y() * ratio))
        rgb = np.array([pixel.red(), pixel.green(), pixel.blue()], float)
        assert _nearest_class(rgb, 2) == cls, (fx, fy, pixel.name())


def test_non_plane_dataset_shows_the_message_and_runs_switch(qtbot, runs):
    view = BoundaryView()
    qtbot.addWidget(view)
    assert view.message() == NO_RUN_MESSAGE
    digits = load_data(DataConfig(dataset="digits", n_train=60, n_val=30), 0)
    view.set_data("img", digits)
    view.set_data("b", runs["b"].trainer.data)
    view.show("b", runs["b"].boundary)
    assert view.message() == ("Decision boundaries are drawn for 2-D datasets "
                              "(spiral, moons, circles, xor, gaussians).")
    assert view._stack.currentIndex() == 1 and view.image_array() is None
    view.select_run("b")
    assert view.message() is None
    np.testing.assert_array_equal(view.image_array(), boundary_rgba(runs["b"].boundary.probs,
                                                                     QColor(BOUNDARY_BACKGROUND)))
    np.testing.assert_array_equal(view._train.data["x"], runs["b"].trainer.data.x_train[:, 0].numpy())
    assert not view._val.isVisible()
    view._val_box.click()
    assert view._val.isVisible() and len(view._val.data) == len(runs["b"].trainer.data.y_val)
    view.clear_run("b")
    assert view.image_array() is None and view.message() == NO_RUN_MESSAGE


def test_plot_modules_do_not_import_torch():
    """The window shows at once and loads torch in the background: importing the views must not pull it in."""
    code = ("import sys, gui.training.metric_plots, gui.training.histograms, gui.training.boundary, gui.style.palette; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr


# -- axes that show the lesson ------------------------------------------------------------------------

def run_update(run_id, steps, loss, grad_norm=None, lr=None, status="running"):
    steps = np.asarray(steps, np.int64)
    n = len(steps)
    series = StepSeries(steps, steps / 100.0, np.full(n, 0.01) if lr is None else np.asarray(lr, np.float64),
                        np.asarray(loss, np.float64), np.ones(n) if grad_norm is None else np.asarray(grad_norm),
                        np.zeros(n, bool))
    return RunUpdate(run_id, status, "", int(steps[-1]), 0.0, 1.0, series, EMPTY_EVALS)


def y_top(view, plot):
    view.grab()
    return view.plot_widgets()[plot].getPlotItem().getViewBox().viewRange()[1][1]


def test_a_diverged_run_leaves_the_healthy_range_and_is_marked_where_it_left(qtbot):
    view = MetricPlots()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    steps = np.arange(1, 201)
    for index, run_id in enumerate("ab"):
        view.add_run(run_id, f"healthy {run_id}", run_color(index))
        view.append(run_update(run_id, steps, 0.7 * np.exp(-steps / (80 + 40 * index)), grad_norm=1 + 0 * steps))
    view.add_run("c", "lr 10", run_color(2))
    bad = np.arange(1, 61)
    loss = np.where(bad <= 40, 0.7, 0.7 * 10.0 ** ((bad - 40) / 2.0))    # 1e7 at the end
    grad = np.where(bad <= 40, 1.5, 1.5 * 10.0 ** ((bad - 40) / 2.0))
    view.append(run_update("c", bad[:30], loss[:30], grad[:30]))
    view.append(run_update("c", bad[30:], loss[30:], grad[30:], status="diverged"))
    assert y_top(view, "loss") < 3 * 0.7                   # not 1e7: the healthy runs keep the plot
    assert y_top(view, "grad_norm") < 3 * 1.5
    for plot, top in (("loss", 0.7), ("grad_norm", 1.5)):
        x, y = view.diverged_mark("c", plot)
        assert x == 40 and y == pytest.approx(top)          # the last sane step, at the top of what is drawn
        assert y <= y_top(view, plot) and y > 0.9 * y_top(view, plot)
    drawn = np.concatenate([item.getData()[0] for item in view.curve_items("c", "loss", "batch")])
    assert drawn.max() == 40
    assert view.curve_data("c", "loss", "batch")[1].max() == pytest.approx(0.7e10)   # the data stay whole
    assert "lr 10 (diverged" in view.legend_text("loss")
    assert view.diverged_mark("a", "loss") is None
    view.clear_run("c")                                    # restarted: no mark, no note
    assert view.diverged_mark("c", "loss") is None and "diverged" not in view.legend_text("loss")


def test_when_every_run_diverged_the_range_follows_their_start(qtbot):
    view = MetricPlots()
    qtbot.addWidget(view)
    view.add_run("c", "c", run_color(0))
    bad = np.arange(1, 31)
    view.append(run_update("c", bad, np.where(bad <= 10, 0.7, 1e7), status="diverged"))
    assert view.diverged_mark("c", "loss") == (10.0, pytest.approx(0.7))
    assert y_top(view, "loss") < 3 * 0.7


def test_the_four_plots_share_one_x_range_from_step_0_and_the_warmup_ramp_shows(qtbot, runs):
    view = fed(qtbot, MetricPlots(), runs)
    view.show()
    view.grab()
    ranges = {key: widget.getPlotItem().getViewBox().viewRange()[0] for key, widget in view.plot_widgets().items()}
    x0, x1 = ranges["loss"]
    for key, (lo, hi) in ranges.items():
        assert (lo, hi) == pytest.approx((x0, x1)), key
    assert x0 <= 0 < 1 <= 20 < 120 <= x1                   # step 0, the 20 warm-up steps of "b", the end
    widths = {view.plot_widgets()[key].getPlotItem().getAxis("left").width() for key in ranges}
    assert len(widths) == 1                                # the plots of a column start at the same pixel
    x, lr = view.curve_data("b", "lr", "lr")
    assert lr[x <= 20].max() > 5 * lr[0]                   # the ramp is there, and inside the range


def test_x_range_follows_the_steps_taken_not_a_huge_plan(qtbot, runs):
    view = fed(qtbot, MetricPlots(), runs)
    view.set_planned_extent(120, 10)
    view.grab()
    planned = view.x_range()
    assert planned == pytest.approx((-2.4, 122.4))         # runs that end at their plan fill the width
    view.set_planned_extent(1e8, 1e6)
    view.add_run("huge", "1e8 steps", run_color(3))
    view.append(run_update("huge", np.arange(1, 51), np.full(50, 0.7)))
    view.grab()
    assert view.x_range() == pytest.approx((-3, 153))      # the stop past 120 steps taken, not 1e8
    view.append(run_update("huge", np.arange(51, 1001), np.full(950, 0.7)))
    assert view.x_range()[1] == pytest.approx(1500 * 1.02)


def test_x_stops_grow_a_few_a_decade():
    assert [x_stop_above(v) for v in (0, 0.5, 1, 120, 149, 150, 999, 1000)] == pytest.approx(
        [1, 0.6, 1.5, 150, 150, 200, 1000, 1500])
