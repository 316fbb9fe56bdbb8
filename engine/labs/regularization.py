"""Comparing runs by how well they generalize: train vs validation accuracy, at the end and over time.

The regularization lab trains one experiment per regularizer and shows, for
each, the accuracy on the training set, on the validation set, and the gap
between them, ``gap = train_acc - val_acc``: how much of what the network
"knows" holds only for the examples it has seen.  A network that memorizes
(noisy labels included) reaches train accuracy 1 and a wide gap; a regularized
one gives up some training accuracy and the gap narrows.

The gap is also followed over time: :func:`gap_curve` turns a run's
evaluations into its :class:`GapCurve` (one point per evaluation), whose last
point is the run's :class:`ComparisonRow`.  Memorizing shows as a gap that
keeps growing after validation accuracy has stopped improving.

:func:`run_gap_curves` (and :func:`run_comparison`, its final rows) trains the
experiments headless, one after the other, so a test or a teacher's script
gets the same rows and curves the window draws; :func:`write_gap_csv` writes
the curves as ``gap_curves.csv``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from engine.config import Experiment
from engine.training.events import STOPPED, EvalEvent, Event
from engine.training.updates import EvalSeries

GAP_COLUMNS = ("name", "step", "train_acc", "val_acc", "gap")
"""The columns of ``gap_curves.csv``: one row per run and evaluation."""


@dataclass(frozen=True)
class ComparisonRow:
    """One run's final accuracies (fractions in [0, 1])."""
    name: str
    train_acc: float
    val_acc: float

    @property
    def gap(self) -> float:
        """Train minus validation accuracy: positive when the network does better on what it has seen."""
        return self.train_acc - self.val_acc


@dataclass(frozen=True, eq=False)
class GapCurve:
    """One run's accuracies at each of its evaluations, in step order (arrays of equal length >= 1).

    ``gap[i] = train_acc[i] - val_acc[i]``; the last point is the run's
    :class:`ComparisonRow` (:attr:`row`), so the curve ends where its bar stands.
    """
    name: str
    step: np.ndarray         # int64
    train_acc: np.ndarray    # float64
    val_acc: np.ndarray      # float64

    def __post_init__(self) -> None:
        if not len(self.step) == len(self.train_acc) == len(self.val_acc) >= 1:
            raise ValueError(f"{self.name}: a gap curve needs one or more evaluations, each with a step, "
                             f"a train and a validation accuracy")

    @property
    def gap(self) -> np.ndarray:
        """Train minus validation accuracy at each evaluation."""
        return self.train_acc - self.val_acc

    @property
    def row(self) -> ComparisonRow:
        """The last evaluation's accuracies: the run's final row."""
        return ComparisonRow(self.name, float(self.train_acc[-1]), float(self.val_acc[-1]))


def gap_curve(name: str, evals: Iterable[EvalEvent | EvalSeries]) -> GapCurve:
    """A run's gap curve from its evaluations, in the order they came: ``EvalEvent``s, one at a
    time as a trainer emits them, or ``EvalSeries`` batches as a window's ``MetricsLog`` keeps them.

    Raises ``ValueError`` when there is no evaluation yet (there is no gap to show).
    """
    columns: dict[str, list[np.ndarray]] = {"step": [], "train_acc": [], "val_acc": []}
    for e in evals:
        for key, parts in columns.items():
            parts.append(np.atleast_1d(np.asarray(getattr(e, key))))
    if not columns["step"]:
        raise ValueError(f"{name}: no evaluation yet, so no gap")
    return GapCurve(name, np.concatenate(columns["step"]).astype(np.int64),
                    np.concatenate(columns["train_acc"]).astype(np.float64),
                    np.concatenate(columns["val_acc"]).astype(np.float64))


def run_gap_curves(experiments: Iterable[Experiment], should_stop: Callable[[], bool] = lambda: False,
                   on_curve: Callable[[GapCurve], None] | None = None) -> list[GapCurve]:
    """Train each experiment to its end (no histograms: they are not read) and return its gap curve.

    The curve holds every evaluation the run made (``train.eval_every``), and
    ends with an evaluation of the weights the run ended with (for a finished run
    that is its last scheduled evaluation, at its last step; for a diverged one,
    the last finite weights): that point is the run's row.  Experiments that
    share their data settings and seed share one loaded dataset.
    ``should_stop`` ends the current run early (it gives no curve) and skips the
    rest; ``on_curve`` hears each curve as soon as its run ends.
    """
    from engine.data.datasets import load_data
    from engine.training.trainer import Trainer

    curves: list[GapCurve] = []
    cache: dict = {}
    for exp in experiments:
        if should_stop():
            break
        key = (exp.data, exp.seed)
        if key not in cache:
            cache[key] = load_data(exp.data, exp.seed)
        trainer = Trainer(exp.replace(train={"histogram_every": 0}), data=cache[key])
        evals: list[EvalEvent] = []

        def keep(event: Event, evals: list[EvalEvent] = evals) -> None:
            if isinstance(event, EvalEvent):
                evals.append(event)

        trainer.run(on_event=keep, should_stop=should_stop)
        if trainer.status == STOPPED:
            break                       # a run cut short has no final accuracy to compare
        final = trainer.evaluate()
        curve = gap_curve(exp.name, [e for e in evals if e.step < final.step] + [final])
        curves.append(curve)
        if on_curve is not None:
            on_curve(curve)
    return curves


def run_comparison(experiments: Iterable[Experiment], should_stop: Callable[[], bool] = lambda: False,
                   on_row: Callable[[ComparisonRow], None] | None = None) -> list[ComparisonRow]:
    """The final row of each experiment's run (see :func:`run_gap_curves`, which also gives the curves).

    ``should_stop`` ends the current run early (it gives no row) and skips the
    rest; ``on_row`` hears each row as soon as its run ends.
    """
    hear = None if on_row is None else (lambda curve: on_row(curve.row))
    return [curve.row for curve in run_gap_curves(experiments, should_stop, hear)]


def write_gap_csv(curves: Sequence[GapCurve], path: Path) -> Path:
    """``gap_curves.csv``: one row per run and evaluation, columns :data:`GAP_COLUMNS`; returns ``path``.

    Accuracies are written with ``repr`` (every digit, as ``comparison.csv``
    does), so the last row of a run equals its row in ``comparison.csv``.
    """
    from engine.files import write_csv_atomic

    def rows():
        for curve in curves:
            for step, train, val, gap in zip(curve.step.tolist(), curve.train_acc.tolist(),
                                             curve.val_acc.tolist(), curve.gap.tolist()):
                yield [curve.name, str(step), repr(train), repr(val), repr(gap)]

    return write_csv_atomic(Path(path), GAP_COLUMNS, rows())
