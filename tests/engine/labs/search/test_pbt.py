"""Population-based training on the app's Trainer: who copies whom, the explored values, the same lineage and
numbers for a fixed seed (in this process and in training processes, with one worker or two), a diverged member
replaced at the next round, and a stop that keeps the finished rounds."""
import math

import numpy as np
import pytest

from engine.labs.search.objectives import OBJECTIVES
from engine.labs.search.pbt import Exploit, MemberRound, run_pbt
from engine.labs.search.pbt_explore import FACTORS, Standing, cut, exploit_plan, explore, generator
from engine.labs.search.pbt_population import first_points
from engine.labs.search.spec import parse_search
from engine.status import RunStatus

RAW = {"base": {"data": {"dataset": "moons", "n_train": 64, "n_val": 64}, "model": {"hidden": [8]},
                "optimizer": {"name": "sgd", "momentum": 0.5},
                "train": {"steps": 40, "batch_size": 16, "eval_every": 10}},
       "space": {"optimizer.lr": {"log": [1e-3, 1.0]}, "model.dropout": {"uniform": [0.0, 0.5]}},
       "methods": ["random", "pbt"], "trials": 4, "seed": 0, "objective": "val_loss",
       "pbt": {"population": 4, "interval": 10}}
DIVERGING = {**RAW, "base": {**RAW["base"], "optimizer": {"name": "sgd"},
                             "train": {**RAW["base"]["train"], "steps": 30, "divergence_factor": 3.0}},
             "space": {"optimizer.lr": {"log": [1e-2, 1e3]}}, "seed": 1}


def numbers(result) -> list:
    """Everything but the clock and the process."""
    return [[(r.member, r.generation, r.step, r.value, r.params, r.status) for r in h.rounds] for h in result.members]


@pytest.fixture(scope="module")
def inline():
    events = []
    result = run_pbt(parse_search(RAW), 0, on_event=events.append)
    return result, events


def test_the_first_generation_is_random_searchs_first_points(inline):
    result, _ = inline
    search = parse_search(RAW)
    assert [h.rounds[0].params for h in result.members] == [
        {p.path: p.value(v[p.path]) for p in search.space} for v in first_points(search, 4)]


def test_every_member_trains_the_base_steps_in_rounds_of_the_interval(inline):
    result, events = inline
    assert result.total_steps == 40 and not result.stopped
    for h in result.members:
        assert [r.step for r in h.rounds] == [10, 20, 30, 40]
        assert [r.generation for r in h.rounds] == [0, 1, 2, 3]
        assert all(r.status == RunStatus.FINISHED and math.isfinite(r.value) for r in h.rounds)
    rounds = [e for e in events if isinstance(e, MemberRound)]
    assert sorted(rounds, key=lambda r: (r.member, r.generation)) == [r for h in result.members for r in h.rounds]
    assert [e for e in events if isinstance(e, Exploit)] == list(result.events)


def test_the_bottom_quarter_copies_the_top_quarter_and_explores(inline):
    result, _ = inline
    search = parse_search(RAW)
    by = {h.member: {r.step: r for r in h.rounds} for h in result.members}
    assert len(result.events) == 3 and {e.step for e in result.events} == {10, 20, 30}   # cut(4) = 1 per round
    for e in result.events:
        standing = {m: by[m][e.step].value for m in by}
        assert e.reason == "bottom"
        assert e.member == max(standing, key=standing.get)            # the worst (a loss)
        assert e.parent == min(standing, key=standing.get)            # the only top-quarter member
        assert e.params_before == by[e.member][e.step].params
        parent = by[e.parent][e.step].params
        for p in search.space:
            if p.path in e.resampled:
                assert p.low <= e.params_after[p.path] <= p.high
            else:
                assert any(e.params_after[p.path] == pytest.approx(min(max(parent[p.path] * f, p.low), p.high))
                           for f in FACTORS)
        assert by[e.member][e.step + 10].params == e.params_after      # the next round trains with them
    # the best is the best last round (objective val_loss)
    last = {h.member: h.rounds[-1].value for h in result.members}
    assert result.best_member == min(last, key=last.get) and result.best_value == min(last.values())
    assert result.best_params == result.members[result.best_member].rounds[-1].params


