"""The large-batch lab: one experiment trained at batch sizes from 32 to 8192, at equal epochs, by three methods.

Why equal epochs: every run sees every example the same number of times, so a batch ``k`` times larger
takes ``k`` times fewer steps, ``steps = epochs * ceil(n / B)``, each step averaging ``k`` times more
gradients.  Whether the few large steps do as well as the many small ones is the whole question.

The methods (:data:`METHODS`), each at its learning rate for the small batch ``B0 = 32`` scaled to ``B``
as its literature does (:func:`scaled_lr`), all with the same linear warm-up (:func:`warmup_steps`, then
cosine to 0):

* **SGD + linear scaling and warm-up** (Goyal et al. 2017, "Accurate, Large Minibatch SGD"):
  ``lr = base_lr * B / B0``: ``k`` times the batch averages away ``k`` times the variance, so take
  ``k`` times the step; the warm-up ramps the rate from ``lr / W`` to ``lr`` over the first ``W`` steps,
  because the scaled rate is too large for the network's first, fast-changing gradients.
* **LARS** (You, Gitman and Ginsburg 2017; ``engine.optim.lars``), linear scaling as SimCLR uses it
  (Chen et al. 2020: ``lr = 0.3 * B / 256``): ``lr = base_lr * B / B0``; each layer's step is
  ``lr * 0.001 * ||w|| / ||g||`` of its gradient, a fixed fraction of its weights however large ``g`` is.
* **LAMB** (You et al. 2019, "Large Batch Optimization for Deep Learning"; ``engine.optim.lamb``), the
  square-root rule that paper uses: ``lr = base_lr * sqrt(B / B0)``; each layer moves by
  ``lr * ||w||`` per step along Adam's direction.

The set-up (:data:`LAB_EXPERIMENT`): the 2-D spiral at 32,768 training examples and noise 0.1 (at
8192 a batch is a quarter of the data, so an epoch is still 4 steps) through a 2-64-64-2 ReLU MLP: at
B = 32 the three methods reach 95.7-96% validation accuracy, the noise's ceiling, so every point lost at a
larger batch is the batch size's doing.  Every run is an ordinary :class:`~engine.config.Experiment`
(:func:`large_batch_experiment`, checked by the experiment validator) trained by the app's own
:class:`~engine.training.trainer.Trainer`: its numbers are the app's.  ``main.py large-batch`` and the
Large batch tab both run :func:`run_large_batch`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

from engine.config import Experiment, steps_per_epoch
from engine.experiment import ExperimentError, experiment_to_dict, parse_experiment
from engine.files import float_cell, text_cell, write_csv_atomic
from engine.status import RunStatus
from engine.training.jobs import TaskState

BASE_BATCH = 32                                                  # B0: the batch the base rates are for
BATCHES = (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)       # the batch sizes a user picks from
DEFAULT_BATCHES = (32, 512, 2048, 8192)        # the runs the claim reads
DEFAULT_EPOCHS = 10
WARMUP_EPOCHS = 1.0       # Goyal et al. warm up over 5 of 90 epochs; here 1 of 10


@dataclass(frozen=True)
class Method:
    """One contender: the optimizer and its settings, its rate at ``B0`` and how that rate scales."""
    key: str
    label: str
    optimizer: Mapping[str, object]     # the experiment's optimizer section, without lr
    base_lr: float                      # the rate at BASE_BATCH
    rule: str                           # "linear": lr = base * B/B0; "sqrt": lr = base * sqrt(B/B0)
    description: str


METHODS: tuple[Method, ...] = (
    Method("sgd", "SGD + scaling", {"name": "sgd", "momentum": 0.9}, 0.05, "linear",
           "SGD with momentum 0.9, lr = 0.05 x B/32 (the linear scaling rule) after a linear warm-up."),
    Method("lars", "LARS", {"name": "lars", "momentum": 0.9}, 0.1, "linear",
           "LARS: each layer steps 0.001 x ||w||/||g|| of its gradient, lr = 0.1 x B/32 (linear)."),
    Method("lamb", "LAMB", {"name": "lamb", "weight_decay": 0.0}, 0.01, "sqrt",
           "LAMB: Adam's direction scaled to lr x ||w|| per layer, lr = 0.01 x sqrt(B/32) (square root)."),
)
METHODS_BY_KEY = {m.key: m for m in METHODS}

LAB_EXPERIMENT = Experiment(name="large-batch", seed=0).replace(
    data={"dataset": "spiral", "n_train": 32768, "n_val": 4096, "noise": 0.1},
    model={"hidden": (64, 64), "activation": "relu", "init": "he_normal"})


def scaled_lr(method: Method, batch: int) -> float:
    """The method's rate at ``batch``: ``base_lr * B/B0`` (linear) or ``base_lr * sqrt(B/B0)`` (sqrt)."""
    ratio = batch / BASE_BATCH
    return method.base_lr * (ratio if method.rule == "linear" else math.sqrt(ratio))


