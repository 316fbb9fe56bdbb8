"""The Lessons menu's "Seeds" box: every run of a lesson loaded from it trains ``train.seeds`` members.

A lesson compares runs at one seed, and one seed is an anecdote: two optimizers can swap places at the
next.  With K > 1 here, each run of the preset loaded next is K members (seed, seed + 1, ...), drawn as
their mean with a band (``gui.training.plot_bands``), so the comparison shows whether its difference is
larger than the seeds'.  The bound is ``engine.config.MAX_SEEDS``, the validator's own.
"""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QWidget, QWidgetAction

from engine.config import MAX_SEEDS, Experiment


def with_seeds(runs: tuple[Experiment, ...], seeds: int) -> tuple[Experiment, ...]:
    """The preset's runs, each with ``train.seeds`` set (1 leaves them single runs)."""
    if not 1 <= seeds <= MAX_SEEDS:
        raise ValueError(f"train.seeds must be 1..{MAX_SEEDS}, got {seeds}")
    return tuple(run.replace(train={"seeds": int(seeds)}) for run in runs)


class SeedsAction(QWidgetAction):
    """"Seeds per run [1]" at the top of the Lessons menu (``spin``: 1..MAX_SEEDS)."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        box = QWidget(parent)
        row = QHBoxLayout(box)
        row.setContentsMargins(8, 2, 8, 2)
        self.spin = QSpinBox()
        self.spin.setRange(1, MAX_SEEDS)
        self.spin.setValue(1)
        self.spin.setToolTip(f"Each run of the lesson loaded next trains this many seeds (1..{MAX_SEEDS}), "
                             "drawn as their mean with a band: is the difference larger than the seeds'?")
        row.addWidget(QLabel("Seeds per run"))
        row.addWidget(self.spin)
        self.setDefaultWidget(box)

    def seeds(self) -> int:
        return int(self.spin.value())
