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
from engine.status import RunStatus
from engine.training.events import EvalEvent, Event
from engine.training.updates import EvalSeries

GAP_COLUMNS = ("name", "step", "train_acc", "val_acc", "gap")
"""The columns of ``gap_curves.csv``: one row per run and evaluation."""

COMPARISON_COLUMNS = ("name", "train_acc", "val_acc", "gap", "status")
"""The columns of ``comparison.csv``: one row per run; ``status`` last (it came after the numbers)."""


@dataclass(frozen=True)
class ComparisonRow:
    """One run's final accuracies (fractions in [0, 1]) and how the run ended (``engine.training.events``:
    ``finished``, ``diverged``, ``error``), so a run that did not finish never reads as one that did."""
    name: str
    train_acc: float
    val_acc: float
    status: str = RunStatus.FINISHED

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
    status: str = RunStatus.FINISHED   # how the run ended

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
        return ComparisonRow(self.name, float(self.train_acc[-1]), float(self.val_acc[-1]), self.status)


def gap_curve(name: str, evals: Iterable[EvalEvent | EvalSeries], status: str = RunStatus.FINISHED) -> GapCurve:
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
                    np.concatenate(columns["val_acc"]).astype(np.float64), status)


def run_gap_curves(experiments: Iterable[Experiment], should_stop: Callable[[], bool] = lambda: False,
                   on_curve: Callable[[GapCurve], None] | None = None) -> list[GapCurve]:
    """Train each experiment to its end (no histograms: they are not read) and return its gap curve.

    The curve holds every evaluation the run made (``train.eval_every``), and
    ends with an evaluation of the weights the run ended with (for a finished run
    that is its last scheduled evaluation, at its last step; for a diverged one,
    the last finite weights): that point is the run's row.  Experiments that
    share their data settings and seed share one loaded dataset
    (:class:`~engine.training.session.SharedData`).  The curve's ``status`` is the trainer's:
    a diverged run, or one that raised (``error``), says so.
    ``should_stop`` ends the current run early (it gives no curve) and skips the
    rest; ``on_curve`` hears each curve as soon as its run ends.  A run of several seeds
    (``train.seeds > 1``) is refused with a ValueError naming the key, before any training.
    """
    from engine.training.session import SharedData
    from engine.training.trainer import Trainer

    experiments = list(experiments)
    many = next((exp for exp in experiments if exp.train.seeds > 1), None)
    if many is not None:   # a Trainer trains one seed: member 0 alone would pass for the mean of K
        raise ValueError(f"train.seeds: the regularization comparison trains one seed per run; {many.name!r} "
                         f"has {many.train.seeds} (set it to 1)")
    curves: list[GapCurve] = []
    shared = SharedData()
    for exp in experiments:
        if should_stop():
            break
        trainer = Trainer(exp.replace(train={"histogram_every": 0}), data=shared(exp))
        evals: list[EvalEvent] = []

        def keep(event: Event, evals: list[EvalEvent] = evals) -> None:
            if isinstance(event, EvalEvent):
                evals.append(event)

        trainer.run(on_event=keep, should_stop=should_stop)
        if trainer.status == RunStatus.STOPPED:
            break                       # a run cut short has no final accuracy to compare
        final = _final_evaluation(trainer)
        assert trainer.status is not None   # run() returns only once the run has ended
        curve = gap_curve(exp.name, [e for e in evals if e.step < final.step] + [final], trainer.status)
        curves.append(curve)
        if on_curve is not None:
            on_curve(curve)
    return curves


def _final_evaluation(trainer) -> EvalEvent:
    """The weights the run ended with, evaluated; all NaN when even that raises (a run ended by a bug
    may have left nothing to evaluate), so the run still gets its row, with its ``error`` status."""
    try:
        return trainer.evaluate()
    except Exception:  # the run's own status already says what went wrong
        nan = float("nan")
        return EvalEvent(trainer.step_count, trainer.epoch, nan, nan, nan, nan)


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

    Accuracies are written with ``float_cell`` (every digit, as ``comparison.csv``
    does), so the last row of a run equals its row in ``comparison.csv``; names by ``text_cell``.
    """
    from engine.files import float_cell, text_cell, write_csv_atomic

    def rows():
        for curve in curves:
            for step, train, val, gap in zip(curve.step.tolist(), curve.train_acc.tolist(),
                                             curve.val_acc.tolist(), curve.gap.tolist()):
                yield [text_cell(curve.name), str(step), float_cell(train), float_cell(val), float_cell(gap)]

    return write_csv_atomic(Path(path), GAP_COLUMNS, rows())


def write_comparison_csv(rows: Iterable[ComparisonRow], path: Path) -> Path:
    """``comparison.csv``: one row per run, columns :data:`COMPARISON_COLUMNS`; returns ``path``.

    Accuracies by ``float_cell`` (every digit), the name by ``text_cell`` (never a spreadsheet
    formula), and the run's ``status`` last, so the columns before it keep their positions.
    """
    from engine.files import float_cell, text_cell, write_csv_atomic

    return write_csv_atomic(Path(path), COMPARISON_COLUMNS,
                            ([text_cell(row.name), float_cell(row.train_acc), float_cell(row.val_acc),
                              float_cell(row.gap), row.status] for row in rows))
