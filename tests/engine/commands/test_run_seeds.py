"""``main.py run`` with train.seeds K > 1: metrics.csv aggregated, members.csv long, summary.json's members."""
import csv
import io
import json
import math
import os
import signal

import numpy as np
import pytest

import main as app
from engine.experiment import parse_experiment
from engine.training.events import MembersEvent, StepEvent
from engine.training.members import SequentialMembers, member_experiment
from engine.training.metrics_files import AGGREGATE_COLUMNS, MEMBER_COLUMNS, METRIC_COLUMNS, MetricsStream
from engine.training.runner import run_experiment
from engine.training.trainer import Trainer

RAW = {"name": "bands", "seed": 4, "train": {"steps": 24, "eval_every": 8, "seeds": 3}}
DIVERGING = {"name": "edge", "optimizer": {"name": "sgd", "lr": 12.0},
             "train": {"steps": 40, "eval_every": 20, "histogram_every": 0, "seeds": 4}}


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def cell(text):
    return math.nan if text == "" else float(text)


def run_command(tmp_path, raw):
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(raw))
    return app.main(["run", str(path), "--out", str(tmp_path / "out")])


def test_the_files_of_a_multi_seed_run(tmp_path, capsys):
    assert run_command(tmp_path, RAW) == 0
    out = tmp_path / "out"
    metrics, members = read_csv(out / "metrics.csv"), read_csv(out / "members.csv")
    assert tuple(metrics[0]) == AGGREGATE_COLUMNS and tuple(members[0]) == MEMBER_COLUMNS
    assert AGGREGATE_COLUMNS[:4] == ("step", "epoch", "lr", "train_loss_mean")
    assert "val_acc_mean" in AGGREGATE_COLUMNS and "val_acc_max" in AGGREGATE_COLUMNS
    assert [int(r["step"]) for r in metrics] == list(range(25))
    assert [(int(r["step"]), int(r["member"]), int(r["seed"])) for r in members] == \
        [(s, k, 4 + k) for s in range(25) for k in range(3)]
    for row in metrics:        # every aggregate is the aggregate of the members' rows of that step
        rows = [r for r in members if r["step"] == row["step"]]
        for column in METRIC_COLUMNS[3:]:
            values = [cell(r[column]) for r in rows]
            if all(math.isnan(v) for v in values):
                assert row[f"{column}_mean"] == row[f"{column}_min"] == row[f"{column}_max"] == ""
                continue
            assert cell(row[f"{column}_mean"]) == pytest.approx(np.mean(values), rel=1e-12)
            assert cell(row[f"{column}_min"]) == min(values) and cell(row[f"{column}_max"]) == max(values)
        assert row["lr"] == rows[0]["lr"] and row["epoch"] == rows[0]["epoch"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["final_members"] == 3
    assert [m["seed"] for m in summary["members"]] == [4, 5, 6]
    assert [m["status"] for m in summary["members"]] == ["finished"] * 3
    last = [r for r in members if r["step"] == "24"]
    accs = [float(r["val_acc"]) for r in last]
    assert summary["final_val_acc"] == pytest.approx(np.mean(accs), rel=1e-12)
    assert (summary["final_val_acc_min"], summary["final_val_acc_max"]) == (min(accs), max(accs))
    assert [m["final_val_acc"] for m in summary["members"]] == accs
    assert "(mean of 3 members)" in capsys.readouterr().out
    assert not list(out.glob(".*tmp"))


def test_a_members_rows_are_its_single_runs_metrics_csv(tmp_path):
    """Member 2's rows of members.csv are the rows of metrics.csv of its single run (seed 6, on seed 4's data)."""
    exp = parse_experiment(RAW)
    run_experiment(exp, tmp_path / "many", should_stop=lambda: False)
    log = MetricsStream(buffer := io.StringIO())
    Trainer(member_experiment(exp, 2), data=SequentialMembers(exp).data).run(log.add)
    log.flush()
    alone = list(csv.reader(io.StringIO(buffer.getvalue())))
    mine = [row[2:] for row in csv.reader(open(tmp_path / "many" / "members.csv", newline="")) if row[0] == "2"]
    assert mine == alone[1:] and alone[0] == list(METRIC_COLUMNS)


def test_a_diverged_member_has_no_rows_after_its_end_and_its_own_status(tmp_path):
    summary = run_experiment(parse_experiment(DIVERGING), tmp_path, should_stop=lambda: False)
    statuses = [m["status"] for m in summary["members"]]
    diverged = statuses.count("diverged")
    assert 0 < diverged < 4          # the set-up has both kinds
    assert summary["status"] == "finished" and f"{diverged} of 4 members diverged" in summary["message"]
    assert summary["final_members"] == 4 - diverged
    members = read_csv(tmp_path / "members.csv")
    for m in summary["members"]:
        steps = [int(r["step"]) for r in members if int(r["member"]) == m["member"]]
        assert steps == list(range(m["steps"] + 1))
    finished = [m["final_val_acc"] for m in summary["members"] if m["status"] == "finished"]
    assert summary["final_val_acc"] == pytest.approx(np.mean(finished), rel=1e-12)
    metrics = read_csv(tmp_path / "metrics.csv")
    assert [int(r["step"]) for r in metrics] == list(range(41))


def test_every_member_diverged(tmp_path):
    raw = {**DIVERGING, "optimizer": {"name": "sgd", "lr": 50.0}}
    summary = run_experiment(parse_experiment(raw), tmp_path, should_stop=lambda: False)
    assert summary["status"] == "diverged" and summary["message"] == "all 4 members diverged"
    assert summary["final_members"] == 4 and {m["status"] for m in summary["members"]} == {"diverged"}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_run_stops_it_with_complete_files(tmp_path, signum):
    sent = []

    def at_step(event):
        if isinstance(event, MembersEvent) and isinstance(event.events[0], StepEvent) \
                and event.events[0].step == 7 and not sent:
            sent.append(signum)
            os.kill(os.getpid(), signum)       # the runner's own StopSignals hears it

    raw = {**RAW, "train": {**RAW["train"], "steps": 5000}}
    summary = run_experiment(parse_experiment(raw), tmp_path, on_event=at_step)
    assert sent and summary["status"] == "stopped" and summary["steps"] == 7
    assert summary["message"] == "stopped by the user at step 7"
    assert [m["status"] for m in summary["members"]] == ["stopped"] * 3
    metrics, members = read_csv(tmp_path / "metrics.csv"), read_csv(tmp_path / "members.csv")
    assert [int(r["step"]) for r in metrics] == list(range(8))
    assert len(members) == 3 * 8 and all(r["train_loss"] for r in members if r["step"] != "0")
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "stopped"
    assert not list(tmp_path.glob(".*tmp"))


def test_a_single_seed_run_writes_no_members_file(tmp_path):
    assert run_command(tmp_path, {**RAW, "train": {**RAW["train"], "seeds": 1}}) == 0
    assert not (tmp_path / "out" / "members.csv").exists()
    assert tuple(read_csv(tmp_path / "out" / "metrics.csv")[0]) == METRIC_COLUMNS
    assert "members" not in json.loads((tmp_path / "out" / "summary.json").read_text())


def test_compare_refuses_a_multi_seed_run_in_one_line(tmp_path, capsys):
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(RAW))
    assert app.main(["compare", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "train.seeds 3" in err[0]


def test_race_reports_the_members_mean(tmp_path):
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(RAW))
    assert app.main(["race", str(path), "--schedules", "constant", "--train", "--out", str(tmp_path)]) == 0
    [row] = read_csv(tmp_path / "race.csv")
    summary = json.loads((tmp_path / "constant" / "summary.json").read_text())
    assert (tmp_path / "constant" / "members.csv").exists() and row["status"] == "finished"
    assert float(row["final_val_acc"]) == summary["final_val_acc"]       # the members' mean


def test_lr_find_on_a_multi_seed_experiment_sweeps_member_0_and_says_so(tmp_path, capsys):
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(RAW))
    assert app.main(["lr-find", str(path), "--steps", "20", "--out", str(tmp_path / "many")]) == 0
    assert "note: bands: the finder sweeps member 0 (seed 4) of its 3 seeds" in capsys.readouterr().err
    path.write_text(json.dumps({**RAW, "train": {**RAW["train"], "seeds": 1}}))
    assert app.main(["lr-find", str(path), "--steps", "20", "--out", str(tmp_path / "one")]) == 0
    assert "note:" not in capsys.readouterr().err
    assert (tmp_path / "many" / "lr_find.csv").read_text() == (tmp_path / "one" / "lr_find.csv").read_text()


