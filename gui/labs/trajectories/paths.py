"""The trajectories lab's optimizer rows as typed, and the cache of the paths computed for them.

A row keeps the user's texts (``{"lr": "0.01"}``) and what
:func:`engine.labs.trajectories.make_spec` made of them: the checked spec, or
the one-line error and the key it is about.  A path depends on the surface,
its parameters, the start, the number of steps and the spec (and a noisy path on the
noise seed), and on nothing else, so that tuple is its cache key: editing one optimizer recomputes only
that one, and switching back to a surface seen before recomputes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.labs.trajectories import OptimizerSpec, SpecError, Trajectory, make_spec

CACHE_SIZE = 200        # paths kept; beyond it the oldest CACHE_DROP are forgotten (memory stays bounded)
CACHE_DROP = 100

PathKey = tuple


@dataclass(eq=False)
class OptimizerRow:
    """One optimizer of the lab: its name, texts as typed, colour index, and their check."""

    name: str
    texts: dict[str, str]
    color: int
    spec: OptimizerSpec | None = field(default=None, init=False)
    error: str | None = field(default=None, init=False)
    error_key: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check the texts again (after an edit): sets ``spec``, or ``error`` and ``error_key``."""
        self.spec = self.error = self.error_key = None
        try:
            self.spec = make_spec(self.name, self.texts)
        except SpecError as err:
            self.error, self.error_key = str(err), err.key


def path_key(surface_name: str, params: dict[str, float], start: tuple[float, float], steps: int,
             spec: OptimizerSpec | None, noise_seed: int = 0) -> PathKey | None:
    """Everything a path depends on (the noise seed only when it has noise); None for an invalid row."""
    if spec is None:
        return None
    return (surface_name, tuple(sorted(params.items())), start, steps, spec, noise_seed if spec.noise else None)


class PathCache:
    """Computed paths by :func:`path_key`, the oldest forgotten past :data:`CACHE_SIZE`."""

    def __init__(self) -> None:
        self._paths: dict[PathKey, Trajectory] = {}

    def get(self, key: PathKey | None) -> Trajectory | None:
        return self._paths.get(key) if key is not None else None

    def store(self, key: PathKey, path: Trajectory) -> None:
        self._paths[key] = path
        if len(self._paths) > CACHE_SIZE:
            for old in list(self._paths)[:CACHE_DROP]:
                del self._paths[old]

    def missing(self, wanted: list[tuple[PathKey | None, OptimizerSpec | None]]) -> list[tuple[PathKey, OptimizerSpec]]:
        """The (key, spec) pairs of ``wanted`` not computed yet, each key once, in order."""
        out: list[tuple[PathKey, OptimizerSpec]] = []
        seen: set[PathKey] = set()
        for key, spec in wanted:
            if key is not None and spec is not None and key not in self._paths and key not in seen:
                seen.add(key)
                out.append((key, spec))
        return out
