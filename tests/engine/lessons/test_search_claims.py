"""The search lesson's claims measure what their words say: the generic claims test checks the verdict at two
seeds; these check the set-ups behind it, cheaply (one-step trials where the outcome does not matter).

Random beats grid: the grid spends its 27 trials on 3 learning rates, random search on 27; the two other knobs
change nothing (the lesson's premise).  PBT against random: generation 0 is random search's own points, at
equal total steps.  Both: the claim's seed is the samplers' and the trials' seed, and a seed gives the same race.
"""
import math

import pytest

from engine.labs.search.pbt_population import first_points
from engine.labs.search.space import grid_points
from engine.labs.search.studies import trial_params
from engine.labs.search.trial import train_trial
from engine.lessons.claims.search import LR, PBT_VS_RANDOM, RANDOM_BEATS_GRID, at_seed, method_numbers, race
from engine.status import RunStatus


def one_step(raw: dict) -> dict:
    """The set-up with one-step trials: the same samplers and budget, a trial costs a few milliseconds."""
    return {**raw, "base": {**raw["base"], "train": {**raw["base"]["train"], "steps": 1, "eval_every": 1}}}


@pytest.fixture(scope="module")
def quick_race():
    search = at_seed(one_step(RANDOM_BEATS_GRID), 4)
    return search, race(search)


def test_the_grid_tries_three_learning_rates_and_random_search_twenty_seven(quick_race):
    search, trials = quick_race
    grid = [trial_params(t, search) for t in trials["grid"]]
    rand = [trial_params(t, search) for t in trials["random"]]
    assert len(grid) == len(rand) == 27
    # every point of the 3 x 3 x 3 grid once; its learning rates the geometric grid of [1e-3, 10]
    assert len({tuple(sorted(p.items())) for p in grid}) == 27
    assert sorted({p[LR] for p in grid}) == pytest.approx([1e-3, 0.1, 10.0])
    assert sorted({p[LR] for p in grid}) == sorted(grid_points(search.space, 27)[LR])
    rates = sorted(p[LR] for p in rand)
    assert len(set(rates)) == 27 and 1e-3 <= rates[0] and rates[-1] <= 10.0
    # spread over the range's four decades, not bunched: some in each of its halves
    assert sum(r < 0.1 for r in rates) >= 5 and sum(r > 0.1 for r in rates) >= 5
    numbers = {**method_numbers(search, "grid", trials["grid"]), **method_numbers(search, "random", trials["random"])}
    assert (numbers["grid lrs"], numbers["random lrs"], numbers["grid trials"], numbers["random trials"]) == (3, 27, 27, 27)


def test_only_the_learning_rate_matters():
    """init_std is read only by the normal init and eta_min only by the cosine schedule: neither the base's,
    so a trial's value is the same at both ends of their ranges (to the last bit)."""
    search = at_seed(RANDOM_BEATS_GRID, 0)
    results = [train_trial(search.base, {LR: 0.5, "model.init_std": std, "schedule.eta_min": eta}, "best_val_loss")
               for std, eta in ((0.01, 0.0), (0.1, 1e-3), (0.055, 5e-4))]
    assert all(r.status == RunStatus.FINISHED for r in results)
    assert len({r.value for r in results}) == 1 and math.isfinite(results[0].value)
    other_rate = train_trial(search.base, {LR: 0.05, "model.init_std": 0.01, "schedule.eta_min": 0.0}, "best_val_loss")
    assert other_rate.value != results[0].value


def test_the_claims_seed_is_the_searchs_and_the_trials(quick_race):
    search, trials = quick_race
    assert search.settings.seed == 4 and search.base.seed == 4
    again = race(at_seed(one_step(RANDOM_BEATS_GRID), 4))
    for method in ("grid", "random"):
        assert [(trial_params(t, search), t.value) for t in again[method]] == \
               [(trial_params(t, search), t.value) for t in trials[method]]
    other = race(at_seed(one_step(RANDOM_BEATS_GRID), 5))
    assert {trial_params(t, search)[LR] for t in other["random"]}.isdisjoint(
        {trial_params(t, search)[LR] for t in trials["random"]})


def test_pbt_starts_from_random_searchs_points_at_equal_total_steps():
    search = at_seed(one_step(PBT_VS_RANDOM), 3)
    trials = race(search)["random"]
    assert search.pbt.population == search.trials == len(trials) == 8
    assert [p[LR] for p in first_points(search, search.pbt.population)] == [trial_params(t, search)[LR] for t in trials]
    full = at_seed(PBT_VS_RANDOM, 3)
    assert full.pbt.population * full.base.total_steps() == full.trials * full.base.total_steps() == 3200
    assert full.base.total_steps() // full.pbt.interval == 8          # eight rounds, seven exploit/explore
    assert full.settings.objective == "val_loss"                      # the final evaluation: no lucky one


def test_the_claims_set_ups_are_the_lab_presets():
    """One place: the claim reads the preset the Lessons menu opens, so the two cannot drift apart."""
    from engine.labs.search.presets import SEARCH_PRESETS
    from engine.lessons.claims.search import CLAIMS
    assert RANDOM_BEATS_GRID is SEARCH_PRESETS["random-beats-grid"]
    assert PBT_VS_RANDOM is SEARCH_PRESETS["population-based-training"]
    assert {claim.key for claim in CLAIMS} == {f"search {name}" for name in SEARCH_PRESETS}
