"""Optimizer paths on a 2-D loss surface: the exact torch.optim update, step by step.

The parameter is one 2-element tensor ``p = (x, y)`` (float64, so a path near
a minimum is not quantized by float32).  Every step is what a training loop
does with a real network::

    opt.zero_grad(); f(p).backward(); opt.step()

with the optimizer class of the engine's :data:`engine.optim.optimizers.OPTIMIZERS`
table (every torch.optim optimizer the lab offers, plus our LAMB), so the path
drawn is torch's own, bit for bit (``tests/engine/labs/test_trajectories.py`` checks it
against a hand-written loop).

An optimizer is named by a *spec*, the same text on the command line and in
the tests: ``name:key=value,key=value``, e.g. ``sgd:lr=0.001,momentum=0.9``
or ``adam:lr=0.05,betas=0.9/0.99``.  Keys are the experiment file's optimizer
keys (``lr``, ``momentum``, ``nesterov``, ``betas``, ``eps``,
``weight_decay``, ``alpha``) and are checked against the same ranges; a key
the optimizer does not take is an error, not silently ignored.  Keys left out
take the optimizer class's own default (except ``lr``: see
:data:`DEFAULT_LR`).

Stopping.  A path is stopped, not drawn as garbage, when

* its position leaves the surface's box widened by :data:`BOX_MARGIN` (a
  quarter of the box's width and height on every side: a path may swing a
  little past the edge of the map and come back, but one that keeps going is
  diverging); the first position outside is kept, so the exit shows; or
* its position, loss or gradient stops being finite (overflow); that position
  is dropped.

Gradient noise.  A path's ``noise=sigma`` (a spec key beside the optimizer's: ``sgd:lr=0.05,noise=3``) adds
``sigma * N(0, I)`` to every gradient before the optimizer sees it, ``g_used = grad f(p) + sigma * z``, ``z``
drawn from a ``torch.Generator`` seeded by ``noise_seed`` (one seed for every path of a call, each path
drawing from its own generator of that seed): the mini-batch noise the lesson says "helps escape shallow
local minima", at a scale the student chooses (a mini-batch gradient is the full gradient plus zero-mean
noise, the larger the smaller the batch), so a full-batch path and a noisy one can be drawn side by side.
``grad`` is still the surface's own gradient; ``update`` is the step taken, from the noisy one.

Recorded per position ``k = 0 .. n`` (``k`` steps taken): ``x, y, loss``,
the gradient ``grad[k]`` at that position, and ``update[k] = p[k+1] - p[k]``,
the step the optimizer takes from there (NaN on the last row, from which no
step was taken).  For plain SGD ``update = -lr * grad``; with momentum or
Adam the two point in visibly different directions, which is the lesson.
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import torch

from engine.config import OptimizerConfig
from engine.files import float_cell, frozen_array, write_csv_atomic
from engine.labs.surfaces import SurfaceInfo, surface
from engine.optim.optimizers import OPTIMIZERS, optimizer_kwargs
from engine.status import PathStatus

BOX_MARGIN = 0.25
MAX_STEPS = 100_000
MAX_NOISE = 1000.0          # sigma of the gradient noise; far past what any surface's box survives
# The experiment file's default rate (0.01) is the sensible one for these surfaces too; torch's class
# defaults differ (SGD has none in old versions, Adafactor 0.01, Adam 0.001).
DEFAULT_LR = OptimizerConfig().lr

STATUS_TEXT = {PathStatus.FINISHED: "ran all steps", PathStatus.LEFT_BOX: "left the box", PathStatus.NON_FINITE: "diverged (non-finite)"}

_FIELDS = {f.name: f for f in dataclasses.fields(OptimizerConfig)}


class SpecError(ValueError):
    """A bad optimizer spec or trajectory request; ``str(err)`` is one line, ``key`` the setting it is about."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer and the hyperparameters set for it (only those set; the rest are the class's defaults)."""
    name: str
    settings: tuple[tuple[str, Any], ...] = ()
    noise: float = 0.0        # sigma of the Gaussian noise added to each gradient (0: the exact gradient)

    @property
    def config(self) -> OptimizerConfig:
        return OptimizerConfig(name=self.name, **dict(self.settings))

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments given to the torch optimizer class."""
        kwargs = optimizer_kwargs(self.config)
        if "lr" not in dict(self.settings):
            kwargs["lr"] = DEFAULT_LR
        return kwargs

    @property
    def text(self) -> str:
        """The spec as it would be typed: ``sgd:lr=0.001,momentum=0.9`` (parses back to an equal spec)."""
        items = [*self.settings, *((("noise", self.noise),) if self.noise else ())]
        if not items:
            return self.name
        return f"{self.name}:" + ",".join(f"{k}={_format_value(v)}" for k, v in items)


def _format_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        return "/".join(_format_value(x) for x in v)
    return f"{v:g}" if float(f"{v:g}") == v else repr(v)


def _parse_value(key: str, text: str) -> Any:
    meta = _FIELDS[key].metadata
    text = text.strip()
    if key == "nesterov":
        low = text.lower()
        if low in ("true", "1", "yes", "on"):
            return True
        if low in ("false", "0", "no", "off"):
            return False
        raise SpecError(f"{key}: must be true or false, got {text!r}", key)
    if key == "betas":
        parts = [s for s in re.split(r"[/;\s]+|,", text.strip("()[] ")) if s]
        if len(parts) != 2:
            raise SpecError(f"betas: must be two numbers like 0.9/0.999, got {text!r}", key)
        values = tuple(_number(key, s) for s in parts)
        for v in values:
            _check(key, v, meta)
        return values
    value = _number(key, text)
    _check(key, value, meta)
    return value


def _number(key: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise SpecError(f"{key}: must be a number, got {text!r}", key) from None


def _check(key: str, value: float, meta) -> None:
    for check in meta["checks"]:
        problem = check.check(value)
        if problem:
            raise SpecError(f"{key}: {problem}, got {value:g}", key)


def make_spec(name: str, settings: Mapping[str, Any] | None = None) -> OptimizerSpec:
    """A checked spec from a name and ``{key: value or text}``; empty texts / None mean "default"."""
    name = name.strip().lower()
    if name not in OPTIMIZERS:
        raise SpecError(f"unknown optimizer {name!r} (choose from {', '.join(OPTIMIZERS)})", "name")
    takes = OPTIMIZERS[name].takes
    out = []
    noise = 0.0
    for key, value in (settings or {}).items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if key == "noise":
            noise = check_noise(value)
            continue
        if key not in takes:
            raise SpecError(f"{name} takes no {key!r} (it takes: {', '.join(takes)})", key)
        if isinstance(value, str):
            value = _parse_value(key, value)
        else:
            value = _parse_value(key, "/".join(map(str, value)) if isinstance(value, (tuple, list)) else
                                 str(value))
        out.append((key, value))
    order = {k: i for i, k in enumerate(takes)}
    spec = OptimizerSpec(name, tuple(sorted(out, key=lambda kv: order[kv[0]])), noise)
    if dict(spec.settings).get("nesterov") and not dict(spec.settings).get("momentum"):
        raise SpecError("nesterov: needs momentum > 0", "nesterov")
    try:                                  # torch's own checks, the last word (e.g. LAMB's, Adafactor's)
        spec_cls = OPTIMIZERS[name].cls
        spec_cls([torch.zeros(2, requires_grad=True)], **spec.kwargs())
    except ValueError as err:
        raise SpecError(f"{name}: {err}") from None
    return spec


def parse_spec(text: str) -> OptimizerSpec:
    """``"sgd:lr=0.001,momentum=0.9"`` -> a checked :class:`OptimizerSpec`, or :class:`SpecError`.

    Commas separate settings; betas take two numbers joined by ``/`` (or in
    parentheses: ``betas=(0.9,0.99)``).
    """
    text = text.strip()
    name, _, rest = text.partition(":")
    settings: dict[str, str] = {}
    for item in _split_settings(rest):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise SpecError(f"{text!r}: settings are key=value pairs separated by commas, got {item.strip()!r}")
        if key in settings:
            raise SpecError(f"{key}: given twice in {text!r}", key)
        if (key not in _FIELDS or key == "name") and key != "noise":
            raise SpecError(f"unknown setting {key!r} in {text!r} "
                            f"(known: {', '.join(f for f in _FIELDS if f != 'name')}, noise)", key)
        settings[key] = value
    return make_spec(name, settings)


def _split_settings(rest: str) -> list[str]:
    items, depth, current = [], 0, ""
    for ch in rest:
        depth += ch in "(["
        depth -= ch in ")]"
        if ch == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += ch
    items.append(current)
    return [i for i in items if i.strip()]


@dataclass(frozen=True)
class Trajectory:
    """One optimizer's path; arrays are read-only numpy, one row per position ``k = 0 .. steps``."""
    label: str
    spec: OptimizerSpec
    x: np.ndarray
    y: np.ndarray
    loss: np.ndarray
    grad: np.ndarray          # [n+1, 2]: the gradient at each position
    update: np.ndarray        # [n+1, 2]: p[k+1] - p[k]; NaN on the last row
    status: str               # FINISHED, LEFT_BOX or NON_FINITE
    stop_step: int | None     # the step at which it was stopped (None if it ran all steps)
    message: str

    @property
    def steps(self) -> int:
        """Steps taken and kept (the last row's index)."""
        return len(self.x) - 1

    @property
    def stopped(self) -> bool:
        return self.status != PathStatus.FINISHED


