"""The headless runner: its files, their columns, and its exit codes, as a user runs it."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

import main as app
from engine.experiment import experiment_to_dict, parse_experiment
from engine.training.runner import METRIC_COLUMNS

ROOT = Path(__file__).resolve().parents[3]


def write(tmp_path, raw, name="exp.json"):
    path = tmp_path / name
    path.write_text(json.dumps(raw))
    return path


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_run_writes_metrics_and_summary(tmp_path, capsys):
    raw = {"name": "tiny", "train": {"steps": 40, "eval_every": 15}}
    code = app.main(["run", str(write(tmp_path, raw)), "--out", str(tmp_path / "out")])
    assert code == 0
    rows = read_csv(tmp_path / "out" / "metrics.csv")
    assert tuple(rows[0]) == METRIC_COLUMNS
    assert [int(r["step"]) for r in rows] == list(range(41))
    assert rows[0]["train_loss"] == "" and rows[0]["val_loss"] != ""          # step 0: the untrained net
    assert [r["step"] for r in rows if r["val_loss"]] == ["0", "15", "30", "40"]  # empty between evaluations
    assert all(float(r["lr"]) == 0.01 for r in rows[1:])
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps"] == 40
    assert summary["final_val_loss"] == float(rows[-1]["val_loss"])
    assert summary["final_val_acc"] == float(rows[-1]["val_acc"])
    assert summary["steps_per_sec"] > 0
    # The summary holds the full resolved experiment: running it again repeats the run.
    again = parse_experiment(summary["experiment"])
    assert again.optimizer.betas == (0.9, 0.999) and again.train.steps == 40
    assert "tiny: finished 40 steps" in capsys.readouterr().out
    assert not list((tmp_path / "out").glob(".*tmp"))  # atomic writes leave no temp files


def test_diverged_run_exits_zero_and_says_where(tmp_path):
    raw = {"optimizer": {"name": "sgd", "lr": 50}, "train": {"steps": 300}}
    assert app.main(["run", str(write(tmp_path, raw)), "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "diverged" and summary["message"].startswith(f"diverged at step {summary['steps']}")
    assert json.loads(json.dumps(summary)) == summary  # strict JSON: no NaN in the file
    # The CSV keeps what JSON cannot: the step that blew up, its loss as Python writes it; one line end.
    text = (tmp_path / "metrics.csv").read_bytes()
    assert b"\r" not in text
    last = read_csv(tmp_path / "metrics.csv")[-1]
    assert int(last["step"]) == summary["steps"] and last["train_loss"] == repr(float(last["train_loss"]))


@pytest.mark.parametrize("raw,line", [
    ({"optimizer": {"lr": -0.1}}, "error: optimizer.lr: must be > 0, got -0.1"),
    ({"data": {"dataset": "mnist", "path": "/nowhere"}}, "error: data.path: "),
    ({"data": {"dataset": "digits", "n_train": 1500, "n_val": 500}}, "error: data.n_train: digits has 1797 examples"),
])
def test_bad_experiment_exits_2_with_one_line_and_runs_nothing(tmp_path, capsys, raw, line):
    code = app.main(["run", str(write(tmp_path, raw)), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(line) and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_not_json_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert app.main(["run", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_internal_error_exits_1_and_still_writes_files(tmp_path, monkeypatch, capsys):
    from engine.training.trainer import Trainer
    monkeypatch.setattr(Trainer, "next_batch", lambda self: 1 / 0)
    path = write(tmp_path, {"train": {"steps": 10}})
    assert app.main(["run", str(path), "--out", str(tmp_path / "o")]) == 1
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["status"] == "error"
    assert "ZeroDivisionError" in capsys.readouterr().err


def test_preset_with_several_runs_writes_one_folder_each(tmp_path, monkeypatch):
    from engine.lessons import presets
    short = tuple(exp.replace(train={"steps": 5}) for exp in presets.PRESETS["optimizers"].runs)
    monkeypatch.setitem(presets.PRESETS, "optimizers",
                        presets.Preset("optimizers", "t", "l", short))
    assert app.main(["run", "--preset", "optimizers", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adam", "adamw", "sgd", "sgd-momentum"]


def test_unknown_preset_and_missing_argument(tmp_path, capsys):
    assert app.main(["run", "--preset", "nope"]) == 2
    assert "--preset: unknown preset 'nope'" in capsys.readouterr().err
    assert app.main(["run"]) == 2


def test_presets_and_schema_commands(capsys):
    assert app.main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "optimizers" in out and "SGD vs momentum vs Adam vs AdamW" in out
    assert app.main(["schema"]) == 0
    out = capsys.readouterr().out
    assert "optimizer.lr" in out and "default 0.01" in out and "lamb" in out


def test_every_preset_is_a_valid_experiment():
    from engine.lessons.presets import PRESETS
    for preset in PRESETS.values():
        for exp in preset.runs:
            assert parse_experiment(experiment_to_dict(exp)) == exp


def test_the_real_command_line(tmp_path):
    """One end-to-end run as a user types it: exit code and files, in a fresh interpreter."""
    path = write(tmp_path, {"train": {"steps": 20}})
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "run", str(path), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o" / "metrics.csv").exists()
    bad = write(tmp_path, {"train": {"steps": -3}}, "bad.json")
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "run", str(bad)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and done.stderr == "error: train.steps: must be >= 1, got -3\n"


def _start_and_wait_for_training(tmp_path):
    """Start a long real ``main.py run`` with its stderr on a pseudo-terminal, and return once its
    progress bar reports at least one optimizer step taken (the bar draws only on a terminal)."""
    import os
    import pty
    import re
    import select
    import time

    path = write(tmp_path, {"name": "long", "data": {"dataset": "spiral"}, "model": {"hidden": [16]},
                            "train": {"steps": 200000, "eval_every": 50}})
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "run", str(path), "--out", str(tmp_path / "o")],
                            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 180            # a safety net only: the loop ends on the bar's first step
    try:
        while not re.search(rb"\] [1-9]\d*/200000 steps", seen):
            assert proc.poll() is None, f"the run ended before training: {seen!r}"
            assert time.monotonic() < deadline, f"no training step reported: {seen!r}"
            if select.select([master], [], [], 1.0)[0]:
                seen += os.read(master, 4096)
    except BaseException:
        proc.kill()
        proc.wait()
        os.close(master)
        raise
    return proc, master


def _finish(proc, master):
    """Wait for the run to end, draining its terminal so the progress bar can never block it."""
    import os
    import select
    import time

    deadline = time.monotonic() + 120            # a safety net only
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                try:
                    os.read(master, 4096)
                except OSError:                  # the child closed its end
                    break
        out = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return proc.returncode, out


@pytest.mark.parametrize("signum,code", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_stops_a_real_run_at_a_step_and_writes_complete_files(tmp_path, signum, code):
    import signal
    proc, master = _start_and_wait_for_training(tmp_path)
    proc.send_signal(getattr(signal, signum))
    returncode, out = _finish(proc, master)
    assert returncode == code, out
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["status"] == "stopped"
    steps = summary["steps"]
    assert 1 <= steps < 200000
    assert summary["message"] == f"stopped by the user at step {steps}"
    assert f"long: stopped by the user at step {steps}" in out
    rows = read_csv(tmp_path / "o" / "metrics.csv")
    assert tuple(rows[0]) == METRIC_COLUMNS
    assert [int(r["step"]) for r in rows] == list(range(steps + 1))   # every step, none cut in half
    assert all(r["train_loss"] != "" for r in rows[1:])
    assert not list((tmp_path / "o").glob(".*tmp"))


def test_ctrl_c_before_training_exits_130_with_one_line(tmp_path, monkeypatch, capsys):
    """Ctrl-C while the command is still starting (imports, reading the experiment): no traceback."""
    from engine import experiment

    def interrupted(path):
        raise KeyboardInterrupt
    monkeypatch.setattr(experiment, "load_experiment", interrupted)
    assert app.main(["run", str(write(tmp_path, {})), "--out", str(tmp_path / "o")]) == 130
    assert capsys.readouterr().err == "interrupted\n"
    assert not (tmp_path / "o").exists()


def test_stop_signals_restores_the_previous_handlers():
    import signal

    from engine.training.runner import StopSignals
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with StopSignals() as stop:
        assert not stop()
        signal.raise_signal(signal.SIGTERM)
        assert stop() and stop.exit_code == 143
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def _no_space(fd, data):
    import errno
    import os
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_at_the_end_is_one_line_exit_1_and_keeps_the_older_run(tmp_path, monkeypatch, capsys):
    from engine import files
    out = tmp_path / "o"
    path = write(tmp_path, {"name": "tiny", "train": {"steps": 12}})
    assert app.main(["run", str(path), "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    monkeypatch.setattr(files, "_write_all", _no_space)
    assert app.main(["run", str(write(tmp_path, {"name": "tiny", "seed": 5, "train": {"steps": 12}})),
                     "--out", str(out)]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("note: ")]
    assert err == [f"error: tiny: cannot write {out / 'metrics.csv'}: No space left on device"]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before     # the older run, whole; no temporary


def test_a_full_disk_during_the_run_stops_it_there(tmp_path, monkeypatch):
    from engine import files
    from engine.training.runner import run_experiment
    monkeypatch.setattr(files, "CHUNK", 1)             # every row goes to the disk at once: the first fails
    monkeypatch.setattr(files, "_write_all", _no_space)
    summary = run_experiment(parse_experiment({"train": {"steps": 500}}), tmp_path, should_stop=lambda: False)
    assert summary["status"] == "error" and summary["steps"] <= 1
    assert summary["message"] == f"cannot write {tmp_path / 'metrics.csv'}: No space left on device"
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_between_metrics_and_summary_never_pairs_two_runs(tmp_path, monkeypatch):
    import os

    from engine import files
    from engine.training.runner import run_experiment
    first = run_experiment(parse_experiment({"seed": 1, "train": {"steps": 6}}), tmp_path, should_stop=lambda: False)
    real, calls = os.replace, []

    def second_fails(src, dst):
        calls.append(dst)
        if os.path.basename(dst) == "summary.json":     # the data files are in place, the commit mark fails
            raise OSError(5, "Input/output error")
        real(src, dst)
    monkeypatch.setattr(files.os, "replace", second_fails)
    second = run_experiment(parse_experiment({"seed": 2, "train": {"steps": 9}}), tmp_path, should_stop=lambda: False)
    assert second["status"] == "error" and "summary.json: Input/output error" in second["message"]
    assert first["steps"] == 6 and not (tmp_path / "summary.json").exists()   # no mark: never run 2's rows beside run 1's summary
    assert len(read_csv(tmp_path / "metrics.csv")) == 10
    assert not list(tmp_path.glob(".*tmp"))


def test_streamed_metrics_are_the_logs_csv_exactly(tmp_path):
    """The runner streams rows as they come; the window's MetricsLog builds them from batched arrays: one text."""
    from engine.training.metrics_files import MetricsLog
    from engine.training.runner import run_experiment
    from engine.training.updates import UpdateBuffer
    for name, raw in {"clipped": {"train": {"grad_clip": 0.05, "steps": 37, "eval_every": 7}},
                      "diverged": {"optimizer": {"name": "sgd", "lr": 50}, "train": {"steps": 300}}}.items():
        buffer, log = UpdateBuffer("r"), MetricsLog()

        def batch(event, buffer=buffer, log=log):
            buffer.add(event)
            if len(buffer._steps) == 5:        # a few points at a time, as the window takes them
                log.append(buffer.take("running", 0, 0.0, 0.0))
        summary = run_experiment(parse_experiment(raw), tmp_path / name, on_event=batch, should_stop=lambda: False)
        log.append(buffer.take(summary["status"], 0, 0.0, 0.0))
        text = (tmp_path / name / "metrics.csv").read_text()
        assert text == log.to_csv(), name
        assert (name == "clipped") == any(r["clipped"] == "1" for r in read_csv(tmp_path / name / "metrics.csv"))


@pytest.mark.slow
def test_memory_stays_flat_in_the_number_of_steps():
    """Peak RSS of a 200,000-step headless run is within 20 MB of a 20,000-step one (each in a fresh
    interpreter: benchmarks/runner_memory.py, which also measures 50,000 against 5,000,000)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("runner_memory", ROOT / "benchmarks" / "runner_memory.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    short, _ = bench.peak_rss_mib(20_000)
    long, _ = bench.peak_rss_mib(200_000)
    assert long - short < 20 * 1e6 / 2**20, (short, long)
