"""Real searches, headless: a fixed seed gives the same trials and numbers twice (the second through main.py),
the race is paired (TPE's and GP's start-up trials are random search's), grid search tries each point of its
grid once, and the summary holds each method's best."""
import csv
import json
import os
import socket
from pathlib import Path

import pytest

import main
from engine.labs.search.launch import start
from engine.labs.search.methods import grid_budget
from engine.labs.search.space import grid_points
from engine.labs.search.spec import parse_search

RAW = {"base": {"data": {"dataset": "moons", "n_train": 64, "n_val": 64}, "model": {"hidden": [8]},
                "train": {"steps": 20, "batch_size": 16, "eval_every": 10}},
       "space": {"optimizer.lr": {"log": [1e-3, 1.0]}, "model.dropout": {"uniform": [0.0, 0.5]}},
       "methods": ["grid", "random", "tpe", "gp"], "trials": 4, "seed": 0, "startup": 2, "objective": "best_val_loss"}
KEYS = ["optimizer.lr", "model.dropout"]


def rows(path: Path) -> list[dict]:
    with open(path / "trials.csv", newline="") as f:
        return list(csv.DictReader(f))


def numbers(table: list[dict]) -> list[tuple]:
    """Every column but the clock's and the process's."""
    return [tuple(r[k] for k in ("method", "trial", "state", "value", "steps", *KEYS)) for r in table]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    start(parse_search(RAW), first, None, "search", 1)
    (second / "s.json").write_text(json.dumps(RAW))
    code = main.main(["search", str(second / "s.json"), "--out", str(second / "out"), "--workers", "1"])
    return first, second / "out", code


def test_a_fixed_seed_gives_the_same_trials_and_numbers_twice(two_runs):
    first, second, code = two_runs
    assert code == 0
    a, b = rows(first), rows(second)
    assert list(a[0]) == ["method", "trial", "state", "value", "steps", "seconds", "worker", *KEYS]
    assert [(r["method"], r["trial"]) for r in a] == [(m, str(n)) for m in ("grid", "random", "tpe", "gp")
                                                   for n in range(4)]
    assert numbers(a) == numbers(b)
    assert all(r["state"] == "finished" and r["steps"] == "20" and 0 < float(r["value"]) < 1 for r in a)
    assert (first / "search.journal").is_file()


def test_the_race_is_paired_tpe_and_gp_start_with_random_searchs_points(two_runs):
    a = rows(two_runs[0])
    points = {m: [tuple(r[k] for k in KEYS) for r in a if r["method"] == m] for m in ("random", "tpe", "gp")}
    for method in ("tpe", "gp"):
        assert points[method][:2] == points["random"][:2]        # the 2 start-up trials
        assert points[method][2:] != points["random"][2:]        # then the model chooses


def test_grid_search_tries_every_point_of_its_grid_once(two_runs):
    search = parse_search(RAW)
    grid = grid_points(search.space, search.trials)
    assert grid_budget(search) == 4          # 2 x 2 points for 4 trials
    tried = sorted((float(r["optimizer.lr"]), float(r["model.dropout"])) for r in rows(two_runs[0])
                   if r["method"] == "grid")
    assert tried == sorted((lr, d) for lr in grid["optimizer.lr"] for d in grid["model.dropout"])


def test_summary_has_the_best_of_each_method_and_the_resolved_search(two_runs):
    first = two_runs[0]
    summary = json.loads((first / "summary.json").read_text())
    table = rows(first)
    for method in ("grid", "random", "tpe", "gp"):
        values = [float(r["value"]) for r in table if r["method"] == method]
        best = summary["methods"][method]["best"]
        assert best["value"] == min(values)
        assert summary["methods"][method]["states"] == {"finished": 4}
    assert summary["direction"] == "minimize" and summary["objective"] == "best_val_loss"
    assert parse_search(summary["search"]) == parse_search(RAW)


@pytest.mark.slow
def test_an_sqlite_storage_gives_the_same_numbers_as_the_journal(two_runs, tmp_path):
    start(parse_search(RAW), tmp_path / "out", f"sqlite:///{tmp_path / 'race.db'}", "race", 1)
    assert (tmp_path / "race.db").is_file() and not (tmp_path / "out" / "search.journal").exists()
    assert numbers(rows(tmp_path / "out")) == numbers(rows(two_runs[0]))


def test_every_trial_trained_in_a_training_process_at_one_thread(two_runs):
    from engine.labs.search.results import method_trials
    from engine.labs.search.storages import open_storage
    storage = open_storage(str(two_runs[0] / "search.journal"), 10)
    trials = [t for m in RAW["methods"] for t in method_trials(storage, "search", m)]
    assert len(trials) == 16 and {t.user_attrs["threads"] for t in trials} == {1}
    workers = {t.user_attrs["worker"] for t in trials}
    assert len(workers) == 1 and not workers & {f"{socket.gethostname()}:{os.getpid()}"}   # not this process


def test_a_race_with_diverging_trials_ends_with_every_slot_told(tmp_path):
    """Diverged trials (Optuna PRUNED) use their budget slot: the race ends.  Before, a grid point at a
    learning rate that blows up left the node waiting forever for a slot it counted as open."""
    raw = {**RAW, "space": {"optimizer.lr": {"log": [1e-3, 1e4]}}, "methods": ["grid", "random"], "trials": 3}
    finished = start(parse_search(raw), tmp_path, None, "search", 1)
    table = rows(tmp_path)
    assert len(table) == 6 and {r["method"] for r in table} == {"grid", "random"}
    assert any(r["state"] == "diverged" for r in table if r["method"] == "grid")        # lr 1e4 blows up
    assert len(finished.told) == 6
