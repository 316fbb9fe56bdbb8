"""PBT in a search: launched beside the Optuna methods on the same training processes, its files (one trials.csv
row per member, its best in summary.json, the lineage in pbt_lineage.json), main.py's lines, and the preset."""
import csv
import json

import pytest

import main
from engine.labs.search.launch import start
from engine.labs.search.pbt import Exploit, MemberRound
from engine.labs.search.results import LINEAGE
from engine.labs.search.spec import parse_search

RAW = {"base": {"data": {"dataset": "moons", "n_train": 64, "n_val": 64}, "model": {"hidden": [8]},
                "optimizer": {"name": "sgd", "momentum": 0.5}, "train": {"steps": 30, "batch_size": 16,
                                                                        "eval_every": 10}},
       "space": {"optimizer.lr": {"log": [1e-3, 1.0]}}, "methods": ["random", "pbt"], "trials": 4, "seed": 0,
       "objective": "val_loss", "pbt": {"population": 4, "interval": 10}}


def rows(path):
    with open(path / "trials.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    out = tmp_path_factory.mktemp("pbt")
    events = []
    # one worker process: two processes are test_pbt.py's (the same numbers in one or two)
    finished = start(parse_search(RAW), out, None, "search", 1, on_trial=events.append)
    return out, finished, events


def test_pbt_runs_after_random_search_and_its_events_reach_on_trial(searched):
    out, finished, events = searched
    assert finished.pbt is not None and finished.files == (out / "trials.csv", out / "summary.json", out / LINEAGE)
    rounds = [e for e in events if isinstance(e, MemberRound)]
    assert len(rounds) == 4 * 3 and len([e for e in events if isinstance(e, Exploit)]) == 2
    assert len(finished.told) == 4                       # the random trials; pbt's are no Optuna trials


def test_trials_csv_has_one_row_per_member_and_the_same_first_points_as_random(searched):
    out, finished, _ = searched
    table = rows(out)
    assert list(table[0]) == ["method", "trial", "state", "value", "steps", "seconds", "worker", "optimizer.lr"]
    pbt = [r for r in table if r["method"] == "pbt"]
    assert [r["trial"] for r in pbt] == ["0", "1", "2", "3"]
    assert all(r["state"] == "finished" and r["steps"] == "30" for r in pbt)
    for r, history in zip(pbt, finished.pbt.members):
        assert float(r["value"]) == pytest.approx(history.rounds[-1].value, rel=1e-9)
        assert float(r["optimizer.lr"]) == pytest.approx(history.rounds[-1].params["optimizer.lr"], rel=1e-9)
    random_lrs = [float(r["optimizer.lr"]) for r in table if r["method"] == "random"]
    assert random_lrs == pytest.approx([h.rounds[0].params["optimizer.lr"] for h in finished.pbt.members], rel=1e-9)


def test_summary_has_pbts_best_and_the_lineage_file_every_round_and_exploit(searched):
    out, finished, _ = searched
    summary = json.loads((out / "summary.json").read_text())
    best = summary["methods"]["pbt"]["best"]
    values = [float(r["value"]) for r in rows(out) if r["method"] == "pbt"]
    assert best["value"] == pytest.approx(min(values), rel=1e-9) and best["trial"] == finished.pbt.best_member
    assert summary["methods"]["pbt"]["states"] == {"finished": 4} and summary["methods"]["pbt"]["budget"] == 4
    lineage = json.loads((out / LINEAGE).read_text())
    assert lineage["config"] == {"population": 4, "interval": 10, "quantile": 0.25, "resample": 0.25}
    assert [len(m["rounds"]) for m in lineage["members"]] == [3, 3, 3, 3]
    assert [(e["step"], e["member"], e["parent"]) for e in lineage["exploits"]] == [
        (e.step, e.member, e.parent) for e in finished.pbt.events]
    assert parse_search(summary["search"]) == parse_search(RAW)


def test_main_prints_a_line_per_round_and_exploit_and_gives_the_same_numbers(searched, tmp_path, capsys):
    (tmp_path / "s.json").write_text(json.dumps({**RAW, "methods": ["pbt"]}))
    assert main.main(["search", str(tmp_path / "s.json"), "--out", str(tmp_path / "out"), "--workers", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("pbt member ") and " round " in line for line in lines) == 12
    assert sum(" copies member " in line for line in lines) == 2
    assert any(line.startswith("search search: pbt's best is member") for line in lines)
    first = [r for r in rows(searched[0]) if r["method"] == "pbt"]
    again = rows(tmp_path / "out")
    assert [(r["trial"], r["value"], r["optimizer.lr"]) for r in again] == [
        (r["trial"], r["value"], r["optimizer.lr"]) for r in first]


def test_the_pbt_preset_spends_equal_total_steps_for_random_and_pbt():
    from engine.labs.search.presets import SEARCH_PRESETS
    s = parse_search(SEARCH_PRESETS["population-based-training"])
    assert s.methods == ("random", "pbt") and s.trials == s.pbt.population == 8
    assert s.base.train.steps == 400 and 400 % s.pbt.interval == 0 and s.base.schedule.name == "constant"
    assert [p.path for p in s.space] == ["optimizer.lr"] and s.settings.objective == "val_loss"
