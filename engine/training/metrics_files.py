"""The files a run's numbers go to: ``metrics.csv`` (one row a step), a multi-seed run's aggregated
``metrics.csv`` and long ``members.csv``, and ``layers.csv`` (one row a weight tensor a histogram tick).

The headless runner streams them as the run goes (:class:`MetricsStream`, :class:`MembersStream`,
:class:`LayersStream`); the window keeps a run's whole history in a :class:`MetricsLog`, grown from the
updates it draws (:mod:`engine.training.updates`), and its "Export metrics" writes the same format.
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from engine.files import CSV_LINE_END, float_cell, text_cell
from engine.training.events import EvalEvent, Event, FinalEvent, HistogramEvent, MembersEvent, StepEvent
from engine.training.updates import EVAL_BANDS, STEP_BANDS, EvalSeries, RunUpdate, StepSeries

METRIC_COLUMNS = ("step", "epoch", "lr", "train_loss", "grad_norm", "clipped",
                  "val_loss", "val_acc", "eval_train_loss", "eval_train_acc")


STEP_RECORD = np.dtype([("step", np.int64), ("epoch", np.float64), ("lr", np.float64), ("loss", np.float64),
                        ("grad_norm", np.float64), ("clipped", np.bool_)])
STEP_FIELDS: tuple[str, ...] = ("step", "epoch", "lr", "loss", "grad_norm", "clipped")   # STEP_RECORD's, in order
# A multi-seed run's step (the fields above are the members' mean, ``clipped`` whether any clipped), with
# the members' extremes of the banded fields and the fraction of members that clipped.
MEMBER_STEP_RECORD = np.dtype(STEP_RECORD.descr + [(f"{name}_{edge}", np.float64) for name in STEP_BANDS
                                                   for edge in ("min", "max")] + [("clipped_share", np.float64)])
CSV_BLOCK = 1 << 16      # step rows read back from disk at a time when the CSV is written


class MetricsLog:
    """A run's whole history of steps and evaluations, grown from updates; writes ``metrics.csv``.

    One row per optimizer step (row 0 is the untrained network); evaluation
    columns are filled on evaluation steps and empty between them.  The
    window's "Export metrics" writes through this class; the headless runner
    streams the same rows through :class:`MetricsStream`, so the two files are
    the same format.

    Memory stays flat however long the run (issue 11): the steps (41 bytes each, :data:`STEP_RECORD`)
    go as they arrive to an anonymous temporary file (``tempfile.TemporaryFile``; the system removes it
    when the log is closed or the app ends, even after a crash), so the export stays exact to the last
    bit while the window keeps only a decimated envelope for its plots (:mod:`engine.training.reservoir`).
    The file goes in ``folder`` (the window gives its user data folder: a long run's gigabytes belong
    with the app's data, not in a small system ``/tmp``), created when missing; when no file can be
    made there, it goes to the system's temporary folder and :attr:`note` says so in one line.
    :attr:`spill_folder` is where it went.  The evaluations (48 bytes each, one per ``eval_every``
    steps) stay in memory, in arrays that double when full: the Results tab and the regularization lab
    read them at every update.

    A multi-seed run's log (its updates carry ``members`` K > 1) keeps the members' minimum and maximum
    of every banded field beside their mean, and the fraction of members that clipped, and writes the
    headless runner's aggregated ``metrics.csv`` (:data:`AGGREGATE_COLUMNS`, as :class:`MembersStream`):
    ``<col>_mean``, ``<col>_min``, ``<col>_max`` of each column but step, epoch and lr.
    """

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = folder
        self.note: str | None = None            # why the steps are not in ``folder`` (one line), once they are not
        self.spill_folder: Path | None = None   # where the steps' file is, once there is one
        self._noted = False
        self._file: Any = None
        self._rows = 0
        self._evals: dict[str, np.ndarray] = {}
        self._n_evals = 0
        self.members = 1                        # K of a multi-seed run, from its first update with points
        self._record = STEP_RECORD

    def take_note(self) -> str | None:
        """:attr:`note`, the first time it is asked for (a view says it once)."""
        if self._noted or self.note is None:
            return None
        self._noted = True
        return self.note

    def _open_spill(self) -> Any:
        """The steps' anonymous file: in :attr:`folder` (made when missing), else the system's temporary one."""
        if self.folder is not None:
            folder = Path(self.folder)
            try:
                folder.mkdir(parents=True, exist_ok=True)
                file = tempfile.TemporaryFile(prefix="descent-lab-steps-", dir=folder)
                self.spill_folder = folder
                return file
            except OSError as err:
                self.note = (f"Cannot write in {folder} ({err.strerror or err}): a run's steps are kept in the "
                             f"system's temporary folder instead.")
        self.spill_folder = Path(tempfile.gettempdir())
        return tempfile.TemporaryFile(prefix="descent-lab-steps-")

    def append(self, update: RunUpdate) -> None:
        s, e = update.steps, update.evals
        if (len(s) or len(e)) and not self._rows and not self._n_evals and update.members > 1:
            self.members, self._record = update.members, MEMBER_STEP_RECORD
        many = self.members > 1
        if len(s):
            if self._file is None:
                self._file = self._open_spill()
            record = np.empty(len(s), self._record)
            for name in STEP_FIELDS:
                record[name] = getattr(s, name)
            if many:
                for name in STEP_BANDS:
                    spread = update.step_spread.get(name)
                    record[f"{name}_min"] = spread.minimum if spread is not None else np.nan
                    record[f"{name}_max"] = spread.maximum if spread is not None else np.nan
                record["clipped_share"] = update.clipped_share if update.clipped_share is not None else np.nan
            self._file.seek(0, 2)
            self._file.write(record.tobytes())
            self._rows += len(s)
        if len(e):
            fields = EVAL_FIELDS + (MEMBER_EVAL_FIELDS if many else ())
            need = self._n_evals + len(e)
            if need > len(self._evals.get("step", ())):
                size = max(need, 2 * len(self._evals.get("step", ())), 16)
                grown = {name: np.empty(size, np.int64 if name == "step" else np.float64) for name in fields}
                for name, old in self._evals.items():
                    grown[name][:self._n_evals] = old[:self._n_evals]
                self._evals = grown
            for name in EVAL_FIELDS:
                self._evals[name][self._n_evals:need] = getattr(e, name)
            if many:
                for name in EVAL_BANDS:
                    spread = update.eval_spread.get(name)
                    self._evals[f"{name}_min"][self._n_evals:need] = spread.minimum if spread is not None else np.nan
                    self._evals[f"{name}_max"][self._n_evals:need] = spread.maximum if spread is not None else np.nan
            self._n_evals = need

    def clear(self) -> None:
        self.close()
        self._rows = 0
        self._evals, self._n_evals = {}, 0
        self.members, self._record = 1, STEP_RECORD

    def close(self) -> None:
        """The steps' temporary file closed (and so removed)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __len__(self) -> int:
        """Step rows held."""
        return self._rows

    @property
    def evals(self) -> list[EvalSeries]:
        """Every evaluation, as one series (or none): views of the arrays, not copies."""
        if not self._n_evals:
            return []
        return [EvalSeries(*(self._evals[name][:self._n_evals] for name in EVAL_FIELDS))]

    @property
    def steps(self) -> list[StepSeries]:
        """Every step, as one series (or none), read back from the disk: O(steps), for an export or a test."""
        if not self._rows:
            return []
        record = self._read(0, self._rows)
        return [StepSeries(*(record[name].copy() for name in STEP_FIELDS))]

    def _read(self, start: int, stop: int) -> np.ndarray:
        self._file.flush()
        self._file.seek(start * self._record.itemsize)
        data = self._file.read((stop - start) * self._record.itemsize)
        return np.frombuffer(data, self._record)

    def write_csv(self, sink: TextSink) -> None:
        """``metrics.csv`` written to ``sink`` a block of :data:`CSV_BLOCK` steps at a time, so writing a
        long run's file does not hold its text or its steps in memory at once."""
        writer = csv.writer(sink, lineterminator=CSV_LINE_END)
        many = self.members > 1
        columns = AGGREGATE_COLUMNS if many else METRIC_COLUMNS
        writer.writerow(columns)
        evals = self._evals if self._n_evals else {name: np.empty(0) for name in EVAL_FIELDS}
        eval_steps = evals["step"][:self._n_evals].tolist()
        done = 0            # evaluations written
        for start in range(0, max(self._rows, 1), CSV_BLOCK):
            block = self._read(start, min(start + CSV_BLOCK, self._rows)) if self._rows else np.empty(0, self._record)
            last = start + CSV_BLOCK >= self._rows
            rows: dict[int, dict] = {}
            columns_of = block["step"].tolist(), block["epoch"].tolist(), block["lr"].tolist()
            if many:
                extremes = (block[name].tolist() for name in ("loss", "loss_min", "loss_max", "grad_norm",
                                                               "grad_norm_min", "grad_norm_max", "clipped_share"))
                for step, epoch, lr, loss, lo, hi, norm, norm_lo, norm_hi, share in zip(*columns_of, *extremes):
                    rows[step] = {"step": step, "epoch": epoch, "lr": lr,
                                  **_aggregate_cells("train_loss", loss, lo, hi),
                                  **_aggregate_cells("grad_norm", norm, norm_lo, norm_hi),
                                  **_aggregate_cells("clipped", share, float(share == 1.0), float(share > 0.0))}
            else:
                for step, epoch, lr, loss, norm, clipped in zip(
                        *columns_of, *(block[name].tolist() for name in ("loss", "grad_norm", "clipped"))):
                    rows[step] = {"step": step, "epoch": epoch, "lr": lr, "train_loss": loss, "grad_norm": norm,
                                  "clipped": int(clipped)}
            top = int(block["step"][-1]) if len(block) and not last else None
            stop = (len(eval_steps) if top is None
                    else int(np.searchsorted(evals["step"][:self._n_evals], top, side="right")))
            for i in range(done, stop):
                step = eval_steps[i]
                row = rows.setdefault(step, {})
                row.update(step=step, epoch=float(evals["epoch"][i]))
                for name, column in EVAL_COLUMN_OF.items():
                    if many:
                        row.update(_aggregate_cells(column, float(evals[name][i]), float(evals[f"{name}_min"][i]),
                                                    float(evals[f"{name}_max"][i])))
                    else:
                        row[column] = float(evals[name][i])
            done = stop
            writer.writerows([_cell(rows[step].get(k)) for k in columns] for step in sorted(rows))

    def to_csv(self) -> str:
        buf = io.StringIO()
        self.write_csv(buf)
        return buf.getvalue()


EVAL_FIELDS = ("step", "epoch", "train_loss", "train_acc", "val_loss", "val_acc")
MEMBER_EVAL_FIELDS = tuple(f"{name}_{edge}" for name in EVAL_BANDS for edge in ("min", "max"))
# An EvalSeries field -> its column of metrics.csv.
EVAL_COLUMN_OF = {"val_loss": "val_loss", "val_acc": "val_acc", "train_loss": "eval_train_loss",
                  "train_acc": "eval_train_acc"}


def _aggregate_cells(column: str, mean: float, low: float, high: float) -> dict[str, float]:
    return {f"{column}_mean": mean, f"{column}_min": low, f"{column}_max": high}


def _cell(value):
    """Floats by :func:`engine.files.float_cell`; whole numbers (step, clipped) as they are; "" for no value."""
    return float_cell(value) if isinstance(value, float) or value is None else value


class TextSink(Protocol):
    def write(self, text: str, /) -> Any: ...


def fill_row(row: dict[str, Any], event: StepEvent | EvalEvent) -> None:
    """``event``'s cells of a ``metrics.csv`` row (:data:`METRIC_COLUMNS`), as ``float``/``int`` values."""
    if isinstance(event, StepEvent):
        row.update(epoch=float(event.epoch), lr=float(event.lr), train_loss=float(event.loss),
                   grad_norm=float(event.grad_norm), clipped=int(bool(event.clipped)))
    else:
        row.update(epoch=float(event.epoch),
                   **{column: float(getattr(event, name)) for name, column in EVAL_COLUMN_OF.items()})


class MetricsStream:
    """``metrics.csv`` written as a run goes: each row leaves as soon as its step is complete.

    The same rows, columns and cells as :meth:`MetricsLog.to_csv` (row 0 the untrained network,
    evaluation columns only on evaluation steps), for a trainer's events in the order it emits them
    (a step's :class:`StepEvent`, then its evaluation).  Only the row of the current step is held, so a
    headless run's memory does not grow with its steps; ``sink`` (an :class:`engine.files.AtomicFile`)
    sends the text to the disk in chunks.  Values pass through ``float``/``int`` as the log's numpy
    arrays pass them, so both files are the same text.
    """

    def __init__(self, sink: TextSink):
        self._writer = csv.writer(sink, lineterminator=CSV_LINE_END)
        self._writer.writerow(METRIC_COLUMNS)
        self._row: dict[str, Any] | None = None
        self.rows = 0

    def add(self, event: Event) -> None:
        if isinstance(event, (StepEvent, EvalEvent)):
            fill_row(self._at(event.step), event)

    def _at(self, step: int) -> dict[str, Any]:
        step = int(step)
        if self._row is not None and self._row["step"] != step:
            self.flush()
        if self._row is None:
            self._row = {"step": step}
        return self._row

    def flush(self) -> None:
        """Write the row being filled (the run's last one, once it has ended)."""
        if self._row is not None:
            self._writer.writerow([_cell(self._row.get(k)) for k in METRIC_COLUMNS])
            self._row = None
            self.rows += 1


#: ``layers.csv``: one row per weight tensor on each histogram tick.  ``rate_*`` is each weight's effective
#: rate (``engine.optim.rates``: ``lr`` for SGD, ``lr / (sqrt(v_hat) + eps)`` for Adam; what the update
#: gave, ``|dtheta| / |g|``, where there is no closed form): the mean and std of its log10, and its
#: smallest and largest value; ``update_ratio`` is ``||dtheta|| / ||theta||`` of the tick's step and
#: ``zero_grad`` the fraction of the gradient's entries that are exactly 0.  Empty cells at step 0.
LAYER_COLUMNS: tuple[str, ...] = ("step", "layer", "weight_mean", "weight_std", "grad_mean", "grad_std",
                                  "rate_log10_mean", "rate_log10_std", "rate_min", "rate_max",
                                  "update_ratio", "zero_grad")


#: A multi-seed run's ``layers.csv``: long form, member k (seed ``seed + k``) first on every row.
MEMBER_LAYER_COLUMNS: tuple[str, ...] = ("member", "seed") + LAYER_COLUMNS


class LayersStream:
    """``layers.csv`` written as a run goes: a :class:`HistogramEvent`'s layers, one row each.  Given the
    members' ``seeds`` (a run of K > 1 seeds), each member's histogram ticks, in :data:`MEMBER_LAYER_COLUMNS`."""

    def __init__(self, sink: TextSink, seeds: tuple[int, ...] | None = None):
        self._writer = csv.writer(sink, lineterminator=CSV_LINE_END)
        self._seeds = seeds
        self._writer.writerow(LAYER_COLUMNS if seeds is None else MEMBER_LAYER_COLUMNS)
        self.rows = 0

    def add(self, event: Event) -> None:
        if self._seeds is not None:
            if isinstance(event, MembersEvent):
                for k, member_event in zip(event.members, event.events):
                    if isinstance(member_event, HistogramEvent):
                        self._write(member_event, [k, self._seeds[k]])
        elif isinstance(event, HistogramEvent):
            self._write(event, [])

    def _write(self, event: HistogramEvent, first: list) -> None:
        for layer in event.layers:
            rate = layer.rate
            low, high = rate.value_range() if rate else (None, None)
            self._writer.writerow([
                *first, event.step, text_cell(layer.name), float_cell(layer.weight.mean), float_cell(layer.weight.std),
                float_cell(layer.grad.mean if layer.grad else None), float_cell(layer.grad.std if layer.grad else None),
                float_cell(rate.mean if rate else None), float_cell(rate.std if rate else None),
                float_cell(10.0 ** low if low is not None else None),
                float_cell(10.0 ** high if high is not None else None),
                float_cell(layer.update_ratio), float_cell(layer.zero_grad)])
            self.rows += 1


# A multi-seed run's files: the columns that are one value for every member, and those aggregated.
SHARED_COLUMNS: tuple[str, ...] = ("step", "epoch", "lr")
AGGREGATES: tuple[str, ...] = ("mean", "min", "max")
AGGREGATE_COLUMNS: tuple[str, ...] = SHARED_COLUMNS + tuple(
    f"{column}_{how}" for column in METRIC_COLUMNS if column not in SHARED_COLUMNS for how in AGGREGATES)
MEMBER_COLUMNS: tuple[str, ...] = ("member", "seed") + METRIC_COLUMNS


class MembersStream:
    """A multi-seed run's ``metrics.csv`` (aggregated) and ``members.csv`` (long form), written as it goes.

    ``members.csv`` holds, per step and then per member, member k's row of its single run's ``metrics.csv``
    (the same cells :class:`MetricsStream` writes) after ``member,seed``; ``metrics.csv`` holds one row per
    step: step, epoch and lr (the same for every member) and, for every other column of a single run's
    file, ``<col>_mean``, ``<col>_min`` and ``<col>_max`` over the members with a finite value there
    (:func:`member_values`' rule: a member that has ended has no row; ``clipped_mean`` is the fraction of
    members clipped).  Only the current step's rows are held.  ``last_evals`` and ``finals`` keep each
    member's last evaluation and its own FinalEvent, for the summary."""

    def __init__(self, metrics: TextSink, members: TextSink, seeds: tuple[int, ...]):
        self._metrics = csv.writer(metrics, lineterminator=CSV_LINE_END)
        self._members = csv.writer(members, lineterminator=CSV_LINE_END)
        self._metrics.writerow(AGGREGATE_COLUMNS)
        self._members.writerow(MEMBER_COLUMNS)
        self.seeds = seeds
        self._step: int | None = None
        self._rows: dict[int, dict[str, Any]] = {}
        self.last_evals: dict[int, EvalEvent] = {}
        self.finals: dict[int, FinalEvent] = {}
        self.rows = 0

    def add(self, event: Event) -> None:
        if not isinstance(event, MembersEvent):
            return
        for k, member in zip(event.members, event.events):
            if isinstance(member, FinalEvent):
                self.finals[k] = member
            elif isinstance(member, (StepEvent, EvalEvent)):
                if self._step is not None and member.step != self._step:
                    self.flush()
                self._step = int(member.step)
                fill_row(self._rows.setdefault(k, {"step": self._step}), member)
                if isinstance(member, EvalEvent):
                    self.last_evals[k] = member

    def flush(self) -> None:
        """Write the rows of the step being filled (the run's last one, once it has ended)."""
        if not self._rows:
            return
        rows = [self._rows[k] for k in sorted(self._rows)]
        for k, row in zip(sorted(self._rows), rows):
            self._members.writerow([k, self.seeds[k]] + [_cell(row.get(c)) for c in METRIC_COLUMNS])
        first = rows[0]
        cells = [_cell(first.get(c)) for c in SHARED_COLUMNS]
        for column in METRIC_COLUMNS:
            if column in SHARED_COLUMNS:
                continue
            given = [row[column] for row in rows if row.get(column) is not None]
            cells += [_cell(v) for v in aggregate(given)] if given else ["", "", ""]
        self._metrics.writerow(cells)
        self._rows, self._step = {}, None
        self.rows += 1


def aggregate(values) -> tuple[float, float, float]:
    """Mean, min and max of the finite ``values`` (NaN for each when none is finite)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not v.size:
        return (np.nan, np.nan, np.nan)
    return float(v.mean()), float(v.min()), float(v.max())
