"""What a trial is judged by: a table of objectives, each a direction and the number it reads.

``val_loss`` / ``val_acc`` are the last evaluation's (on the full validation set, after the last step);
``best_val_loss`` / ``best_val_acc`` the best of every evaluation the run made (every ``train.eval_every``
steps), which forgives a run that overfits at the end.
"""
from __future__ import annotations

from dataclasses import dataclass

from optuna.study import StudyDirection


@dataclass(frozen=True)
class Objective:
    name: str
    direction: str          # Optuna's word: "minimize" or "maximize"
    key: str                # the TrialResult field it reads
    description: str

    @property
    def study_direction(self) -> StudyDirection:
        return StudyDirection.MINIMIZE if self.direction == "minimize" else StudyDirection.MAXIMIZE

    def better(self, a: float, b: float) -> bool:
        return a < b if self.direction == "minimize" else a > b

    def worse_of(self, a: float, b: float) -> float:
        return max(a, b) if self.direction == "minimize" else min(a, b)


OBJECTIVES: dict[str, Objective] = {o.name: o for o in (
    Objective("val_loss", "minimize", "val_loss", "validation loss after the last step"),
    Objective("val_acc", "maximize", "val_acc", "validation accuracy after the last step"),
    Objective("best_val_loss", "minimize", "best_val_loss", "lowest validation loss of any evaluation"),
    Objective("best_val_acc", "maximize", "best_val_acc", "highest validation accuracy of any evaluation"),
)}
