"""Runs told apart without colour (issue 11: a grey handout, a colour-blind student): each run's
evaluation points carry its own marker shape, in the plots and in the legend.

The markers are read from the drawn items (their symbol) and the legend's text, not from pixels.
"""
from __future__ import annotations

import numpy as np
import pytest

from engine.training.updates import EvalSeries, RunUpdate, StepSeries
from gui.style.palette import run_color, run_marker
from gui.training.metric_plots import EVAL_SYMBOL_LIMIT, MetricPlots
from gui.training.plot_runs import EVAL_STYLES
from gui.training.plot_series import SERIES

RUNS = 3


def update(run_id: str, start: int, n: int = 40, every: int = 10) -> RunUpdate:
    step = np.arange(start, start + n, dtype=np.int64)
    steps = StepSeries(step, step / 100.0, np.full(n, 0.01), 1.0 / (1.0 + step), np.ones(n), np.zeros(n, bool))
    at = step[step % every == 0]
    v = 1.0 / (1.0 + at)
    evals = EvalSeries(at, at / 100.0, v, 1.0 - v, 1.1 * v, 1.0 - 1.1 * v)
    return RunUpdate(run_id, "running", "", int(step[-1]), 0.0, 1.0, steps, evals)


def eval_symbols(view: MetricPlots, run_id: str) -> set:
    """The symbols drawn by every item of the run's evaluation curves."""
    run = view._runs[run_id]
    return {item.opts["symbol"] for key, curve in run.curves.items() if key in EVAL_KEYS for item in curve.items}


EVAL_KEYS = {(s.plot, s.name) for s in SERIES if s.style in EVAL_STYLES}


@pytest.fixture
def view(qtbot):
    view = MetricPlots()
    qtbot.addWidget(view)
    for i in range(RUNS):
        view.add_run(f"r{i}", f"run {i}", run_color(i))
        view.append(update(f"r{i}", 0))
    return view


def test_each_runs_evaluation_points_carry_its_own_marker(view):
    assert len(EVAL_KEYS) == 4          # train and val, on the loss and the accuracy plots
    for i in range(RUNS):
        assert eval_symbols(view, f"r{i}") == {run_marker(i).symbol}
    assert len({run_marker(i).symbol for i in range(RUNS)}) == RUNS


def test_the_markers_survive_a_restyle_a_new_chunk_and_a_cleared_run(view):
    view.set_line_width(3.0)                        # presenter mode restyles every curve
    assert eval_symbols(view, "r1") == {run_marker(1).symbol}
    view.clear_run("r2")
    view.append(update("r2", 0))
    assert eval_symbols(view, "r2") == {run_marker(2).symbol}
    view._restyle_labels()                          # a theme switch
    assert all(eval_symbols(view, f"r{i}") == {run_marker(i).symbol} for i in range(RUNS))


def test_a_run_with_too_many_evaluations_draws_none_and_keeps_none(view):
    view.append(update("r0", 40, n=10 * (EVAL_SYMBOL_LIMIT + 10), every=10))
    view._restyle_labels()
    assert eval_symbols(view, "r0") == {None}       # a dense line: no markers put back on it
    assert eval_symbols(view, "r1") == {run_marker(1).symbol}


def test_the_legend_shows_each_run_with_its_marker(view):
    text = view._legend.text()
    for i in range(RUNS):
        glyph = run_marker(i).glyph
        assert f"{glyph}\u2501 run {i}" in text.replace("\u00a0", " ")
    with view._legend.exporting("accuracy"):       # an exported plot's own legend row too
        row = view._legend._rows["accuracy"].item.toPlainText()
    assert all(f"{run_marker(i).glyph}\u2501" in row for i in range(RUNS))