def compute_trajectory(surface_name: str, start: Sequence[float], spec: OptimizerSpec | str, steps: int,
                       params: Mapping[str, Any] | None = None, label: str | None = None,
                       noise_seed: int = 0) -> Trajectory:
    """Run ``steps`` steps of ``spec``'s optimizer from ``start`` on the surface (see the module doc)."""
    info = surface(surface_name)
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    steps = _check_steps(steps)
    start = _check_start(info, start)
    noise = spec.noise
    f = info.function(params)
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = OPTIMIZERS[spec.name].cls([p], **spec.kwargs())
    draws = torch.Generator().manual_seed(_check_seed(noise_seed)) if noise else None
    xs: list[list[float]] = []
    losses: list[float] = []
    grads: list[list[float]] = []
    updates: list[Sequence[float]] = []   # (dx, dy) per position
    status, stop_step, message = PathStatus.FINISHED, None, f"ran all {steps} steps"
    for k in range(steps + 1):
        opt.zero_grad()
        loss = f(p)
        loss.backward()
        pos = p.detach().clone()
        assert p.grad is not None  # backward() always fills the leaf's grad
        g = p.grad.detach().clone()
        if not (torch.isfinite(pos).all() and torch.isfinite(loss) and torch.isfinite(g).all()):
            status, stop_step = PathStatus.NON_FINITE, k
            message = f"diverged at step {k}: the position, loss or gradient overflowed (not finite)"
            if updates:
                updates[-1] = (math.nan, math.nan)
            break
        xs.append(pos.tolist())
        losses.append(loss.item())
        grads.append(g.tolist())
        if not info.contains(pos[0].item(), pos[1].item(), BOX_MARGIN):
            status, stop_step = PathStatus.LEFT_BOX, k
            message = f"left the box at step {k} (x={pos[0].item():.4g}, y={pos[1].item():.4g})"
            updates.append((math.nan, math.nan))
            break
        if k == steps:
            updates.append((math.nan, math.nan))
            break
        if draws is not None:
            p.grad.add_(torch.randn(2, generator=draws, dtype=torch.float64), alpha=noise)
        opt.step()
        updates.append((p.detach() - pos).tolist())
    xy = np.asarray(xs, dtype=np.float64).reshape(-1, 2)
    return Trajectory(label or spec.text, spec, frozen_array(xy[:, 0]), frozen_array(xy[:, 1]),
                      frozen_array(losses), frozen_array(np.reshape(grads, (-1, 2))),
                      frozen_array(np.reshape(updates, (-1, 2))),
                      status, stop_step, message)


