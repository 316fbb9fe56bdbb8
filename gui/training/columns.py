"""The points behind the training tab's views: columns that grow without copying their history, and one
run's tables of them (its steps, its evaluations, its clipped steps, its smoothed loss).

A view receives a :class:`~engine.training.updates.RunUpdate` 20-30 times a second per run.  Appending
to a numpy array with ``np.append`` copies the whole history each time (O(n) per update, O(n^2) a run);
columns that double when full copy each row O(1) times on average, so m new rows cost O(m) amortized.
The smoothed loss is continued from its saved state, so it costs O(new points) as well.
"""
from __future__ import annotations

import numpy as np

from engine.smoothing import debiased_ema
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
    """Every point of one run's training curves, in three tables.

    ``steps``: one row per optimizer step (step, epoch, lr, loss, grad_norm, clipped, and ``ema``, the
    debiased exponential moving average of the loss, ``engine.smoothing.debiased_ema``); ``evals``: one
    row per evaluation on the full sets; ``clips``: the steps grad_clip scaled down.
    """

    TABLES = ("steps", "evals", "clips")

    def __init__(self):
        self.steps = GrowingColumns(step=np.int64, epoch=np.float64, lr=np.float64, loss=np.float64,
                                    grad_norm=np.float64, clipped=bool, ema=np.float64)
        self.evals = GrowingColumns(step=np.int64, epoch=np.float64, train_loss=np.float64, train_acc=np.float64,
                                    val_loss=np.float64, val_acc=np.float64)
        self.clips = GrowingColumns(step=np.int64, epoch=np.float64, grad_norm=np.float64)
        self.ema_last, self.ema_count = 0.0, 0    # the smoothing's state after the last step

    def table(self, name: str) -> GrowingColumns:
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
        """The smoothed loss of every step again, with a new weight (once, vectorized)."""
        ema, self.ema_last, self.ema_count = debiased_ema(self.steps["loss"], smoothing)
        self.steps["ema"][:] = ema
