"""A claim as data, checked at seeds: a set-up, the numbers it measures, the conditions they must meet.

A :class:`Claim` is a sentence the app teaches plus ``measure(seed) -> numbers`` (it trains the set-up
with every run's seed set to ``seed``) and a tuple of :class:`Condition`, each a short text and a test on
the numbers.  :func:`check_claim` runs one claim at one seed; :func:`claims_table` runs claims at seeds
and counts at how many each held: a claim is only as good as its worst seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

Numbers = Mapping[str, float]


@dataclass(frozen=True)
class Condition:
    text: str                                   # what must be true, in the numbers' words
    test: Callable[[Numbers], bool]


@dataclass(frozen=True)
class Claim:
    key: str                                    # where the app makes it: "preset NAME", "finder NAME", "search NAME", "question KEY",
    #                                             "lab NAME", "tooltip KEY"
    says: str                                   # the claim, as the app teaches it
    measure: Callable[[int], dict[str, float]]  # seed -> the numbers the conditions read
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class ClaimCheck:
    """One claim at one seed: what it measured, and which conditions failed (none: it held)."""
    key: str
    seed: int
    numbers: dict[str, float]
    failed: tuple[str, ...]
    data_seed: int | None = None                # when the data's seed is not ``seed``: a member of a multi-seed run

    @property
    def holds(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class ClaimRow:
    """One claim over several seeds."""
    claim: Claim
    checks: tuple[ClaimCheck, ...] = field(default=())

    @property
    def held(self) -> int:
        return sum(c.holds for c in self.checks)

    @property
    def verdict(self) -> str:
        return f"holds at {self.held} of {len(self.checks)} seeds"


def check_claim(claim: Claim, seed: int) -> ClaimCheck:
    return judge(claim, seed, claim.measure(seed))


def judge(claim: Claim, seed: int, numbers: dict[str, float], data_seed: int | None = None) -> ClaimCheck:
    """The claim's conditions on numbers measured at ``seed``: which failed (none: it held)."""
    return ClaimCheck(claim.key, seed, numbers, tuple(c.text for c in claim.conditions if not c.test(numbers)),
                      data_seed)


def claims_table(claims: Iterable[Claim], seeds: Sequence[int],
                 on_check: Callable[[ClaimCheck], None] | None = None,
                 should_stop: Callable[[], bool] = lambda: False,
                 check: Callable[[Claim, int], Sequence[ClaimCheck]] = lambda claim, seed: (check_claim(claim, seed),),
                 ) -> list[ClaimRow]:
    """Each claim at each seed; ``check(claim, seed)`` gives that seed's checks (one, by default; the members
    of one multi-seed run with ``engine.lessons.claims.live.member_checks``)."""
    rows = []
    for claim in claims:
        checks = []
        for seed in seeds:
            if should_stop():
                break
            for one in check(claim, seed):
                checks.append(one)
                if on_check is not None:
                    on_check(one)
        rows.append(ClaimRow(claim, tuple(checks)))
        if should_stop():
            break
    return rows


CLAIM_COLUMNS = ("claim", "seed", "data_seed", "holds", "failed", "numbers")


def write_claims_csv(rows: Iterable[ClaimRow], path: str | Path) -> Path:
    """``claims.csv``: one row per claim and seed; ``data_seed`` empty when the data's seed is the seed (a member
    of a multi-seed run is on its run's data); ``numbers`` as ``name=value`` pairs, ``failed`` the
    conditions that did not hold, joined by ``; ``."""
    from engine.files import write_csv_atomic
    lines = ([c.key, c.seed, "" if c.data_seed is None else c.data_seed, "yes" if c.holds else "no", "; ".join(c.failed),
              " ".join(f"{k}={v:.4g}" for k, v in c.numbers.items())]
             for row in rows for c in row.checks)
    return write_csv_atomic(Path(path), list(CLAIM_COLUMNS), lines)


def cond(text: str, test: Callable[[Numbers], bool]) -> Condition:
    return Condition(text, test)
