"""Seed bands in the training plots: a multi-seed run's curves are the members' mean with a band of their
spread (gui.training.plot_bands), fed real RunUpdates with real Spreads; the band's edges are checked as
numbers against the spreads, smoothed, in epochs and as the middle half, and the legend says "mean of K"."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from engine.smoothing import debiased_ema
from engine.training.updates import EVAL_BANDS, STEP_BANDS, EvalSeries, RunUpdate, Spread, StepSeries
from gui.training.metric_plots import MetricPlots

K, N, STEPS_PER_EPOCH = 16, 40, 10


def multi_seed_update(run_id: str = "r", start: int = 0, n: int = N, offset: float = 0.0) -> tuple[RunUpdate, dict]:
    """n steps and one evaluation every 10 steps of a 16-member run; returns the update and the members' values."""
    rng = np.random.default_rng(start)
    step = np.arange(start + 1, start + n + 1)
    members = {f: offset + np.exp(-step / 30.0)[:, None] + rng.random((n, K)) * 0.3 for f in STEP_BANDS}
    eval_step = step[step % 10 == 0]
    emembers = {f: offset + rng.random((len(eval_step), K)) for f in EVAL_BANDS}
    steps = StepSeries(step=step, epoch=step / STEPS_PER_EPOCH, lr=np.full(n, 0.1),
                       loss=members["loss"].mean(1), grad_norm=members["grad_norm"].mean(1),
                       clipped=np.zeros(n, bool))
    evals = EvalSeries(step=eval_step, epoch=eval_step / STEPS_PER_EPOCH,
                       **{f: emembers[f].mean(1) for f in EVAL_BANDS})
    update = RunUpdate(run_id, "running", "", int(step[-1]), step[-1] / STEPS_PER_EPOCH, 100.0, steps, evals,
                       members=K, step_spread={f: Spread.of(v) for f, v in members.items()},
                       eval_spread={f: Spread.of(v) for f, v in emembers.items()})
    return update, {**members, **emembers}


def test_band_edges_are_the_spreads_smoothed_in_epochs_and_toggled(qtbot):
    plots = MetricPlots()
    qtbot.addWidget(plots)
    plots.add_run("r", "adam", QColor("#1f77b4"))
    first, m1 = multi_seed_update(start=0)
    second, m2 = multi_seed_update(start=N)
    plots.append(first)
    plots.append(second)
    val = np.concatenate([m1["val_acc"], m2["val_acc"]])
    x, lo, hi = plots.band_data("r", "accuracy", "val")
    np.testing.assert_allclose(lo, val.min(1))
    np.testing.assert_allclose(hi, val.max(1))
    np.testing.assert_allclose(x, np.arange(10, 2 * N + 1, 10))
    # the band's middle follows its curve: the mean lies between the edges
    _, mean = plots.curve_data("r", "accuracy", "val")
    assert np.all((lo <= mean + 1e-12) & (mean <= hi + 1e-12))

    loss = np.concatenate([m1["loss"], m2["loss"]])
    w = plots.smoothing()
    x, lo, hi = plots.band_data("r", "loss", "smoothed")
    np.testing.assert_allclose(lo, debiased_ema(loss.min(1), w, 0.0, 0)[0])
    np.testing.assert_allclose(hi, debiased_ema(loss.max(1), w, 0.0, 0)[0])
    plots.set_smoothing(0.0)
    _, lo, hi = plots.band_data("r", "loss", "smoothed")
    np.testing.assert_allclose(lo, loss.min(1))

    plots.set_x_axis("epoch")
    x, _, _ = plots.band_data("r", "grad_norm", "grad_norm")
    np.testing.assert_allclose(x, np.arange(1, 2 * N + 1) / STEPS_PER_EPOCH)

    plots.controls.band_combo.setCurrentIndex(plots.controls.band_combo.findData("middle"))
    assert plots.band_kind() == "middle"
    _, lo, hi = plots.band_data("r", "grad_norm", "grad_norm")
    grad = np.concatenate([m1["grad_norm"], m2["grad_norm"]])
    q25, q75 = np.quantile(grad, [0.25, 0.75], axis=1)
    np.testing.assert_allclose(lo, q25)
    np.testing.assert_allclose(hi, q75)


def adam_and_sgd(qtbot) -> MetricPlots:
    """Plots of two runs: "r" (adam) and "s" (sgd), no points yet."""
    plots = MetricPlots()
    qtbot.addWidget(plots)
    plots.add_run("r", "adam", QColor("#1f77b4"))
    plots.add_run("s", "sgd", QColor("#ff7f0e"))
    return plots


def test_legend_says_mean_of_k_seeds_and_one_seed_runs_have_no_band(qtbot):
    plots = adam_and_sgd(qtbot)
    plots.append(multi_seed_update("r")[0])
    assert "adam (mean of 16 seeds)" in plots.legend_text("loss")
    assert "sgd (mean" not in plots.legend_text("loss")
    plots.remove_run("r")
    assert "mean of" not in plots.legend_text("loss")


def test_runs_that_are_all_means_of_k_seeds_say_it_once(qtbot):
    plots = adam_and_sgd(qtbot)
    plots.append(multi_seed_update("r")[0])
    plots.append(multi_seed_update("s")[0])
    text = plots.legend_text("loss")
    assert text.count("mean of") == 1 and "(each the mean of 16 seeds)" in text and "adam (mean" not in text


def test_runs_list_shows_k_of_a_multi_seed_run(qtbot):
    from gui.training.runs_list import RunsList
    runs = RunsList()
    qtbot.addWidget(runs)
    runs.add_run("r", "adam", QColor("#1f77b4"))
    runs.add_run("s", "sgd", QColor("#ff7f0e"))
    runs.set_members("r", 16)
    runs.set_members("s", 1)
    assert runs.members_text("r") == "16 seeds"
    assert runs.members_text("s") == ""
    assert runs.status("r") == "queued"


def test_the_band_is_a_filled_area_between_its_edges(qtbot):
    """Each band's fill spans its edges (its edges' curves had no pen, so no path, and the fill was empty)."""
    plots = MetricPlots()
    qtbot.addWidget(plots)
    plots.add_run("r", "adam", QColor("#1f77b4"))
    update, members = multi_seed_update()
    plots.append(update)
    lower, upper, fill = plots._bands["r"].items[("accuracy", "val")]
    box = fill.boundingRect()
    assert not fill.path().isEmpty()
    assert box.top() <= members["val_acc"].min() + 1e-9 and box.bottom() >= members["val_acc"].max() - 1e-9
