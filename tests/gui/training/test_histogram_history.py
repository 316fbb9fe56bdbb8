"""The Weights tab's history stays bounded however long the run (issue 11), and still shows the whole run:
a tensor's histograms go into a bounded history (the newest ticks exact, older ones as buckets that are
the mixture of their ticks), and the events of a hidden tab wait in a short list only.

Counted in rows, ticks and bytes of the history's arrays; the window's memory is measured by
benchmarks/histogram_bench.py.
"""
from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QTabWidget, QWidget

from engine.training.events import Histogram, HistogramEvent, LayerHistogram
from engine.training.updates import EMPTY_EVALS, EMPTY_STEPS, RunUpdate
from gui.style.palette import run_color
from gui.training import histogram_layer
from gui.training import histograms as histograms_module
from gui.training.drawing import HIDDEN_BATCH, DrawScheduler
from gui.training.histogram_history import HISTORY, HistogramHistory, HistorySizes, LayerHistory, mixture
from gui.training.histogram_layer import evenly_spaced
from gui.training.histograms import HistogramView

BINS, NUMEL, EVERY = 40, 400, 50


def tick(i: int) -> HistogramEvent:
    """Tick i (step 50 i): weights spread over [-(1 + i/1000), 1 + i/1000], NUMEL values; a gradient
    after step 0."""
    half = 1.0 + i / 1000.0
    counts = np.full(BINS, NUMEL // BINS)
    weight = Histogram(counts, np.linspace(-half, half, BINS + 1), 0.0, half / 2)
    grad = Histogram(counts, np.linspace(-0.1, 0.1, BINS + 1), 0.0, 0.05) if i else None
    return HistogramEvent(EVERY * i, (LayerHistogram("l.weight", weight, grad),), ())


def update(events, run_id: str = "a") -> RunUpdate:
    return RunUpdate(run_id, "running", "", events[-1].step, 0.0, 1.0, EMPTY_STEPS, EMPTY_EVALS,
                     histograms=tuple(events))


def feed(history: HistogramHistory, first: int, n: int, half: np.ndarray | None = None) -> None:
    """Ticks first .. first + n - 1 (step 50 i), uniform NUMEL counts over [-half_i, half_i] (default 1)."""
    i = np.arange(first, first + n)
    half = np.ones(n) if half is None else half
    history.extend(EVERY * i, np.full((n, BINS), NUMEL / BINS), half[:, None] * np.linspace(-1, 1, BINS + 1))


# -- the history, a plain class ---------------------------------------------------------------------

@pytest.mark.parametrize("ticks", [700, 6000, 100_000])       # 100,000: a 5,000,000-step run, one every 50
def test_a_history_holds_at_most_cap_rows_spanning_the_run_with_the_newest_exact(ticks):
    history = HistogramHistory(BINS)
    for first in range(0, ticks, 1000):
        feed(history, first, min(1000, ticks - first))
    steps, counts, edges = history.series()
    assert history.total == ticks and int(history.ticks.sum()) == ticks       # every tick counted, once
    assert len(history) <= HISTORY.cap == 1024
    assert steps[0] == 0 and steps[-1] == EVERY * (ticks - 1)                # first tick to the newest
    assert np.all(np.diff(steps) > 0)
    exact = len(history) - history.buckets
    assert HISTORY.recent <= exact < HISTORY.recent + HISTORY.fold or ticks < HISTORY.recent + HISTORY.fold
    np.testing.assert_array_equal(steps[history.buckets:], EVERY * np.arange(ticks - exact, ticks))
    np.testing.assert_allclose(counts.sum(axis=1), NUMEL)                    # a column: the element count
    if history.buckets:                                                       # equal buckets but the last
        assert np.all(history.ticks[:history.buckets - 1] == history.width)
        assert 0 < history.ticks[history.buckets - 1] <= history.width
    if ticks == 100_000:
        assert 129 <= history.buckets <= HISTORY.max_buckets and history.width == 512


def test_its_memory_stops_growing_at_cap_rows():
    history = HistogramHistory(BINS)
    feed(history, 0, 10_000)
    at_10k = history.nbytes
    for first in range(10_000, 100_000, 5000):
        feed(history, first, 5000)
    assert history.nbytes == at_10k == HISTORY.cap * (2 * 8 + BINS * 8 + (BINS + 1) * 8)    # 680 kB


def test_a_bucket_is_the_mixture_of_its_ticks_not_their_mean_edges():
    """A spike tick (a gradient 1000 times wider) among normal ones: the bucket keeps the normal ticks' mass
    near zero and the spike's extent; averaged edges would have drawn every tick ~250 times wider."""
    history = HistogramHistory(BINS, HistorySizes(recent=8, fold=8, max_buckets=4))
    half = np.ones(16)
    half[2] = 1000.0
    feed(history, 0, 16, half)                      # 16 = recent + fold: ticks 0-7 fold into 2 buckets of 4
    assert history.buckets == 2 and list(history.ticks[:2]) == [4, 4]
    steps, counts, edges = history.series()
    assert (edges[0, 0], edges[0, -1]) == (-1000.0, 1000.0)                    # the spike's range, kept
    centres = (edges[0, :-1] + edges[0, 1:]) / 2
    near_zero = counts[0][np.abs(centres) <= 50].sum()
    assert near_zero == pytest.approx(0.75 * NUMEL + 0.25 * NUMEL * 2 / BINS)    # 3 normal ticks + the spike's middle
    np.testing.assert_allclose(edges[1], np.linspace(-1, 1, BINS + 1))        # a bucket of equal ticks: as they were
    np.testing.assert_allclose(counts[1], NUMEL / BINS)


def test_halving_merges_neighbours_and_keeps_every_tick_and_count():
    history = HistogramHistory(BINS, HistorySizes(recent=8, fold=8, max_buckets=4))
    feed(history, 0, 200, 1.0 + np.arange(200) / 100.0)
    assert history.buckets <= 4 and history.width > 4 and int(history.ticks.sum()) == 200
    steps, counts, edges = history.series()
    np.testing.assert_allclose(counts.sum(axis=1), NUMEL)
    # bucket 0 spans its ticks' ranges: from tick 0's to that of its last tick
    last = history.width - 1
    assert edges[0, -1] == pytest.approx(1.0 + last / 100.0) and edges[0, 0] == pytest.approx(-(1.0 + last / 100.0))


def test_an_empty_histogram_neither_stretches_a_bucket_nor_adds_to_it():
    counts = np.array([[0.0] * BINS, [10.0] * BINS])
    edges = np.array([np.linspace(-100, 100, BINS + 1), np.linspace(-1, 1, BINS + 1)])
    mixed, grid = mixture(counts, edges)
    assert (grid[0], grid[-1]) == (-1.0, 1.0) and mixed.sum() == 10.0 * BINS


def test_a_layer_keeps_gradients_from_the_first_tick_that_has_one():
    layer = LayerHistory(BINS)
    layer.add([(e.step, e.layers[0].weight, e.layers[0].grad) for e in map(tick, range(10))])
    assert layer.series("weight")[0][0] == 0 and layer.series("grad")[0][0] == EVERY
    assert layer.latest_step == EVERY * 9 and layer.latest["grad"] is not None


def test_bad_sizes_are_refused_in_one_line():
    with pytest.raises(ValueError, match="history sizes need"):
        HistorySizes(fold=2)


# -- drawing it --------------------------------------------------------------------------------------

def test_uneven_columns_are_drawn_on_an_even_grid_each_at_its_own_steps():
    steps = np.array([0, 400, 800, 850, 900])          # two buckets of 400 steps, then ticks every 50
    columns = np.arange(5, dtype=np.float64)[:, None] * np.ones((1, 3))
    x0, dx, drawn = evenly_spaced(steps, columns)
    assert (x0, dx) == (0.0, 50.0) and len(drawn) == 19
    np.testing.assert_array_equal(drawn[:, 0], [0] * 8 + [1] * 8 + [2, 3, 4])
    x0, dx, drawn = evenly_spaced(np.array([0, 50, 100]), columns[:3])     # even: as they are
    assert (x0, dx) == (0.0, 50.0)
    np.testing.assert_array_equal(drawn, columns[:3])
    assert len(evenly_spaced(np.array([0, 1, 10 ** 7]), columns[:3])[2]) == histogram_layer.DRAWN_COLUMNS


def test_more_columns_than_drawn_share_one_as_their_mean():
    steps = np.array([0, 1000, 1001, 1002, 1003])
    columns = np.arange(5, dtype=np.float64)[:, None] * np.ones((1, 2))
    x0, dx, drawn = evenly_spaced(steps, columns, limit=3)
    assert dx == pytest.approx(501.5)
    np.testing.assert_allclose(drawn[:, 0], [0.0, 0.0, 2.5])     # the four newest averaged, none picked alone


# -- the view ----------------------------------------------------------------------------------------

@pytest.fixture
def long_view(qtbot):
    """A view fed 6,000 ticks (a 300,000-step run at one tick per 50 steps), 500 at a time."""
    view = HistogramView()
    qtbot.addWidget(view)
    view.add_run("a", "long", run_color(0))
    for start in range(0, 6000, 500):
        view.append(update([tick(i) for i in range(start, start + 500)]))
    return view


def test_the_view_draws_a_long_runs_whole_history_from_the_bounded_one(long_view):
    layer = long_view._runs["a"].layers["l.weight"]
    assert layer.kinds["weight"].total == 6000 and len(layer.kinds["weight"]) <= HISTORY.cap
    steps = long_view.heatmap_steps()
    assert len(long_view.heatmap_image().T) == len(steps) <= HISTORY.cap
    assert steps[0] == 0 and steps[-1] == EVERY * 5999
    np.testing.assert_allclose(long_view.heatmap_image().sum(axis=0), NUMEL)
    np.testing.assert_array_equal(steps[-HISTORY.recent:], EVERY * np.arange(6000 - HISTORY.recent, 6000))
    drawn = long_view._image.image                                # the image spans the run, first to last tick
    assert drawn is not None and drawn.shape[1] > len(steps)
    rect = long_view._image.mapRectToParent(long_view._image.boundingRect())
    assert rect.left() < 0 < EVERY * 5999 < rect.right()


def test_gradients_start_at_the_first_tick_with_one(long_view):
    long_view.set_gradients(True)
    steps = long_view.heatmap_steps()
    assert steps[0] == EVERY and steps[-1] == EVERY * 5999
    assert np.isfinite(long_view.heatmap_image()).all()
    np.testing.assert_allclose(long_view.heatmap_image().sum(axis=0), NUMEL)


def test_a_fold_rebuilds_the_heatmap_instead_of_appending_to_stale_columns(qtbot, monkeypatch):
    small = HistorySizes(recent=32, fold=16, max_buckets=4)
    monkeypatch.setattr(histograms_module, "LayerHistory", functools.partial(LayerHistory, sizes=small))
    view = HistogramView()
    qtbot.addWidget(view)
    view.add_run("a", "short sizes", run_color(0))
    for i in range(400):                          # one tick an update: the view redraws at each
        view.append(update([tick(i)]))
    history = view._runs["a"].layers["l.weight"].kinds["weight"]
    assert history.version > 5 and len(history) <= small.cap
    np.testing.assert_array_equal(view.heatmap_steps(), history.series()[0])
    assert len(view.heatmap_image().T) == len(history)


class _Tab(QObject):
    """What DrawScheduler reads of the Training tab, for the Weights tab's part of it."""

    def __init__(self, view: HistogramView):
        super().__init__()
        self.histograms = view
        self.tabs = QTabWidget()
        self.curves = QWidget()
        self.tabs.addTab(self.curves, "Curves")
        self.tabs.addTab(view, "Weights")
        self.runs = {"a": SimpleNamespace(status="running", message="", step=0, epoch=0.0, rate=1.0, generation=0)}
        self.plots = SimpleNamespace(pending_plots=lambda: ())


def test_a_hidden_weights_tab_keeps_few_events_waiting_and_shows_every_tick_when_opened(qtbot):
    view = HistogramView()
    tab = _Tab(view)
    qtbot.addWidget(tab.tabs)
    view.add_run("a", "hidden", run_color(0))
    scheduler = DrawScheduler(tab)
    waited = []
    for i in range(700):                     # fewer than a fold's ticks: every one is kept exactly
        scheduler.store(update([tick(i)]))
        waited.append(len(scheduler.hidden_histograms.get("a", ())))
    assert max(waited) < HIDDEN_BATCH                  # never more than a batch waits, however long the run
    assert view._runs["a"].layers["l.weight"].kinds["weight"].total > 700 - HIDDEN_BATCH
    assert view.stale and view._image.image is None            # stored, not drawn while hidden
    tab.tabs.setCurrentWidget(view)
    scheduler.feed_histograms()
    np.testing.assert_array_equal(view.heatmap_steps(), EVERY * np.arange(700))
    assert not view.stale and scheduler.hidden_histograms == {}
