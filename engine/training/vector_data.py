"""What each member trains on at a step: its own batch order, its own augmentation, its own loss.

Member k's batches are its single run's (:class:`~engine.training.batches.BatchOrder` of seed ``seed + k``):
each epoch a fresh ``randperm`` from a generator seeded with the member's seed, cut at the same places for
every member (the cut depends only on the set's size, the batch size and BatchNorm's last-batch rule), so
one step's batches stack into an index tensor ``(K, B)`` and are gathered in one go.  Augmentation is each
member's own :class:`~engine.data.augment.Augmenter`, called on its slice (its draws depend on its own
generators only).  The loss of member k is its mean cross-entropy, ``L_k = (1/B) sum_i CE(z_ki, y_ki)``,
with mixup ``lam_k L_k(y) + (1 - lam_k) L_k(y_mix)``; the members' losses are summed for one ``backward()``,
which gives each member the gradient of its own loss (``dL/dL_k = 1``).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.data.augment import Augmenter


class MemberBatches:
    """The members' batch orders, one seeded generator each, cut in lock-step."""

    def __init__(self, n_train: int, batch_size: int, seeds: tuple[int, ...], merge_last: bool):
        self.n_train, self.batch_size, self.merge_last = n_train, batch_size, merge_last
        self.generators = [torch.Generator().manual_seed(seed) for seed in seeds]
        self.order = torch.empty((len(seeds), 0), dtype=torch.long)
        self.cursor = 0

    def next(self) -> torch.Tensor:
        """Indices ``(K, B)`` of every member's next mini-batch (as ``BatchOrder.next``, member by member)."""
        if self.cursor >= self.order.shape[1]:
            self.order = torch.stack([torch.randperm(self.n_train, generator=g) for g in self.generators])
            self.cursor = 0
        end = self.cursor + self.batch_size
        if self.merge_last and end == self.order.shape[1] - 1:
            end += 1                    # a last batch of one goes with this one (BatchNorm needs two)
        idx = self.order[:, self.cursor:end]
        self.cursor += idx.shape[1]
        return idx


@dataclass(frozen=True)
class MemberBatch:
    """Every member's batch of one step: inputs ``(K, B, ...)``, labels ``(K, B)``, and with mixup each
    member's partner labels and weights (``lam`` and ``1 - lam``, each rounded from float64 as a single run's
    Python floats are when they multiply a float32 loss)."""
    x: torch.Tensor
    y: torch.Tensor
    y_mix: torch.Tensor | None = None
    lam: torch.Tensor | None = None
    rest: torch.Tensor | None = None
    lams: tuple[float, ...] = ()

    def losses(self, logits: torch.Tensor) -> torch.Tensor:
        """Each member's mean cross-entropy against its (blended) target: shape ``(K,)``, for ``backward()``.

        Its gradient is the single run's to the bit (``d mean / d z = 1/B`` either way); its value adds the
        batch in another order than torch's mean cross-entropy, so :meth:`reported` gives the values."""
        K, B, C = logits.shape
        flat = logits.reshape(K * B, C)

        def mean_ce(y: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(flat, y.reshape(-1), reduction="none").view(K, B).mean(1)
        if self.y_mix is None:
            return mean_ce(self.y)
        assert self.lam is not None and self.rest is not None
        return self.lam * mean_ce(self.y) + self.rest * mean_ce(self.y_mix)

    @torch.no_grad()
    def reported(self, logits: torch.Tensor) -> list[float]:
        """Each member's loss as its single run computes it (one call each: torch's mean cross-entropy
        adds the batch in its own cascade order), to the bit: what the step reports and the divergence
        test judges."""
        if self.y_mix is None:
            values = [F.cross_entropy(z, t) for z, t in zip(logits, self.y)]
        else:
            values = [lam * F.cross_entropy(z, t) + (1.0 - lam) * F.cross_entropy(z, u)
                      for z, t, u, lam in zip(logits, self.y, self.y_mix, self.lams)]
        return torch.stack(values).tolist()


def member_batch(x: torch.Tensor, y: torch.Tensor, augmenters: list[Augmenter] | None) -> MemberBatch:
    """The step's batches, each augmented by its member's own augmenter when there are any."""
    if augmenters is None:
        return MemberBatch(x, y)
    batches = [aug(x[k], y[k]) for k, aug in enumerate(augmenters)]
    xs = torch.stack([b.x for b in batches])
    if batches[0].y_mix is None:
        return MemberBatch(xs, y)
    y_mix = torch.stack([b.y_mix for b in batches if b.y_mix is not None])
    lam = torch.tensor([b.lam for b in batches], dtype=torch.float32)
    rest = torch.tensor([1.0 - b.lam for b in batches], dtype=torch.float32)
    return MemberBatch(xs, y, y_mix, lam, rest, tuple(b.lam for b in batches))
