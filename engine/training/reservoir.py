"""A table of a run's points whose size stays bounded however long the run: recent points at full
resolution, older ones folded into buckets that keep their envelope (min and max).

A window that kept every step of a run would need tens of GB for 1e8 steps.  TensorBoard keeps a
reservoir sample of a scalar; a sample can miss the spike a student should see, so here the old part
is *decimated with its envelope* instead, as pyqtgraph's "peak" downsampling draws it anyway: a plot
is ~1,000 pixels wide, and one pixel column of a long run shows only the min and max of its steps.

Layout, in one set of contiguous columns (so ``table[name]`` is a view, never a copy)::

    rows [0, 2 * buckets)          2 rows per bucket: row 2b the bucket's (first x, min y), row 2b+1 (last x, max y)
    rows [2 * buckets, len)        the last ``recent`` to ``recent + fold`` points, as they came

Key columns (``keys``: step, epoch; non-decreasing) keep a bucket's first and last value, so the rows
stay in x order and ``np.searchsorted`` on them still works; value columns keep min then max (NaN
ignored: ``np.fmin``/``np.fmax``); bool columns keep "any" in both rows.  When the recent part reaches
``recent + fold`` points its oldest ``fold`` go into buckets of ``width`` points each (a partly filled
last bucket is topped up first), and when there are more than ``max_buckets`` buckets, neighbours are
merged pairwise and ``width`` doubles.  So a table never holds more than

    cap = 2 * max_buckets + recent + fold     rows,

for any number of points, and every point ever appended lies within its bucket's [min, max].  Each
bucket also keeps how many points it holds and, per value column, the sum and count of its finite
values (:meth:`BoundedColumns.bucket_means`), so a curve computed from a column (the smoothed loss
at a new weight) can be carried across the decimated part.  ``version`` counts the folds: a view that
drew the rows before must draw them again after a fold (the old rows changed).
"""
from __future__ import annotations

import numpy as np

RECENT = 1 << 16          # points kept at full resolution (at least)
FOLD = 1 << 15            # points folded into buckets at a time (a fold redraws the curves: rarely)
MAX_BUCKETS = 1 << 14     # buckets of the decimated part (2 rows each)
FIRST_WIDTH = 4           # points per bucket before the first doubling (2 rows per 4 points: folding halves)


