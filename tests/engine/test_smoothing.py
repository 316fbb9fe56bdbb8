"""The one debiased EMA: vectorized over a whole curve, and one value at a time, both equal to the loop."""
import math

import numpy as np
import pytest

from engine.smoothing import DebiasedEMA, debiased_ema


def hand_ema(values, weight):
    """TensorBoard's smoothing, written as its JavaScript loop is."""
    out, last, n = [], 0.0, 0
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        last = last * weight + (1 - weight) * v
        n += 1
        out.append(last / (1 - weight ** n))
    return np.array(out)


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.9, 0.99])
def test_vectorized_ema_equals_the_loop_over_many_blocks_with_gaps(weight):
    rng = np.random.default_rng(3)
    values = rng.lognormal(size=9000)           # > 64 * 64: the block recursion goes two levels deep
    values[[5, 700, 4500]] = [np.nan, np.inf, np.nan]
    expected = hand_ema(values, weight)
    whole, _, _ = debiased_ema(values, weight)
    np.testing.assert_allclose(whole, expected, rtol=1e-10)
    first, last, count = debiased_ema(values[:3001], weight)
    rest, _, _ = debiased_ema(values[3001:], weight, last, count)
    np.testing.assert_allclose(np.concatenate([first, rest]), expected, rtol=1e-10)


@pytest.mark.parametrize("weight", [0.0, 0.6, 0.98])
def test_streaming_ema_equals_the_vectorized_one(weight):
    values = np.random.default_rng(4).lognormal(size=500)
    ema = DebiasedEMA(weight)
    streamed = np.array([ema.update(v) for v in values])
    np.testing.assert_allclose(streamed, debiased_ema(values, weight)[0], rtol=1e-12)
    assert streamed[0] == pytest.approx(values[0], rel=1e-15)   # debiased: the first point is the first value


def test_streaming_ema_refuses_a_weight_that_never_forgets():
    with pytest.raises(ValueError, match=r"weight must be in \[0, 1\), got 1.0"):
        DebiasedEMA(1.0)
