"""Data augmentation: a fresh random variation of every training batch.

Augmentation enlarges the effective training set: the network never sees the
same example twice in exactly the same form, so memorizing "image #3,742 is a
7" stops paying and learning what a 7 looks like does.  Four kinds, each off
at 0 (``engine.config.AugmentConfig``), applied in this order to the whole
batch at once:

* **shift** and **rotate** (images): every image is moved by a whole number of
  pixels ``(dx, dy)``, each uniform in ``{-shift..shift}``, and turned by an
  angle uniform in ``[-rotate, rotate]`` degrees about its centre, in one
  ``grid_sample`` (bilinear; nearest when there is no rotation, so a shift
  moves pixels exactly).  What moves in from outside the frame is blank (0).
* **jitter**: Gaussian noise, ``x + jitter * N(0, 1)``, drawn afresh per input;
  for the 2-D points it blurs each training point into a small cloud.
* **mixup** (Zhang et al., 2018): one ``lam ~ Beta(alpha, alpha)`` per batch and
  a random pairing ``perm`` of its examples;
  ``x = lam * x + (1 - lam) * x[perm]``, and the target is the same blend of
  the two one-hot labels, so the loss is
  ``lam * CE(logits, y) + (1 - lam) * CE(logits, y[perm])``
  (cross-entropy is linear in its target).

Only training batches are augmented: evaluation reads the data as it is, and
accuracy is always measured against the true, hard labels.

Determinism: the random draws come from generators owned by the augmenter and
seeded from the experiment's seed, never from torch's global generator and not
from the trainer's batch-order generator, so the same experiment gives the same
numbers bit for bit, and switching augmentation on does not change which
examples form each batch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.config import AugmentConfig, DataKind

STREAM = 0xA06              # mixes into the seed: augmentation draws its own numbers, not the batch order's


@dataclass(frozen=True)
class AugmentedBatch:
    """One training batch after augmentation.

    ``y`` holds the true labels; with mixup, ``y_mix`` holds each example's
    partner's label and ``lam`` the weight of ``y`` in the blended target.
    """
    x: torch.Tensor
    y: torch.Tensor
    y_mix: torch.Tensor | None = None
    lam: float = 1.0

    def loss(self, logits: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy against the (blended) target."""
        if self.y_mix is None:
            return F.cross_entropy(logits, self.y)
        return mixup_loss(logits, self.y, self.y_mix, self.lam)


def mixup_loss(logits: torch.Tensor, y: torch.Tensor, y_mix: torch.Tensor, lam: float) -> torch.Tensor:
    """``lam * CE(logits, y) + (1 - lam) * CE(logits, y_mix)``: cross-entropy with the soft target
    ``lam * onehot(y) + (1 - lam) * onehot(y_mix)``."""
    return lam * F.cross_entropy(logits, y) + (1.0 - lam) * F.cross_entropy(logits, y_mix)


def check_fits(cfg: AugmentConfig, kind: str, dataset: str = "this dataset") -> None:
    """Shifts and rotations move pixels: 2-D points have none.  Raises ValueError naming the key."""
    for key, what in (("shift", "shifts"), ("rotate", "rotations")):
        if getattr(cfg, key) and kind != DataKind.IMAGE:
            raise ValueError(f"augment.{key}: {what} need image data (digits, mnist, fashion-mnist); "
                             f"{dataset} is 2-D points: set it to 0, or use jitter")


class Augmenter:
    """Augments training batches as ``cfg`` says, with its own seeded random numbers."""

    def __init__(self, cfg: AugmentConfig, kind: str, seed: int):
        check_fits(cfg, kind)
        self.cfg = cfg
        self.kind = kind
        self._torch = torch.Generator().manual_seed(seed * 4099 + STREAM)
        # Beta draws: torch's Beta sampler cannot take a generator, numpy's can.
        self._numpy = np.random.default_rng([seed, STREAM])

    def get_state(self) -> tuple:
        """Where both generators stand (the LR finder's sweep draws from them, then puts them back)."""
        return self._torch.get_state(), self._numpy.bit_generator.state

    def set_state(self, state: tuple) -> None:
        self._torch.set_state(state[0])
        self._numpy.bit_generator.state = state[1]

    @property
    def active(self) -> bool:
        return self.cfg.active

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> AugmentedBatch:
        """The augmented batch; the tensors passed in are never modified."""
        cfg = self.cfg
        if cfg.shift or cfg.rotate:
            x = self._move(x)
        if cfg.jitter:
            x = x + cfg.jitter * torch.randn(x.shape, generator=self._torch, dtype=x.dtype)
        if cfg.mixup:
            lam = float(self._numpy.beta(cfg.mixup, cfg.mixup))
            perm = torch.randperm(len(y), generator=self._torch)
            return AugmentedBatch(lam * x + (1.0 - lam) * x[perm], y, y[perm], lam)
        return AugmentedBatch(x, y)

    def _move(self, x: torch.Tensor) -> torch.Tensor:
        """Shift and rotate every image of ``x`` (N, C, H, W) by its own random amount, in one pass.

        ``grid_sample`` reads, for each output pixel ``p`` (in the normalized
        coordinates of ``affine_grid``, -1..1 across the image), the input at
        ``theta @ [p, 1]``.  To turn the content by ``a`` and move it by ``t``
        pixels, an output pixel at ``u`` (pixels from the centre) reads the input
        at ``R(-a) (u - t)``; with ``p = S u``, ``S = diag(2/W, 2/H)``:
        ``theta = [S R(-a) S^-1 | -S R(-a) t]``.
        """
        n, _, h, w = x.shape
        cfg = self.cfg
        if cfg.shift:
            t = torch.randint(-cfg.shift, cfg.shift + 1, (n, 2), generator=self._torch).to(x.dtype)
        else:
            t = torch.zeros(n, 2, dtype=x.dtype)
        if cfg.rotate:
            a = (torch.rand(n, generator=self._torch, dtype=x.dtype) * 2 - 1) * math.radians(cfg.rotate)
        else:
            a = torch.zeros(n, dtype=x.dtype)
        cos, sin = torch.cos(a), torch.sin(a)
        rot = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)   # R(-a)
        s = torch.tensor([2.0 / w, 2.0 / h], dtype=x.dtype)
        linear = s[:, None] * rot / s[None, :]                        # S R S^-1
        offset = -s * torch.einsum("nij,nj->ni", rot, t)              # -S R t
        theta = torch.cat([linear, offset[:, :, None]], dim=2)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        mode = "bilinear" if cfg.rotate else "nearest"
        return F.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)