def test_a_fixed_seed_gives_the_same_lineage_and_numbers_in_this_process_or_two_training_processes(inline):
    # (two processes against none: one process would be a third start of torch for the same check)
    one = inline[0]
    two = run_pbt(parse_search(RAW), 2)
    assert numbers(one) == numbers(two) and one.events == two.events
    assert one.best_value == two.best_value and one.best_member == two.best_member
    workers = {r.worker for h in two.members for r in h.rounds}
    assert len(workers) == 2                                           # both processes trained members
    again = run_pbt(parse_search(RAW), 0)
    assert numbers(again) == numbers(inline[0]) and again.events == inline[0].events
    other = run_pbt(parse_search({**RAW, "seed": 1}), 0)
    assert numbers(other) != numbers(inline[0])


def test_a_diverged_member_is_replaced_at_the_next_round_and_recorded_as_such():
    result = run_pbt(parse_search(DIVERGING), 0)
    diverged = [r for h in result.members for r in h.rounds if r.status == RunStatus.DIVERGED]
    assert diverged, "the set-up must make a member diverge"
    for r in diverged:
        replaced = [e for e in result.events if e.member == r.member and e.reason == RunStatus.DIVERGED]
        assert len(replaced) == 1
        e = replaced[0]
        assert e.step == 10 * (r.generation + 1) and r.step < e.step        # diverged mid-round, replaced at its end
        parent_round = next(p for p in result.members[e.parent].rounds if p.step == e.step)
        assert parent_round.status == RunStatus.FINISHED
        after = next(x for x in result.members[r.member].rounds if x.generation == r.generation + 1)
        assert after.params == e.params_after and after.step == e.step + 10   # trains on from the parent's step
    assert result.best_member >= 0 and math.isfinite(result.best_value)


def test_stopping_keeps_the_finished_rounds_and_drops_the_round_under_way():
    seen = []
    result = run_pbt(parse_search(RAW), 0, on_event=seen.append,
                     should_stop=lambda: sum(isinstance(e, MemberRound) for e in seen) >= 5)
    assert result.stopped
    rounds = [r for h in result.members for r in h.rounds]
    assert len(rounds) == 5 and all(r.status == RunStatus.FINISHED for r in rounds)
    assert [len(h.rounds) for h in result.members] == [2, 1, 1, 1]   # member 0's second round, then the stop
    assert len(result.events) == 1                                    # only the exploit after round 0


# -- the two decisions, alone --------------------------------------------------------------------------------

LOSS, ACC = OBJECTIVES["val_loss"], OBJECTIVES["val_acc"]


def standings(values, statuses=None):
    statuses = statuses or [RunStatus.FINISHED] * len(values)
    return [Standing(m, v, s) for m, (v, s) in enumerate(zip(values, statuses))]


def test_the_cut_is_a_quarter_at_least_one_at_most_half():
    assert [cut(n, 0.25) for n in (2, 3, 4, 7, 8, 16)] == [1, 1, 1, 1, 2, 4]
    assert cut(8, 0.5) == 4 and cut(3, 0.5) == 1


def test_the_plan_copies_the_top_into_the_bottom_by_the_objectives_direction():
    rng = generator(0)
    values = [0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 0.4]             # top 2 (a loss): 1, 5; bottom 2: 2, 6
    plan = exploit_plan(standings(values), LOSS, 0.25, rng)
    assert [m for m, _, _ in plan] == [2, 6] and {p for _, p, _ in plan} <= {1, 5}
    plan = exploit_plan(standings(values), ACC, 0.25, generator(0))   # an accuracy: the other way round
    assert [m for m, _, _ in plan] == [1, 5] and {p for _, p, _ in plan} <= {2, 6}