def compute_trajectories(surface_name: str, start: Sequence[float], specs: Iterable[OptimizerSpec | str],
                         steps: int, params: Mapping[str, Any] | None = None,
                         noise_seed: int = 0) -> tuple[Trajectory, ...]:
    """All paths from one common start; labels are the specs' texts, made unique with ``#2``, ``#3``."""
    parsed = [parse_spec(s) if isinstance(s, str) else s for s in specs]
    seen: dict[str, int] = {}
    out = []
    for spec in parsed:
        label = spec.text
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label} #{seen[label]}"
        out.append(compute_trajectory(surface_name, start, spec, steps, params, label, noise_seed))
    return tuple(out)


def _check_steps(steps: Any) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 0 <= steps <= MAX_STEPS:
        raise SpecError(f"steps: must be an integer in [0, {MAX_STEPS:,}], got {steps!r}", "steps")
    return int(steps)


def check_noise(noise: Any) -> float:
    """The gradient noise's sigma (a number, or its text as typed), checked: in [0, :data:`MAX_NOISE`]."""
    if isinstance(noise, str):
        noise = _number("noise", noise)
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)) or \
            not (math.isfinite(noise) and 0 <= noise <= MAX_NOISE):
        raise SpecError(f"noise: must be a number in [0, {MAX_NOISE:g}], got {noise!r}", "noise")
    return float(noise)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise SpecError(f"noise_seed: must be a whole number >= 0, got {seed!r}", "noise_seed")
    return int(seed)


