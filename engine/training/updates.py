"""Batched results of a run, as numpy arrays: what a view receives a few dozen times a second.

A trainer emits one event per step; a window cannot draw one per step.  An
:class:`UpdateBuffer` collects a run's events and hands out, on request, a
:class:`RunUpdate` holding *all new points since the last one* as arrays, so
the cost of drawing depends on how often the view asks, not on steps per
second (the STYLE rule: send snapshots, not streams).
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from engine.files import CSV_LINE_END, float_cell, text_cell
from engine.training.events import EvalEvent, Event, FinalEvent, HistogramEvent, MembersEvent, StepEvent


@dataclass(frozen=True)
class StepSeries:
    """Per-step points, one array entry per optimizer step."""
    step: np.ndarray        # int64
    epoch: np.ndarray       # float64
    lr: np.ndarray          # float64
    loss: np.ndarray        # float64, mini-batch loss
    grad_norm: np.ndarray   # float64, before clipping
    clipped: np.ndarray     # bool

    def __len__(self) -> int:
        return len(self.step)


@dataclass(frozen=True)
class EvalSeries:
    """Full-set evaluations, one entry per evaluation."""
    step: np.ndarray
    epoch: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray

    def __len__(self) -> int:
        return len(self.step)


@dataclass(frozen=True)
class Spread:
    """How a multi-seed run's members spread around their mean at each point of one series.

    A run of ``train.seeds: K`` members sends its series as the member *mean* (the :class:`StepSeries` and
    :class:`EvalSeries` values) and, per series, this: the member minimum and maximum and the 25th and 75th
    percentiles, each an array as long as the series.  A view draws the mean as the curve and a band between
    ``minimum`` and ``maximum`` (or ``q25`` and ``q75``), so two runs' bands either separate or overlap; it
    never receives K full histories.  Members that have ended (diverged) are left out of later points."""
    minimum: np.ndarray     # float64
    maximum: np.ndarray
    q25: np.ndarray
    q75: np.ndarray

    def __len__(self) -> int:
        return len(self.minimum)

    @classmethod
    def of(cls, values: np.ndarray) -> "Spread":
        """The spread of ``values`` shaped (points, members); NaN members (ended) are ignored."""
        v = np.asarray(values, dtype=np.float64)
        if not v.size:
            return cls(*(np.empty(0) for _ in range(4)))
        v = v.reshape(len(v), -1)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)      # an all-NaN point stays NaN
            q25, q75 = np.nanquantile(v, [0.25, 0.75], axis=1)
            return cls(np.nanmin(v, axis=1), np.nanmax(v, axis=1), q25, q75)


# The fields of each series that a multi-seed run sends as the members' mean with a Spread (step, epoch and
# lr are the same for every member; ``clipped`` is sent as "any member clipped").
STEP_BANDS: tuple[str, ...] = ("loss", "grad_norm")
EVAL_BANDS: tuple[str, ...] = ("train_loss", "train_acc", "val_loss", "val_acc")


def member_values(event: MembersEvent, fields: tuple[str, ...], members: int) -> np.ndarray:
    """The members' values of ``fields`` at one point, shaped (fields, members): member k's in column k.

    A member that does not report (it has ended) is NaN, and so is a non-finite value (a member's loss at
    the step it diverged): the mean and the spread of a point are over the members still training with
    finite numbers, ``mean = sum(v_k) / n`` over those n."""
    out = np.full((len(fields), members), np.nan)
    for k, member in zip(event.members, event.events):
        out[:, k] = [getattr(member, name) for name in fields]
    out[~np.isfinite(out)] = np.nan
    return out


def member_mean(values: Any) -> np.ndarray:
    """``nanmean`` over the last axis (members); NaN, without a warning, where no member has a value."""
    v = np.asarray(values, dtype=np.float64)
    counts = np.sum(~np.isnan(v), axis=-1)
    sums = np.nansum(v, axis=-1)
    with np.errstate(all="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def mean_eval(event: MembersEvent) -> EvalEvent:
    """The members' mean evaluation at one point (:func:`member_values`' rule), as one run's EvalEvent."""
    first = event.events[0]
    assert isinstance(first, EvalEvent)
    means = member_mean(member_values(event, EVAL_BANDS, max(event.members) + 1))
    return EvalEvent(first.step, first.epoch, *(float(m) for m in means))


