"""Comparing finished runs by how well they generalize: final train vs validation accuracy.

The regularization lab trains one experiment per regularizer and shows, for
each, the accuracy on the training set, on the validation set, and the gap
between them, ``gap = train_acc - val_acc``: how much of what the network
"knows" holds only for the examples it has seen.  A network that memorizes
(noisy labels included) reaches train accuracy 1 and a wide gap; a regularized
one gives up some training accuracy and the gap narrows.

:func:`run_comparison` trains the experiments headless, one after the other,
so a test or a teacher's script gets the same rows the window draws.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from engine.config import Experiment
from engine.training.events import STOPPED, EvalEvent


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


def row_from_eval(name: str, final: EvalEvent) -> ComparisonRow:
    """A row from a run's last evaluation (the window keeps one per run)."""
    return ComparisonRow(name, final.train_acc, final.val_acc)


def rows_from_evals(finals: Iterable[tuple[str, EvalEvent]]) -> list[ComparisonRow]:
    return [row_from_eval(name, final) for name, final in finals]


def run_comparison(experiments: Iterable[Experiment], should_stop: Callable[[], bool] = lambda: False,
                   on_row: Callable[[ComparisonRow], None] | None = None) -> list[ComparisonRow]:
    """Train each experiment to its end (no histograms: they are not read) and return its row.

    Experiments that share their data settings and seed share one loaded
    dataset.  ``should_stop`` ends the current run early (it gives no row) and skips the rest;
    ``on_row`` hears each row as soon as its run ends.
    """
    from engine.data.datasets import load_data
    from engine.training.trainer import Trainer

    rows: list[ComparisonRow] = []
    cache: dict = {}
    for exp in experiments:
        if should_stop():
            break
        key = (exp.data, exp.seed)
        if key not in cache:
            cache[key] = load_data(exp.data, exp.seed)
        trainer = Trainer(exp.replace(train={"histogram_every": 0}), data=cache[key])
        trainer.run(should_stop=should_stop)
        if trainer.status == STOPPED:
            break                       # a run cut short has no final accuracy to compare
        row = row_from_eval(exp.name, trainer.evaluate())
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows
