"""Real processes: two search-worker processes on one journal file complete every trial of the budget exactly
once (grid: each point once, with one seed on both; random: no point twice, with a seed each), and
``search --workers 0`` only waits and writes the files of everyone's trials.  Stopping keeps every finished
trial; starting again trains the rest, the interrupted trial again."""
import csv
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import main
from engine.labs.search.launch import start
from engine.labs.search.methods import quiet_optuna
from engine.labs.search.results import method_trials
from engine.labs.search.space import grid_points
from engine.labs.search.spec import parse_search
from engine.labs.search.storages import open_storage, reap
from engine.labs.search.studies import create_studies, slot_of
from engine.labs.search.work import Told
from engine.status import RunStatus

ROOT = Path(__file__).resolve().parents[4]
RAW = {"base": {"data": {"dataset": "moons", "n_train": 32, "n_val": 32}, "model": {"hidden": [4]},
                "train": {"steps": 10, "batch_size": 16, "eval_every": 10}},
       "space": {"optimizer.lr": {"log": [1e-3, 1.0]}, "model.dropout": {"uniform": [0.0, 0.5]}},
       "methods": ["grid", "random"], "trials": 4, "seed": 0, "startup": 2}


@pytest.mark.slow
def test_two_worker_processes_on_one_journal_complete_the_budget_exactly_once(tmp_path):
    quiet_optuna()
    search = parse_search(RAW)
    journal = tmp_path / "s.journal"
    create_studies(search, open_storage(str(journal), 10), "race")
    workers = [subprocess.Popen([sys.executable, "main.py", "search-worker", "--storage", str(journal),
                                 "--study", "race", "--workers", "1"], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=240) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    storage = open_storage(str(journal), 10)
    grid = grid_points(search.space, search.trials)
    for method in ("grid", "random"):
        trials = method_trials(storage, "race", method)
        assert [t.user_attrs["status"] for t in trials] == [RunStatus.FINISHED] * 4
        assert sorted(slot_of(t, trials) for t in trials) == [0, 1, 2, 3]
        points = {(t.params["optimizer.lr"], t.params["model.dropout"]) for t in trials}
        assert len(points) == 4                                   # no point twice
        if method == "grid":
            assert points == {(lr, d) for lr in grid["optimizer.lr"] for d in grid["model.dropout"]}
    trained = sum(int(line.split(": ")[1].split()[0]) for out, _ in outputs for line in out.splitlines()
                  if line.startswith("search-worker race:"))
    assert trained == 8                                           # each trial trained by one process only
    # the starting command with no training process of its own: waits (nothing left) and writes the files
    (tmp_path / "s.json").write_text(json.dumps(RAW))
    code = main.main(["search", str(tmp_path / "s.json"), "--out", str(tmp_path / "out"), "--storage", str(journal),
                      "--study", "race", "--workers", "0"])
    assert code == 0
    with open(tmp_path / "out" / "trials.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 8 and {r["state"] for r in table} == {"finished"}


def test_a_silent_workers_trial_is_failed_and_queued_again(tmp_path):
    quiet_optuna()
    search = parse_search(RAW)
    storage = open_storage(str(tmp_path / "s.journal"), 1.0)
    create_studies(search, storage, "race")
    import optuna
    study = optuna.load_study(study_name="race.random", storage=storage)
    trial = study.ask({p.path: p.distribution() for p in search.space})
    trial.set_user_attr("slot", 0)
    trial.set_user_attr("status", RunStatus.RUNNING)
    trial.set_user_attr("heartbeat", 1000.0)
    start_time = study.trials[0].datetime_start.timestamp()
    assert reap(study, 1.0, now=start_time + 2.0) == []           # within the grace of 3 beats
    assert reap(study, 1.0, now=start_time + 10.0) == [0]
    states = [t.state.name for t in study.get_trials()]
    assert states == ["FAIL", "WAITING"]
    copy = study.get_trials()[1]
    assert copy.params == study.get_trials()[0].params and copy.user_attrs["slot"] == 0
    assert reap(study, 1.0, now=start_time + 20.0) == []          # nothing runs any more


@pytest.mark.slow
def test_stopping_keeps_the_finished_trials_and_a_restart_trains_the_rest(tmp_path):
    quiet_optuna()
    search = parse_search(RAW)
    told = []
    first = start(search, tmp_path, None, "search", 2, should_stop=lambda: len(told) >= 3,
                  on_trial=lambda event: told.append(event) if isinstance(event, Told) else None)
    with open(first.files[0], newline="") as f:
        table = list(csv.DictReader(f))
    assert [r["state"] for r in table].count("finished") in (3, 4)    # the other process's trial may end too
    assert all(r["state"] in ("finished", "queued", "stopped") for r in table)
    again = start(search, tmp_path, None, "search", 1)
    storage = open_storage(str(tmp_path / "search.journal"), 10)
    for method in ("grid", "random"):
        trials = method_trials(storage, "search", method)
        finished = [t for t in trials if t.user_attrs["status"] == RunStatus.FINISHED]
        assert sorted(slot_of(t, trials) for t in finished) == [0, 1, 2, 3]
    assert len(told) + len(again.told) - sum(t.result.status == RunStatus.STOPPED for t in told) == 8


@pytest.mark.slow
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_the_command_stops_on_a_signal_and_writes_its_files(tmp_path, signum, code):
    long = {**RAW, "base": {**RAW["base"], "train": {"steps": 200000, "eval_every": 100000}}, "methods": ["random"]}
    (tmp_path / "s.json").write_text(json.dumps(long))
    proc = subprocess.Popen([sys.executable, "main.py", "search", str(tmp_path / "s.json"), "--out",
                             str(tmp_path / "out"), "--workers", "1"], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()            # printed once the signals are handled
        assert first.startswith("search search: random, 4 trials each")
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, out + err
    with open(tmp_path / "out" / "trials.csv", newline="") as f:
        table = list(csv.DictReader(f))
    # the signal may land before the first trial was asked; a trial it interrupts is stopped and queued again
    assert all(r["state"] in ("stopped", "queued") for r in table)
    assert [r["state"] for r in table].count("stopped") == [r["state"] for r in table].count("queued")
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["methods"]["random"]["budget"] == 4


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


@pytest.mark.slow
def test_a_worker_killed_mid_trial_loses_no_trial(tmp_path):
    """SIGKILL: no handler runs.  The other worker's reaper fails the orphaned trial once it has been silent
    for 3 heartbeats (1 s here) and queues it again; it is trained, and every slot ends finished once."""
    quiet_optuna()
    search = parse_search({**RAW, "heartbeat": 1.0})
    journal = tmp_path / "s.journal"
    create_studies(search, open_storage(str(journal), 1.0), "race")
    argv = [sys.executable, "main.py", "search-worker", "--storage", str(journal), "--study", "race", "--workers", "1"]
    doomed = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        line = doomed.stdout.readline()        # its first trial is running: its training process is starting
        assert ": training " in line, line
        children = Path(f"/proc/{doomed.pid}/task/{doomed.pid}/children").read_text().split()
        trainers = [int(c) for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
        assert len(trainers) == 1
        doomed.kill()
        doomed.wait()
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait()
    survivor = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert survivor.returncode == 0, survivor.stdout + survivor.stderr
    # the killed worker's training process saw its node gone (it looks every second) and ended
    assert not Path(f"/proc/{trainers[0]}").exists() or "spawn_main" not in _cmdline(trainers[0])
    storage = open_storage(str(journal), 1.0)
    lost = []
    for method in ("grid", "random"):
        trials = method_trials(storage, "race", method)
        finished = [t for t in trials if t.user_attrs["status"] == RunStatus.FINISHED]
        assert sorted(slot_of(t, trials) for t in finished) == [0, 1, 2, 3]
        if method == "grid":        # the copy trains the lost trial's point: still every point once
            grid = grid_points(search.space, search.trials)
            assert {(t.params["optimizer.lr"], t.params["model.dropout"]) for t in finished} == {
                (lr, d) for lr in grid["optimizer.lr"] for d in grid["model.dropout"]}
        lost += [t for t in trials if t.state.name == "FAIL"]
    assert len(lost) == 1 and lost[0].user_attrs["status"] == RunStatus.RUNNING      # the killed worker's
    (tmp_path / "s.json").write_text(json.dumps({**RAW, "heartbeat": 1.0}))
    assert main.main(["search", str(tmp_path / "s.json"), "--out", str(tmp_path / "out"), "--storage", str(journal),
                      "--study", "race", "--workers", "0"]) == 0
    with open(tmp_path / "out" / "trials.csv", newline="") as f:
        states = sorted(r["state"] for r in csv.DictReader(f))
    assert states == ["error"] + ["finished"] * 8
