"""The gradient heatmap keeps shrinking gradients visible (issue 11): rows in the symmetric log of the value.

Gradients that shrink 1000x over training are fed as the engine sends them (a histogram of the
tensor's own min..max per tick); the tests read the image the heatmap draws and its colour levels.
"""
from __future__ import annotations

import numpy as np
import pytest

from engine.training.events import Histogram, HistogramEvent, LayerHistogram
from engine.training.updates import EMPTY_EVALS, EMPTY_STEPS, RunUpdate
from gui.style.palette import run_color
from gui.training.heatmap import HEATMAP_BINS, Heatmap, HeatmapValueAxis, ValueScale, symlog_threshold
from gui.training.histograms import HistogramView

NUMEL = 400
TICKS = 21
SHRINK = 1000.0


def histogram(values: np.ndarray) -> Histogram:
    counts, edges = np.histogram(values, 30)
    return Histogram(counts, edges, float(values.mean()), float(values.std()))


def shrinking_events(ticks: int = TICKS, shrink: float = SHRINK) -> list[HistogramEvent]:
    """Weights of a steady scale; gradients (none at step 0) whose scale falls geometrically by ``shrink``."""
    rng = np.random.default_rng(3)
    events = []
    for i in range(ticks):
        scale = 0.5 * shrink ** (-i / (ticks - 1))
        grad = histogram(rng.normal(size=NUMEL) * scale) if i else None
        events.append(HistogramEvent(10 * i, (LayerHistogram("l.weight", histogram(rng.normal(size=NUMEL)), grad),), ()))
    return events


def update(events) -> RunUpdate:
    return RunUpdate("a", "running", "", events[-1].step, 0.0, 1.0, EMPTY_STEPS, EMPTY_EVALS, histograms=tuple(events))


@pytest.fixture
def view(qtbot):
    view = HistogramView()
    qtbot.addWidget(view)
    view.add_run("a", "shrinking", run_color(0))
    view.append(update(shrinking_events()))
    view.set_gradients(True)
    return view


def lit_rows(column: np.ndarray, levels) -> int:
    """Rows of one heatmap column drawn above the bottom colour (more than 5% of the colour range)."""
    lo, hi = (float(v) for v in levels)
    return int(np.sum(column > lo + 0.05 * (hi - lo)))


def test_late_small_gradients_keep_their_spread_in_colour(view):
    drawn, levels = view._image.image, view._image.levels
    assert drawn.shape == (HEATMAP_BINS, TICKS - 1)                 # no gradient at step 0
    np.testing.assert_allclose(drawn.sum(axis=0), NUMEL)           # every count still lands on the grid
    early, late = lit_rows(drawn[:, 0], levels), [lit_rows(drawn[:, j], levels) for j in range(-5, 0)]
    assert early >= 10
    assert min(late) >= 8 and min(late) >= early / 2, (early, late)  # 1000x smaller, still as wide in rows
    top = float(levels[1]) - float(levels[0])
    assert all(drawn[:, j].max() > 0.25 * top for j in range(-5, 0))  # and in a colour that reads
    # the last column sits inward of the first: the shrinking shows as the band narrowing, by ~log10(1000)
    ys = np.linspace(*view._heatmap().y_span(), HEATMAP_BINS + 1)
    centres = (ys[:-1] + ys[1:]) / 2

    def reach(column):   # the |y| holding 95% of the column's counts
        order = np.argsort(np.abs(centres))
        return np.abs(centres)[order][np.searchsorted(np.cumsum(column[order]), 0.95 * column.sum())]

    assert reach(drawn[:, 0]) - reach(drawn[:, -1]) == pytest.approx(np.log10(SHRINK), abs=0.5)


def test_on_a_linear_grid_the_same_gradients_collapse_into_a_line():
    """Why the rows are logarithmic: spanning the first steps' values, the last histograms fit in two rows."""
    events = shrinking_events()
    counts = np.array([e.layers[0].grad.counts for e in events[1:]], np.float64)
    edges = np.array([e.layers[0].grad.edges for e in events[1:]])
    linear = Heatmap(symlog=False)
    linear.sync(np.arange(len(counts)), counts, edges)
    assert linear.value_scale == ValueScale() and all(np.count_nonzero(linear.columns[j] > 0.5) <= 2 for j in range(-5, 0))
    symlog = Heatmap(symlog=True)
    symlog.sync(np.arange(len(counts)), counts, edges)
    assert all(np.count_nonzero(symlog.columns[j] > 0.5) >= 10 for j in range(-5, 0))


def test_weights_keep_a_linear_grid(view):
    view.set_gradients(False)
    edges = view.heatmap_edges()
    np.testing.assert_allclose(np.diff(edges), np.diff(edges)[0])
    assert view._heat_axis.value_scale == ValueScale()


def test_the_symmetric_log_and_its_threshold_follow_the_formula():
    scale = ValueScale(1e-4)
    v = np.array([-0.3, -1e-4, 0.0, 2e-5, 1e-4, 0.05])
    np.testing.assert_allclose(scale.to_y(v), np.sign(v) * np.log10(1 + np.abs(v) / 1e-4))
    np.testing.assert_allclose(scale.to_value(scale.to_y(v)), v, rtol=1e-12, atol=1e-18)
    far = ValueScale(1e-6)           # well above c, a ratio is a distance: 1000x is three decades
    assert far.to_y(0.5) - far.to_y(0.5e-3) == pytest.approx(3.0, abs=0.01)
    # c = 10^floor(log10(0.1 * P10(extent))), extent the larger |edge| of each histogram that holds counts
    extents = np.array([0.8, 0.3, 0.02, 4e-3, 3e-3])
    edges = np.stack([-extents, extents / 2], axis=1)
    counts = np.ones((5, 1))
    expected = 10.0 ** np.floor(np.log10(0.1 * np.percentile(extents, 10)))
    assert symlog_threshold(counts, edges) == pytest.approx(expected) == pytest.approx(1e-4)
    # one near-zero tick among many does not squeeze the rest; empty histograms count for nothing
    edges = np.array([[-1e-2, 1e-2]] * 20 + [[-1e-30, 1e-30], [-1e3, 1e3]])
    counts = np.ones((22, 1))
    counts[-1] = 0
    assert symlog_threshold(counts, edges) == pytest.approx(1e-3)
    assert symlog_threshold(np.ones((1, 1)), np.zeros((1, 2))) is None     # nothing but zeros: a linear grid


def test_the_heatmap_grown_tick_by_tick_equals_one_built_at_once(qtbot, view):
    live = HistogramView()
    qtbot.addWidget(live)
    live.add_run("a", "shrinking", run_color(0))
    live.set_gradients(True)
    thresholds = set()
    for event in shrinking_events():
        live.append(update([event]))
        thresholds.add(live._heat_axis.value_scale.threshold)
    assert len(thresholds - {None}) > 1                         # the threshold did move, the grid was rebuilt
    np.testing.assert_allclose(live.heatmap_image(), view.heatmap_image(), atol=1e-9)
    np.testing.assert_array_equal(live.heatmap_edges(), view.heatmap_edges())


def test_the_value_axis_labels_zero_and_powers_of_ten(qtbot, view):
    axis = view._heat_axis
    assert isinstance(axis, HeatmapValueAxis) and axis.value_scale.threshold is not None
    view.resize(700, 700)
    view.show()
    view.grab()                                  # drawn with its labels (an error in paint fails the test)
    y0, y1 = view._heatmap().y_span()
    assert axis.range[0] <= y0 < y1 <= axis.range[1]
    # the ticks of a 600-pixel axis: the drawn axis's height follows the fonts and the layout of the machine
    (_, ticks), = axis.tickValues(*axis.range, 600)
    labels = axis.tickStrings(ticks, 1.0, 1.0)
    assert "0" in labels and len(labels) >= 5
    values = [float(text) for text in labels]
    for value, y in zip(values, ticks):
        assert value == 0 or np.log10(abs(value)) == pytest.approx(round(np.log10(abs(value))))
        assert axis.value_scale.to_y(value) == pytest.approx(y)
    assert values == sorted(values) and min(values) < 0 < max(values)    # both signs, in order
    crowded = axis.tickValues(y0, y1, 60)[0][1]
    assert 0 < len(crowded) < len(ticks)                      # a short axis labels fewer decades
