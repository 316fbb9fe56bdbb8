"""Which examples each training step sees: the run's seeded batch order, and BatchNorm's one rule on it.

Each epoch is a fresh permutation of the training set drawn from the run's own generator (seeded by the
experiment's seed, never the global one), cut into batches of ``train.batch_size``, the last one partial.
With BatchNorm a batch of one cannot be trained on (a variance over one example is undefined; torch
raises), so a last batch of one is merged into the batch before.
"""
from __future__ import annotations

import torch

from engine.experiment import ExperimentError


def has_batch_norm(model: torch.nn.Module) -> bool:
    """Whether ``model`` normalizes by batch statistics, which need two or more examples in a batch."""
    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())


def merges_last_batch(n_train: int, batch_size: int) -> bool:
    """Whether an epoch of ``n_train`` examples in batches of ``batch_size`` ends in a batch of one.

    With BatchNorm such a batch cannot be trained on (a variance over one example is undefined; torch
    raises), so the trainer merges it into the batch before: an epoch is then ``n_train // batch_size``
    batches, the last of ``batch_size + 1`` examples.
    """
    return n_train > batch_size and n_train % batch_size == 1


def check_batch_norm(n_train: int, batch_size: int) -> None:
    """Refuse, naming the key, a BatchNorm run whose every batch would hold one example."""
    if n_train < 2:
        raise ExperimentError("data.n_train", f"BatchNorm needs two or more training examples in a batch; "
                              f"there are {n_train} (use 2 or more, or model.norm 'none' or 'layer')")
    if batch_size < 2:
        raise ExperimentError("train.batch_size", "BatchNorm needs two or more examples in a batch "
                              "(use 2 or more, or model.norm 'none' or 'layer')")


MERGE_NOTE = "each epoch's last batch of one example is merged into the batch before (BatchNorm cannot train on one)"
"""The note of a run whose last batches :func:`batch_norm_merge` merges (a single run's and a multi-seed run's)."""


def batch_norm_merge(model: torch.nn.Module, n_train: int, batch_size: int) -> bool:
    """Whether ``model``'s run merges each epoch's last batch (BatchNorm and a last batch of one).

    Raises :class:`~engine.experiment.ExperimentError` for a BatchNorm run that cannot train at all.
    """
    if not has_batch_norm(model):
        return False
    check_batch_norm(n_train, batch_size)
    return merges_last_batch(n_train, batch_size)


class BatchOrder:
    """The indices of each mini-batch of one run, in its seeded order."""

    def __init__(self, n_train: int, batch_size: int, seed: int, merge_last: bool):
        self.n_train, self.batch_size, self.merge_last = n_train, batch_size, merge_last
        self.generator = torch.Generator().manual_seed(seed)
        self.order = torch.empty(0, dtype=torch.long)
        self.cursor = 0

    def next(self) -> torch.Tensor:
        """Indices of the next mini-batch: a fresh seeded permutation each epoch, last batch partial
        (a last batch of one merged into the one before when ``merge_last``)."""
        if self.cursor >= len(self.order):
            self.order = torch.randperm(self.n_train, generator=self.generator)
            self.cursor = 0
        end = self.cursor + self.batch_size
        if self.merge_last and end == len(self.order) - 1:
            end += 1                    # a last batch of one goes with this one (BatchNorm needs two)
        idx = self.order[self.cursor:end]
        self.cursor += len(idx)
        return idx
