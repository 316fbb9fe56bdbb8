"""What a training run reports, as frozen dataclasses (the Orange ``TaskState`` partial results).

The trainer emits these and never knows who listens: the headless runner
writes them to CSV, the GUI worker batches them into arrays for the plots, the
tests read them.  Arrays are numpy copies, safe to hand to another thread.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StepEvent:
    """One optimizer step: ``step`` counts steps taken (1 for the first)."""
    step: int
    epoch: float          # passes over the training set so far (fractional)
    lr: float             # the rate this step used
    loss: float           # the mini-batch loss before the step
    grad_norm: float      # global L2 norm of the gradient, before clipping
    clipped: bool         # whether grad_clip scaled the gradient down


@dataclass(frozen=True)
class EvalEvent:
    """Loss and accuracy on the full training and validation sets (eval mode: no dropout, running BN stats)."""
    step: int
    epoch: float
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float


@dataclass(frozen=True)
class Histogram:
    counts: np.ndarray    # int64, one per bin
    edges: np.ndarray     # float64, len(counts) + 1
    mean: float
    std: float

    def value_range(self) -> tuple[float, float]:
        """The smallest and largest value counted: the outer edges, except for a tensor of one value (std
        0), whose bins ``engine.training.histograms.histogram`` centres on it one unit wide: that value twice."""
        if self.std == 0.0 and math.isfinite(self.mean):
            return self.mean, self.mean
        return float(self.edges[0]), float(self.edges[-1])


@dataclass(frozen=True)
class LayerHistogram:
    name: str                     # e.g. "hidden1.linear.weight"
    weight: Histogram
    grad: Histogram | None        # None before the first step
    # What the optimizer did to the layer on the tick's step (None at step 0, or where the run does not measure it):
    rate: Histogram | None = None         # log10 of each weight's effective rate (engine.optim.rates)
    update_ratio: float | None = None     # ||dtheta|| / ||theta|| of the layer over the tick's step
    zero_grad: float | None = None        # fraction of the layer's gradient entries exactly 0 (fp16 underflow)


@dataclass(frozen=True)
class ActivationStats:
    name: str                     # e.g. "hidden1"
    mean: float
    std: float


@dataclass(frozen=True)
class HistogramEvent:
    step: int
    layers: tuple[LayerHistogram, ...]
    activations: tuple[ActivationStats, ...]


@dataclass(frozen=True)
class FinalEvent:
    """The last event of a run; ``message`` says why it ended in words."""
    status: str           # finished, diverged, stopped or error
    step: int
    epoch: float
    lr: float
    message: str
    elapsed: float        # seconds spent inside step()
    steps_per_sec: float


@dataclass(frozen=True)
class MembersEvent:
    """What a run of ``train.seeds`` K > 1 reports at one point: each listed member's own event, of one kind
    and one step, exactly as the single run of that member's seed would have emitted it.

    Member k is the run of seed ``seed + k`` on the run's data.  ``members`` names the members that report
    (all K while they train; a member that diverged reports its :class:`FinalEvent` once and then no more);
    ``events[i]`` is member ``members[i]``'s.  The run as a whole ends with a plain :class:`FinalEvent`."""
    members: tuple[int, ...]
    events: tuple[StepEvent | EvalEvent | HistogramEvent | FinalEvent, ...]


Event = StepEvent | EvalEvent | HistogramEvent | FinalEvent | MembersEvent
