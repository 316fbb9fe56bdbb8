"""Population-based training (Jaderberg et al. 2017), which Optuna lacks, on the app's own Trainer.

A population of ``N`` members (``pbt.population``) trains side by side.  Every ``k`` steps (``pbt.interval``)
each member has trained one *round* and is judged by the objective; then the node exploits and explores:

* **exploit**: the bottom ``q`` of the population (``pbt.quantile``, a quarter; ``max(1, floor(q N))``
  members) copies the *weights and optimizer state* of a member drawn uniformly from the top ``q``; a member
  that diverged (or failed) ranks below every healthy one, so it fills one of the bottom's places (and is
  replaced even beyond them: it cannot train on), and the event says so;
* **explore**: the copy's hyperparameters are the parent's, each moved by a factor ``0.8`` or ``1.2`` (one of
  the two, evenly) and clipped into its range, or, with probability ``pbt.resample`` (0.25), drawn afresh
  from the range's prior.  A ``choice`` key is resampled with that probability, otherwise it steps to its
  neighbour (one place down the list for 0.8, up for 1.2, clipped at the ends:
  :mod:`engine.labs.search.space`).

Generation 0 is random search's first ``N`` points (an Optuna ``RandomSampler`` of the search's seed, asked
in the same way), so with ``trials = population`` the two methods spend the same total steps from the same
start and any difference is exploit/explore's doing.  Every member trains the base experiment's total steps
(``train.steps``) with the base's seed (the same initial weights and batch order as a trial).

Where it runs: on *this node's own processes*, not through the Optuna storage (PBT is no sampler: a round
needs every member's score before the next one starts, and the states are tensors a study cannot hold).
``workers`` child processes (torch at one thread each, as the Optuna trials) train the members of a round
in parallel; each receives a member's saved state and returns its new state and score.  ``workers = 0``
trains in this process (for tests and debugging).  A fixed seed gives the same lineage and the same numbers
whatever the number of workers: each member's round is deterministic given its state, and the node decides
in member order.  Stopping keeps every finished round; the round under way is dropped.

How a member resumes a state, and the two traps it avoids (:mod:`engine.labs.search.pbt_member`): the
explored learning rate (and every other optimizer setting) is the one the next steps use, not the parent's
restored with its optimizer state; and a copied optimizer state owns its momentum buffers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from engine.labs.search.objectives import OBJECTIVES
from engine.labs.search.spec import Search


@dataclass(frozen=True)
class MemberRound:
    """One member's result after one interval.

    ``generation`` is the round's index (round ``g`` ends at step ``min((g+1) k, total)``), ``step`` the
    member's steps after it, ``value`` the objective's number at that step (``val_loss`` for ``val_loss`` and
    ``best_val_loss``, ``val_acc`` for the accuracies; a diverged member's is the penalty of
    :mod:`engine.labs.search.trial`: no better than the untrained network), ``params`` the hyperparameters
    it trained this round with (experiment values), ``status`` a :class:`~engine.status.RunStatus` value:
    ``finished`` (the interval trained in full), ``diverged``, ``error``.
    """
    member: int
    generation: int
    step: int
    value: float
    params: dict[str, Any]
    status: str
    seconds: float = 0.0
    worker: str = ""
    message: str = ""


@dataclass(frozen=True)
class Exploit:
    """At ``step``, ``member`` copied the weights and optimizer state of ``parent`` and explored: its
    hyperparameters went from ``params_before`` (its own) to ``params_after`` (the parent's, perturbed);
    ``resampled`` names the keys drawn afresh from the prior.  ``reason``: ``"bottom"`` (ranked in the bottom
    quantile) or a status word (``"diverged"``, ``"error"``) for a member replaced because its run ended."""
    step: int
    member: int
    parent: int
    params_before: dict
    params_after: dict
    resampled: tuple[str, ...]
    reason: str = "bottom"


@dataclass(frozen=True)
class MemberHistory:
    member: int
    rounds: tuple[MemberRound, ...]


@dataclass(frozen=True)
class PBTResult:
    """The whole population: each member's rounds, every exploit in order, and the best member.

    The best is judged as a trial is: for ``val_loss``/``val_acc`` the members' last rounds (at the total
    steps), for ``best_val_loss``/``best_val_acc`` every finished round (the best evaluation any member
    reached; end-of-round evaluations only, where a trial counts every ``eval_every`` one).  ``best_member``
    is ``-1`` and ``best_value`` NaN when no round finished."""
    members: tuple[MemberHistory, ...]
    events: tuple[Exploit, ...]
    best_member: int
    best_value: float
    best_params: dict
    stopped: bool = False
    total_steps: int = 0
    config: dict = field(default_factory=dict)


def best_of(search: Search, members: tuple[MemberHistory, ...]) -> tuple[int, float, dict]:
    """``(member, value, params)`` of the best member by the rule of :class:`PBTResult`."""
    from engine.status import RunStatus
    goal = OBJECTIVES[search.settings.objective]
    candidates = []
    for history in members:
        done = [r for r in history.rounds if r.status == RunStatus.FINISHED and math.isfinite(r.value)]
        if goal.name.startswith("best_"):
            candidates += done
        elif history.rounds and history.rounds[-1] in done:
            candidates.append(history.rounds[-1])
    best: MemberRound | None = None
    for r in candidates:
        if best is None or goal.better(r.value, best.value):
            best = r
    if best is None:
        return -1, math.nan, {}
    return best.member, best.value, dict(best.params)


def run_pbt(search: Search, workers: int, should_stop: Callable[[], bool] = lambda: False,
            on_event: Callable[[MemberRound | Exploit], None] | None = None) -> PBTResult:
    """Train the search's population to the end (or to ``should_stop()``); ``on_event`` hears every
    :class:`MemberRound` as it arrives and every :class:`Exploit` as it is decided."""
    from engine.labs.search.pbt_population import Population
    return Population(search, on_event).run(workers, should_stop)
