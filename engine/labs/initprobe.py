"""The initialization explorer: how far a signal gets through a deep plain network at its first step.

A layer with ``n`` inputs sums ``n`` products, so with zero-mean weights

    Var(z_l) = n · Var(W_l) · E[h_{l-1}²]          (forward, pre-activation z, post-activation h)
    Var(∂L/∂h_{l-1}) = n_out · Var(W_l) · E[f'(z_l)² ] · Var(∂L/∂h_l)     (backward)

and over ``depth`` layers these factors multiply.  Unless each is close to 1
the signal shrinks or grows geometrically: after 20 ReLU layers of Xavier
weights (``n·Var(W) = 1``, but ReLU halves the second moment) the activations
are 2^-9.5 ≈ 1/700 of the first layer's; He's ``Var(W) = 2/n`` puts the lost
half back and keeps them level.

What is measured (:func:`probe_inits`).  The network is the app's own MLP
(``engine.model.models``: ``hidden{i} = linear -> act``) with ``depth`` hidden layers
of ``width`` units and a read-out ``out`` of ``width`` units too, so every
Linear is ``width × width``: the input is a batch of ``width``-dimensional
Gaussian vectors, standardized per feature over the batch (mean 0, std 1
exactly), and the first layer is one more layer like the others.  Each scheme
is applied with the engine's own :func:`engine.model.inits.apply_init`, under the
same seed, to the same batch.  Per hidden layer ``l = 1..depth``:

* ``preactivation_std``: std of ``z_l = W_l h_{l-1} + b_l``.  Kept because the
  post-activation alone hides saturation: a tanh layer whose z has std 5 shows
  activations near ±1 and gradients near 0.
* ``activation_std``: std of ``h_l = f(z_l)``, the forward signal.
* ``zero_fraction``: the share of ``h_l`` that is exactly 0 (≈ 0.5 for ReLU;
  1 when the signal has died).
* ``gradient_std``: std of ``∂L/∂h_l``, the gradient with respect to the
  layer's activations: the backward signal itself, the mirror image of
  ``activation_std``, with the same units at every layer.
* ``weight_gradient_std``: std of ``∂L/∂W_l = (∂L/∂z_l) h_{l-1}ᵀ``, what the
  optimizer actually receives.  It mixes both passes (a vanished forward
  signal gives vanished weight gradients even when the backward signal is
  fine), which is why it is not the curve drawn by default.

All stds are taken over every example and unit of the layer (population std,
computed in float64 from the float32 network the trainer would run).  The
loss is a fixed random read-out, ``L = Σ_b Σ_k r_bk · y_bk`` with ``r ~ N(0, 1)``
drawn from the seed: its gradient with respect to the output is exactly
``r``, unit variance whatever the network's output scale, so the gradient
curve shows only what the layers do to it on the way back, as the activation
curve starts from unit-variance inputs.  (Cross-entropy would inject a
gradient that depends on the output scale and blur the two effects.)

Zeros: every weight and bias is 0, so every activation of every layer is the
same number (0, or 0.5 for sigmoid) and every ``∂L/∂h_l`` is 0: all stds are 0.
Float32 can also under- or overflow (``normal`` with std 1 at depth 50): a std
may then be exactly 0, ``inf`` or ``nan``, and is reported as such.

What learns (:func:`train_schemes`).  The same architecture is trained with
each scheme by the engine's own :class:`~engine.training.trainer.Trainer`, one
:class:`~engine.config.Experiment` per scheme on one shared dataset, with SGD
and momentum: an adaptive optimizer such as Adam rescales tiny gradients and
would hide the very effect being shown.  The trainers take turns, one step
each, so all loss curves grow together.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import torch
from torch import nn

from engine.config import DataConfig, Experiment, ModelConfig, OptimizerConfig, TrainConfig
from engine.data.datasets import DATASETS
from engine.files import float_cell, write_csv_atomic
from engine.model.inits import INITS
from engine.model.models import ACTIVATIONS, build_model
from engine.training.events import EvalEvent, FinalEvent
from engine.training.jobs import TaskState

MIN_DEPTH, MAX_DEPTH = 2, 50
MIN_WIDTH, MAX_WIDTH = 2, 1024
MIN_BATCH, MAX_BATCH = 2, 4096
MAX_TRAIN_STEPS = 100_000
SAMPLES_PER_LAYER = 4096      # activation values kept per layer for the histograms
HIST_BINS = 50

#: Columns of ``init_probe.csv``, one row per scheme and hidden layer.
CSV_COLUMNS = ("scheme", "layer", "preactivation_std", "activation_std", "zero_fraction",
               "gradient_std", "weight_gradient_std")


# -- the question -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProbeConfig:
    """One network, several ways to start it.  ``init_std`` is read by the ``normal`` scheme only."""

    depth: int = 20
    width: int = 256
    activation: str = "relu"
    schemes: tuple[str, ...] = tuple(INITS)
    init_std: float = 0.01
    seed: int = 0
    batch: int = 128


def check_probe_config(cfg: ProbeConfig) -> ProbeConfig:
    """``cfg`` if it can run, else ``ValueError("field: must be ..., got ...")`` (one line, naming the field)."""
    def bad(field: str, must: str, got) -> ValueError:
        return ValueError(f"{field}: must be {must}, got {got!r}")

    for field, low, high in (("depth", MIN_DEPTH, MAX_DEPTH), ("width", MIN_WIDTH, MAX_WIDTH),
                             ("batch", MIN_BATCH, MAX_BATCH)):
        value = getattr(cfg, field)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise bad(field, f"an integer in [{low}, {high}]", value)
    if cfg.activation not in ACTIVATIONS:
        raise bad("activation", f"one of {', '.join(ACTIVATIONS)}", cfg.activation)
    if not cfg.schemes:
        raise ValueError("schemes: choose at least one")
    for name in cfg.schemes:
        if name not in INITS:
            raise bad("schemes", f"names from {', '.join(INITS)}", name)
    if len(set(cfg.schemes)) != len(cfg.schemes):
        raise ValueError(f"schemes: each scheme once, got {', '.join(cfg.schemes)}")
    std = cfg.init_std
    if isinstance(std, bool) or not isinstance(std, (int, float)) or not (math.isfinite(std) and std > 0):
        raise bad("std", "a finite number > 0", std)
    if isinstance(cfg.seed, bool) or not isinstance(cfg.seed, int) or not 0 <= cfg.seed <= 2**32 - 1:
        raise bad("seed", "an integer in [0, 2**32 - 1]", cfg.seed)
    return cfg


# -- the answer ---------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class SchemeProbe:
    """One scheme's measurements; every array has one entry per hidden layer (index 0 is layer 1)."""

    scheme: str
    preactivation_std: np.ndarray
    activation_std: np.ndarray
    zero_fraction: np.ndarray
    gradient_std: np.ndarray
    weight_gradient_std: np.ndarray
    samples: np.ndarray           # (depth, n) float32: the same n entries of h_l at every layer

    def ratio(self, values: str = "activation_std") -> float:
        """Last layer over first layer: 1 means the signal kept its size, 1e-3 that it faded 1000x."""
        a = getattr(self, values)
        return float(a[-1] / a[0]) if a[0] != 0 else math.nan


