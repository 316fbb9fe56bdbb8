"""The search file: every mistake is one line naming its key (exit 2 through main.py), a good file reads back."""
import json

import pytest

import main
from engine.commands import BAD_INPUT
from engine.experiment import ExperimentError
from engine.labs.search.methods import METHODS, grid_budget
from engine.labs.search.space import grid_points, grid_size
from engine.labs.search.spec import parse_search

BASE = {"data": {"dataset": "moons", "n_train": 32, "n_val": 32}, "train": {"steps": 5}}


def search(**changes):
    raw = {"base": BASE, "space": {"optimizer.lr": {"log": [1e-3, 1.0]}}, "methods": ["grid", "random"],
           "trials": 4}
    raw.update(changes)
    return raw


def refusal(raw) -> str:
    with pytest.raises(ExperimentError) as err:
        parse_search(raw)
    return str(err.value)


@pytest.mark.parametrize("changes, line", [
    ({"budget": 3}, "budget: unknown key"),
    ({"space": {"optimizer.rate": {"log": [1e-3, 1]}}}, "space.optimizer.rate: not a key of the experiment"),
    ({"space": {"name": {"choice": ["a", "b"]}}}, "space.name: not a key of the experiment"),
    ({"space": {"optimizer.lr": {"gauss": [0, 1]}}}, "space.optimizer.lr.gauss: unknown kind of range"),
    ({"space": {"optimizer.lr": {"log": [-0.1, 1]}}}, "space.optimizer.lr.log[0]: must be > 0"),
    ({"space": {"optimizer.lr": {"log": [1.0, 0.1]}}}, "space.optimizer.lr.log: low must be below high"),
    ({"space": {"optimizer.lr": {"uniform": [0.1]}}}, "space.optimizer.lr.uniform: must be [low, high], got 1"),
    ({"space": {"model.dropout": {"uniform": [0.0, 1.5]}}}, "space.model.dropout.uniform[1]: must be in [0, 1), got 1.5"),
    ({"space": {"optimizer.name": {"log": [1, 2]}}}, "space.optimizer.name.log: optimizer.name is a string"),
    ({"space": {"train.batch_size": {"int": [8.5, 64]}}}, "space.train.batch_size.int[0]: must be an integer, got 8.5"),
    ({"space": {"optimizer.name": {"choice": ["sgd", "lbfgs"]}}}, "space.optimizer.name.choice[1]: unknown value \"lbfgs\""),
    ({"space": {}}, "space: must be a non-empty JSON object"),
    ({"methods": ["grid", "annealing"]}, "methods[1]: unknown method 'annealing'"),
    ({"methods": ["grid", "grid"]}, "methods: each method may appear once"),
    ({"methods": ["random", "pbt"], "space": {"model.hidden": {"choice": [[8], [16]]}}},
     "space.model.hidden: population-based training cannot explore this key"),
    ({"pbt": {"population": 1}}, "pbt.population: must be >= 2"),
    ({"objective": "train_loss"}, "objective: unknown value \"train_loss\" (choose from val_loss, val_acc, "),
    ({"trials": 0}, "trials: must be >= 1"),
    ({"seed": -1}, "seed: must be >= 0"),
    ({"base": {**BASE, "train": {"steps": 0}}}, "base.train.steps: must be >= 1"),
    ({"base": {**BASE, "train": {"seeds": 4}}}, "base.train.seeds: a trial trains one seed, the base's seed"),
    ({"space": {"train.seeds": {"choice": [1, 4]}}}, "space.train.seeds: not a key of the experiment that can be "),
])
def test_a_bad_search_file_is_one_line_naming_its_key(changes, line):
    text = refusal(search(**changes))
    assert "\n" not in text
    assert text.startswith(line), text


def test_pbt_is_accepted_with_its_settings_and_reads_back():
    s = parse_search(search(methods=["random", "pbt"], pbt={"population": 4, "interval": 5}))
    assert s.methods == ("random", "pbt") and (s.pbt.population, s.pbt.interval) == (4, 5)
    assert parse_search(s.to_dict()) == s
    assert parse_search(search(space={"model.hidden": {"choice": [[8], [16]]}})).methods == ("grid", "random")


def test_base_or_preset_exactly_one():
    raw = search()
    del raw["base"]
    assert refusal(raw).startswith("base: give the experiment to search")
    assert refusal(search(preset="optimizers")).startswith("preset: give base or preset, not both")


