"""Built-in searches (``main.py search --preset NAME``): the lesson's argument, ready to race.  Each is also its
claim's set-up (:mod:`engine.lessons.claims.search` reads this table), so the race a student watches is the one
checked at ten seeds.

``random-beats-grid``: three knobs of which only the learning rate matters.  ``model.init_std`` is read only by
the ``normal`` init (the base uses ``he_normal``) and ``schedule.eta_min`` only by the cosine schedule (the base's
is constant), so they change nothing.  With 27 trials the grid is 3 x 3 x 3 and tries 3 learning rates, the
geometric grid of the range (``1e-3, 0.1, 10``); random search tries 27.  The range is a wide one, as a student
who does not know the answer picks it.  After 80 steps of SGD on the moons ``1e-3`` has hardly moved and ``10``
diverges, so the grid's best is its ``0.1``; the rates that beat it (about 0.2 to 2, the best near 1) lie
between two grid points, one decade of the range's four, where random search lands about a quarter of its 27
log-uniform draws.  A trial is 80 steps of a 16x16 network, a fraction of a second: the race is over in
seconds.

``population-based-training``: SGD with momentum at a constant learning rate on the spiral, where a rate that
is high early (fast progress) and lower late (less noise near the end) beats any one rate.  Random search
tries 8 rates for 400 steps each; PBT trains a population of 8 from the same 8 rates (its generation 0 is
random search's 8 points) for the same 400 steps each, so both spend 3,200 steps, and every 50 steps the
bottom 2 copy a top member and move its rate by x0.8 or x1.2.  Only the rate is searched, in a wide range
(1e-3 to 1, as a student would give it), and the objective is the final validation loss, so PBT cannot win by
picking a lucky evaluation.  PBT's best is at least as good as random's at ten search seeds of ten (the claims
table, engine/lessons/claims_measured.json, says how many the last ``make claims`` run found).
"""
from __future__ import annotations

from typing import Any

SEARCH_PRESETS: dict[str, dict[str, Any]] = {
    "random-beats-grid": {
        "base": {"name": "random-beats-grid", "data": {"dataset": "moons", "n_train": 200, "n_val": 200},
                 "model": {"hidden": [16, 16]}, "optimizer": {"name": "sgd"},
                 "train": {"steps": 80, "batch_size": 64, "eval_every": 20, "histogram_every": 0}},
        "space": {"optimizer.lr": {"log": [1e-3, 10.0]}, "model.init_std": {"uniform": [0.01, 0.1]},
                  "schedule.eta_min": {"uniform": [0.0, 1e-3]}},
        "methods": ["grid", "random"], "trials": 27, "objective": "best_val_loss", "seed": 0,
    },
    "population-based-training": {
        "base": {"name": "population-based-training",
                 "data": {"dataset": "spiral", "n_train": 400, "n_val": 400}, "model": {"hidden": [32, 32]},
                 "optimizer": {"name": "sgd", "momentum": 0.9},
                 "train": {"steps": 400, "batch_size": 16, "eval_every": 50}},
        "space": {"optimizer.lr": {"log": [1e-3, 1.0]}},
        "methods": ["random", "pbt"], "trials": 8, "objective": "val_loss", "seed": 0,
        "pbt": {"population": 8, "interval": 50},
    },
}
