"""The search commands as a user runs them, in real processes with real signals: Ctrl-C (SIGINT) and SIGTERM
stop ``search-worker`` and ``search`` (in its Optuna methods and in population-based training) where they are,
keep every trial told, queue the interrupted one again, write the files, and exit 130 / 143.

Each process is signalled once it says it has begun (a line it prints inside its signal handling), never after
a fixed sleep.  The one in the quick suite is the worker's SIGTERM (a closing terminal, ``kill``); the others,
which go through the same handler (``engine.training.runner.StopSignals``), are under ``-m slow``, beside
``tests/engine/labs/search/test_workers.py``'s signal test of ``search`` mid-trial.
"""
import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.labs.search.methods import quiet_optuna
from engine.labs.search.results import method_trials
from engine.labs.search.spec import parse_search
from engine.labs.search.storages import open_storage
from engine.labs.search.studies import create_studies
from engine.status import RunStatus

ROOT = Path(__file__).resolve().parents[3]
LONG = {"base": {"data": {"dataset": "moons", "n_train": 32, "n_val": 32}, "model": {"hidden": [4]},
                 "train": {"steps": 200000, "batch_size": 16, "eval_every": 100000}},
        "space": {"optimizer.lr": {"log": [1e-3, 1.0]}},
        "methods": ["random"], "trials": 3, "seed": 0, "startup": 1}


def _signal_once(argv: list[str], started: str, signum: int, group: bool = False) -> tuple[int, list[str], str]:
    """Run ``main.py argv``, send ``signum`` once a line holding ``started`` is printed (``group``: to its whole
    process group, as a terminal's Ctrl-C is, its training processes included); (exit code, stdout's lines,
    stderr)."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), *argv], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=group)
    seen: list[str] = []
    try:
        for line in proc.stdout:              # blocks until the command prints; ends if it exits
            seen.append(line)
            if started in line:
                if group:
                    os.killpg(proc.pid, signum)
                else:
                    proc.send_signal(signum)
                break
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = "".join(seen + [out]).splitlines()
    assert any(started in line for line in lines), f"never started: {lines} {err}"
    return proc.returncode, lines, err


def _joined_journal(tmp_path: Path) -> Path:
    quiet_optuna()
    journal = tmp_path / "class.journal"
    create_studies(parse_search(LONG), open_storage(str(journal), 10), "class")
    return journal


def _stopped_and_queued(journal: Path) -> None:
    """The interrupted trial failed as stopped, and its copy waits for the next worker (same parameters)."""
    trials = method_trials(open_storage(str(journal), 10), "class", "random")
    assert [t.state.name for t in trials] == ["FAIL", "WAITING"]
    assert trials[0].user_attrs["status"] == RunStatus.STOPPED
    assert trials[1].system_attrs["failed_trial"] == trials[0].number and trials[1].params == trials[0].params


# quick suite: one process and its one training process, signalled as soon as its first trial is handed out
def test_a_worker_stopped_by_sigterm_exits_143_and_its_trial_is_queued_again(tmp_path):
    journal = _joined_journal(tmp_path)
    code, lines, err = _signal_once(["search-worker", "--storage", str(journal), "--study", "class",
                                     "--workers", "1"], "random #0: training", signal.SIGTERM)
    assert code == 143, (lines, err)
    assert err == ""
    assert lines[1].startswith("random #0: stopped after ") and "(stopped by the user at step " in lines[1]
    assert lines[-1] == "search-worker class: 1 trials trained here"
    _stopped_and_queued(journal)


@pytest.mark.slow
def test_a_worker_stopped_by_ctrl_c_exits_130_and_a_search_goes_on_from_its_journal(tmp_path):
    journal = _joined_journal(tmp_path)
    code, lines, err = _signal_once(["search-worker", "--storage", str(journal), "--study", "class",
                                     "--workers", "1"], "random #0: training", signal.SIGINT)
    assert (code, err) == (130, ""), lines
    _stopped_and_queued(journal)


@pytest.mark.slow
def test_a_terminals_ctrl_c_reaching_training_processes_still_starting_is_a_stop_not_a_failure(tmp_path):
    """A terminal's Ctrl-C goes to the whole group: a training process still importing (before it ignores the
    node's signals) died of it, and its trial said "the training process failed: BrokenProcessPool".  Its
    processes start with the signals blocked (``work.submit``): every interrupted trial is stopped by the user,
    in a process that trained it, and queued again.  (The signal lands as the first trial is handed out, while
    the processes start; should it land later, the test passes too: it can miss the fault, never invent it.)"""
    (tmp_path / "s.json").write_text(json.dumps(LONG))
    out = tmp_path / "out"
    code, lines, err = _signal_once(["search", str(tmp_path / "s.json"), "--out", str(out), "--workers", "2"],
                                    "random #0: training", signal.SIGINT, group=True)
    assert (code, err) == (130, ""), lines
    stopped = [line for line in lines if ": stopped after " in line]
    assert stopped and all("(stopped by the user at step " in line for line in stopped), lines
    with open(out / "trials.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["state"] for r in rows].count("stopped") == len(stopped) == [r["state"] for r in rows].count("queued")
    assert all(r["worker"] for r in rows if r["state"] == "stopped")


@pytest.mark.slow
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_population_based_training_stops_on_a_signal_and_writes_its_lineage(tmp_path, signum, code):
    """Stopped between PBT's rounds: the summary says stopped, the lineage of the rounds done is written, and
    no member's row claims more steps than a round it finished."""
    spec = {**LONG, "base": {**LONG["base"], "train": {"steps": 200000, "batch_size": 16, "eval_every": 10}},
            "methods": ["pbt"], "pbt": {"population": 2, "interval": 10}}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    out = tmp_path / "out"
    code_, lines, err = _signal_once(["search", str(tmp_path / "s.json"), "--out", str(out), "--workers", "1"],
                                     "pbt member", signum)
    assert (code_, err) == (code, ""), lines
    summary = json.loads((out / "summary.json").read_text())
    assert summary["methods"]["pbt"]["stopped"] is True
    assert summary["methods"]["pbt"]["lineage"] == "pbt_lineage.json" and (out / "pbt_lineage.json").is_file()
    with open(out / "trials.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["method"] for r in rows} == {"pbt"} and len(rows) == 2
    assert all(int(r["steps"]) < 200000 for r in rows)
