"""Ctrl-C (SIGINT) and SIGTERM stop every long command where it is, write its files, and exit 130 / 143.

Real processes and real signals: each command is started as a user would, and signalled once it says it
has begun (the line it prints inside its signal handling); then its files must be complete.
"""
import csv
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LONG = {"name": "long", "data": {"dataset": "spiral", "n_train": 200, "n_val": 100}, "model": {"hidden": [8]},
        "train": {"steps": 200000, "eval_every": 1000, "histogram_every": 0}}


def _signal_once_started(argv: list[str], started: str, signum: int) -> tuple[int, str]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), *argv], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen, out, err = [], "", ""
    try:
        for line in proc.stdout:              # blocks until the command prints; ends if it exits
            seen.append(line)
            if started in line:
                proc.send_signal(signum)
                break
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert any(started in line for line in seen), f"never started: {''.join(seen) + out + err}"
    return proc.returncode, "".join(seen) + out + err


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# One signal in the quick suite: both go through the same handler (engine.commands.common), test_runner.py
# checks both on `run`; SIGTERM here under -m slow.
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130),
                                          pytest.param(signal.SIGTERM, 143, marks=pytest.mark.slow)])
def test_lr_find_stops_and_writes_the_sweep_so_far(tmp_path, signum, code):
    exp = tmp_path / "exp.json"
    exp.write_text(json.dumps(LONG))
    returncode, text = _signal_once_started(
        ["lr-find", str(exp), "--steps", "100000", "--start-lr", "1e-7", "--end-lr", "1e-6", "--out", str(tmp_path / "o")],
        "sweeping 100,000 steps", signum)
    assert returncode == code, text
    suggestions = json.loads((tmp_path / "o" / "suggestions.json").read_text())
    assert suggestions["stop_reason"] == "stopped"
    # the signal may land before the first step: then the file holds its header and no row
    path = tmp_path / "o" / "lr_find.csv"
    assert path.read_text().splitlines()[0] == "step,lr,loss,smoothed_loss"
    rows = _rows(path)
    assert len(rows) < 100000 and [int(r["step"]) for r in rows] == list(range(1, len(rows) + 1))
    assert "stopped after" in text


def test_compare_stops_and_writes_its_finished_rows(tmp_path):
    runs = tmp_path / "runs.json"
    runs.write_text(json.dumps([LONG, {**LONG, "name": "second"}]))
    returncode, text = _signal_once_started(["compare", str(runs), "--out", str(tmp_path / "o")], "training 2 runs",
                                            signal.SIGTERM)
    assert returncode == 143, text
    path = tmp_path / "o" / "comparison.csv"
    assert path.read_text().splitlines()[0].startswith("name,train_acc,val_acc,gap")
    assert _rows(path) == []              # the cut run has no final accuracy to compare; the second never ran


def test_init_probe_training_stops_and_writes_the_curves_so_far(tmp_path):
    returncode, text = _signal_once_started(
        ["init-probe", "--depth", "2", "--width", "8", "--schemes", "default,he_normal", "--train-steps", "20000",
         "--out", str(tmp_path / "o")], "training 2 schemes", signal.SIGINT)
    assert returncode == 130, text
    assert (tmp_path / "o" / "init_probe.csv").exists()
    # the signal may land before the first evaluation: then the file holds its header only
    path = tmp_path / "o" / "init_train.csv"
    assert path.read_text().splitlines()[0].startswith("scheme,")
    assert {r["scheme"] for r in _rows(path)} <= {"default", "he_normal"}
