"""The command table: main.py's parser is built from it, and every bad input becomes one line and exit 2."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import main
from engine.commands import BAD_INPUT, COMMANDS, CommandError, bad_input_errors

ROOT = Path(__file__).resolve().parents[3]
SOURCE = sorted(name for name, command in COMMANDS.items() if command.source)


def test_the_parser_offers_exactly_the_table():
    parser = main.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == list(COMMANDS)
    assert SOURCE == ["compare", "lr-find", "race", "run"]
    for name in COMMANDS:
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args([name, "--help"])
        assert exit_.value.code == 0


def test_building_the_parser_imports_neither_torch_nor_qt():
    code = "import sys, main; main.build_parser(); print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'PySide6', 'pyqtgraph', 'numpy'}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", SOURCE)
def test_a_source_command_takes_a_file_or_a_preset_not_both_nor_neither(name, tmp_path, capsys):
    assert main.main([name, "--out", str(tmp_path)]) == BAD_INPUT
    assert main.main([name, "x.json", "--preset", "optimizers", "--out", str(tmp_path)]) == BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {name} takes an experiment file or --preset NAME (one of them)"] * 2


@pytest.mark.parametrize("argv, says", [
    (["run", "missing.json"], "missing.json"),
    (["run", "--preset", "no-such"], "--preset: unknown preset 'no-such'"),
    (["race", "--preset", "optimizers", "--schedules", "constant,zigzag"], "--schedules"),
    (["trajectories", "--surface", "moon"], "moon"),
    (["trajectories", "--optimizer", "adam:lr=fast"], "lr"),
    (["init-probe", "--depth", "deep"], "depth: must be a whole number, got 'deep'"),
    (["init-probe", "--depth", "1"], "depth"),
    (["lr-find", "--preset", "optimizers", "--steps", "1"], "lr-find"),
])
def test_bad_input_is_one_error_line_and_exit_2(argv, says, tmp_path, capsys):
    assert main.main([*argv, "--out", str(tmp_path / "out")]) == BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and says in err[0], err
    assert not (tmp_path / "out").exists()       # refused before any work: nothing written


def test_the_bad_input_types_are_value_errors_and_include_the_commands_own():
    kinds = bad_input_errors()
    assert CommandError in kinds and all(issubclass(kind, ValueError) for kind in kinds)


@pytest.mark.parametrize("argv, says", [
    (["run", "--preset", "optimizers", "--threads", "0"], "argument --threads: must be a whole number >= 1, got '0'"),
    (["lr-find", "--preset", "optimizers", "--threads", "-1"], "argument --threads: must be a whole number >= 1"),
    (["bench", "--steps", "0"], "argument --steps: must be a whole number >= 1, got '0'"),
    (["bench", "--repeats", "-1"], "argument --repeats"),
    (["run", "--no-such-option"], "unrecognized arguments: --no-such-option"),
])
def test_a_wrong_option_is_one_line_naming_it(argv, says, capsys):
    with pytest.raises(SystemExit) as exit_:
        main.main(argv)
    assert exit_.value.code == BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and says in err[0], err


@pytest.mark.parametrize("argv, says", [
    (["trajectories", "--steps", "²", "--optimizer", "sgd:lr=0.01"], "steps: must be a whole number >= 0, got '²'"),
    (["race", "--preset", "optimizers", "--schedules", ","], "--schedules: give at least one schedule, got ','"),
])
def test_small_inputs_that_used_to_escape_are_refused(argv, says, tmp_path, capsys):
    assert main.main([*argv, "--out", str(tmp_path / "out")]) == BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err


@pytest.mark.parametrize("name", ["..", ".", "", "a/../b", "-=x"])
def test_a_run_name_is_one_folder_inside_out(name):
    from engine.commands.common import slug
    text = slug(name)
    assert text not in ("", ".", "..") and "/" not in text and not text.startswith(("-", "."))


def _read_only(folder: Path) -> bool:
    """Make ``folder`` read-only; False when this user can write there anyway (root): then the test skips."""
    folder.chmod(0o555)
    try:
        (folder / ".probe").write_text("x")
    except OSError:
        return True
    (folder / ".probe").unlink()
    return False


@pytest.mark.parametrize("command", [["run", "--preset", "optimizers"], ["compare", "--preset", "regularization-lab"],
                                     ["init-probe"], ["race", "--preset", "optimizers"],
                                     ["lr-find", "--preset", "optimizers"]])
def test_an_out_that_is_a_file_is_refused_before_any_work(command, tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("keep me")
    assert main.main([*command, "--out", str(target)]) == BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --out: {target} is a file, not a folder"]
    assert target.read_text() == "keep me"
    # under a file, too
    assert main.main([*command, "--out", str(target / "sub")]) == BAD_INPUT
    assert "is a file, not a folder" in capsys.readouterr().err


def test_trajectories_out_must_be_a_file_name(tmp_path, capsys):
    assert main.main(["trajectories", "--optimizer", "sgd:lr=0.01", "--out", str(tmp_path)]) == BAD_INPUT
    assert "is a folder; give a file name" in capsys.readouterr().err


def test_an_unwritable_out_is_refused_before_any_work(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    try:
        if not _read_only(locked):
            pytest.skip("this user writes into read-only folders (root)")
        assert main.main(["run", "--preset", "optimizers", "--out", str(locked)]) == BAD_INPUT
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: --out: cannot write in {locked}")
        assert main.main(["run", "--preset", "optimizers", "--out", str(locked / "new")]) == BAD_INPUT
        assert not (locked / "new").exists()
    finally:
        locked.chmod(0o755)


def test_seed_overrides_the_file_and_gives_the_run_that_seed_would(tmp_path, capsys):
    import json
    base = {"name": "s", "data": {"dataset": "spiral", "n_train": 64, "n_val": 32}, "model": {"hidden": [4]},
            "train": {"steps": 6, "eval_every": 3, "histogram_every": 0}}
    (tmp_path / "a.json").write_text(json.dumps({**base, "seed": 0}))
    (tmp_path / "b.json").write_text(json.dumps({**base, "seed": 7}))
    assert main.main(["run", str(tmp_path / "a.json"), "--seed", "7", "--out", str(tmp_path / "a")]) == 0
    assert main.main(["run", str(tmp_path / "b.json"), "--out", str(tmp_path / "b")]) == 0
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["experiment"]["seed"] == 7
    columns = lambda p: [line.split(",")[:4] for line in (p / "metrics.csv").read_text().splitlines()]
    assert columns(tmp_path / "a") == columns(tmp_path / "b")      # same seed, same numbers


def test_a_bad_seed_is_named(tmp_path, capsys):
    assert main.main(["run", "--preset", "optimizers", "--seed", "-1", "--out", str(tmp_path)]) == BAD_INPUT
    assert capsys.readouterr().err == "error: seed: must be >= 0, got -1\n"


def test_compare_writes_each_runs_gap_over_training_ending_at_its_row(tmp_path, capsys):
    import csv
    import json
    base = {"data": {"dataset": "spiral", "n_train": 64, "n_val": 32}, "model": {"hidden": [8]},
            "train": {"steps": 30, "eval_every": 10, "histogram_every": 0}}
    (tmp_path / "runs.json").write_text(json.dumps([{**base, "name": "a"}, {**base, "name": "b",
                                                                           "model": {"hidden": [8], "dropout": 0.5}}]))
    assert main.main(["compare", str(tmp_path / "runs.json"), "--out", str(tmp_path / "o")]) == 0
    read = lambda name: list(csv.DictReader(open(tmp_path / "o" / name, newline="")))
    rows, curve = read("comparison.csv"), read("gap_curves.csv")
    assert [r["name"] for r in rows] == ["a", "b"]
    for row in rows:
        points = [p for p in curve if p["name"] == row["name"]]
        assert [int(p["step"]) for p in points] == [0, 10, 20, 30]
        assert all(float(p["gap"]) == pytest.approx(float(p["train_acc"]) - float(p["val_acc"]), abs=1e-12)
                   for p in points)
        assert {k: points[-1][k] for k in ("train_acc", "val_acc", "gap")} == \
            {k: row[k] for k in ("train_acc", "val_acc", "gap")}


def test_compare_says_a_diverged_run_is_diverged_and_writes_names_as_text(tmp_path, capsys):
    import csv
    import json
    base = {"data": {"dataset": "spiral", "n_train": 64, "n_val": 32}, "model": {"hidden": [8]},
            "train": {"steps": 10, "eval_every": 5, "histogram_every": 0}}
    (tmp_path / "runs.json").write_text(json.dumps([
        {**base, "name": "=fine"},
        {**base, "name": "blown", "optimizer": {"name": "adam", "lr": 1e300}},
        {**base, "name": "broken", "model": {"hidden": [8], "init": "normal", "init_std": 1e4}}]))
    assert main.main(["compare", str(tmp_path / "runs.json"), "--out", str(tmp_path / "o")]) == 0
    with open(tmp_path / "o" / "comparison.csv", newline="") as fh:
        lines = list(csv.reader(fh))
    assert lines[0] == ["name", "train_acc", "val_acc", "gap", "status"]
    assert [(line[0], line[-1]) for line in lines[1:]] == [("'=fine", "finished"), ("blown", "diverged"),
                                                            ("broken", "diverged")]
    out = capsys.readouterr().out
    assert "blown: " in out and "(diverged)" in out and "=fine: " in out


def test_batchnorm_with_one_training_example_is_one_line_naming_data_n_train(tmp_path, capsys):
    import json
    (tmp_path / "bn.json").write_text(json.dumps({"data": {"dataset": "spiral", "n_train": 1, "n_val": 8},
                                                  "model": {"hidden": [4], "norm": "batch"},
                                                  "train": {"steps": 3}}))
    assert main.main(["run", str(tmp_path / "bn.json"), "--out", str(tmp_path / "o")]) == BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("error: data.n_train: ") and err.count("\n") == 1


def test_batchnorm_with_a_last_batch_of_one_runs_to_the_end(tmp_path, capsys):
    import json
    (tmp_path / "bn.json").write_text(json.dumps({"data": {"dataset": "spiral", "n_train": 33, "n_val": 8},
                                                  "model": {"hidden": [4], "norm": "batch"},
                                                  "train": {"steps": 4, "batch_size": 32}}))
    assert main.main(["run", str(tmp_path / "bn.json"), "--out", str(tmp_path / "o")]) == 0
    summary = json.loads(next((tmp_path / "o").rglob("summary.json")).read_text())
    assert summary["status"] == "finished" and summary["steps"] == 4


def test_a_write_that_fails_at_the_end_is_one_line_and_exit_1_for_every_command(tmp_path, monkeypatch, capsys):
    """A full disk when a lab command writes its files: one error line, exit 1, no traceback."""
    import errno

    from engine import files
    from engine.commands import INTERNAL

    def full(*args, **kwargs):
        raise files.WriteError(tmp_path / "o" / "lr_curves.csv", OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    monkeypatch.setattr("engine.labs.race.write_csv_atomic", full)
    assert main.main(["race", "--preset", "optimizers", "--out", str(tmp_path / "o")]) == INTERNAL
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: cannot write {tmp_path}/o/lr_curves.csv: No space left on device"]
