"""A lesson's claim seen live: checked on every member of the window's multi-seed runs of its preset.

A preset's claim whose measure is a :class:`~engine.lessons.claims.measuring.ReadPreset` reads nothing but
its runs' records, and member k of a run of ``train.seeds`` K is, event for event, the single run of seed
``seed + k`` (``engine.training.vectorized``; the member-equivalence test holds it to float32 rounding).
So the claim's read-out applied to member k of every run of the preset checks the claim at seed
``seed + k``: K members, K checks, "held at k of K seeds" while the class watches the bands.

One difference from the claims table, said with the verdict: the members share their run's data (drawn
at ``seed``), where the table draws each seed's data at that seed too.  The check is made only on the
preset's own set-up (every run of it, unchanged but for the seed and K, all at one seed) and only once
every run has ended on its own (finished or diverged): a stopped run has not shown what the claim is about.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from engine.config import Experiment
from engine.lessons.claims.measuring import ReadPreset
from engine.lessons.claims.table import Claim, ClaimCheck, judge
from engine.status import RunStatus
from engine.training.records import RunRecord

ENDED_ON_THEIR_OWN = (RunStatus.FINISHED, RunStatus.DIVERGED)


@dataclass(frozen=True)
class LiveCheck:
    """A claim checked on each member of the window's runs: member k's check at index k (seed ``seed + k``)."""
    claim: Claim
    seed: int
    checks: tuple[ClaimCheck, ...]

    @property
    def held(self) -> int:
        return sum(c.holds for c in self.checks)

    @property
    def text(self) -> str:
        """"held at 15 of 16 seeds (0-15, on seed 0's data)"; for one seed, "held at seed 0" or "did not hold"."""
        n = len(self.checks)
        if n == 1:
            return f"held at seed {self.seed}" if self.held else f"did not hold at seed {self.seed}"
        return f"held at {self.held} of {n} seeds ({self.seed}-{self.seed + n - 1}, on seed {self.seed}'s data)"

    def failures(self) -> list[tuple[int, tuple[str, ...]]]:
        """(seed, the conditions that failed there) for each member where the claim did not hold."""
        return [(c.seed, c.failed) for c in self.checks if not c.holds]


def live_claim(preset: str) -> Claim | None:
    """The claim of preset ``preset`` when it can be checked on the window's runs (its measure reads records)."""
    from engine.lessons.claims import CLAIMS_BY_KEY
    claim = CLAIMS_BY_KEY.get(f"preset {preset}")
    return claim if claim is not None and isinstance(claim.measure, ReadPreset) else None


def check_live(preset: str, runs: Sequence[tuple[Experiment, Sequence[RunRecord]]]) -> LiveCheck | None:
    """The preset's claim checked on each member of ``runs`` (the window's: each run's experiment and its
    members' records), or None when it cannot be: the claim reads more than records, a run of the preset is
    missing, changed (anything but its seed and K), at another seed or K than the others, not ended, or ended
    by a stop or an error.  Runs the teacher added beside the preset's are left out."""
    claim = live_claim(preset)
    return None if claim is None else check_on(claim, runs)


def check_on(claim: Claim, runs: Sequence[tuple[Experiment, Sequence[RunRecord]]]) -> LiveCheck | None:
    """:func:`check_live` for any claim whose measure is a :class:`ReadPreset` (a tooltip's or a question's
    that reads a preset's runs too): its own conditions on its own read-out of each member."""
    from engine.lessons.presets import PRESETS
    if not isinstance(claim.measure, ReadPreset):
        return None
    preset = claim.measure.preset
    by_name = {exp.name: (exp, records) for exp, records in runs}
    if not all(run.name in by_name for run in PRESETS[preset].runs):
        return None
    first, _ = by_name[PRESETS[preset].runs[0].name]
    seed, members = first.seed, first.train.seeds
    chosen: dict[str, Sequence[RunRecord]] = {}
    for run in PRESETS[preset].runs:
        exp, records = by_name[run.name]
        if exp != run.replace(seed=seed, train={"seeds": members}) or len(records) != members:
            return None
        if any(r.status not in ENDED_ON_THEIR_OWN for r in records):
            return None
        chosen[run.name] = records
    checks = []
    for k in range(members):
        checks.append(judge(claim, seed + k, claim.measure.read({name: records[k] for name, records in chosen.items()}),
                            data_seed=seed))
    return LiveCheck(claim, seed, tuple(checks))


def train_members(preset: str, seed: int, members: int) -> list[tuple[Experiment, tuple[RunRecord, ...]]]:
    """Every run of ``preset`` at ``seed`` as one multi-seed run of ``members`` (vectorized where the
    experiment allows), trained to its end without histograms (no read-out reads them): each run's
    experiment and its members' records, as the window's runs would give them."""
    from engine.lessons.presets import PRESETS
    from engine.training.members import trainer_for
    from engine.training.records import RecordKeeper
    runs = []
    for run in PRESETS[preset].runs:
        exp = run.replace(seed=seed, train={"seeds": members})
        trainer = trainer_for(exp.replace(train={"histogram_every": 0}))
        keeper = RecordKeeper(members)
        while not trainer.done:
            for event in trainer.step():
                keeper.add(event)
        runs.append((exp, keeper.records() or ()))
    return runs


def member_checks(members: int):
    """``claims_table``'s ``check`` for ``main.py claims --members K``: a claim that can be seen live is
    checked at the K members of one multi-seed run of its preset a seed (member k: seed + k on the seed's
    data; 3.8x faster than K seeds alone on the optimizers and schedules lessons, README's Benchmarks); any
    other claim at the seed alone, as always."""
    from engine.lessons.claims.table import check_claim
    trained: dict[tuple[str, int], list] = {}      # the claims that read one preset share its training

    def check(claim: Claim, seed: int) -> tuple[ClaimCheck, ...]:
        if members == 1 or not isinstance(claim.measure, ReadPreset):
            return (check_claim(claim, seed),)
        key = (claim.measure.preset, seed)
        if key not in trained:
            trained[key] = train_members(*key, members)
        live = check_on(claim, trained[key])
        if live is None:        # a run ended in error: the claim's own measure says why
            return (check_claim(claim, seed),)
        return live.checks
    return check
