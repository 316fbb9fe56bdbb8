"""Two-dimensional loss surfaces: where a class can watch an optimizer walk.

A real network has millions of parameters, but the troubles an optimizer meets
show up already in two: a curved narrow valley (Rosenbrock), flat plateaus
with steep walls (Beale), several equally good minima (Himmelblau), a saddle
point, a ravine whose two directions have very different curvature, and a
landscape full of local minima (Rastrigin).  Each surface is one entry of
:data:`SURFACES` (the timm ``OptimInfo`` shape, CONTRIBUTING.md): the
GUI's picker, the headless ``trajectories`` command and the tests all loop over
this table, so adding a surface is adding one entry.

Every loss function takes a tensor whose last dimension holds ``(x, y)``: a
2-element parameter tensor for an optimizer step, or a whole ``[ny, nx, 2]``
grid for the contour map, evaluated in one call.  Gradients come from
autograd, never from a hand-written derivative, so what the optimizer sees is
exactly what the surface says.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import torch


class SurfaceError(ValueError):
    """A bad surface name or parameter; ``str(err)`` is one line a user can read."""


@dataclass(frozen=True)
class SurfaceParam:
    """One setting of a surface (the ravine's condition number), with its range and a teaching line."""
    name: str
    default: float
    low: float
    high: float
    help: str

    def check(self, value: Any) -> float:
        """``value`` as a float, or :class:`SurfaceError` naming the parameter and its range."""
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise SurfaceError(f"{self.name}: must be a number, got {value!r}") from None
        if not (math.isfinite(v) and self.low <= v <= self.high):
            raise SurfaceError(f"{self.name}: must be in [{self.low:g}, {self.high:g}], got {value!r}")
        return v


@dataclass(frozen=True)
class SurfaceInfo:
    """One loss surface f(x, y).

    ``loss(xy, **params)`` is vectorised over the last dimension of ``xy``
    (size 2) and returns a tensor of the leading shape.  ``box`` is
    ``(xmin, xmax, ymin, ymax)``, the region drawn and in which paths are kept;
    ``minima`` lists every minimum the map marks and distances are measured to
    (empty for the saddle, which has none).  ``log_scale`` says whether the
    colours should follow log(f - f_min), because the values span decades.
    """
    name: str
    title: str
    description: str
    formula: str
    loss: Callable[..., torch.Tensor]
    box: tuple[float, float, float, float]
    minima: tuple[tuple[float, float], ...]
    log_scale: bool
    start: tuple[float, float]
    params: tuple[SurfaceParam, ...] = ()

    def resolve(self, params: Mapping[str, Any] | None = None) -> dict[str, float]:
        """Every parameter of this surface, checked, the missing ones at their defaults."""
        params = dict(params or {})
        known = {p.name: p for p in self.params}
        for key in params:
            if key not in known:
                takes = ", ".join(known) if known else "none"
                raise SurfaceError(f"{self.name} has no parameter {key!r} (it takes: {takes})")
        return {p.name: p.check(params.get(p.name, p.default)) for p in self.params}

    def function(self, params: Mapping[str, Any] | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
        """``f(xy)`` with the parameters bound (checked once here, not on every step)."""
        bound = self.resolve(params)
        loss = self.loss
        return lambda xy: loss(xy, **bound)

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """Whether (x, y) lies in the box widened by ``margin`` times its size on every side."""
        xmin, xmax, ymin, ymax = self.box
        mx, my = margin * (xmax - xmin), margin * (ymax - ymin)
        return bool(xmin - mx <= x <= xmax + mx and ymin - my <= y <= ymax + my)

    @property
    def has_minimum(self) -> bool:
        return bool(self.minima)


def _xy(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return t[..., 0], t[..., 1]


def rosenbrock(t: torch.Tensor) -> torch.Tensor:
    x, y = _xy(t)
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def beale(t: torch.Tensor) -> torch.Tensor:
    x, y = _xy(t)
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def himmelblau(t: torch.Tensor) -> torch.Tensor:
    x, y = _xy(t)
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def saddle(t: torch.Tensor) -> torch.Tensor:
    x, y = _xy(t)
    return x ** 2 - y ** 2


def ravine(t: torch.Tensor, condition: float = 25.0) -> torch.Tensor:
    """f = (x^2 + kappa*y^2)/2: the Hessian is diag(1, kappa), so kappa is its condition number."""
    x, y = _xy(t)
    return 0.5 * (x ** 2 + condition * y ** 2)


def rastrigin(t: torch.Tensor) -> torch.Tensor:
    x, y = _xy(t)
    two_pi = 2 * math.pi
    return 20 + x ** 2 - 10 * torch.cos(two_pi * x) + y ** 2 - 10 * torch.cos(two_pi * y)


DOUBLE_WELL_TILT = 0.8


def _double_well_minima() -> tuple[tuple[float, float], ...]:
    """The two minima, deep first: the outer roots of df/dx = 4x^3 - 4x + 0.8 = 0 (the middle root, x = 0.209,
    is the ridge between them, 0.33 above the shallow minimum at x = 0.879 and 1.92 above the deep one at
    x = -1.088)."""
    roots = sorted(float(r.real) for r in np.roots([4.0, 0.0, -4.0, DOUBLE_WELL_TILT]))
    return ((roots[0], 0.0), (roots[2], 0.0))


DOUBLE_WELL_MINIMA = _double_well_minima()
_deep = DOUBLE_WELL_MINIMA[0][0]
DOUBLE_WELL_LIFT = -((_deep ** 2 - 1) ** 2 + DOUBLE_WELL_TILT * _deep)     # 0.8366: the deep minimum at f = 0


def double_well(t: torch.Tensor) -> torch.Tensor:
    """f = (x^2 - 1)^2 + 0.8 x + y^2 / 2 + 0.837: two valleys along x, the tilt making the right one shallow,
    lifted so that the deep minimum is 0 (as every surface's lowest minimum is)."""
    x, y = _xy(t)
    return (x ** 2 - 1) ** 2 + DOUBLE_WELL_TILT * x + 0.5 * y ** 2 + DOUBLE_WELL_LIFT


# The four minima of Himmelblau's function (f = 0 at each); three have no closed form.
HIMMELBLAU_MINIMA = ((3.0, 2.0), (-2.805118086952745, 3.131312518250573),
                     (-3.779310253377747, -3.283185991286170), (3.584428340330492, -1.848126526964404))

SURFACES: dict[str, SurfaceInfo] = {s.name: s for s in (
    SurfaceInfo(
        "rosenbrock", "Rosenbrock's banana valley",
        "Finding the curved valley is easy, following it to the minimum at (1, 1) is not: the floor "
        "is almost flat while the walls are steep, so plain SGD crawls and a large step bounces off the walls.",
        "f = (1 - x)^2 + 100 (y - x^2)^2",
        rosenbrock, (-2.0, 2.0, -1.0, 3.0), ((1.0, 1.0),), True, (-1.5, 2.0)),
    SurfaceInfo(
        "beale", "Beale's plateaus",
        "Broad flat plateaus where the gradient nearly vanishes, bounded by walls thousands of times "
        "steeper: one learning rate cannot suit both, which is what per-parameter rates (Adam) address.",
        "f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        beale, (-4.5, 4.5, -4.5, 4.5), ((3.0, 0.5),), True, (1.0, 1.5)),
    SurfaceInfo(
        "himmelblau", "Himmelblau's four minima",
        "Four equally good minima: which one an optimizer reaches depends on where it starts and on "
        "how it moves, as with the many equivalent solutions of a real network.",
        "f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        himmelblau, (-5.0, 5.0, -5.0, 5.0), HIMMELBLAU_MINIMA, True, (0.0, -0.5)),
    SurfaceInfo(
        "saddle", "A saddle point",
        "Downhill in y, uphill in x, and no minimum at all: started near the ridge y = 0, gradient "
        "descent lingers at the saddle where the gradient is tiny before it slides off (and leaves the box).",
        "f = x^2 - y^2",
        saddle, (-2.0, 2.0, -2.0, 2.0), (), False, (-1.8, 0.02)),
    SurfaceInfo(
        "ravine", "An ill-conditioned ravine",
        "A bowl kappa times steeper across than along: a learning rate small enough not to bounce across "
        "(lr < 2/kappa) crawls along, which momentum and adaptive rates fix.",
        "f = (x^2 + kappa y^2) / 2",
        ravine, (-4.0, 4.0, -2.0, 2.0), ((0.0, 0.0),), True, (-3.5, 1.0),
        (SurfaceParam("condition", 25.0, 1.0, 10_000.0,
                      "Condition number kappa: the ratio of the steepest to the flattest curvature. "
                      "The larger it is, the narrower the ravine and the harder for plain SGD."),)),
    SurfaceInfo(
        "rastrigin", "Rastrigin's egg crate",
        "A bowl covered in ripples, with about a hundred local minima around the one global minimum at "
        "the origin: small steps get stuck in the nearest dimple, only large or noisy ones escape.",
        "f = 20 + x^2 - 10 cos(2 pi x) + y^2 - 10 cos(2 pi y)",
        rastrigin, (-5.12, 5.12, -5.12, 5.12), ((0.0, 0.0),), False, (-4.4, 4.2)),
    SurfaceInfo(
        "double-well", "A shallow valley beside a deep one",
        "Started on the right, SGD (lr 0.05, 1000 steps) with the exact gradient settles in the shallow "
        "valley and stays there for good; with noise 3 (Gaussian noise added to each gradient, as a "
        "mini-batch's) it is shaken over the low ridge into the deep valley, whose far higher walls keep it.",
        "f = (x^2 - 1)^2 + 0.8 x + y^2 / 2 + 0.837",
        double_well, (-2.0, 2.0, -2.0, 2.0), DOUBLE_WELL_MINIMA, False, (1.3, 0.8)),
)}


def surface(name: str) -> SurfaceInfo:
    """The registry entry, or :class:`SurfaceError` listing the known names."""
    try:
        return SURFACES[name]
    except KeyError:
        raise SurfaceError(f"unknown surface {name!r} (choose from {', '.join(SURFACES)})") from None


def evaluate(name: str, x: float, y: float, params: Mapping[str, Any] | None = None) -> float:
    """f(x, y) as a Python float (float64)."""
    f = surface(name).function(params)
    return float(f(torch.tensor([x, y], dtype=torch.float64)))


def gradient(name: str, x: float, y: float, params: Mapping[str, Any] | None = None) -> np.ndarray:
    """The gradient (df/dx, df/dy) at (x, y), from autograd, as a float64 array."""
    f = surface(name).function(params)
    p = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
    f(p).backward()
    assert p.grad is not None  # backward() always fills the leaf's grad
    return p.grad.numpy().copy()


@dataclass(frozen=True)
class SurfaceGrid:
    """f sampled on a regular grid over the box: ``values[i, j] = f(xs[i], ys[j])`` (x index first).

    ``colors`` is what a map should colour: log10(f - f_min + floor) on a
    log-scale surface (so decades are equally spaced colours), f itself
    otherwise.  ``levels`` are evenly spaced values of ``colors`` for contour lines.
    """
    xs: np.ndarray
    ys: np.ndarray
    values: np.ndarray
    colors: np.ndarray
    levels: np.ndarray
    log_scale: bool


def grid(name: str, params: Mapping[str, Any] | None = None, n: int = 200, levels: int = 14) -> SurfaceGrid:
    """Sample the surface on an ``n`` x ``n`` grid over its box, in one vectorised call."""
    info = surface(name)
    f = info.function(params)
    xmin, xmax, ymin, ymax = info.box
    xs = np.linspace(xmin, xmax, n)
    ys = np.linspace(ymin, ymax, n)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    with torch.no_grad():
        values = f(torch.from_numpy(np.stack([gx, gy], axis=-1))).numpy()
    if info.log_scale:
        shifted = values - values.min()
        floor = max(shifted.max() * 1e-6, 1e-12)   # six decades below the top: the valley floor stays visible
        colors = np.log10(shifted + floor)
    else:
        colors = values.copy()
    lo, hi = float(colors.min()), float(colors.max())
    level_values = np.linspace(lo, hi, levels + 2)[1:-1]
    for a in (xs, ys, values, colors, level_values):
        a.setflags(write=False)
    return SurfaceGrid(xs, ys, values, colors, level_values, info.log_scale)


def distance_to_minimum(name: str, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
    """Euclidean distance from each (x, y) to the nearest listed minimum; NaN where the surface has none."""
    info = surface(name)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if not info.minima:
        return np.full(np.broadcast(x, y).shape, np.nan)
    m = np.asarray(info.minima, dtype=np.float64)                   # [k, 2]
    d = np.hypot(x[..., None] - m[:, 0], y[..., None] - m[:, 1])     # [..., k]
    return d.min(axis=-1)