class BoundedColumns:
    """Columns of equal length holding a bounded envelope of every row appended (module docstring).

    ``columns``: name -> dtype; ``keys``: the names of the x columns (first/last per bucket).  Arrays
    grow by doubling up to ``cap`` rows, so a short run holds little.
    """

    def __init__(self, keys: tuple[str, ...] = ("step", "epoch"), recent: int = RECENT, fold: int = FOLD,
                 max_buckets: int = MAX_BUCKETS, **columns):
        if fold < 4 * FIRST_WIDTH or recent < 1 or max_buckets < 2:
            raise ValueError("need fold >= 16, recent >= 1 and max_buckets >= 2")
        self.recent, self.fold, self.max_buckets = int(recent), int(fold), int(max_buckets)
        self.cap = 2 * self.max_buckets + self.recent + self.fold
        self._dtypes = {k: np.dtype(v) for k, v in columns.items()}
        missing = set(keys) - set(self._dtypes)
        if missing:
            raise ValueError(f"key columns {sorted(missing)} are not columns")
        self._keys = tuple(keys)
        self._values = tuple(k for k, dt in self._dtypes.items() if k not in keys and dt != np.bool_)
        self.clear()

    def clear(self) -> None:
        self._cols = {k: np.empty(16, dt) for k, dt in self._dtypes.items()}
        self.n = 0                    # rows filled
        self.buckets = 0              # buckets of the decimated part (rows [0, 2 * buckets))
        self.width = FIRST_WIDTH      # points a full bucket holds
        self.version = 0              # folds so far
        self.total = 0                # points ever appended
        # The buckets' counts and sums are made at the first fold: zeroed up front they cost ~10 ms a run's
        # metrics, which a lesson of four runs paid on the GUI thread when it was loaded (cProfile).
        self._zero_buckets(0)

    def _zero_buckets(self, size: int) -> None:
        """The buckets' counts and sums, ``size`` zeros each."""
        self._count = np.zeros(size, np.int64)
        self._sum = {k: np.zeros(size) for k in self._values}
        self._finite = {k: np.zeros(size, np.int64) for k in self._values}

    def __len__(self) -> int:
        return self.n

    @property
    def recent_start(self) -> int:
        """The first row at full resolution."""
        return 2 * self.buckets

    def __getitem__(self, key: str) -> np.ndarray:
        """A view of the filled rows (writable: a column computed from another is rewritten in place)."""
        return self._cols[key][:self.n]

    def extend(self, **cols: np.ndarray) -> None:
        """Append rows (every column, equal lengths), folding as it goes: O(rows) amortized."""
        arrays = {k: np.asarray(cols[k]) for k in self._dtypes}
        m = len(next(iter(arrays.values())))
        done = 0
        while done < m:
            room = self.recent + self.fold - (self.n - self.recent_start)
            take = min(m - done, room)
            self._append({k: v[done:done + take] for k, v in arrays.items()})
            done += take
            if self.n - self.recent_start >= self.recent + self.fold:
                self._fold(self.fold)

    def _append(self, cols: dict[str, np.ndarray]) -> None:
        m = len(next(iter(cols.values())))
        need = self.n + m
        held = len(next(iter(self._cols.values())))
        if need > held:
            size = min(max(need, 2 * held), self.cap)
            for key, old in self._cols.items():
                new = np.empty(size, old.dtype)
                new[:self.n] = old[:self.n]
                self._cols[key] = new
        for key, value in cols.items():
            self._cols[key][self.n:need] = value
        self.n = need
        self.total += m

    # -- folding ------------------------------------------------------------------------------------

    def _fold(self, k: int) -> None:
        """The oldest ``k`` full-resolution points into buckets; then merge while there are too many."""
        if len(self._count) < self.max_buckets + self.fold:      # the first fold since clear()
            self._zero_buckets(self.max_buckets + self.fold)
        lo = self.recent_start
        pts = {key: self._cols[key][lo:lo + k].copy() for key in self._dtypes}
        used = 0
        b = self.buckets
        if b and self._count[b - 1] < self.width:          # top up the partly filled last bucket
            used = min(self.width - int(self._count[b - 1]), k)
            part = {key: v[:used] for key, v in pts.items()}
            self._merge_into(b - 1, part)
        rest = k - used
        full, tail = divmod(rest, self.width)
        groups = [(used, full, self.width)] + ([(used + full * self.width, 1, tail)] if tail else [])
        rows: dict[str, list[np.ndarray]] = {key: [] for key in self._dtypes}
        for start, count, width in groups:
            if count == 0:
                continue
            block = {key: v[start:start + count * width].reshape(count, width) for key, v in pts.items()}
            for key, v in block.items():
                rows[key].append(self._envelope(key, v))
            self._count[b:b + count] = width
            for key in self._values:
                v = block[key]
                finite = np.isfinite(v)
                self._sum[key][b:b + count] = np.where(finite, v, 0.0).sum(axis=1)
                self._finite[key][b:b + count] = finite.sum(axis=1)
            b += count
        self._place(b, {key: np.concatenate(parts) if parts else np.empty((0, 2), self._dtypes[key])
                        for key, parts in rows.items()}, lo, lo + k)
        while self.buckets > self.max_buckets:
            self._halve()
        self.version += 1

    def _envelope(self, key: str, v: np.ndarray) -> np.ndarray:
        """(count, 2) rows of buckets ``v`` (count, width): first/last, min/max or any/any."""
        if key in self._keys:
            return np.stack([v[:, 0], v[:, -1]], axis=1)
        if self._dtypes[key] == np.bool_:
            hit = v.any(axis=1)
            return np.stack([hit, hit], axis=1)
        return np.stack([np.fmin.reduce(v, axis=1), np.fmax.reduce(v, axis=1)], axis=1)

    def _merge_into(self, b: int, part: dict[str, np.ndarray]) -> None:
        """Points ``part`` added to bucket ``b`` (they come after its points)."""
        for key, v in part.items():
            col = self._cols[key]
            if key in self._keys:
                col[2 * b + 1] = v[-1]
            elif self._dtypes[key] == np.bool_:
                col[2 * b] = col[2 * b + 1] = bool(col[2 * b]) or bool(v.any())
            else:
                col[2 * b] = np.fmin(col[2 * b], np.fmin.reduce(v))
                col[2 * b + 1] = np.fmax(col[2 * b + 1], np.fmax.reduce(v))
        self._count[b] += len(next(iter(part.values())))
        for key in self._values:
            finite = np.isfinite(part[key])
            self._sum[key][b] += float(np.where(finite, part[key], 0.0).sum())
            self._finite[key][b] += int(finite.sum())

    def _place(self, buckets: int, new_rows: dict[str, np.ndarray], gone_lo: int, gone_hi: int) -> None:
        """Bucket rows ``new_rows`` ((count, 2) each) written after the existing buckets, the points in
        rows [gone_lo, gone_hi) dropped, and the recent points after them moved down."""
        start = 2 * self.buckets
        added = 2 * (buckets - self.buckets)
        tail = self.n - gone_hi
        for key, col in self._cols.items():
            col[start:start + added] = new_rows[key].reshape(-1)
            col[start + added:start + added + tail] = col[gone_hi:self.n]
        self.n = start + added + tail
        self.buckets = buckets

    def _halve(self) -> None:
        """Neighbouring buckets merged pairwise: half as many, each twice as wide."""
        b = self.buckets
        pairs, odd = divmod(b, 2)
        tail = self.n - 2 * b
        for key, col in self._cols.items():
            rows = col[:2 * b].reshape(b, 2)
            lo, hi = rows[:2 * pairs:2], rows[1:2 * pairs:2]
            if key in self._keys:
                merged = np.stack([lo[:, 0], hi[:, 1]], axis=1)
            elif self._dtypes[key] == np.bool_:
                hit = lo[:, 0] | hi[:, 0]
                merged = np.stack([hit, hit], axis=1)
            else:
                merged = np.stack([np.fmin(lo[:, 0], hi[:, 0]), np.fmax(lo[:, 1], hi[:, 1])], axis=1)
            if odd:
                merged = np.concatenate([merged, rows[-1:]])
            keep = 2 * (pairs + odd)
            col[:keep] = merged.reshape(-1)
            col[keep:keep + tail] = col[2 * b:self.n]
        for arr in (self._count, *self._sum.values(), *self._finite.values()):
            head = arr[:2 * pairs].reshape(pairs, 2).sum(axis=1)
            last = arr[2 * pairs:2 * pairs + odd].copy()
            arr[:pairs] = head
            arr[pairs:pairs + odd] = last
            arr[pairs + odd:b] = 0
        self.buckets = pairs + odd
        self.n = 2 * self.buckets + tail
        self.width *= 2

    def bucket_means(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Per bucket, (finite values it holds, their mean; NaN where none): the decimated part of a value
        column as a curve computed from it sees it."""
        finite = self._finite[key][:self.buckets].copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(finite > 0, self._sum[key][:self.buckets] / np.maximum(finite, 1), np.nan)
        return finite, mean