@dataclass(frozen=True, eq=False)
class ProbeResult:
    config: ProbeConfig
    schemes: tuple[SchemeProbe, ...]   # in the order of config.schemes (fewer if stopped early)

    @property
    def layers(self) -> np.ndarray:
        return np.arange(1, self.config.depth + 1)

    def get(self, scheme: str) -> SchemeProbe:
        for s in self.schemes:
            if s.scheme == scheme:
                return s
        raise KeyError(scheme)


# -- measuring ----------------------------------------------------------------------------------

def probe_inputs(cfg: ProbeConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The standardized input batch and the read-out ``r`` of the loss, both from ``cfg.seed``."""
    gen = torch.Generator().manual_seed(cfg.seed)
    x = torch.randn(cfg.batch, cfg.width, generator=gen)
    x = (x - x.mean(0)) / x.std(0, unbiased=False)
    r = torch.randn(cfg.batch, cfg.width, generator=gen)
    return x, r


def probe_network(cfg: ProbeConfig, scheme: str) -> torch.nn.Sequential:
    """The engine's MLP with ``scheme``'s weights: built and initialized under ``cfg.seed``, leaving
    the global generator as it was."""
    model_cfg = ModelConfig(kind="mlp", hidden=(cfg.width,) * cfg.depth, activation=cfg.activation,
                            init=scheme, init_std=cfg.init_std)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        return build_model(model_cfg, (cfg.width,), cfg.width)   # applies the scheme (engine.model.inits)


def _std(t: torch.Tensor) -> float:
    return float(t.detach().double().std(unbiased=False))


def probe_scheme(cfg: ProbeConfig, scheme: str, x: torch.Tensor, r: torch.Tensor,
                 sample_index: torch.Tensor) -> SchemeProbe:
    """One forward and one backward pass of ``scheme``'s network on ``x``; see the module doc."""
    model = probe_network(cfg, scheme)
    linears: list[nn.Linear] = []
    acts: list[nn.Module] = []
    for name, block in model.named_children():
        if name.startswith("hidden"):
            linear = block.get_submodule("linear")
            assert isinstance(linear, nn.Linear)  # engine.model.models' dense blocks
            linears.append(linear)
            acts.append(block.get_submodule("act"))
    pre: list[torch.Tensor] = []
    post: list[torch.Tensor] = []
    hooks = [lin.register_forward_hook(lambda m, i, o: pre.append(o)) for lin in linears]
    hooks += [act.register_forward_hook(lambda m, i, o: post.append(o)) for act in acts]
    try:
        y = model(x)
    finally:
        for h in hooks:
            h.remove()
    loss = (r * y).sum()
    weights = [lin.weight for lin in linears]
    grads = torch.autograd.grad(loss, post + weights, allow_unused=True)
    act_grads, weight_grads = grads[:len(post)], grads[len(post):]

    def zero_if_none(g, like):
        return torch.zeros_like(like) if g is None else g

    return SchemeProbe(
        scheme=scheme,
        preactivation_std=np.array([_std(z) for z in pre]),
        activation_std=np.array([_std(h) for h in post]),
        zero_fraction=np.array([float((h == 0).double().mean()) for h in post]),
        gradient_std=np.array([_std(zero_if_none(g, h)) for g, h in zip(act_grads, post)]),
        weight_gradient_std=np.array([_std(zero_if_none(g, w)) for g, w in zip(weight_grads, weights)]),
        samples=torch.stack([h.detach().reshape(-1)[sample_index] for h in post]).numpy().copy(),
    )


def probe_inits(cfg: ProbeConfig, state: TaskState | None = None) -> ProbeResult:
    """Measure every scheme of ``cfg``; after each one ``state.report``s the result so far.

    A stop request ends it between schemes, returning the schemes done.
    Cost: one forward and backward pass per scheme (about 0.1 s for 20 layers
    of 256, 0.5 s for 50 of 512 on one core, most of it drawing the weights).
    """
    check_probe_config(cfg)
    state = state or TaskState()
    x, r = probe_inputs(cfg)
    n = cfg.batch * cfg.width
    gen = torch.Generator().manual_seed(cfg.seed)
    sample_index = torch.randperm(n, generator=gen)[:SAMPLES_PER_LAYER] if n > SAMPLES_PER_LAYER \
        else torch.arange(n)
    done: list[SchemeProbe] = []
    for scheme in cfg.schemes:
        if state.stop_requested():
            break
        done.append(probe_scheme(cfg, scheme, x, r, sample_index))
        state.report(ProbeResult(cfg, tuple(done)))
    return ProbeResult(cfg, tuple(done))


def run_probe(state: TaskState, cfg: ProbeConfig) -> ProbeResult:
    """:func:`probe_inits` in the ``job(state, *args)`` shape of ``gui.concurrency.jobs.TaskRunner``.

    On one torch thread (process-wide): measured on a 2-core machine under load, 20 layers of 256
    took 1.1 s on one thread and 22 s on two (the pool's threads fight the GUI and each other).
    """
    torch.set_num_threads(1)
    return probe_inits(cfg, state)


# -- histograms ---------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class LayerHistograms:
    """The activations of one layer for several schemes, on common bins.

    Exact zeros are left out of ``counts`` and given as ``zero_fraction``: ReLU
    sets half of every layer to exactly 0, and that one spike would flatten
    every other bar.  ``counts[i]`` is the fraction of scheme i's sampled values
    in each bin (values beyond the common range, set by the 0.5 and 99.5
    percentiles of each scheme, are counted in the end bins).
    """

    layer: int
    schemes: tuple[str, ...]
    edges: np.ndarray            # (bins + 1,)
    counts: np.ndarray           # (len(schemes), bins)
    zero_fraction: np.ndarray    # (len(schemes),)
    std: np.ndarray              # (len(schemes),) activation std of the whole layer


def layer_histograms(result: ProbeResult, layer: int, schemes: Iterable[str] | None = None,
                     bins: int = HIST_BINS) -> LayerHistograms:
    """Histograms of hidden layer ``layer`` (1-based) for ``schemes`` (default: all measured)."""
    if not 1 <= layer <= result.config.depth:
        raise ValueError(f"layer: must be in [1, {result.config.depth}], got {layer}")
    probes = [result.get(s) for s in (schemes if schemes is not None else [p.scheme for p in result.schemes])]
    values = [p.samples[layer - 1].astype(np.float64) for p in probes]
    kept = [v[(v != 0) & np.isfinite(v)] for v in values]
    lows = [np.percentile(v, 0.5) for v in kept if v.size]
    highs = [np.percentile(v, 99.5) for v in kept if v.size]
    if lows:
        lo, hi = min(lows), max(highs)
    else:
        finite = [v[np.isfinite(v)] for v in values]
        lo = hi = float(np.concatenate(finite).mean()) if any(f.size for f in finite) else 0.0
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    counts = np.zeros((len(probes), bins))
    for i, (v, k) in enumerate(zip(values, kept)):
        if v.size and k.size:
            counts[i] = np.histogram(np.clip(k, lo, hi), edges)[0] / v.size
    zero = np.array([float(np.mean(v == 0)) if v.size else math.nan for v in values])
    std = np.array([p.activation_std[layer - 1] for p in probes])
    return LayerHistograms(layer, tuple(p.scheme for p in probes), edges, counts, zero, std)


# -- the CSV ------------------------------------------------------------------------------------

def probe_rows(result: ProbeResult) -> list[tuple]:
    """One row per scheme and hidden layer, in :data:`CSV_COLUMNS` order."""
    rows = []
    for p in result.schemes:
        for i in range(result.config.depth):
            rows.append((p.scheme, i + 1, p.preactivation_std[i], p.activation_std[i], p.zero_fraction[i],
                         p.gradient_std[i], p.weight_gradient_std[i]))
    return rows


def write_probe_csv(result: ProbeResult, path: str | Path) -> Path:
    """``init_probe.csv``: :data:`CSV_COLUMNS`, numbers by :func:`engine.files.float_cell` (``inf``/``nan`` as such)."""
    rows = ([row[0], row[1], *map(float_cell, row[2:])] for row in probe_rows(result))
    return write_csv_atomic(Path(path), CSV_COLUMNS, rows)


# -- training each scheme -----------------------------------------------------------------------

@dataclass(frozen=True)
class TrainEachConfig:
    """How :func:`train_schemes` trains the probe's network once per scheme.

    Plain SGD with momentum, as in the ``init-depth`` preset: Adam divides each
    gradient by its own running size, so it would rescue a vanished gradient
    and blur the lesson.  The loss drawn is the loss on the whole training set,
    evaluated every ``eval_every`` steps (and at step 0, the untrained network).
    """

    steps: int = 300
    dataset: str = "spiral"
    n_train: int = 400
    lr: float = 0.01
    momentum: float = 0.9
    batch_size: int = 32
    eval_every: int = 10


@dataclass(frozen=True, eq=False)
class LossCurve:
    scheme: str
    steps: np.ndarray          # evaluation steps, 0 first
    train_loss: np.ndarray     # loss on the whole training set at those steps
    train_acc: np.ndarray
    status: str | None         # None while training, else the trainer's final status
    message: str               # why it ended, in words ("" while training)


@dataclass(frozen=True, eq=False)
class TrainProgress:
    """What :func:`train_schemes` reports and returns: every scheme's curve so far."""

    curves: tuple[LossCurve, ...]
    step: int                  # steps taken by each trainer still running
    total_steps: int

    def get(self, scheme: str) -> LossCurve:
        for c in self.curves:
            if c.scheme == scheme:
                return c
        raise KeyError(scheme)

    @property
    def done(self) -> bool:
        return all(c.status is not None for c in self.curves)


def scheme_experiment(cfg: ProbeConfig, scheme: str, train: TrainEachConfig = TrainEachConfig()) -> Experiment:
    """The experiment that trains the probe's architecture started with ``scheme``."""
    return Experiment(
        name=scheme, seed=cfg.seed,
        data=DataConfig(dataset=train.dataset, n_train=train.n_train, n_val=1),
        model=ModelConfig(kind="mlp", hidden=(cfg.width,) * cfg.depth, activation=cfg.activation,
                          init=scheme, init_std=cfg.init_std),
        optimizer=OptimizerConfig(name="sgd", lr=train.lr, momentum=train.momentum),
        train=TrainConfig(steps=train.steps, batch_size=train.batch_size, eval_every=train.eval_every,
                          histogram_every=0, divergence_factor=None))


def check_train_config(train: TrainEachConfig) -> TrainEachConfig:
    if not 1 <= train.steps <= MAX_TRAIN_STEPS:
        raise ValueError(f"steps: must be an integer in [1, {MAX_TRAIN_STEPS}], got {train.steps!r}")
    if train.dataset not in DATASETS or DATASETS[train.dataset].needs_path:
        usable = [n for n, d in DATASETS.items() if not d.needs_path]
        raise ValueError(f"dataset: must be one of {', '.join(usable)}, got {train.dataset!r}")
    if not (math.isfinite(train.lr) and train.lr > 0):
        raise ValueError(f"lr: must be a finite number > 0, got {train.lr!r}")
    return train


def train_schemes(state: TaskState, cfg: ProbeConfig, train: TrainEachConfig = TrainEachConfig(),
                  report_interval: float = 0.1) -> TrainProgress:
    """Train ``cfg``'s network once per scheme with the engine's Trainer; returns the loss curves.

    The trainers take turns one step each (the Trainer borrows the global
    generator only inside a step, so interleaved runs equal separate ones).
    ``state.report(TrainProgress)`` at most every ``report_interval`` seconds
    and once at the end; a stop request stops every run where it is.
    """
    # the trainer pulls in the optimizers; the probe alone needs none
    from engine.training.session import SharedData, train_in_turn
    from engine.training.trainer import Trainer

    check_probe_config(cfg)
    check_train_config(train)
    exps = [scheme_experiment(cfg, s, train) for s in cfg.schemes]
    data = SharedData()
    trainers = [Trainer(e, data(e)) for e in exps]
    evals: list[list[EvalEvent]] = [[] for _ in trainers]

    def progress() -> TrainProgress:
        curves = []
        for t, ev in zip(trainers, evals):
            final: FinalEvent | None = t.final
            curves.append(LossCurve(t.experiment.name, np.array([e.step for e in ev], dtype=np.int64),
                                    np.array([e.train_loss for e in ev]), np.array([e.train_acc for e in ev]),
                                    final.status if final else None, final.message if final else ""))
        return TrainProgress(tuple(curves), max((t.step_count for t in trainers), default=0), train.steps)

    def keep(i: int, events: list) -> None:
        evals[i].extend(e for e in events if isinstance(e, EvalEvent))

    last_report = time.perf_counter()

    def report_now_and_then() -> None:
        nonlocal last_report
        now = time.perf_counter()
        if now - last_report >= report_interval:
            state.report(progress())
            last_report = now

    # engine.training.session's driver: one step each in turn, an exception ends that scheme's run alone
    train_in_turn(trainers, keep, state.stop_requested, report_now_and_then)
    result = progress()
    state.report(result)
    return result


def run_training(state: TaskState, cfg: ProbeConfig, train: TrainEachConfig = TrainEachConfig()) -> TrainProgress:
    """:func:`train_schemes` as a ``TaskRunner`` job, on one torch thread as the training loop runs
    (``engine.training.loop``): the lab's small networks run fastest so."""
    torch.set_num_threads(1)
    return train_schemes(state, cfg, train)


#: Columns of ``init_train.csv``: one row per scheme and evaluation (step 0 is the untrained network).
TRAIN_CSV_COLUMNS = ("scheme", "step", "train_loss", "train_acc", "status")


def write_train_csv(progress: TrainProgress, path: str | Path) -> Path:
    """The loss curves of :func:`train_schemes`; ``status`` is filled on each scheme's last row only."""
    rows = ([c.scheme, int(step), float_cell(loss), float_cell(acc), (c.status or "") if i == len(c.steps) - 1 else ""]
            for c in progress.curves for i, (step, loss, acc) in enumerate(zip(c.steps, c.train_loss, c.train_acc)))
    return write_csv_atomic(Path(path), TRAIN_CSV_COLUMNS, rows)


def probe_summary(result: ProbeResult) -> list[str]:
    """One line per scheme: last/first layer ratios, for the command line."""
    lines = []
    for p in result.schemes:
        a, g = p.activation_std, p.gradient_std
        lines.append(f"{p.scheme:<15} activation std {a[0]:.3g} -> {a[-1]:.3g} (x{_ratio(a)}), "
                     f"gradient std {g[0]:.3g} -> {g[-1]:.3g} (first/last layer)")
    return lines


def _ratio(a: np.ndarray) -> str:
    return f"{a[-1] / a[0]:.3g}" if a[0] != 0 and np.isfinite(a[0]) else "n/a"