def test_a_members_layer_rows_are_its_single_runs_layers_csv(tmp_path):
    """layers.csv of a multi-seed run: member,seed then, member by member, the rows of its single run's
    layers.csv (the effective rates and step sizes of every member, not the first alone)."""
    from engine.training.metrics_files import LAYER_COLUMNS, MEMBER_LAYER_COLUMNS, LayersStream
    raw = {**RAW, "optimizer": {"name": "adam"}, "train": {**RAW["train"], "histogram_every": 8}}
    exp = parse_experiment(raw)
    run_experiment(exp, tmp_path / "many", should_stop=lambda: False)
    rows = list(csv.reader(open(tmp_path / "many" / "layers.csv", newline="")))
    assert tuple(rows[0]) == MEMBER_LAYER_COLUMNS
    assert {(row[0], row[1]) for row in rows[1:]} == {(str(k), str(4 + k)) for k in range(3)}
    for k in range(3):
        log = LayersStream(buffer := io.StringIO())
        Trainer(member_experiment(exp, k), data=SequentialMembers(exp).data).run(log.add)
        alone = list(csv.reader(io.StringIO(buffer.getvalue())))
        mine = [row[2:] for row in rows[1:] if row[0] == str(k)]
        assert alone[0] == list(LAYER_COLUMNS) and len(mine) == len(alone) - 1 > 0
        for a, b in zip(mine, alone[1:]):
            assert a[:2] == b[:2]                                  # step, layer
            assert [x == "" for x in a] == [x == "" for x in b]    # step 0's empty cells alike
            assert [float(x) for x in a[2:] if x] == pytest.approx([float(x) for x in b[2:] if x],
                                                                   rel=1e-4, abs=1e-7)


