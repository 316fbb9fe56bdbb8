"""The bounded table behind the window's curves: at most ``cap`` rows for any number of points, the
recent points exact, and every older point inside its bucket's [min, max] (engine/training/reservoir.py)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.training.reservoir import BoundedColumns

SMALL = dict(recent=100, fold=32, max_buckets=8)


def envelope_holds(step: np.ndarray, value: np.ndarray, recent_start: int, raw_step: np.ndarray,
                   raw_value: np.ndarray) -> None:
    """Assert that stored rows (``step``, ``value``; buckets as (first, min), (last, max) row pairs before
    ``recent_start``) hold every raw point: the recent ones exactly, the others within their bucket."""
    tail = len(step) - recent_start
    np.testing.assert_array_equal(step[recent_start:], raw_step[len(raw_step) - tail:])
    np.testing.assert_array_equal(value[recent_start:], raw_value[len(raw_value) - tail:])
    old_step, old_value = raw_step[:len(raw_step) - tail], raw_value[:len(raw_value) - tail]
    first, last = step[:recent_start:2], step[1:recent_start:2]
    low, high = value[:recent_start:2], value[1:recent_start:2]
    assert np.all(np.diff(step) >= 0)                            # still in x order: searchsorted works
    bucket = np.searchsorted(last, old_step)                     # the bucket each old point went to
    assert np.all(bucket < len(last)) and np.all(first[bucket] <= old_step)
    finite = np.isfinite(old_value)
    assert np.all(low[bucket][finite] <= old_value[finite]) and np.all(old_value[finite] <= high[bucket][finite])
    # and the envelope is tight: each bucket's min and max are values it holds
    for b in range(len(first)):
        inside = old_value[(old_step >= first[b]) & (old_step <= last[b])]
        assert np.nanmin(inside) == low[b] and np.nanmax(inside) == high[b]


def fed(table: BoundedColumns, batches: int, seed: int = 0, max_batch: int = 60):
    rng = np.random.default_rng(seed)
    steps, values, caps = [], [], []
    at = 0
    for _ in range(batches):
        m = int(rng.integers(1, max_batch))
        step = np.arange(at, at + m)
        at += m
        value = rng.normal(size=m) + np.sin(step / 500.0)
        table.extend(step=step, epoch=step / 10.0, value=value, flag=step % 97 == 0)
        steps.append(step)
        values.append(value)
        caps.append(len(table))
    return np.concatenate(steps), np.concatenate(values), np.array(caps)


def small_table(**sizes) -> BoundedColumns:
    return BoundedColumns(**(SMALL | sizes), step=np.int64, epoch=np.float64, value=np.float64, flag=bool)


def test_rows_stay_under_the_cap_for_any_number_of_points():
    table = small_table()
    assert table.cap == 2 * 8 + 100 + 32
    steps, _, held = fed(table, 4000)
    assert len(steps) > 500 * table.cap                           # 74,000 points through a table of 148 rows
    assert held.max() <= table.cap and table.total == len(steps)
    assert table.buckets <= 8 and table.width >= len(steps) // (8 * 4)
    assert len(table) - table.recent_start >= 100                  # the last `recent` points at full resolution


def test_the_envelope_holds_every_point_and_the_recent_ones_exactly():
    table = small_table()
    steps, values, _ = fed(table, 3000, seed=3)
    envelope_holds(table["step"], table["value"], table.recent_start, steps, values)
    envelope_holds(table["step"], table["epoch"], table.recent_start, steps, steps / 10.0)  # keys: first/last
    flags = table["flag"][:table.recent_start].reshape(-1, 2)
    assert flags[:, 0].sum() > 0 and np.array_equal(flags[:, 0], flags[:, 1])
    first, last = table["step"][:table.recent_start:2], table["step"][1:table.recent_start:2]
    hit = [(steps[(steps >= a) & (steps <= z)] % 97 == 0).any() for a, z in zip(first, last)]
    np.testing.assert_array_equal(flags[:, 0], hit)                # "any" per bucket


def test_a_non_finite_value_does_not_hide_the_envelope():
    table = small_table()
    value = np.linspace(0.0, 1.0, 400)
    value[50] = np.nan
    table.extend(step=np.arange(400), epoch=np.arange(400.0), value=value, flag=np.zeros(400, bool))
    low, high = table["value"][:table.recent_start:2], table["value"][1:table.recent_start:2]
    assert np.isfinite(low).all() and np.isfinite(high).all()


def test_bucket_means_carry_every_finite_value_once():
    table = small_table()
    steps, values, _ = fed(table, 2000, seed=5)
    count, mean = table.bucket_means("value")
    tail = len(table) - table.recent_start
    assert count.sum() + tail == len(values)
    np.testing.assert_allclose((count * mean).sum(), values[:len(values) - tail].sum(), rtol=1e-9)


def test_a_fold_bumps_the_version_and_clear_starts_over():
    table = small_table()
    table.extend(step=np.arange(131), epoch=np.zeros(131), value=np.zeros(131), flag=np.zeros(131, bool))
    assert table.version == 0 and table.recent_start == 0       # 131 < recent + fold: nothing folded yet
    table.extend(step=[131], epoch=[0.0], value=[0.0], flag=[False])
    assert table.version == 1 and table.recent_start == 2 * 8   # 32 points in 8 buckets of 4
    table.clear()
    assert (len(table), table.version, table.buckets, table.total) == (0, 0, 0, 0)


def test_one_huge_extend_is_folded_piece_by_piece():
    table = small_table()
    n = 100_000
    table.extend(step=np.arange(n), epoch=np.arange(n) / 3.0, value=np.cos(np.arange(n)), flag=np.zeros(n, bool))
    assert len(table) <= table.cap and table.total == n
    envelope_holds(table["step"], table["value"], table.recent_start, np.arange(n), np.cos(np.arange(n)))


def test_the_sizes_are_checked():
    with pytest.raises(ValueError):
        BoundedColumns(fold=8, step=np.int64, epoch=np.float64)
    with pytest.raises(ValueError):
        BoundedColumns(keys=("time",), step=np.int64)