def _check_start(info: SurfaceInfo, start: Sequence[float]) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in start)
    except (TypeError, ValueError):
        raise SpecError(f"start: must be two numbers x,y, got {start!r}", "start") from None
    if not (math.isfinite(x) and math.isfinite(y)) or not info.contains(x, y):
        xmin, xmax, ymin, ymax = info.box
        raise SpecError(f"start: ({x:g}, {y:g}) is outside the {info.name} box "
                        f"x in [{xmin:g}, {xmax:g}], y in [{ymin:g}, {ymax:g}]", "start")
    return x, y


def parse_start(text: str) -> tuple[float, float]:
    """``"-1.5,2"`` -> (-1.5, 2.0), or :class:`SpecError`."""
    parts = [s for s in re.split(r"[,\s]+", text.strip().strip("()")) if s]
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise SpecError(f"start: must be two numbers x,y like -1.5,2, got {text!r}", "start") from None


CSV_COLUMNS = ("optimizer", "step", "x", "y", "loss", "grad_x", "grad_y", "update_x", "update_y", "status")


def write_csv(trajectories: Iterable[Trajectory], path: str | Path) -> None:
    """One row per optimizer and position (columns :data:`CSV_COLUMNS`).

    Numbers by :func:`engine.files.float_cell` (every digit).  ``update_*`` is
    empty on a path's last row (no step taken from there);
    ``status`` is empty except on each path's last row, where it says how the
    path ended: ``finished``, ``left_box`` or ``non_finite``.
    """
    def rows(t: Trajectory):
        last = t.steps
        for k in range(last + 1):
            update = t.update[k] if np.isfinite(t.update[k]).all() else (None, None)
            numbers = (t.x[k], t.y[k], t.loss[k], t.grad[k, 0], t.grad[k, 1], *update)
            yield (t.label, k, *map(float_cell, numbers), t.status if k == last else "")

    write_csv_atomic(Path(path), CSV_COLUMNS, (row for t in trajectories for row in rows(t)))


def trajectories_job(state, surface_name: str, start: Sequence[float], params: Mapping[str, Any] | None,
                     steps: int, items: Sequence[tuple[Any, OptimizerSpec]], noise_seed: int = 0) -> int:
    """A :mod:`engine.training.jobs` job: compute one path per ``(key, spec)`` item and report ``(key, path)``.

    The window runs it in a thread (a path of a few hundred steps costs a
    fraction of a second of Python overhead per torch.optim step); it checks
    the stop flag between paths.  Returns how many paths it computed.
    """
    done = 0
    for key, spec in items:
        if state.stop_requested():
            break
        state.report((key, compute_trajectory(surface_name, start, spec, steps, params, spec.text,
                                              noise_seed)))
        done += 1
    return done
