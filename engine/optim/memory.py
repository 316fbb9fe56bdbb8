"""How much memory each optimizer keeps beside the weights, measured, not estimated.

An optimizer's *state* is what it carries from one step to the next: SGD's
velocity, Adam's two running moments, Adafactor's row and column factors.  It
lives for the whole run beside the weights and their gradients, so for a large
network it decides what fits.  The lesson's rules of thumb (Adam: 2x the
weights; Adafactor: "~50%" saved) are checked here by building the optimizer
on copies of a network's parameters, taking one step (state is created lazily,
at the first step) and summing the bytes of every tensor in
``optimizer.state``::

    state_bytes = sum(t.numel() * t.element_size() for every tensor t in optimizer.state)

Python numbers in the state (LAMB's ``trust_ratio``, LARS's ``local_lr``, kept
for display) are not tensors and are not counted; Adam's ``step`` counters are
0-dimensional float32 tensors, 4 bytes per parameter tensor, and are.  A kilobyte
here is 1000 bytes.

No torch optimizer takes more than a moment on copies of a few million
parameters, so the window measures the chosen optimizer on every change of the
network and the table for all of them when it is opened.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import torch

from engine.config import OptimizerConfig
from engine.files import float_cell, write_csv_atomic
from engine.optim.optimizers import OPTIMIZERS, build_optimizer, optimizer_kwargs

#: The square network of the table: layers of 1024x1024, where per-matrix tricks (Adafactor's factors) show.
SQUARE_WIDTH, SQUARE_DEPTH = 1024, 2

CSV_COLUMNS = ("network", "optimizer", "settings", "weights_bytes", "state_bytes", "state_per_weights",
               "state_per_adam", "state_tensors", "state_keys")


@dataclass(frozen=True)
class StateMemory:
    """One optimizer's state on one network, as measured after one step."""
    optimizer: str
    settings: str                   # the keyword arguments it was built with besides lr ("" for its defaults)
    weights_bytes: int              # the network's parameters
    state_bytes: int                # every tensor of optimizer.state
    state_tensors: int              # how many tensors that is
    state_keys: tuple[str, ...]     # their kinds, e.g. ("exp_avg", "exp_avg_sq", "step")

    @property
    def per_weights(self) -> float:
        """State bytes per weight byte: 2.0 for Adam (plus its step counters)."""
        return self.state_bytes / self.weights_bytes if self.weights_bytes else math.nan

    @property
    def summary(self) -> str:
        """``"2.0x the weights, 419 KB"``: the line the form shows."""
        if self.state_bytes == 0:
            return "none kept (0 B)"
        return f"{format_ratio(self.per_weights)} the weights, {format_bytes(self.state_bytes)}"


@dataclass(frozen=True)
class NetworkMemory:
    """Every measured optimizer on one network."""
    network: str                    # e.g. "mlp 2-16-16-2" or "square 2x1024x1024"
    weights_bytes: int
    rows: tuple[StateMemory, ...]

    def row(self, name: str) -> StateMemory:
        return next(r for r in self.rows if r.optimizer == name)

    def per_adam(self, row: StateMemory) -> float:
        """``row``'s state as a fraction of Adam's on the same network."""
        adam = self.row("adam").state_bytes
        return row.state_bytes / adam if adam else math.nan


def format_bytes(n: int) -> str:
    """``35_000`` -> ``"35 KB"`` (decimal units, three significant digits at most)."""
    value, unit = float(n), "B"
    for unit in ("B", "KB", "MB", "GB"):
        if value < 999.5 or unit == "GB":
            break
        value /= 1000
    return f"{value:.0f} {unit}" if unit == "B" or value >= 10 else f"{value:.1f} {unit}"


def format_ratio(ratio: float) -> str:
    """``2.0x``; small ratios keep two significant digits (``0.033x``) rather than rounding to 0.0x."""
    return f"{ratio:.1f}x" if ratio >= 0.095 else f"{ratio:.2g}x"


def parameter_bytes(params: Iterable[torch.Tensor]) -> int:
    return sum(p.numel() * p.element_size() for p in params)


def state_bytes(optimizer: torch.optim.Optimizer) -> tuple[int, int, tuple[str, ...]]:
    """The bytes of every tensor in ``optimizer.state``, how many tensors, and their keys (sorted)."""
    tensors = [(key, value) for per_param in optimizer.state.values() for key, value in per_param.items()
               if isinstance(value, torch.Tensor)]
    return (sum(t.numel() * t.element_size() for _, t in tensors), len(tensors),
            tuple(sorted({key for key, _ in tensors})))


def square_network(width: int = SQUARE_WIDTH, depth: int = SQUARE_DEPTH) -> torch.nn.Sequential:
    """``depth`` dense layers of ``width`` x ``width`` (with biases): the large square matrices of the table."""
    if width < 1 or depth < 1:
        raise ValueError(f"the square network needs width and depth >= 1, got {width} and {depth}")
    return torch.nn.Sequential(*(torch.nn.Linear(width, width) for _ in range(depth)))


