"""The claims of the hyperparameter search lesson: random search beats grid search at equal budget, and
population-based training is at least as good as random search at equal total steps.

Each claim races its set-up through the search lab's own engine, in this process and one trial after
another (no process pool: a claim is checked at two seeds in the quick suite): the studies are ordinary
Optuna studies in memory, asked by the lab's worker node (:class:`engine.labs.search.work.Node`, which hands
out the budget's slots, grid 0, random 0, grid 1, ...), each trial trained by
:func:`engine.labs.search.trial.train_trial` and told by :func:`engine.labs.search.work.tell`, the best read
by :func:`engine.labs.search.results.best_trial`, exactly as ``main.py search`` does.  The claim's seed is
the search's seed (the samplers' draws) and the base experiment's (every trial's weights and batch order).

The set-ups are the lesson's argument made cheap (a trial is 80 steps of a 16x16 network on the moons, a
fraction of a second on one core) and their own, not the lab's presets: a claim must cost a few seconds a
seed, where a preset is a race to watch.
"""
from __future__ import annotations

from typing import Any

from engine.lessons.claims.table import Claim, cond

#: "Random beats grid": three knobs of which only the learning rate matters (``model.init_std`` is read
#: only by the ``normal`` init, the base's is ``he_normal``; ``schedule.eta_min`` only by the cosine
#: schedule, the base's is constant).  27 trials buy a 3 x 3 x 3 grid, 3 learning rates
#: (``1e-3, 0.1, 10``: the geometric grid of the range) where random search draws 27.  The range is a
#: wide one, as a student who does not know the answer picks it; the good rates (about 0.3 to 2.5 after 80
#: steps) lie between two grid points, and 10 diverges.
RANDOM_BEATS_GRID: dict[str, Any] = {
    "base": {"name": "random-beats-grid", "data": {"dataset": "moons", "n_train": 200, "n_val": 200},
             "model": {"hidden": [16, 16]}, "optimizer": {"name": "sgd"},
             "train": {"steps": 80, "batch_size": 64, "eval_every": 20, "histogram_every": 0}},
    "space": {"optimizer.lr": {"log": [1e-3, 10.0]}, "model.init_std": {"uniform": [0.01, 0.1]},
              "schedule.eta_min": {"uniform": [0.0, 1e-3]}},
    "methods": ["grid", "random"], "trials": 27, "objective": "best_val_loss", "seed": 0,
}

#: "PBT at least as good as random": 8 members trained 80 steps, exploit/explore every 20 (4 rounds), against
#: random search's 8 trials of 80 steps: 640 steps each.  PBT's generation 0 is random search's first 8
#: points (the same sampler and seed), so the race is paired: a member never copied over trains exactly the
#: trial of its point, and PBT can only lose by copying a member over a trial that would have ended best.
#: Both are judged by the lowest validation loss they reached, at the same steps (every 20).
PBT_VS_RANDOM: dict[str, Any] = {
    "base": {**RANDOM_BEATS_GRID["base"], "name": "pbt-vs-random"},
    "space": {"optimizer.lr": {"log": [1e-3, 10.0]}},
    "methods": ["random"], "trials": 8, "objective": "best_val_loss", "seed": 0,
    "pbt": {"population": 8, "interval": 20},
}

LR = "optimizer.lr"


def at_seed(raw: dict[str, Any], seed: int):
    """The search file ``raw`` checked, with the search's seed and its base experiment's set to ``seed``."""
    from engine.labs.search.spec import parse_search
    return parse_search({**raw, "seed": seed, "base": {**raw["base"], "seed": seed}})


def race(search) -> dict[str, list]:
    """Every Optuna method of ``search`` run to its budget in this process: method -> its trials (frozen,
    with their values and the status each was told with)."""
    import optuna

    from engine.labs.search.methods import quiet_optuna
    from engine.labs.search.results import method_trials
    from engine.labs.search.studies import create_studies
    from engine.labs.search.trial import train_trial
    from engine.labs.search.work import Node, tell

    quiet_optuna()
    storage, name = optuna.storages.InMemoryStorage(), "claim"
    create_studies(search, storage, name)
    node = Node(storage, name, search, worker=0)
    while (asked := node.ask()) is not None:
        method, trial = asked
        tell(node.studies[method], trial, train_trial(search.base, node.values(trial), search.settings.objective))
    return {m: method_trials(storage, name, m) for m in node.methods}


def method_numbers(search, method: str, trials: list) -> dict[str, float]:
    """A method's best (as the lab's summary judges it: finished trials only), the learning rate it had, how
    many trials ended and how many distinct learning rates they tried."""
    import math

    from engine.labs.search.results import best_trial
    from engine.labs.search.studies import trial_params
    best = best_trial(search, trials)
    rates = {trial_params(t, search)[LR] for t in trials}
    return {f"{method} best": best.value if best is not None and best.value is not None else math.nan,
            f"{method} best lr": trial_params(best, search)[LR] if best is not None else math.nan,
            f"{method} trials": float(len(trials)), f"{method} lrs": float(len(rates))}


def random_beats_grid(seed: int) -> dict[str, float]:
    search = at_seed(RANDOM_BEATS_GRID, seed)
    numbers: dict[str, float] = {}
    for method, trials in race(search).items():
        numbers.update(method_numbers(search, method, trials))
    return numbers


def pbt_vs_random(seed: int) -> dict[str, float]:
    from engine.labs.search.pbt import run_pbt
    search = at_seed(PBT_VS_RANDOM, seed)
    numbers = method_numbers(search, "random", race(search)["random"])
    pbt = run_pbt(search, workers=0)
    steps = search.base.total_steps()
    numbers.update({"pbt best": pbt.best_value, "pbt exploits": float(len(pbt.events)),
                    "pbt steps": float(search.pbt.population * pbt.total_steps),
                    "random steps": float(search.trials * steps)})
    return numbers


CLAIMS = (
    Claim("search random-beats-grid", "At equal budget, random search's best beats grid search's",
          random_beats_grid, (
              cond("both spend the budget of 27 trials", lambda m: m["grid trials"] == m["random trials"] == 27),
              cond("the grid tries 3 learning rates, random search 27",
                   lambda m: m["grid lrs"] == 3 and m["random lrs"] == 27),
              cond("random search's best val loss is below the grid's", lambda m: m["random best"] < m["grid best"]))),
    Claim("search population-based-training", "PBT's best is at least as good as random search's at equal total steps",
          pbt_vs_random, (
              cond("equal total steps: population x steps = trials x steps", lambda m: m["pbt steps"] == m["random steps"]),
              cond("PBT exploited and explored", lambda m: m["pbt exploits"] > 0),
              # a tie is a member that was never copied over: the same run as its trial, to the last bit
              cond("PBT's best val loss is no higher than random search's",
                   lambda m: m["pbt best"] <= m["random best"] * (1 + 1e-6)))),
)
