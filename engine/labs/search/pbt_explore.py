"""PBT's two decisions between rounds, as pure functions of the scores and one seeded generator.

:func:`exploit_plan` says who copies whom; :func:`explore` perturbs the copied hyperparameters.  Values here
are in the samplers' representation (a list choice as its JSON text, :meth:`~engine.labs.search.space.Param.value`
turns them into experiment values), so a perturbed choice is found in its list.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from engine.labs.search.objectives import Objective
from engine.labs.search.space import Param
from engine.status import RunStatus

FACTORS = (0.8, 1.2)
"""The explore step: a value is multiplied by one of these (a choice steps down or up its list)."""

PBT_STREAM = 0x5EED_0B7
"""Mixed into the search's seed for PBT's generator, so its draws are not random search's."""


def generator(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, PBT_STREAM]))


@dataclass(frozen=True)
class Standing:
    """A member as the node ranks it after a round."""
    member: int
    value: float
    status: str          # the round's RunStatus


def cut(population: int, quantile: float) -> int:
    """Members in each of the bottom and top quantiles: ``max(1, floor(q N))``, at most half."""
    return max(1, min(population // 2, int(math.floor(quantile * population + 1e-9))))


def exploit_plan(standings: Sequence[Standing], goal: Objective, quantile: float,
                 rng: np.random.Generator) -> list[tuple[int, int, str]]:
    """``(member, parent, reason)`` for every member to replace, in member order.

    Truncation selection over the whole population: the healthy members (their round finished) are ranked
    best first (ties by member number) and the members whose run ended (diverged, error) after all of them;
    the top ``cut`` are the parents and the bottom ``cut`` are replaced.  An ended member is the bottom, so
    it takes one of the bottom's places: with ``d`` ended members only the ``cut - d`` worst healthy ones
    (reason ``"bottom"``) are replaced besides them (reason their status), and when ``d > cut`` every ended
    member is still replaced (it cannot train on) but no healthy one.  Replacing the bottom quarter of the
    healthy *on top of* the ended ones would throw away more than a quarter after a round where some
    diverged, each a run judged on one short round.  Each draws its parent uniformly from the top.  No
    healthy member: nobody to copy, nothing happens."""
    healthy = [s for s in standings if s.status == RunStatus.FINISHED and math.isfinite(s.value)]
    if not healthy:
        return []
    sign = 1.0 if goal.direction == "minimize" else -1.0
    ranked = sorted(healthy, key=lambda s: (sign * s.value, s.member))
    n = cut(len(standings), quantile)
    top = ranked[:n]
    ended = {s.member: s.status for s in standings if s not in healthy}
    rest = ranked[n:]
    places = max(0, n - len(ended))                  # the bottom's places the ended members leave
    bottom = {s.member for s in rest[max(0, len(rest) - places):]} if places else set()
    plan = []
    for s in sorted(standings, key=lambda s: s.member):
        if s.member in ended or s.member in bottom:
            parent = top[int(rng.integers(len(top)))].member
            plan.append((s.member, parent, str(ended.get(s.member, "bottom"))))
    return plan


def explore(space: Sequence[Param], values: dict[str, Any], resample: float,
            rng: np.random.Generator) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The parent's ``values`` explored: each key drawn from its prior with probability ``resample``,
    otherwise moved by a factor of :data:`FACTORS` (evenly) and clipped into its range.  Returns the new
    values and the keys that were resampled."""
    out: dict[str, Any] = {}
    resampled = []
    for p in space:
        u, pick = rng.random(), int(rng.integers(len(FACTORS)))
        if u < resample:
            out[p.path] = p.info.draw(p, rng)
            resampled.append(p.path)
        else:
            out[p.path] = p.info.perturb(p, values[p.path], FACTORS[pick])
    return out, tuple(resampled)