def warmup_steps(n_train: int, batch: int, epochs: int, warmup_epochs: float = WARMUP_EPOCHS) -> int:
    """``W = ceil(warmup_epochs * ceil(n / B))`` steps of linear warm-up, and none when that is not shorter
    than the run (``engine.optim.schedules``: ``lr_t = lr * (t + 1) / W`` for ``t < W``)."""
    warm = math.ceil(warmup_epochs * steps_per_epoch(n_train, batch))
    return warm if warm < epochs * steps_per_epoch(n_train, batch) else 0


def large_batch_experiment(base: Experiment, method: Method, batch: int, epochs: int) -> Experiment:
    """``base`` (its data, model and seed) trained by ``method`` at ``batch`` for ``epochs`` epochs.

    Evaluated at the start and the end only, no histograms: what the lab reads is the final numbers, and
    an evaluation of 32,768 examples every 50 steps would cost more than the training.  Raises
    ``ExperimentError`` naming the field for a batch larger than ``data.n_train`` or out of bounds."""
    if batch > base.data.n_train:
        raise ExperimentError("--batches", f"a batch of {batch} is larger than data.n_train "
                              f"({base.data.n_train}): an epoch would be one partial batch")
    total = epochs * steps_per_epoch(base.data.n_train, batch)
    raw = experiment_to_dict(base)
    raw["name"] = f"{method.key} B={batch}"
    raw["optimizer"] = {**method.optimizer, "lr": scaled_lr(method, batch)}
    raw["schedule"] = {"name": "cosine", "warmup_steps": warmup_steps(base.data.n_train, batch, epochs)}
    raw["train"] = {**raw["train"], "steps": None, "epochs": epochs, "batch_size": batch, "eval_every": total,
                    "histogram_every": 0, "seeds": 1}
    raw["augment"] = {}
    return parse_experiment(raw)


@dataclass(frozen=True)
class LargeBatchSettings:
    """What to race: batch sizes (each one of :data:`BATCHES`), method keys, epochs."""
    batches: tuple[int, ...] = DEFAULT_BATCHES
    methods: tuple[str, ...] = tuple(m.key for m in METHODS)
    epochs: int = DEFAULT_EPOCHS

    def check(self) -> None:
        """Raise ``ExperimentError`` naming the option of the first bad value."""
        if not self.batches:
            raise ExperimentError("--batches", "choose at least one batch size")
        bad = [b for b in self.batches if b not in BATCHES]
        if bad:
            raise ExperimentError("--batches", f"{bad[0]} is not one of {', '.join(map(str, BATCHES))}")
        if not self.methods:
            raise ExperimentError("--methods", "choose at least one method")
        unknown = [m for m in self.methods if m not in METHODS_BY_KEY]
        if unknown:
            raise ExperimentError("--methods", f"unknown method {unknown[0]!r} (choose from {', '.join(METHODS_BY_KEY)})")
        if not 1 <= self.epochs <= 1000:
            raise ExperimentError("--epochs", f"must be a whole number in [1, 1000], got {self.epochs}")


@dataclass(frozen=True)
class LargeBatchRow:
    """One run's outcome: its final evaluation, steps taken, and status (a :class:`RunStatus` word)."""
    method: str
    batch_size: int
    lr: float
    warmup_steps: int
    planned_steps: int
    steps: int
    status: str
    message: str
    final_train_loss: float | None
    final_val_loss: float | None
    final_val_acc: float | None

    @property
    def broken(self) -> bool:
        """Diverged (or failed): no number of it is a result."""
        return self.status in (RunStatus.DIVERGED, RunStatus.ERROR)