@dataclass(frozen=True)
class Boundary:
    """The model's class probabilities over a grid of the input plane (2-D datasets only)."""
    step: int
    xs: np.ndarray          # (G,) grid x coordinates
    ys: np.ndarray          # (G,) grid y coordinates
    probs: np.ndarray       # (G, G, n_classes) float32, probs[j, i] at (xs[i], ys[j])


@dataclass(frozen=True)
class RunUpdate:
    run_id: str
    status: str             # queued, running, paused, finished, diverged, stopped, error
    message: str            # the final event's message, or "" while the run goes on
    step: int
    epoch: float
    steps_per_sec: float    # recent training speed of this run
    steps: StepSeries       # new since the last update (may be empty)
    evals: EvalSeries
    histograms: tuple[HistogramEvent, ...] = ()
    boundary: Boundary | None = None
    generation: int = 0     # bumped by every reset: a view drops updates of an older generation
    members: int = 1        # train.seeds: the series are the members' mean when > 1
    step_spread: dict[str, Spread] = field(default_factory=dict)   # StepSeries field name -> its Spread
    eval_spread: dict[str, Spread] = field(default_factory=dict)   # EvalSeries field name -> its Spread
    clipped_share: np.ndarray | None = None   # multi-seed: per step point, the fraction of members that clipped

    @property
    def has_data(self) -> bool:
        return bool(len(self.steps) or len(self.evals) or self.histograms or self.boundary is not None)


def _empty_steps() -> StepSeries:
    return StepSeries(np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0), np.empty(0),
                      np.empty(0, bool))


def _empty_evals() -> EvalSeries:
    return EvalSeries(np.empty(0, np.int64), *(np.empty(0) for _ in range(5)))


EMPTY_STEPS = _empty_steps()
EMPTY_EVALS = _empty_evals()