@pytest.mark.parametrize("raw", [{**RAW, "train": {**RAW["train"], "grad_clip": 0.6}}, DIVERGING],
                         ids=["clipped", "diverging"])
def test_the_windows_export_of_a_multi_seed_run_is_the_headless_metrics_csv(tmp_path, raw):
    """The window's log (engine.training.metrics_files.MetricsLog, fed the updates the window gets: members' mean,
    spreads and the share of members that clipped) writes the runner's aggregated metrics.csv, cell for cell."""
    from engine.training.members import trainer_for
    from engine.training.metrics_files import MetricsLog
    from engine.training.updates import UpdateBuffer
    assert run_command(tmp_path, raw) == 0
    headless = read_csv(tmp_path / "out" / "metrics.csv")
    exp = parse_experiment(raw)
    trainer, buffer, log = trainer_for(exp), UpdateBuffer("r", members=exp.train.seeds), MetricsLog()
    while not trainer.done:
        for event in trainer.step():
            buffer.add(event)
        if len(buffer._steps) >= 5:                    # several points an update, as the window gets them
            log.append(buffer.take("running", 0, 0.0, 0.0))
    log.append(buffer.take("finished", 0, 0.0, 0.0))
    window = list(csv.DictReader(io.StringIO(log.to_csv())))
    assert list(window[0]) == list(AGGREGATE_COLUMNS) and len(window) == len(headless)
    clipped = [cell(r["clipped_mean"]) for r in window]
    if "grad_clip" in raw["train"]:
        assert any(0 < c < 1 for c in clipped)         # some members clipped at a step, not all
    for mine, theirs in zip(window, headless):
        for column in AGGREGATE_COLUMNS:
            a, b = cell(mine[column]), cell(theirs[column])
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-6, abs=1e-9), \
                (mine["step"], column, mine[column], theirs[column])
