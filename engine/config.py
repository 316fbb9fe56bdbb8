"""The shape of one experiment: frozen dataclasses, one per section of the file.

Every field carries its own documentation and range in ``metadata`` so that the
validator (``engine.experiment``), ``main.py schema`` and the GUI form all read
one table instead of repeating it.  Fields whose allowed values are the names
of a registry (datasets, optimizers, ...) name that registry; the validator
looks it up, which keeps this module free of imports and of cycles.

``None`` in an optimizer or schedule field means "the default of the chosen
optimizer or schedule", read from torch's own signature, because the defaults
differ between entries (AdamW decays weights by 0.01, Adam does not).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


@dataclass(frozen=True)
class Bound:
    """One range check as data: the numbers the validator, ``main.py schema`` and the form all read.

    ``low`` / ``high`` are ``None`` where the range has no such edge; ``*_open``
    excludes the edge itself.  ``finite`` rejects inf and nan.  ``text`` is the
    human wording ("> 0", "<= 8", "in [0, 1)", "a finite number") derived from
    the numbers, and ``check(v)`` returns ``"must be <text>"`` for a value it
    rejects, None otherwise.
    """
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    finite: bool = False

    @property
    def text(self) -> str:
        low, high = self.low, self.high
        if low is not None and high is not None:
            return f"in {'(' if self.low_open else '['}{low:g}, {high:g}{')' if self.high_open else ']'}"
        if low is not None:
            return f"{'>' if self.low_open else '>='} {low:g}"
        if high is not None:
            return f"{'<' if self.high_open else '<='} {high:,}"
        return "a finite number" if self.finite else "a number"

    def contains(self, v: float) -> bool:
        if self.finite and not math.isfinite(v):
            return False
        if self.low is not None and not (v > self.low if self.low_open else v >= self.low):
            return False
        if self.high is not None and not (v < self.high if self.high_open else v <= self.high):
            return False
        return True

    def check(self, v: float) -> str | None:
        return None if self.contains(v) else f"must be {self.text}"

    def __and__(self, other: Bound) -> Bound:
        """The range both bounds allow (the tighter edge on each side)."""
        low, low_open = _tighter(self.low, self.low_open, other.low, other.low_open, max)
        high, high_open = _tighter(self.high, self.high_open, other.high, other.high_open, min)
        return Bound(low, high, low_open, high_open, self.finite or other.finite)


def _tighter(a: float | None, a_open: bool, b: float | None, b_open: bool,
             pick: Callable[[float, float], float]) -> tuple[float | None, bool]:
    if a is None:
        return b, b_open
    if b is None or a == b:
        return a, a_open or (b is not None and b_open)
    return (a, a_open) if pick(a, b) == a else (b, b_open)


def bounds(checks: tuple[Bound, ...]) -> Bound:
    """The range every one of ``checks`` allows; ``Bound()`` (no edges) for none."""
    out = Bound()
    for check in checks:
        out = out & check
    return out


def greater_than(low: float) -> Bound:
    return Bound(low=low, low_open=True)


def at_least(low: float) -> Bound:
    return Bound(low=low)


def at_most(high: float) -> Bound:
    return Bound(high=high)


def between(low: float, high: float, *, high_open: bool = False) -> Bound:
    """Inclusive range [low, high], or [low, high) when ``high_open``."""
    return Bound(low, high, high_open=high_open)


finite = Bound(finite=True)


def param(default: Any, help: str, *, checks: tuple[Bound, ...] = (), registry: str | None = None,
          choices: tuple[str, ...] | None = None, item: type | None = None,
          length: int | None = None, default_text: str | None = None) -> Any:
    """A documented, range-checked field.

    ``item`` marks a list field and gives its element type; ``length`` fixes its
    length (betas has two).  ``default_text`` explains a ``None`` default.
    """
    meta = dict(help=help, checks=checks, registry=registry, choices=choices, item=item,
                length=length, default_text=default_text)
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


# Upper bounds: far beyond a classroom's needs, but they stop a typo from hanging the app.
MAX_EXAMPLES = 1_000_000
MAX_WIDTH = 4096
MAX_STEPS = 100_000_000
# Bounds of what a whole experiment costs, whichever fields give it: the steps however given (``steps``,
# or ``epochs`` x steps per epoch), and the weights the model holds (50 million float32 parameters are
# 200 MB, about 1 GB with their gradients and Adam's two moments: comfortable on a classroom laptop).
MAX_TOTAL_STEPS = MAX_STEPS
MAX_PARAMETERS = 50_000_000
# Layers cost time per step even when narrow (100,000 layers of 16 hold only 27 million weights, but
# each step is 100,000 small matrix products): deeper than this is no lesson a class can watch.
MAX_LAYERS = 256
# The longest learning-rate curve a schedule race or preview computes, one scheduler step per entry.
MAX_CURVE_STEPS = 1_000_000
# Members of one multi-seed run (``train.seeds``): their weights count K times against MAX_PARAMETERS.
MAX_SEEDS = 256
# A search node's training processes (``--workers``, the Search tab's count) per core of the machine.
SEARCH_WORKERS_PER_CORE = 4


def search_workers(cores: int | None = None) -> Bound:
    """How many training processes one search node may start: 0 (train nothing, only coordinate) to
    ``SEARCH_WORKERS_PER_CORE`` x ``cores`` (default: this machine's, ``os.cpu_count()``).  Each process is a
    Python with torch and its own copy of the data at one torch thread: past one per core they only queue for
    the cores while their memory adds up, so four per core is room for a student's experiment, not a limit a
    lesson meets; a count far beyond (a typo's 99999999999) would not even fit the process pool's semaphore."""
    import os
    return between(0, SEARCH_WORKERS_PER_CORE * (cores or os.cpu_count() or 1))


# The learning-rate finder's sweep: each end's rate, and how far the end lies above the start.
FINDER_LR = between(1e-8, 1e4) & finite
"""Where ``start_lr`` and ``end_lr`` may lie (``engine.labs.lrfinder.FinderSettings.check``, so lr-find and
the Finder tab alike).  Below 1e-8 a step changes nothing: Adam moves a weight by about ``lr``, and a float32
weight of 0.1 rounds away any change under 2^-24 x 0.1 = 6e-9 (SGD's ``lr * g`` is smaller still for the
usual gradients below 1), so the sweep would only add flat points.  At 1e4 one step moves such a weight by
10^5 times its size: every network whose optimizer follows the rate has blown up by then and the sweep
has stopped; far above, the optimizer's own arithmetic overflows float32 (Adam's step ``lr / (1 - 0.9^t)``
past 3.4e38 raises inside torch) instead of the loss telling anything.  The default, 1e-7 to 10, is fastai's."""
FINDER_LR_RATIO = between(10, 1e10) & finite
"""Where ``end_lr / start_lr`` may lie.  At least one decade: along less the loss barely changes, and the
suggestions (which skip the first tenth and the last five points) have no shape to read.  At most ten
decades, the default's eight and one more at either end: the steps spread evenly over the decades, and the
smoothed loss remembers about ``1 / (1 - beta)`` = 50 steps, so 100 steps over ten decades already trail
the rate by five; wider, every suggestion lands further from where the loss really turned."""


class DataKind(StrEnum):
    """What one example of a dataset is: it decides which models and augmentations fit.

    Defined here, with the config, so that modules which must not import torch
    (the window, the augmenter's checks) can name a kind without loading
    ``engine.data.datasets``.  A ``str``: a kind equals, prints and is written
    to files as its value (``DataKind.PLANE == "plane"``).
    """
    PLANE = "plane"     # a point (x, y) of the plane: its decision boundary can be drawn
    IMAGE = "image"     # a (channels, height, width) grid of pixels: a cnn, shifts and rotations fit


@dataclass(frozen=True)
class DataConfig:
    dataset: str = param("spiral", "Which data to learn.", registry="datasets")
    n_train: int = param(400, "Training examples.", checks=(at_least(1), at_most(MAX_EXAMPLES)))
    n_val: int = param(400, "Validation examples, never trained on.", checks=(at_least(1), at_most(MAX_EXAMPLES)))
    noise: float = param(0.1, "Input noise of the 2-D datasets (standard deviation).",
                         checks=(finite, at_least(0)))
    label_noise: float = param(0.0, "Fraction of training labels replaced by a wrong class: "
                               "a network that fits them has memorized.", checks=(between(0, 1),))
    classes: int | None = param(None, "Number of classes of the 2-D datasets that allow a choice "
                                "(spiral arms, gaussian blobs).", checks=(between(2, 10),),
                                default_text="the dataset's own (spiral 2, gaussians 3)")
    path: str | None = param(None, "Folder holding the IDX files of mnist / fashion-mnist.",
                             default_text="none (needed by mnist and fashion-mnist)")
    seed: int | None = param(None, "Seed of the data alone (which examples, their noise, the wrong labels): "
                             "set it to keep the same data while the run's seed changes the initial weights "
                             "and the batches.", checks=(at_least(0), at_most(2**32 - 1)),
                             default_text="the run's seed")


@dataclass(frozen=True)
class ModelConfig:
    kind: str = param("mlp", "Network family.", registry="models")
    hidden: tuple[int, ...] = param((16, 16), "Width of each hidden layer (the dense layers of a cnn).",
                                    item=int, checks=(at_least(1), at_most(MAX_WIDTH)))
    channels: tuple[int, ...] = param((8, 16), "Channels of each conv layer of a cnn.",
                                      item=int, checks=(at_least(1), at_most(MAX_WIDTH)))
    activation: str = param("relu", "Nonlinearity after each hidden layer.", registry="activations")
    dropout: float = param(0.0, "Probability of zeroing each hidden unit while training.",
                           checks=(between(0, 1, high_open=True),))
    norm: str = param("none", "Normalization after each hidden layer.", registry="norms")
    init: str = param("he_normal", "How the weights start.", registry="inits")
    init_std: float = param(0.01, "Standard deviation of the `normal` init.",
                            checks=(finite, greater_than(0)))


@dataclass(frozen=True)
class OptimizerConfig:
    name: str = param("adam", "Update rule.", registry="optimizers")
    lr: float = param(0.01, "Learning rate: the size of each step.", checks=(finite, greater_than(0)))
    momentum: float | None = param(None, "Velocity kept from step to step (sgd, rmsprop).",
                                   checks=(between(0, 1, high_open=True),),
                                   default_text="the optimizer's own")
    nesterov: bool | None = param(None, "Look-ahead momentum (sgd; needs momentum > 0).",
                                  default_text="the optimizer's own")
    betas: tuple[float, ...] | None = param(None, "Decay rates of the running mean and variance "
                                            "of the gradient (adam family, lamb).", item=float,
                                            length=2, checks=(between(0, 1, high_open=True),),
                                            default_text="the optimizer's own")
    eps: float | None = param(None, "Added to the denominator for numerical safety.",
                              checks=(finite, greater_than(0)), default_text="the optimizer's own")
    weight_decay: float | None = param(None, "Pull of the weights toward zero.",
                                       checks=(finite, at_least(0)), default_text="the optimizer's own")
    alpha: float | None = param(None, "Smoothing of RMSprop's running average of squared gradients.",
                                checks=(between(0, 1, high_open=True),), default_text="the optimizer's own")
    trust_coefficient: float | None = param(None, "LARS: the fraction of a layer's weight norm its step "
                                            "is scaled to, local_lr = eta ||w|| / (||g|| + wd ||w|| + eps).",
                                            checks=(finite, greater_than(0)), default_text="the optimizer's own")


@dataclass(frozen=True)
class ScheduleConfig:
    name: str = param("constant", "How the learning rate changes over the steps.", registry="schedules")
    warmup_steps: int = param(0, "Steps of linear warm-up from lr/warmup_steps to the schedule's "
                              "starting rate, placed in front of the schedule.", checks=(at_least(0),))
    step_size: int | None = param(None, "Steps between decays (step).", checks=(at_least(1),),
                                  default_text="a third of the schedule's steps")
    gamma: float | None = param(None, "Decay factor (step: per step_size steps; exponential: per step).",
                                checks=(between(0, 1),),
                                default_text="step 0.1; exponential: reaches lr/100 at the end")
    eta_min: float | None = param(None, "Lowest rate, reached at the end (cosine).",
                                  checks=(finite, at_least(0)), default_text="torch's 0")
    max_lr: float | None = param(None, "Peak rate (one_cycle).", checks=(finite, greater_than(0)),
                                 default_text="optimizer.lr")
    pct_start: float | None = param(None, "Fraction of the steps spent rising (one_cycle).",
                                    checks=(between(0, 1, high_open=True),), default_text="torch's 0.3")
    cycle_momentum: bool | None = param(None, "Cycle momentum inversely to the rate (one_cycle); "
                                        "it overwrites the optimizer's momentum or beta1.",
                                        default_text="torch's true where the optimizer has momentum")


@dataclass(frozen=True)
class TrainConfig:
    steps: int | None = param(None, "Optimizer steps to take.", checks=(at_least(1), at_most(MAX_STEPS)),
                              default_text="2000, unless epochs is given")
    epochs: int | None = param(None, "Passes over the training set (instead of steps).",
                               checks=(at_least(1), at_most(MAX_STEPS)), default_text="none")
    batch_size: int = param(32, "Examples per gradient estimate.", checks=(at_least(1), at_most(MAX_EXAMPLES)))
    grad_clip: float | None = param(None, "Largest global L2 norm of the gradient; larger ones are "
                                    "scaled down to it.", checks=(finite, greater_than(0)),
                                    default_text="none (no clipping)")
    precision: str = param("fp32", "Arithmetic of the forward pass; the weights and the update stay "
                           "float32 (fp16 and bf16 are a precision demo on a CPU, not a speed-up).",
                           registry="precisions")
    loss_scale: str = param("dynamic", "How fp16 scales the loss before backward so small gradients do "
                            "not underflow to zero: dynamic (start at 2^16, halve on an overflow and skip "
                            "that step) or none. Not used by fp32 and bf16.", choices=("dynamic", "none"))
    eval_every: int = param(50, "Steps between evaluations on the full train and val sets.",
                            checks=(at_least(1),))
    divergence_factor: float | None = param(1000.0, "The run counts as diverged when the batch loss "
                                            "exceeds this multiple of the starting loss (it always does "
                                            "when the loss becomes non-finite).",
                                            checks=(finite, greater_than(1)),
                                            default_text="none: only a non-finite loss")
    histogram_every: int = param(50, "Steps between weight and gradient histograms (0: never).",
                                 checks=(at_least(0),))
    seeds: int = param(1, "Members trained side by side that differ only in seed (initial weights, batch "
                       "order, dropout and augmentation draws; the data is the run's): member k is the run "
                       "of seed seed + k, and every curve is their mean with a band.",
                       checks=(at_least(1), at_most(MAX_SEEDS)))


MAX_SHIFT = 8          # pixels; an 8x8 digit shifted further is gone
MAX_MIXUP_ALPHA = 100.0


@dataclass(frozen=True)
class AugmentConfig:
    """Data augmentation: fresh random variations of each training batch, never of evaluation.

    Every field at 0 is off (the default), and then training is exactly what it
    was without this section.  Shifts and rotations need images; jitter and
    mixup work on any data.
    """
    shift: int = param(0, "Largest random shift of a training image, in whole pixels along each axis "
                       "(images only; 0: off).", checks=(at_least(0), at_most(MAX_SHIFT)))
    rotate: float = param(0.0, "Largest random rotation of a training image, in degrees either way "
                          "(images only; 0: off).", checks=(finite, between(0, 180)))
    jitter: float = param(0.0, "Standard deviation of Gaussian noise added to every training input, "
                          "drawn afresh each time it is seen (0: off).", checks=(finite, at_least(0)))
    mixup: float = param(0.0, "Alpha of mixup: each batch is blended with a shuffled copy of itself, "
                         "inputs and labels alike, by a weight drawn from Beta(alpha, alpha) (0: off).",
                         checks=(finite, at_least(0), at_most(MAX_MIXUP_ALPHA)))

    @property
    def active(self) -> bool:
        return bool(self.shift or self.rotate or self.jitter or self.mixup)


DEFAULT_STEPS = 2000


@dataclass(frozen=True)
class Experiment:
    name: str = param("experiment", "A name for this run.")
    seed: int = param(0, "Seed of data, initial weights and batches: same seed, same numbers "
                      "(data.seed, when set, seeds the data alone).",
                      checks=(at_least(0), at_most(2**32 - 1)))
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def total_steps(self, n_train: int | None = None) -> int:
        """Planned optimizer steps: ``steps``, or ``epochs`` full passes over the data."""
        if self.train.epochs is None:
            return self.train.steps or DEFAULT_STEPS
        n = self.data.n_train if n_train is None else n_train
        return self.train.epochs * steps_per_epoch(n, self.train.batch_size)

    def total_epochs(self) -> float:
        """Planned passes over the training set: ``total_steps / steps_per_epoch`` (``epochs`` when given)."""
        return self.total_steps() / steps_per_epoch(self.data.n_train, self.train.batch_size)

    def replace(self, **sections: Any) -> Experiment:
        """A copy with some fields replaced; sections may be given as dicts of changes."""
        changes: dict[str, Any] = {}
        for key, value in sections.items():
            current = getattr(self, key)
            if dataclasses.is_dataclass(current) and not isinstance(current, type) and isinstance(value, dict):
                value = dataclasses.replace(current, **value)
            changes[key] = value
        return dataclasses.replace(self, **changes)


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """The last, partial batch of an epoch is still a step."""
    return max(1, math.ceil(n_train / batch_size))


def _sections() -> dict[str, type[DataclassInstance]]:
    """Section name -> its dataclass, for every field of Experiment that is a section."""
    out: dict[str, type[DataclassInstance]] = {}
    for f in dataclasses.fields(Experiment):
        factory = f.default_factory
        if isinstance(factory, type) and dataclasses.is_dataclass(factory):
            out[f.name] = factory
    return out


SECTIONS = _sections()