@dataclass(frozen=True)
class LargeBatchResult:
    settings: LargeBatchSettings
    experiment: str                                     # the base experiment's name
    rows: tuple[LargeBatchRow, ...] = field(default=())
    stopped: bool = False

    def row(self, method: str, batch: int) -> LargeBatchRow | None:
        return next((r for r in self.rows if r.method == method and r.batch_size == batch), None)

    def curve(self, method: str) -> tuple[list[int], list[float], list[float]]:
        """Batch sizes, final val accuracies and losses of ``method``'s runs that have them (for a plot)."""
        rows = sorted((r for r in self.rows if r.method == method and r.final_val_acc is not None),
                      key=lambda r: r.batch_size)
        return ([r.batch_size for r in rows], [float(r.final_val_acc or 0.0) for r in rows],
                [float(r.final_val_loss) if r.final_val_loss is not None else math.nan for r in rows])


def plan(base: Experiment, settings: LargeBatchSettings) -> list[tuple[Method, Experiment]]:
    """Every run, batch by batch (smallest first), each method in :data:`METHODS` order; checked first."""
    settings.check()
    chosen = [m for m in METHODS if m.key in settings.methods]
    return [(m, large_batch_experiment(base, m, b, settings.epochs)) for b in sorted(set(settings.batches))
            for m in chosen]


def train_row(method: Method, exp: Experiment, data=None, should_stop=lambda: False) -> LargeBatchRow:
    """Train ``exp`` with the app's Trainer (on ``data`` when given: the same numbers, loaded once)."""
    from engine.training.trainer import Trainer
    trainer = Trainer(exp, data)
    final = trainer.run(should_stop=should_stop)
    last = trainer.last_eval
    return LargeBatchRow(method.key, exp.train.batch_size, exp.optimizer.lr, exp.schedule.warmup_steps,
                         trainer.total_steps, final.step, str(final.status), final.message,
                         last.train_loss if last else None, last.val_loss if last else None,
                         last.val_acc if last else None)


def run_large_batch(state: TaskState, base: Experiment = LAB_EXPERIMENT,
                    settings: LargeBatchSettings = LargeBatchSettings(), threads: int | None = 1,
                    announce: Callable[[str], None] | None = None) -> LargeBatchResult:
    """Train every (method, batch) of ``settings`` on ``base``'s data; report the result after each run.

    A stop request ends the running run at its next step (its row says ``stopped``) and skips the rest.
    ``threads``: torch threads (1, as the training loop runs small networks fastest; None leaves them).
    ``announce`` hears one line as each run starts (the command prints it)."""
    import torch

    from engine.data.datasets import load_data
    runs = plan(base, settings)
    if threads is not None:
        torch.set_num_threads(threads)
    data = load_data(runs[0][1].data, runs[0][1].seed)
    rows: list[LargeBatchRow] = []
    result = LargeBatchResult(settings, base.name)
    for method, exp in runs:
        if state.stop_requested():
            break
        if announce is not None:
            announce(f"{exp.name}: {exp.total_steps():,} steps at lr {exp.optimizer.lr:.4g}, "
                     f"{exp.schedule.warmup_steps:,} of warm-up")
        rows.append(train_row(method, exp, data, state.stop_requested))
        result = LargeBatchResult(settings, base.name, tuple(rows), state.stop_requested())
        state.report(result)
    return LargeBatchResult(settings, base.name, tuple(rows), state.stop_requested())


#: The columns of ``large_batch.csv``: one row per method and batch size.
CSV_COLUMNS = ("method", "batch_size", "lr", "warmup_steps", "planned_steps", "steps", "status",
               "final_train_loss", "final_val_loss", "final_val_acc")


def write_large_batch_csv(rows: Iterable[LargeBatchRow], path: str | Path) -> Path:
    lines = ([text_cell(r.method), r.batch_size, float_cell(r.lr), r.warmup_steps, r.planned_steps, r.steps,
              r.status, float_cell(r.final_train_loss), float_cell(r.final_val_loss), float_cell(r.final_val_acc)]
             for r in rows)
    return write_csv_atomic(Path(path), list(CSV_COLUMNS), lines)


def table_lines(rows: Iterable[LargeBatchRow]) -> list[str]:
    """The result as a plain-text table, for the command line."""
    def num(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.4f}"
    out = [f"{'method':<6} {'batch':>6} {'lr':>8} {'steps':>7}  {'status':<9} {'val loss':>9} {'val acc':>8}"]
    out += [f"{r.method:<6} {r.batch_size:>6} {r.lr:>8.4g} {r.steps:>7}  {r.status:<9} {num(r.final_val_loss):>9} "
            f"{num(r.final_val_acc):>8}" for r in rows]
    return out