def test_a_good_file_reads_back_as_the_same_search():
    raw = search(space={"optimizer.lr": {"log": [1e-3, 1.0]}, "model.hidden": {"choice": [[8], [16, 16]]},
                        "train.batch_size": {"int": [8, 32]}}, objective="best_val_acc", seed=3)
    first = parse_search(raw)
    again = parse_search(json.loads(json.dumps(first.to_dict())))
    assert again == first
    assert [p.path for p in first.space] == ["optimizer.lr", "model.hidden", "train.batch_size"]
    assert first.settings.objective == "best_val_acc" and first.settings.seed == 3
    assert first.space[1].value('[16, 16]') == [16, 16]


def test_a_preset_base_resolves_to_the_experiment_itself():
    raw = search()
    del raw["base"]
    raw["preset"] = "tiny"
    looked_up = []

    def lookup(name):
        looked_up.append(name)
        return parse_search(search()).base

    first = parse_search(raw, lookup)
    assert looked_up == ["tiny"] and first.preset == "tiny"
    resolved = first.to_dict()
    assert "preset" not in resolved
    again = parse_search(json.loads(json.dumps(resolved)))         # no preset lookup needed any more
    assert again.base == first.base and again.space == first.space and again.preset is None


def test_the_grid_a_budget_buys():
    # three ranges, 27 trials: 3 values each (the lesson's explosion); the log range is geometric
    s = parse_search(search(trials=27, space={"optimizer.lr": {"log": [1e-4, 1.0]},
                                              "model.dropout": {"uniform": [0.0, 0.5]},
                                              "train.batch_size": {"int": [8, 32]}}))
    grid = grid_points(s.space, s.trials)
    assert grid["optimizer.lr"] == pytest.approx((1e-4, 1e-2, 1.0))
    assert grid["model.dropout"] == pytest.approx((0.0, 0.25, 0.5))
    assert grid["train.batch_size"] == (8, 20, 32)
    assert grid_budget(s) == grid_size(grid) == 27
    # a choice of 2 takes every value: 26 trials / 2 = 13 -> 3 lrs (3^2 = 9 <= 13 < 16)
    s = parse_search(search(trials=26, space={"optimizer.lr": {"log": [1e-4, 1.0]},
                                              "model.dropout": {"uniform": [0.0, 0.5]},
                                              "optimizer.name": {"choice": ["sgd", "adam"]}}))
    assert grid_budget(s) == 18
    assert METHODS["random"].budget(s) == 26


def test_the_random_beats_grid_preset_gives_the_grid_three_learning_rates():
    from engine.labs.search.presets import SEARCH_PRESETS
    s = parse_search(SEARCH_PRESETS["random-beats-grid"])
    assert s.trials == 27 and grid_budget(s) == 27 and s.methods == ("grid", "random")
    assert len(grid_points(s.space, s.trials)["optimizer.lr"]) == 3
    # the two other knobs are read by nothing the base uses: only the learning rate can matter
    assert s.base.model.init != "normal" and s.base.schedule.name != "cosine"


def test_main_prints_one_line_and_exits_2(tmp_path, capsys):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(search(methods=["grid", "annealing"])))
    assert main.main(["search", str(path), "--out", str(tmp_path / "out")]) == BAD_INPUT
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: methods[1]: unknown method 'annealing' (choose from grid, random, tpe, gp, pbt)"]
    assert not (tmp_path / "out").exists()


def test_main_refuses_an_unreadable_file_a_bad_storage_and_an_unknown_preset(tmp_path, capsys):
    path = tmp_path / "s.json"
    path.write_text("{not json")
    assert main.main(["search", str(path), "--out", str(tmp_path / "out")]) == BAD_INPUT
    path.write_text(json.dumps(search()))
    assert main.main(["search", str(path), "--out", str(tmp_path / "o"), "--storage", "mysql://x/y"]) == BAD_INPUT
    assert main.main(["search", "--preset", "nope", "--out", str(tmp_path / "o")]) == BAD_INPUT
    assert main.main(["search", "--out", str(tmp_path / "o")]) == BAD_INPUT
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("error: ") for line in lines)
    assert lines[1].startswith("error: --storage: unknown storage 'mysql'")
    assert lines[2].startswith("error: --preset: unknown search 'nope'")
    assert lines[3] == "error: search takes a search file or --preset NAME (one of them)"


def test_out_is_checked_before_any_work_and_a_worker_names_an_unknown_study(tmp_path, capsys):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(search()))
    (tmp_path / "taken").write_text("a file")
    assert main.main(["search", str(path), "--out", str(tmp_path / "taken")]) == BAD_INPUT
    (tmp_path / "s.journal").touch()          # a worker joins an existing storage only (launch.join)
    assert main.main(["search-worker", "--storage", str(tmp_path / "s.journal"), "--study", "nope"]) == BAD_INPUT
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0] == f"error: --out: {tmp_path / 'taken'} is a file, not a folder"
    assert lines[1] == "error: --study: no search named 'nope' in this storage (known: none)"
    assert len(lines) == 2
