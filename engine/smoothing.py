"""The debiased exponential moving average: one definition, for the live loss plot and the LR finder.

Both smooth a noisy loss the same way (TensorBoard's smoothing and fastai's
``AvgSmoothLoss`` are the same formula)::

    avg_t      = w * avg_{t-1} + (1 - w) * v_t,     avg_0 = 0
    smoothed_t = avg_t / (1 - w**t)

Starting the average at 0 would drag the first points toward 0; dividing by
``1 - w**t`` (the total weight the average has given to real values, as in
Adam's bias correction) removes that.  :func:`debiased_ema` does a whole curve
at once, vectorized (the plot re-smooths a million points when the slider
moves); :class:`DebiasedEMA` does it one value at a time, for a sweep that must
decide after every step whether to stop.  The two agree to float rounding
(tests/engine/test_smoothing.py).
"""
from __future__ import annotations

import numpy as np

_EMA_BLOCK = 64


def _linear_recurrence(x: np.ndarray, a: float, y0: float) -> np.ndarray:
    """``y[n] = a * y[n-1] + x[n]`` with ``y[-1] = y0`` and ``0 <= a < 1``, without a Python loop over points.

    Split x into blocks of L points.  Inside block b, from a zero state, the
    response is ``Z[b, i] = sum_{k<=i} a**(i-k) x[b, k]``: one matrix product
    with the lower-triangular Toeplitz matrix ``T[i, k] = a**(i-k)``.  The state
    s[b-1] carried in from the previous block adds ``a**(i+1) * s[b-1]``, and the
    block-end states obey the same recurrence, ``s[b] = a**L s[b-1] + Z[b, L-1]``,
    on N / L values: solved by calling this function again.  Every power is at
    most 1, so nothing overflows, whatever ``a``.
    """
    n = x.size
    if n == 0:
        return np.empty(0)
    length = min(_EMA_BLOCK, n)
    i = np.arange(length)
    lag = i[:, None] - i[None, :]
    toeplitz = np.where(lag >= 0, a ** np.maximum(lag, 0), 0.0)
    blocks = -(-n // length)
    padded = np.zeros(blocks * length)
    padded[:n] = x
    zero_state = padded.reshape(blocks, length) @ toeplitz.T
    starts = np.empty(blocks)
    starts[0] = y0
    if blocks > 1:
        starts[1:] = _linear_recurrence(zero_state[:-1, -1], a ** length, y0)
    out = zero_state + starts[:, None] * (a ** (i + 1))[None, :]
    return out.reshape(-1)[:n]


def debiased_ema(values: np.ndarray, weight: float, last: float = 0.0,
                 count: int = 0) -> tuple[np.ndarray, float, int]:
    """TensorBoard's smoothing of a noisy curve: an exponential moving average, debiased.

    Over the finite values v_1, v_2, ... (a non-finite value is passed through
    unchanged and skipped, as TensorBoard does)::

        last_t     = w * last_{t-1} + (1 - w) * v_t,     last_0 = 0
        smoothed_t = last_t / (1 - w**t)

    Starting the average at 0 would drag the first points toward 0; dividing
    by 1 - w**t (the total weight the average has given to real values, as in
    Adam's bias correction) removes that.  ``weight`` 0 gives the raw curve.

    Returns ``(smoothed, last, count)``; pass ``last`` and ``count`` back with the
    next values to continue the same curve, so an append costs O(new points).
    """
    out = np.array(values, dtype=np.float64)
    finite = np.isfinite(out)
    v = out[finite]
    if v.size:
        acc = _linear_recurrence((1.0 - weight) * v, float(weight), float(last))
        t = count + np.arange(1, v.size + 1)
        out[finite] = acc / (1.0 - weight ** t)
        last, count = float(acc[-1]), count + int(v.size)
    return out, last, count


class DebiasedEMA:
    """The same average, one value at a time: ``update(v)`` returns ``smoothed_t``."""

    def __init__(self, weight: float):
        if not 0.0 <= weight < 1.0:
            raise ValueError(f"weight must be in [0, 1), got {weight}")
        self.weight = float(weight)
        self.avg = 0.0
        self.count = 0

    def update(self, value: float) -> float:
        self.count += 1
        self.avg = self.weight * self.avg + (1.0 - self.weight) * value
        return self.avg / (1.0 - self.weight ** self.count)
