"""The points behind the training tab's views: columns that grow without copying their history, and one
run's bounded tables of its curves (its steps, its evaluations, its clipped steps, its smoothed loss).

A view receives a :class:`~engine.training.updates.RunUpdate` 20-30 times a second per run.  Appending
to a numpy array with ``np.append`` copies the whole history each time (O(n) per update, O(n^2) a run);
columns that double when full copy each row O(1) times on average, so m new rows cost O(m) amortized.
The smoothed loss is continued from its saved state, so it costs O(new points) as well.
"""
from __future__ import annotations

import numpy as np

from engine.smoothing import debiased_ema
from engine.training.reservoir import BoundedColumns
from engine.training.updates import RunUpdate


class GrowingColumns:
    """Columns of equal length in arrays that double when full, so appending m rows is O(m) amortized.

    A column is given as a dtype, or as ``(dtype, shape)`` for rows that are arrays themselves
    (histogram counts).
    """

    def __init__(self, **columns):
        self._specs = {k: (v if isinstance(v, tuple) else (v, ())) for k, v in columns.items()}
        self.clear()

    def clear(self) -> None:
        self._cols = {k: np.empty((16, *shape), dt) for k, (dt, shape) in self._specs.items()}
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def capacity(self) -> int:
        return len(next(iter(self._cols.values())))

    def extend(self, **cols: np.ndarray) -> None:
        m = len(next(iter(cols.values())))
        if m == 0:
            return
        need = self.n + m
        if need > self.capacity():
            cap = max(need, 2 * self.capacity())
            for key, old in self._cols.items():
                new = np.empty((cap, *old.shape[1:]), old.dtype)
                new[:self.n] = old[:self.n]
                self._cols[key] = new
        for key, value in cols.items():
            self._cols[key][self.n:need] = value
        self.n = need

    def __getitem__(self, key: str) -> np.ndarray:
        """A view of the filled part (writable: the smoothing is recomputed in place)."""
        return self._cols[key][:self.n]


class RunPoints:
    """One run's training curves, in three bounded tables (:class:`~engine.training.reservoir.BoundedColumns`).

    ``steps``: one row per optimizer step (step, epoch, lr, loss, grad_norm, clipped, and ``ema``, the
    debiased exponential moving average of the loss, ``engine.smoothing.debiased_ema``); ``evals``: one
    row per evaluation on the full sets; ``clips``: the steps grad_clip scaled down.  Each keeps its last
    ``RECENT`` (65,536) rows at full resolution and folds older ones into min/max buckets, so a run of any
    length holds at most ``cap`` rows a table (131,072): a few MB, where keeping every step cost
    ~0.2 kB a step (benchmarks/window_memory.py).

    The smoothed loss is computed as the points arrive, from the raw losses and the saved state, and
    stored with them, so it is exact wherever the raw loss is; after a change of weight
    (:meth:`resmooth`) the decimated part is smoothed from its buckets' means (below).
    """

    TABLES = ("steps", "evals", "clips")

    def __init__(self, **sizes):
        self.steps = BoundedColumns(step=np.int64, epoch=np.float64, lr=np.float64, loss=np.float64,
                                    grad_norm=np.float64, clipped=bool, ema=np.float64, **sizes)
        self.evals = BoundedColumns(step=np.int64, epoch=np.float64, train_loss=np.float64, train_acc=np.float64,
                                    val_loss=np.float64, val_acc=np.float64, **sizes)
        self.clips = BoundedColumns(step=np.int64, epoch=np.float64, grad_norm=np.float64, **sizes)
        self.ema_last, self.ema_count = 0.0, 0    # the smoothing's state after the last step

    def table(self, name: str) -> BoundedColumns:
        if name not in self.TABLES:
            raise KeyError(name)
        return getattr(self, name)

    def clear(self) -> None:
        """Forget every point (the run restarts); the smoothing starts over."""
        for name in self.TABLES:
            self.table(name).clear()
        self.ema_last, self.ema_count = 0.0, 0

    def extend(self, update: RunUpdate, smoothing: float) -> set[str]:
        """Add the update's points, smoothing the new losses with weight ``smoothing``; returns the tables that grew."""
        grown = set()
        s = update.steps
        if len(s):
            ema, self.ema_last, self.ema_count = debiased_ema(s.loss, smoothing, self.ema_last, self.ema_count)
            self.steps.extend(step=s.step, epoch=s.epoch, lr=s.lr, loss=s.loss, grad_norm=s.grad_norm,
                              clipped=s.clipped, ema=ema)
            grown.add("steps")
            if s.clipped.any():
                self.clips.extend(step=s.step[s.clipped], epoch=s.epoch[s.clipped], grad_norm=s.grad_norm[s.clipped])
                grown.add("clips")
        e = update.evals
        if len(e):
            self.evals.extend(step=e.step, epoch=e.epoch, train_loss=e.train_loss, train_acc=e.train_acc,
                              val_loss=e.val_loss, val_acc=e.val_acc)
            grown.add("evals")
        return grown

    def resmooth(self, smoothing: float) -> None:
        """The smoothed loss of every step again, with a new weight w (once, vectorized over the recent part).

        The raw losses of a decimated bucket are gone; its c finite losses are taken as c copies of their
        mean m, which carries the average exactly as c equal values would::

            avg <- w**c * avg + (1 - w**c) * m,     count <- count + c

        and the bucket's two rows get the smoothed value before and after it (as min and max).  The recent,
        full-resolution part is then smoothed exactly from that state; the state's error there shrinks as
        w**k after k steps (w = 0.99: below 1e-4 of the loss after 1,000 steps).  Weight 0 is the raw loss,
        envelope included.
        """
        steps = self.steps
        ema, loss = steps["ema"], steps["loss"]
        if smoothing == 0.0:
            ema[:] = loss
            self.ema_last, self.ema_count = (float(loss[-1]) if len(loss) else 0.0), int(np.isfinite(loss).sum())
            return
        start = steps.recent_start
        avg, count = 0.0, 0
        finite, mean = steps.bucket_means("loss")
        before = np.nan
        for b, (c, m) in enumerate(zip(finite.tolist(), mean.tolist())):
            if c:
                decay = smoothing ** c
                avg, count = decay * avg + (1.0 - decay) * m, count + c
                after = avg / (1.0 - smoothing ** count)
                first = after if np.isnan(before) else before
                ema[2 * b], ema[2 * b + 1] = min(first, after), max(first, after)
                before = after
            else:
                ema[2 * b] = ema[2 * b + 1] = np.nan
        recent, self.ema_last, self.ema_count = debiased_ema(loss[start:], smoothing, avg, count)
        ema[start:] = recent
