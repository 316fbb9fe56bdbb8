"""Batched results of a run, as numpy arrays: what a view receives a few dozen times a second.

A trainer emits one event per step; a window cannot draw one per step.  An
:class:`UpdateBuffer` collects a run's events and hands out, on request, a
:class:`RunUpdate` holding *all new points since the last one* as arrays, so
the cost of drawing depends on how often the view asks, not on steps per
second (the STYLE rule: send snapshots, not streams).

The files a run's numbers are written to (``metrics.csv``, ``members.csv``, ``layers.csv``, by the
headless runner as it goes and by the window's "Export metrics") are :mod:`engine.training.metrics_files`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from engine.training.events import EvalEvent, Event, FinalEvent, HistogramEvent, MembersEvent, StepEvent
from engine.training.records import RunRecord


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
    records: tuple[RunRecord, ...] = ()       # once, in the update that ends the run: each member's record

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
