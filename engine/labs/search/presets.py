"""Built-in searches (``main.py search --preset NAME``): the lesson's argument, ready to race.

``random-beats-grid``: three knobs of which only the learning rate matters.  ``model.init_std`` is read only by
the ``normal`` init (the base uses ``he_normal``) and ``schedule.eta_min`` only by the cosine schedule (the base's
is constant), so they change nothing.  With 27 trials the grid is 3 x 3 x 3 and tries 3 learning rates; random
search tries 27.
"""
from __future__ import annotations

from typing import Any

SEARCH_PRESETS: dict[str, dict[str, Any]] = {
    "random-beats-grid": {
        "base": {"name": "random-beats-grid", "data": {"dataset": "spiral", "n_train": 400, "n_val": 400},
                 "model": {"hidden": [32, 32]}, "optimizer": {"name": "sgd"},
                 "train": {"steps": 300, "batch_size": 32}},
        "space": {"optimizer.lr": {"log": [1e-4, 1.0]}, "model.init_std": {"uniform": [0.01, 0.1]},
                  "schedule.eta_min": {"uniform": [0.0, 1e-3]}},
        "methods": ["grid", "random"], "trials": 27, "objective": "best_val_loss", "seed": 0,
    },
}
