"""What every claim's ``measure`` shares: train a set-up's runs at a seed, keep their evaluations, read
when a run reached an accuracy; and the shape of a preset's claim (its words read from the preset).

Most preset claims read nothing but their runs' records (how each ended, at which step, its evaluations:
:class:`~engine.training.records.RunRecord`): such a claim's measure is a :class:`ReadPreset`, a preset
and a read-out of records, so the same read-out checks the claim on every member of a multi-seed run of
that preset in the window (the claim seen live, :mod:`.live`)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence

from engine.config import Experiment
from engine.lessons.claims.table import Claim, Condition
from engine.training.records import RunRecord

if TYPE_CHECKING:
    from engine.training.trainer import Trainer

LN2 = math.log(2)           # the loss of a two-class network at chance

Records = Mapping[str, RunRecord]
"""A set-up's runs by name, as a read-out sees them."""


@dataclass(frozen=True)
class Trained:
    """One run of a set-up trained for a claim: its record, and for the claims that read more, its trainer
    (the network and optimizer as they ended) and its histograms."""
    record: RunRecord
    trainer: Trainer
    hists: tuple

    @property
    def evals(self) -> tuple:
        return self.record.evals


def train_runs(experiments: Iterable[Experiment], seed: int, histogram_every: int | None = 0) -> dict[str, Trained]:
    """Each experiment at ``seed``, trained to its end: run name -> :class:`Trained`.
    ``histogram_every`` 0 switches histograms off (no claim reads them unless it asks); None: one at
    step 0 and one at the end."""
    from engine.training.events import HistogramEvent
    from engine.training.records import RecordKeeper
    from engine.training.trainer import Trainer

    results = {}
    for exp in experiments:
        every = exp.total_steps() if histogram_every is None else histogram_every
        trainer = Trainer(exp.replace(seed=seed, train={"histogram_every": every}))
        keeper = RecordKeeper()
        hists: list = []

        def keep(event, keeper=keeper, hists=hists) -> None:
            keeper.add(event)
            if isinstance(event, HistogramEvent):
                hists.append(event)
        trainer.run(keep)
        (record,) = keeper.records() or ()
        results[exp.name] = Trained(record, trainer, tuple(hists))
    return results


def train_preset(name: str, seed: int, histogram_every: int | None = 0) -> dict[str, Trained]:
    """Each run of preset ``name`` at ``seed`` (see :func:`train_runs`)."""
    from engine.lessons.presets import PRESETS
    return train_runs(PRESETS[name].runs, seed, histogram_every)


@dataclass(frozen=True)
class ReadPreset:
    """A claim's measure: train preset ``preset`` at the seed, then ``read`` the numbers from its runs'
    records alone.  Trained once per seed: the claims that read one set-up (a preset's lesson, the question
    that opens it, the tooltip that states its outcome) share one ReadPreset, so each added claim of it
    costs nothing (only the numbers are kept, a few floats a seed)."""
    preset: str
    read: Callable[[Records], dict[str, float]]
    _numbers: dict = field(default_factory=dict, compare=False, repr=False)

    def __call__(self, seed: int) -> dict[str, float]:
        if seed not in self._numbers:
            trained = train_preset(self.preset, seed)
            self._numbers[seed] = self.read({name: run.record for name, run in trained.items()})
        return dict(self._numbers[seed])


def last_numbers(results, fields: Sequence[str], runs: Mapping[str, str] | None = None) -> dict[str, float]:
    """The last evaluation's ``fields`` of each run of ``results`` (run name -> a :class:`RunRecord` or
    :class:`Trained`: anything with ``evals``), as ``"{label} {field}" -> value``.

    A field is an :class:`~engine.training.events.EvalEvent` number in words ("train loss", "val acc").
    ``runs`` maps the runs to read, in order, to their labels: by default every run under its own name;
    a label "" gives the field alone (a set-up of one run).  Runs first, then fields:
    ``{"sgd train loss", "sgd val acc", "adam train loss", ...}``."""
    chosen = {name: name for name in results} if runs is None else runs
    return {f"{label} {field}" if label else field: float(getattr(results[name].evals[-1], field.replace(" ", "_")))
            for name, label in chosen.items() for field in fields}


def reach(evals, accuracy: float) -> float:
    """The first evaluated step at ``accuracy`` validation accuracy (inf: never)."""
    return float(next((e.step for e in evals if e.val_acc >= accuracy), math.inf))


def finished(records: Records) -> float:
    """1.0 when every run of ``records`` finished (none diverged or failed)."""
    from engine.status import RunStatus
    return float(all(r.status == RunStatus.FINISHED for r in records.values()))


def preset_claim(name: str, measure: Callable[[int], dict[str, float]], conditions: tuple[Condition, ...]) -> Claim:
    """The claim of preset (or finder preset) ``name``: its words are read from the preset itself, so
    the words the window shows and the words checked cannot drift apart."""
    from engine.lessons.presets import FINDER_PRESETS, PRESETS
    if name in PRESETS:
        return Claim(f"preset {name}", PRESETS[name].lesson, measure, conditions)
    return Claim(f"finder {name}", FINDER_PRESETS[name].lesson, measure, conditions)


def shared(measure: Callable[[int], dict[str, float]]) -> Callable[[int], dict[str, float]]:
    """``measure`` trained once per seed: claims that read the same set-up (a preset's lesson, the
    question that opens it, the tooltip that states its outcome) share one training, so each added
    claim of an existing set-up costs nothing.  Only the numbers are kept (a few floats a seed)."""
    cache: dict[int, dict[str, float]] = {}

    def once(seed: int) -> dict[str, float]:
        if seed not in cache:
            cache[seed] = measure(seed)
        return dict(cache[seed])
    once.__name__ = once.__qualname__ = getattr(measure, "__name__", "measure")
    once.__doc__ = measure.__doc__
    return once
