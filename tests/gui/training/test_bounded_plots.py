"""A long run's curves stay bounded in the window: at most ``cap`` points a curve however many steps, the
drawn envelope holds every raw value, and the smoothed loss of the recent part is exact (issue 11)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.smoothing import debiased_ema
from engine.training.updates import EvalSeries, RunUpdate, StepSeries
from gui.style.palette import run_color
from gui.training.columns import RunPoints
from gui.training.metric_plots import MetricPlots
from gui.widgets import plotting
from gui.widgets.plotting import CHUNK
from tests.engine.training.test_reservoir import envelope_holds

SMALL = dict(recent=500, fold=128, max_buckets=64)


def update(lo: int, hi: int, rng) -> RunUpdate:
    step = np.arange(lo, hi, dtype=np.int64)
    loss = 1.0 / (1.0 + step / 500.0) + 0.2 * rng.random(len(step))
    at = step[step % 50 == 0]
    evals = EvalSeries(at, at / 10.0, *(np.sin(at / 300.0) + k for k in range(4)))
    return RunUpdate("r", "running", "", int(step[-1]), 0.0, 0.0,
                     StepSeries(step, step / 10.0, 0.1 / (1.0 + step), loss, 1.0 + rng.random(len(step)),
                                step % 11 == 0), evals)


def test_points_stay_under_the_cap_and_the_smoothing_is_exact_where_the_loss_is():
    points, rng = RunPoints(**SMALL), np.random.default_rng(0)
    sent, held, at = [], [], 0
    for _ in range(400):
        m = int(rng.integers(1, 300))
        u = update(at, at + m, rng)
        at += m
        points.extend(u, 0.9)
        sent.append(u)
        held.append(max(len(points.steps), len(points.evals), len(points.clips)))
    cap = points.steps.cap
    assert cap == 2 * 64 + 500 + 128 and at > 50 * cap and max(held) <= cap
    step = np.concatenate([u.steps.step for u in sent])
    loss = np.concatenate([u.steps.loss for u in sent])
    steps = points.steps
    envelope_holds(steps["step"], steps["loss"], steps.recent_start, step, loss)
    envelope_holds(steps["step"], steps["grad_norm"], steps.recent_start, step,
                   np.concatenate([u.steps.grad_norm for u in sent]))
    # the smoothing as it arrived, chunk by chunk, without any decimation: the same numbers
    ema, last, count = [], 0.0, 0
    for u in sent:
        part, last, count = debiased_ema(u.steps.loss, 0.9, last, count)
        ema.append(part)
    envelope_holds(steps["step"], steps["ema"], steps.recent_start, step, np.concatenate(ema))
    evals = points.evals
    envelope_holds(evals["step"], evals["val_acc"], evals.recent_start,
                   np.concatenate([u.evals.step for u in sent]), np.concatenate([u.evals.val_acc for u in sent]))
    clips = points.clips
    envelope_holds(clips["step"], clips["grad_norm"], clips.recent_start, step[step % 11 == 0],
                   np.concatenate([u.steps.grad_norm for u in sent])[step % 11 == 0])


def test_a_new_smoothing_weight_is_exact_on_the_recent_part():
    points, rng = RunPoints(**SMALL), np.random.default_rng(1)
    at = 0
    for _ in range(200):
        points.extend(update(at, at + 97, rng), 0.6)
        at += 97
    loss = points.steps["loss"]
    start = points.steps.recent_start
    points.resmooth(0.5)
    exact, _, _ = debiased_ema(loss[start:], 0.5)           # a fresh start: its first points differ, not the rest
    np.testing.assert_allclose(points.steps["ema"][start + 60:], exact[60:], rtol=1e-12)   # 0.5**60 ~ 1e-18
    low, high = points.steps["ema"][:start:2], points.steps["ema"][1:start:2]
    assert np.all(low <= high) and np.all(np.abs(high - 0.6) < 0.6)   # the smoothed envelope, sane
    points.resmooth(0.0)
    np.testing.assert_array_equal(points.steps["ema"], loss)


@pytest.mark.slow
def test_the_drawn_curve_of_a_long_run_is_bounded_and_holds_every_value(qtbot):
    """400,000 steps through the view: the curves hold the table's rows, drawn in chunks after each fold."""
    view = MetricPlots()
    qtbot.addWidget(view)
    view.add_run("r", "long", run_color(0))
    rng = np.random.default_rng(2)
    total, batch = 400_000, 4_000
    sent = []
    for lo in range(0, total, batch):
        u = update(lo, lo + batch, rng)
        view.append(u)
        sent.append(u)
    table = view._runs["r"].points.steps
    assert table.version > 0
    for series, column in (("batch", "loss"), ("smoothed", "ema")):
        x, y = view.curve_data("r", "loss", series)
        assert len(x) <= table.cap < total and x[-1] == total - 1
        items = view.curve_items("r", "loss", series)
        assert len(items) == -(-len(x) // CHUNK)
        drawn = np.concatenate([item.yData[:CHUNK] for item in items])   # chunks overlap by one point
        np.testing.assert_array_equal(drawn, table[column])               # drawn again after the last fold
    x, y = view.curve_data("r", "loss", "batch")
    envelope_holds(x, y, table.recent_start, np.arange(total), np.concatenate([u.steps.loss for u in sent]))


def test_the_drawn_curves_follow_every_fold(qtbot, monkeypatch):
    """Small tables (cap 756) in chunks of 100 under the real view: after each fold (the old rows change)
    every chunk of every curve is drawn again from the table's rows."""
    monkeypatch.setattr(plotting, "CHUNK", 100)
    view = MetricPlots()
    qtbot.addWidget(view)
    view.add_run("r", "long", run_color(0))
    view._runs["r"].points = RunPoints(**SMALL)
    rng = np.random.default_rng(4)
    versions, at = set(), 0
    for _ in range(120):
        m = int(rng.integers(1, 200))
        view.append(update(at, at + m, rng))
        at += m
        points = view._runs["r"].points
        versions.add(points.steps.version)
        for (plot, series), table, column in ((("loss", "batch"), points.steps, "loss"),
                                              (("grad_norm", "grad_norm"), points.steps, "grad_norm"),
                                              (("accuracy", "val"), points.evals, "val_acc")):
            items = view.curve_items("r", plot, series)
            assert len(items) == max(1, -(-len(table) // 100))
            drawn = np.concatenate([item.yData[:100] for item in items]) if items[0].yData is not None else []
            np.testing.assert_array_equal(drawn, table[column])
            assert len(view.curve_data("r", plot, series)[0]) <= table.cap
    assert len(versions) > 10 and at > 10 * points.steps.cap