def test_an_ended_member_takes_a_place_of_the_bottom_quarter_and_none_is_copied_without_a_healthy_one():
    """Truncation selection over the population: an ended member ranks last, so with a cut of 2 of 8 one
    ended member leaves one place to the worst healthy member (6) and two leave none."""
    values = [0.5, 0.1, math.nan, 0.3, 0.7, 0.2, 0.8, 0.4]
    statuses = [RunStatus.FINISHED] * 8
    statuses[2] = RunStatus.DIVERGED
    plan = exploit_plan(standings(values, statuses), LOSS, 0.25, generator(0))
    assert [(m, r) for m, _, r in plan] == [(2, "diverged"), (6, "bottom")]
    statuses[3] = RunStatus.ERROR
    plan = exploit_plan(standings(values, statuses), LOSS, 0.25, generator(0))
    assert [(m, r) for m, _, r in plan] == [(2, "diverged"), (3, "error")]
    assert {p for _, p, _ in plan} <= {1, 5}
    assert exploit_plan(standings([1.0, 2.0], [RunStatus.DIVERGED] * 2), LOSS, 0.25, generator(0)) == []


def test_after_a_round_where_three_of_eight_diverged_only_those_three_are_replaced():
    """The claim's seed 4 (engine/lessons/claims/search.py): three members with a learning rate near 8 diverged
    in round 0, and the two high-rate members still training (worst at step 20, best at step 80) were
    replaced too: 5 of 8 members thrown away after one round, where the bottom quarter is 2.  Every ended
    member must go (it cannot train on), but no healthy one besides them."""
    values = [0.84, 0.34, 0.84, 0.94, 0.79, 0.58, 0.84, 0.77]
    statuses = [RunStatus.FINISHED] * 8
    for m in (0, 2, 6):
        statuses[m] = RunStatus.DIVERGED
    plan = exploit_plan(standings(values, statuses), LOSS, 0.25, generator(0))
    assert [m for m, _, _ in plan] == [0, 2, 6]
    assert {p for _, p, _ in plan} <= {1, 5}


def test_explore_moves_by_the_factors_clips_steps_choices_and_resamples_from_the_prior():
    space = parse_search({**RAW, "space": {
        "optimizer.lr": {"log": [1e-3, 1.0]}, "train.batch_size": {"int": [8, 64]},
        "model.dropout": {"uniform": [0.0, 0.5]}, "model.activation": {"choice": ["relu", "tanh", "gelu"]}}}).space
    values = {"optimizer.lr": 0.9, "train.batch_size": 10, "model.dropout": 0.2, "model.activation": "tanh"}
    seen = {k: set() for k in values}
    rng = generator(3)
    for _ in range(200):
        out, resampled = explore(space, values, 0.0, rng)
        assert resampled == ()
        for k, v in out.items():
            seen[k].add(round(v, 9) if isinstance(v, float) else v)
    assert seen["optimizer.lr"] == {0.72, 1.0}                            # 0.9 x 1.2 clipped at the top
    assert seen["train.batch_size"] == {8, 12}                             # 10 x 0.8 = 8, 10 x 1.2 = 12
    assert seen["model.dropout"] == {0.16, 0.24}
    assert seen["model.activation"] == {"relu", "gelu"}                    # a neighbour of tanh
    draws = [explore(space, values, 1.0, rng) for _ in range(100)]
    assert all(r == tuple(values) for _, r in draws)
    lrs = np.array([o["optimizer.lr"] for o, _ in draws])
    assert lrs.min() >= 1e-3 and lrs.max() <= 1.0 and np.median(lrs) < 0.1   # log-uniform: mostly small
    mixed = [len(explore(space, values, 0.25, rng)[1]) for _ in range(400)]
    assert 0.2 < np.mean(mixed) / 4 < 0.3                                  # each key resampled ~1 time in 4
