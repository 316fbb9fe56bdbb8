"""The search space: one entry per searched key of the experiment, and what each kind of range means.

A range is one of four kinds (:data:`KINDS`), each a frozen record of what the methods need from it:

* ``log [a, b]``: a rate, spread over orders of magnitude; sampled as ``exp(U(ln a, ln b))``, a grid of ``k``
  points is ``a * (b/a)^(i/(k-1))`` (geometric), and one point alone is the geometric middle ``sqrt(a b)``;
* ``uniform [a, b]``: a number where equal steps matter equally; grid ``a + (b-a) i/(k-1)``, alone ``(a+b)/2``;
* ``int [a, b]``: a whole number (a width, a batch size); grid the rounded linear points, without repeats;
* ``choice [v1, v2, ...]``: a few values with no order the sampler may use (names, layer lists); a grid takes
  every value.

Population-based training moves a value by a factor (x0.8 or x1.2) and clips it into the range: on a log or
uniform range the value itself is multiplied, an int is multiplied then rounded, and a choice moves one place
down (factor < 1) or up (factor > 1) the list, clipped at its ends.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution


@dataclass(frozen=True)
class Param:
    """One searched key: its experiment path (``optimizer.lr``), its kind and range (or choices)."""
    path: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()

    @property
    def info(self) -> ParamKind:
        return KINDS[self.kind]

    def distribution(self) -> BaseDistribution:
        return self.info.distribution(self)

    def grid(self, k: int) -> tuple[Any, ...]:
        """At most ``k`` grid values in the sampler's own representation (choices: all of them)."""
        return self.info.grid(self, k)

    def value(self, suggested: Any) -> Any:
        """What the experiment gets from a suggested value: a list choice travels through Optuna as its
        JSON text (a study stores only scalars) and is decoded here."""
        if self.kind == "choice" and isinstance(suggested, str) and any(isinstance(c, list) for c in self.choices):
            return json.loads(suggested)
        return suggested

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "choice":
            return {self.kind: list(self.choices)}
        if self.kind == "int":
            return {self.kind: [int(self.low), int(self.high)]}
        return {self.kind: [self.low, self.high]}


def _choice_repr(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list) else value


@dataclass(frozen=True)
class ParamKind:
    """What a kind of range gives each method: Optuna's distribution, a grid, a perturbation, a prior draw."""
    name: str
    field_types: tuple[str, ...]          # schema type words of the experiment fields it fits
    distribution: Callable[[Param], BaseDistribution]
    grid: Callable[[Param, int], tuple[Any, ...]]
    perturb: Callable[[Param, Any, float], Any]         # (param, value, factor) -> value inside the range
    draw: Callable[[Param, np.random.Generator], Any]   # a draw from the prior


def _linear(p: Param, k: int) -> np.ndarray:
    return np.array([(p.low + p.high) / 2]) if k == 1 else np.linspace(p.low, p.high, k)


def _geometric(p: Param, k: int) -> np.ndarray:
    if k == 1:
        return np.array([math.sqrt(p.low * p.high)])
    return p.low * (p.high / p.low) ** (np.arange(k) / (k - 1))


def _clip(p: Param, x: float) -> float:
    return float(min(max(x, p.low), p.high))


def _int_grid(p: Param, k: int) -> tuple[int, ...]:
    return tuple(dict.fromkeys(int(round(v)) for v in _linear(p, k)))


def _choice_step(p: Param, value: Any, factor: float) -> Any:
    reprs = [_choice_repr(c) for c in p.choices]
    i = reprs.index(value) + (1 if factor > 1 else -1)
    return reprs[min(max(i, 0), len(reprs) - 1)]


KINDS: dict[str, ParamKind] = {kind.name: kind for kind in (
    ParamKind("log", ("number",), lambda p: FloatDistribution(p.low, p.high, log=True),
              lambda p, k: tuple(float(v) for v in _geometric(p, k)),
              lambda p, v, f: _clip(p, v * f),
              lambda p, rng: float(math.exp(rng.uniform(math.log(p.low), math.log(p.high))))),
    ParamKind("uniform", ("number",), lambda p: FloatDistribution(p.low, p.high),
              lambda p, k: tuple(float(v) for v in _linear(p, k)),
              lambda p, v, f: _clip(p, v * f),
              lambda p, rng: float(rng.uniform(p.low, p.high))),
    ParamKind("int", ("integer",), lambda p: IntDistribution(int(p.low), int(p.high)),
              _int_grid,
              lambda p, v, f: int(round(_clip(p, v * f))),
              lambda p, rng: int(rng.integers(int(p.low), int(p.high) + 1))),
    ParamKind("choice", ("number", "integer", "string", "true/false", "list"),
              lambda p: CategoricalDistribution([_choice_repr(c) for c in p.choices]),
              lambda p, k: tuple(_choice_repr(c) for c in p.choices),
              _choice_step,
              lambda p, rng: _choice_repr(p.choices[int(rng.integers(len(p.choices)))])),
)}


def grid_points(space: tuple[Param, ...], budget: int) -> dict[str, tuple[Any, ...]]:
    """The grid a budget of ``budget`` trials buys: every choice, and ``k`` points on each of the ``d`` ranges,
    ``k = floor((budget / C)^(1/d))`` where ``C`` is the product of the choices' lengths (at least 1 point).

    This is the lesson's explosion: the grid's size is ``C * k^d``, so three ranges and 27 trials give only 3
    values of each key (the learning rate among them), where random search tries 27 learning rates.
    """
    choices = [p for p in space if p.kind == "choice"]
    ranges = [p for p in space if p.kind != "choice"]
    combos = math.prod(len(p.choices) for p in choices)
    k = 1
    if ranges:
        k = max(1, int(math.floor((budget / combos) ** (1 / len(ranges)) + 1e-9)))
    return {p.path: p.grid(k) for p in space}


def grid_size(grid: dict[str, tuple[Any, ...]]) -> int:
    return math.prod(len(v) for v in grid.values())
