"""The headless commands' file formats, pinned: each case is a command line at a fixed seed.

``python -m tests.engine.commands.golden_cases DIR`` writes every case's files under DIR/CASE; the
committed copy in ``golden/`` was written by the code before the house was rebuilt (``layers.csv``, new in issue 14,
was added from this command), so the test
``test_golden.py`` proves the rebuild kept every file name, every column and every value (floats to a
relative 1e-4, so another CPU's last bits do not matter; timings are not compared).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

EXPERIMENT = {
    "name": "golden", "seed": 3,
    "data": {"dataset": "spiral", "n_train": 96, "n_val": 64},
    "model": {"hidden": [8, 8]},
    "optimizer": {"name": "adam", "lr": 0.02},
    "train": {"steps": 60, "batch_size": 16, "eval_every": 20, "histogram_every": 20},
}

# name -> arguments after ``main.py`` ({exp} is the experiment file, {out} the case's folder)
CASES: dict[str, list[str]] = {
    "run": ["run", "{exp}", "--out", "{out}"],
    "run-preset": ["run", "--preset", "zeros-init", "--out", "{out}"],
    "trajectories": ["trajectories", "--surface", "ravine", "--steps", "40", "--optimizer", "sgd:lr=0.01,momentum=0.9",
                     "--optimizer", "adam:lr=0.05", "--out", "{out}/trajectories.csv"],
    "init-probe": ["init-probe", "--depth", "6", "--width", "32", "--activation", "tanh", "--batch", "32",
                   "--train-steps", "30", "--out", "{out}"],
    "lr-find": ["lr-find", "{exp}", "--steps", "40", "--out", "{out}"],
    "race": ["race", "{exp}", "--schedules", "constant,cosine", "--train", "--out", "{out}"],
    "compare": ["compare", "{exp}", "--out", "{out}"],
}

# columns and keys whose values are measurements of time, not results
TIMING = {"steps_per_sec", "elapsed_sec"}


def write_cases(where: Path) -> None:
    """Run every case in this process (through ``main.main``, as the command line does, without paying
    a fresh interpreter and torch import per case) and write its files under ``where/CASE``."""
    import main

    where.mkdir(parents=True, exist_ok=True)
    exp = where / "experiment.json"
    exp.write_text(json.dumps(EXPERIMENT, indent=2))
    for name, args in CASES.items():
        out = where / name
        out.mkdir(exist_ok=True)
        code = main.main([a.format(exp=exp, out=out) for a in args])
        if code != 0:
            raise RuntimeError(f"{name}: exit {code}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    write_cases(Path(sys.argv[1]))
