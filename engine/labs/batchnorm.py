"""The BatchNorm lesson's inspection of a trained network: accuracy under running vs batch statistics.

An inspection, not lesson content: it takes any trained :class:`~engine.training.trainer.Trainer` and measures it,
so the training process can run it on request without knowing which lesson asked (the loop imports this,
never the presets).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.training.trainer import Trainer

STATISTICS = ("running", "batch")
COMPOSITIONS = ("shuffled", "one class")


@dataclass(frozen=True)
class BatchNormRow:
    """Validation accuracy of one trained network for one way of cutting the validation set into batches."""
    batch_size: int
    composition: str        # "shuffled": random batches; "one class": sorted by label, so single-class batches
    running: float          # BatchNorm with the running statistics kept in training (eval mode)
    batch: float            # BatchNorm with each test batch's own mean and variance (train-mode BN)
    whole_set: bool = False  # the batch is the whole validation set (batch_size is then its size)

    @property
    def batching(self) -> str:
        """What the table's first column says: the batch size, or "whole set"."""
        return "whole set" if self.whole_set else str(self.batch_size)


def batchnorm_accuracy(trainer: "Trainer", batch_size: int, composition: str = "shuffled",
                       statistics: str = "batch", seed: int = 0) -> float:
    """Validation accuracy when the validation set is fed in batches of ``batch_size``.

    ``statistics="running"`` is what the trainer's evaluation does (eval mode):
    every BatchNorm layer computes ``(x − running_mean)/√(running_var + ε)``, so
    an example's output does not depend on the others in its batch and the
    accuracy is the same for any batching.  ``statistics="batch"`` is the bug of
    Check Your Understanding Q2, forgetting to switch to running statistics:
    each BatchNorm layer uses the test batch's own ``μ_B`` and ``σ_B²``, so an
    example's answer depends on its neighbours; small batches give noisy
    statistics, and a batch of one class has that class's mean subtracted away.

    ``composition``: ``"shuffled"`` cuts a seeded random permutation into
    batches; ``"one class"`` sorts by label first, so nearly every batch holds
    a single class (as a stream of test data sorted by source would).  A batch
    statistic needs at least two examples (torch refuses one), so ``batch_size``
    must be at least 2 and a leftover single example joins the batch before it.
    Only BatchNorm layers switch mode; dropout stays off.  The trainer's model
    is not touched: this works on a copy, whose running statistics may change.
    """
    import torch  # here, not at the top: listing the presets should not import torch

    if statistics not in STATISTICS:
        raise ValueError(f"statistics must be one of {', '.join(STATISTICS)}, got {statistics!r}")
    if composition not in COMPOSITIONS:
        raise ValueError(f"composition must be one of {', '.join(COMPOSITIONS)}, got {composition!r}")
    if batch_size < 2:
        raise ValueError(f"batch_size must be at least 2 (a batch statistic needs two examples), "
                         f"got {batch_size}")
    model = copy.deepcopy(trainer.model).eval()
    if statistics == "batch":
        for module in model.modules():
            if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                module.train()
    x, y = trainer.data.x_val, trainer.data.y_val
    if composition == "one class":
        order = torch.sort(y, stable=True).indices
    else:
        order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    batches = list(torch.split(order, batch_size))
    if len(batches) > 1 and len(batches[-1]) < 2:
        batches[-2:] = [torch.cat(batches[-2:])]
    correct = 0
    with torch.no_grad():
        for idx in batches:
            correct += int((model(x[idx]).argmax(1) == y[idx]).sum())
    return correct / len(y)


#: The batchings the batchnorm-eval lesson compares: pairs, small and large random batches,
#: the whole validation set at once (batch_size 0 stands for it), and single-class batches.
BATCHNORM_BATCHINGS: tuple[tuple[int, str], ...] = (
    (2, "shuffled"), (8, "shuffled"), (32, "shuffled"), (0, "shuffled"), (32, "one class"))


def batchnorm_table(trainer: "Trainer", batchings=BATCHNORM_BATCHINGS) -> tuple[BatchNormRow, ...]:
    """One :class:`BatchNormRow` per batching: what the window shows when the batchnorm-eval run ends."""
    n_val = len(trainer.data.y_val)
    rows = []
    for size, composition in batchings:
        whole = size == 0 or size >= n_val
        size = n_val if whole else size
        rows.append(BatchNormRow(size, composition,
                                 batchnorm_accuracy(trainer, size, composition, "running"),
                                 batchnorm_accuracy(trainer, size, composition, "batch"), whole_set=whole))
    return tuple(rows)
