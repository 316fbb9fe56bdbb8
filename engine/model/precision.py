"""A run's arithmetic (``train.precision``, ``train.loss_scale``): the forward pass's autocast and, for fp16,
the loss scaling that keeps small gradients from underflowing.

Every precision keeps the parameters, the optimizer's state and the update in float32 ("FP32 master
weights"); only the forward pass (and so the backward of its matrix products) runs in the lower precision,
under ``torch.autocast("cpu", dtype)``, which on the CPU casts the matrix products (``linear``, ``matmul``,
the convolutions) to ``dtype`` and keeps the losses (``cross_entropy``, ``log_softmax``) in float32.

* **bf16** has float32's 8 exponent bits: a gradient of 1e-30 is still a number, so nothing needs scaling.
* **fp16** has 5: its smallest subnormal is ``2^-24 = 6.0e-8`` and anything smaller rounds to exactly 0.
  A gradient entry ``g`` below that is lost in the backward pass.  Loss scaling multiplies the loss by
  ``S`` before ``backward()``, so every gradient is ``S * g`` while in fp16, and divides the float32
  gradients by ``S`` before they are used (the norm, clipping, the step).  ``dynamic``
  (``torch.amp.GradScaler("cpu")``: ``S`` starts at ``2^16``, halves whenever a gradient overflows to
  inf/NaN and that step is skipped, doubles after 2000 steps without one) or ``none`` (``S = 1``).

A step the scaler skips is not a diverged run: the weights are left as they were, the scale is lowered and
training goes on (:attr:`Precision.skipped`).  The scaler's state (``S`` and its count of good steps) is
part of a trainer's state (:meth:`Precision.state_dict`), so a run saved and resumed takes the steps the
uninterrupted one takes.

:data:`PRECISIONS` is the registry; :class:`Precision` one run's use of an entry.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable, ContextManager

import torch

#: fp16's smallest positive (subnormal) number, 2^-24: a gradient entry below half of it rounds to 0.
FP16_FLOOR = 2.0 ** -24


@dataclass(frozen=True)
class PrecisionInfo:
    """One ``train.precision``: the autocast dtype of the forward pass (None: float32 throughout) and whether
    its gradients need a loss scale (only fp16's exponent range is too narrow)."""
    dtype: torch.dtype | None
    scales: bool
    description: str


PRECISIONS: dict[str, PrecisionInfo] = {
    "fp32": PrecisionInfo(None, False, "float32 throughout"),
    "bf16": PrecisionInfo(torch.bfloat16, False, "forward in bfloat16 (float32's exponent range, 8-bit "
                          "mantissa); float32 weights"),
    "fp16": PrecisionInfo(torch.float16, True, "forward in float16 (10-bit mantissa, values from 6e-8 to "
                          "65504); float32 master weights; the loss scaled by train.loss_scale"),
}

#: ``train.loss_scale`` values: how fp16's loss is scaled before backward().
LOSS_SCALES: tuple[str, ...] = ("dynamic", "none")


def autocast_for(precision: str) -> Callable[[], ContextManager]:
    """A factory of the forward pass's context for ``precision`` (fresh context each call)."""
    dtype = PRECISIONS[precision].dtype
    if dtype is None:
        return contextlib.nullcontext
    return lambda: torch.autocast("cpu", dtype=dtype)


class Precision:
    """One run's precision: the autocast factory, and for fp16 with ``dynamic`` loss scaling a GradScaler.

    The step a trainer takes with it: ``backward(loss)`` (of ``S * loss``), ``unscale(optimizer)`` (the
    gradients divided by ``S`` in place, before the norm and clipping read them), then ``step(optimizer)``,
    which steps unless a gradient was inf/NaN and updates ``S``.  Without a scaler these are a plain
    ``loss.backward()`` and ``optimizer.step()``."""

    def __init__(self, precision: str, loss_scale: str = "dynamic"):
        info = PRECISIONS[precision]
        self.name = precision
        self.autocast = autocast_for(precision)
        self.scaler = torch.amp.GradScaler("cpu") if info.scales and loss_scale == "dynamic" else None
        self.skipped = 0        # steps the scaler skipped (inf/NaN gradients), over the run

    @property
    def scale(self) -> float:
        """The current loss scale ``S`` (1 without a scaler)."""
        return float(self.scaler.get_scale()) if self.scaler is not None else 1.0

    def backward(self, loss: torch.Tensor) -> None:
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def unscale(self, optimizer: torch.optim.Optimizer) -> None:
        """Divide the gradients by ``S`` in place (a power of two: exact) and note any inf/NaN among them."""
        if self.scaler is not None:
            self.scaler.unscale_(optimizer)

    def step(self, optimizer: torch.optim.Optimizer) -> bool:
        """The optimizer's step; with a scaler, skipped when a gradient was inf/NaN (``S`` halves) and ``S``
        updated.  Returns whether the optimizer stepped."""
        if self.scaler is None:
            optimizer.step()
            return True
        before = self.scaler.get_scale()
        self.scaler.step(optimizer)
        self.scaler.update()
        stepped = not self.scaler.get_scale() < before     # only a found inf lowers the scale
        self.skipped += not stepped
        return stepped

    def state_dict(self) -> dict | None:
        """The scaler's state (``S``, its growth count) and the skipped steps; None without a scaler."""
        if self.scaler is None:
            return None
        return {"scaler": self.scaler.state_dict(), "skipped": self.skipped}

    def load_state_dict(self, state: dict | None) -> None:
        if self.scaler is None or state is None:
            return
        self.scaler.load_state_dict(state["scaler"])     # (sets its tensors too once they exist)
        self.skipped = state["skipped"]