def square_name(width: int = SQUARE_WIDTH, depth: int = SQUARE_DEPTH) -> str:
    """The square network's name in the table: ``"2 layers of 1024x1024"``."""
    return f"{depth} layer{'s' if depth != 1 else ''} of {width}x{width}"


def _settings(cfg: OptimizerConfig) -> str:
    kwargs = {k: v for k, v in optimizer_kwargs(cfg).items() if k != "lr"}
    return ",".join(f"{k}={'/'.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in kwargs.items())


def measure(params: Sequence[torch.Tensor], cfg: OptimizerConfig, seed: int = 0) -> StateMemory:
    """Build ``cfg``'s optimizer on copies of ``params``, take one step with seeded random gradients, sum its state.

    The copies keep the caller's network untouched; the gradients are random so
    that no optimizer takes a special zero-gradient path.
    """
    gen = torch.Generator().manual_seed(seed)
    copies = [torch.randn(p.shape, generator=gen, dtype=p.dtype).requires_grad_(True) for p in params]
    for copy in copies:
        copy.grad = torch.randn(copy.shape, generator=gen, dtype=copy.dtype)
    optimizer = build_optimizer(copies, cfg)
    optimizer.step()
    total, count, keys = state_bytes(optimizer)
    return StateMemory(cfg.name, _settings(cfg), parameter_bytes(copies), total, count, keys)


def table_configs(chosen: OptimizerConfig | None = None) -> list[OptimizerConfig]:
    """Every optimizer of the registry at its own defaults; ``chosen`` (the experiment's) with its settings."""
    return [chosen if chosen is not None and chosen.name == name else OptimizerConfig(name=name)
            for name in OPTIMIZERS]


def measure_network(network: str, params: Sequence[torch.Tensor],
                    configs: Sequence[OptimizerConfig] | None = None) -> NetworkMemory:
    """:func:`measure` for each config (default: :func:`table_configs`), Adam's always among them."""
    configs = list(configs if configs is not None else table_configs())
    if not any(c.name == "adam" for c in configs):
        configs.append(OptimizerConfig(name="adam"))
    params = list(params)
    return NetworkMemory(network, parameter_bytes(params), tuple(measure(params, c) for c in configs))


@dataclass(frozen=True)
class AdafactorShare:
    """The three ways to compare Adafactor with Adam, on one network (fractions of Adam's)."""
    state: float                    # torch's Adafactor (no first moment): its state / Adam's state
    with_first_moment: float        # (its state + a first moment, 1x the weights) / Adam's state
    with_weights_and_grads: float   # (weights + grads + its state) / (weights + grads + Adam's state)


def adafactor_share(memory: NetworkMemory) -> AdafactorShare:
    """How much of Adam's memory Adafactor keeps, measured three ways (see :class:`AdafactorShare`)."""
    w, adam, factor = memory.weights_bytes, memory.row("adam").state_bytes, memory.row("adafactor").state_bytes
    return AdafactorShare(factor / adam, (factor + w) / adam, (2 * w + factor) / (2 * w + adam))


def adafactor_note(memories: Sequence[NetworkMemory]) -> str:
    """The table's note: what the lesson's "~50%" is, against the measured figures."""
    shares = [(m.network, adafactor_share(m)) for m in memories]
    states = " and ".join(f"{s.state:.1%}{' of Adam' + chr(39) + 's state' if i == 0 else ''} on {name}"
                          for i, (name, s) in enumerate(shares))
    firsts = " and ".join(f"{s.with_first_moment:.0%}" for _, s in shares)
    totals = " and ".join(f"{s.with_weights_and_grads:.0%}" for _, s in shares)
    return (f"The lesson says Adafactor saves ~50% of the optimizer memory. Measured, torch's Adafactor keeps "
            f"far less: {states}, because it keeps no first moment and factors the second "
            f"moment of each matrix into a row and a column (a vector's is kept whole). The ~50% fits two "
            f"other comparisons: Adafactor with a first moment (beta1 > 0, as in its paper's experiments; "
            f"torch's has none) keeps {firsts} of Adam's state, and counting the weights and their gradients "
            f"too, torch's Adafactor needs {totals} of Adam's memory.")


def write_memory_csv(memories: Sequence[NetworkMemory], path: str | Path) -> Path:
    """One row per network and optimizer (columns :data:`CSV_COLUMNS`); ratios as floats, bytes as integers."""
    rows = ((m.network, r.optimizer, r.settings, r.weights_bytes, r.state_bytes, float_cell(r.per_weights),
             float_cell(m.per_adam(r)), r.state_tensors, " ".join(r.state_keys))
            for m in memories for r in m.rows)
    write_csv_atomic(Path(path), CSV_COLUMNS, rows)
    return Path(path)

