"""``main.py large-batch``: DIR/large_batch.csv (one row per method x batch) and the table; bad input one line."""
import csv
import json
import signal

import pytest

import main
from engine.commands import BAD_INPUT, COMMANDS
from engine.labs.large_batch import CSV_COLUMNS
from tests.engine.commands.test_signals import _rows, _signal_once_started

SMALL = {"name": "small", "seed": 2, "data": {"dataset": "spiral", "n_train": 300, "n_val": 100},
         "model": {"hidden": [8]}}


@pytest.fixture
def experiment(tmp_path):
    path = tmp_path / "small.json"
    path.write_text(json.dumps(SMALL))
    return path


def test_it_writes_one_row_per_method_and_batch_and_prints_the_table(experiment, tmp_path, capsys):
    out = tmp_path / "o"
    assert main.main(["large-batch", str(experiment), "--batches", "32,128", "--methods", "sgd,lamb",
                      "--epochs", "2", "--out", str(out)]) == 0
    with open(out / "large_batch.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["method"], r["batch_size"], r["steps"]) for r in rows] == [
        ("sgd", "32", "20"), ("lamb", "32", "20"), ("sgd", "128", "6"), ("lamb", "128", "6")]  # 2 x ceil(300/B)
    text = capsys.readouterr().out
    assert "training 4 runs of 'small' at 2 epochs on 300 examples" in text
    assert text.count("finished") == 4 and "val acc" in text
    assert not COMMANDS["large-batch"].source          # the lab's own set-up when neither is given


@pytest.mark.parametrize("argv, says", [
    (["--batches", "33"], "--batches: 33 is not one of 32, 64"),
    (["--batches", "32,x"], "--batches: give comma-separated whole numbers"),
    (["--methods", "sgd,adam"], "--methods: unknown method 'adam'"),
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "two"], "--epochs: must be a whole number"),
    (["--batches", "512"], "larger than data.n_train (300)"),
    (["--preset", "optimizers"], "not both"),
])
def test_bad_input_is_one_error_line_exit_2_and_nothing_written(argv, says, experiment, tmp_path, capsys):
    assert main.main(["large-batch", str(experiment), *argv, "--out", str(tmp_path / "o")]) == BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and says in err[0], err
    assert not (tmp_path / "o").exists()


def test_an_out_that_is_a_file_is_refused_before_any_work(experiment, tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("keep me")
    assert main.main(["large-batch", str(experiment), "--batches", "32", "--out", str(target)]) == BAD_INPUT
    assert capsys.readouterr().err.strip() == f"error: --out: {target} is a file, not a folder"
    assert target.read_text() == "keep me"


def test_sigint_stops_at_a_step_and_writes_what_finished(tmp_path):
    exp = tmp_path / "long.json"
    exp.write_text(json.dumps({**SMALL, "data": {"dataset": "spiral", "n_train": 8192, "n_val": 100}}))
    returncode, text = _signal_once_started(["large-batch", str(exp), "--batches", "32,64", "--methods", "sgd",
                                             "--epochs", "1000", "--out", str(tmp_path / "o")],
                                            "sgd B=32: 256,000 steps", signal.SIGINT)
    assert returncode == 130, text
    rows = _rows(tmp_path / "o" / "large_batch.csv")
    assert [(r["method"], r["batch_size"], r["status"]) for r in rows] == [("sgd", "32", "stopped")]
    assert int(rows[0]["steps"]) < int(rows[0]["planned_steps"]) == 1000 * 256