@dataclass
class UpdateBuffer:
    """Collects one run's events until the view takes them.

    A run of ``members`` K > 1 reports :class:`MembersEvent`\\ s: the buffer keeps, per point, the members'
    values of :data:`STEP_BANDS` and :data:`EVAL_BANDS` (K floats each, NaN for an ended member) and hands
    out their mean as the series and their :class:`Spread` beside it; step, epoch and lr are the first
    reporting member's (the same for all), ``clipped`` is whether any member clipped.  Histograms are
    member 0's (the Weights tab shows one network), and none once member 0 has ended."""
    run_id: str
    members: int = 1
    _steps: list[tuple] = field(default_factory=list)
    _evals: list[tuple] = field(default_factory=list)
    _hists: list[HistogramEvent] = field(default_factory=list)
    _step_values: list[np.ndarray] = field(default_factory=list)   # per step point: (STEP_BANDS, K)
    _eval_values: list[np.ndarray] = field(default_factory=list)   # per evaluation: (EVAL_BANDS, K)
    _clip_share: list[float] = field(default_factory=list)         # per step point: members clipped / reporting
    final: FinalEvent | None = None

    def _add_members(self, event: MembersEvent) -> None:
        first = event.events[0]
        if isinstance(first, StepEvent):
            clips = [bool(e.clipped) for e in event.events if isinstance(e, StepEvent)]
            self._steps.append((first.step, first.epoch, first.lr, np.nan, np.nan, any(clips)))
            self._clip_share.append(sum(clips) / len(clips))
            self._step_values.append(member_values(event, STEP_BANDS, self.members))
        elif isinstance(first, EvalEvent):
            self._evals.append((first.step, first.epoch, np.nan, np.nan, np.nan, np.nan))
            self._eval_values.append(member_values(event, EVAL_BANDS, self.members))
        elif isinstance(first, HistogramEvent) and 0 in event.members:
            member0 = event.events[event.members.index(0)]
            assert isinstance(member0, HistogramEvent)
            self._hists.append(member0)
        # a member's own FinalEvent: it reports no more, so later points are over the others

    def add(self, event: Event) -> None:
        if isinstance(event, MembersEvent):
            self._add_members(event)
        elif isinstance(event, StepEvent):
            self._steps.append((event.step, event.epoch, event.lr, event.loss, event.grad_norm, event.clipped))
        elif isinstance(event, EvalEvent):
            self._evals.append((event.step, event.epoch, event.train_loss, event.train_acc,
                                event.val_loss, event.val_acc))
        elif isinstance(event, HistogramEvent):
            self._hists.append(event)
        elif isinstance(event, FinalEvent):
            self.final = event

    def take(self, status: str, step: int, epoch: float, steps_per_sec: float,
             boundary: Boundary | None = None) -> RunUpdate:
        """Everything new as arrays; the buffer starts empty again."""
        steps = EMPTY_STEPS
        if self._steps:
            cols = list(zip(*self._steps))
            steps = StepSeries(np.array(cols[0], np.int64), np.array(cols[1]), np.array(cols[2]),
                               np.array(cols[3]), np.array(cols[4]), np.array(cols[5], bool))
        evals = EMPTY_EVALS
        if self._evals:
            cols = list(zip(*self._evals))
            evals = EvalSeries(np.array(cols[0], np.int64), *(np.array(c) for c in cols[1:]))
        hists = tuple(self._hists)
        steps, step_spread = _banded(steps, STEP_BANDS, self._step_values)
        evals, eval_spread = _banded(evals, EVAL_BANDS, self._eval_values)
        share = np.array(self._clip_share) if self._clip_share else None
        self._steps, self._evals, self._hists = [], [], []
        self._step_values, self._eval_values, self._clip_share = [], [], []
        final = self.final
        return RunUpdate(self.run_id, status, final.message if final else "", step, epoch, steps_per_sec,
                         steps, evals, hists, boundary, members=self.members, step_spread=step_spread,
                         eval_spread=eval_spread, clipped_share=share)


def _banded(series, fields: tuple[str, ...], values: list[np.ndarray]):
    """``series`` with ``fields`` replaced by the members' mean, and each field's Spread (none for one run)."""
    if not values:
        return series, {}
    stacked = np.stack(values)                  # (points, fields, members)
    means = member_mean(stacked)                # (points, fields)
    series = replace(series, **{name: means[:, i] for i, name in enumerate(fields)})
    return series, {name: Spread.of(stacked[:, i, :]) for i, name in enumerate(fields)}


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
            names = block.dtype.names or ()
            for values in zip(*(block[name].tolist() for name in names)):
                point = dict(zip(names, values))
                row = rows.setdefault(point["step"], {})
                row.update(step=point["step"], epoch=point["epoch"], lr=point["lr"])
                if many:
                    row.update(_aggregate_cells("train_loss", point["loss"], point["loss_min"], point["loss_max"]))
                    row.update(_aggregate_cells("grad_norm", point["grad_norm"], point["grad_norm_min"],
                                                point["grad_norm_max"]))
                    share = point["clipped_share"]
                    row.update(_aggregate_cells("clipped", share, float(share == 1.0), float(share > 0.0)))
                else:
                    row.update(train_loss=point["loss"], grad_norm=point["grad_norm"], clipped=int(point["clipped"]))
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
        row.update(epoch=float(event.epoch), val_loss=float(event.val_loss), val_acc=float(event.val_acc),
                   eval_train_loss=float(event.train_loss), eval_train_acc=float(event.train_acc))


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
