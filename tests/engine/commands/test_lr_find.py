"""``main.py lr-find --check``: the sweep, then the finder tab's Challenge headless, its files and its verdict."""
import csv
import json
import math

import pytest

from engine.commands import BAD_INPUT
from engine.labs.lrfinder import CHECK_COLUMNS, CHECK_RUNS, CheckPoint, CheckResult, check_verdict


def _lr_find(capsys, *args):
    """``main.py lr-find ARGS`` in this process (same code path as the shell, without a second torch import)."""
    import main
    code = main.main(["lr-find", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_writes_each_checked_rate_and_the_engines_verdict(tmp_path, capsys):
    code, out, err = _lr_find(capsys, "--preset", "finder-fails", "--check", "--steps", "30", "--check-steps", "15",
                              "--out", str(tmp_path))
    assert code == 0, err
    assert {p.name for p in tmp_path.iterdir()} == {"lr_find.csv", "suggestions.json", "check.csv", "verdict.json"}
    with open(tmp_path / "check.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CHECK_COLUMNS == ("run", "lr", "val_loss", "val_acc", "status", "message")
    assert [int(r["run"]) for r in rows] == list(range(CHECK_RUNS))              # the tab's rates
    lrs = [float(r["lr"]) for r in rows]
    assert all(b > a for a, b in zip(lrs, lrs[1:]))
    assert all(math.isnan(float(r["val_loss"])) == (r["status"] != "finished") for r in rows)
    # The verdict is the engine's rule on these very numbers, and what the command says.
    suggestions = json.loads((tmp_path / "suggestions.json").read_text())
    check = CheckResult(tuple(CheckPoint(int(r["run"]), float(r["lr"]), float(r["val_loss"]), float(r["val_acc"]),
                                         r["status"], r["message"]) for r in rows), 15)
    expected = check_verdict(suggestions["suggestions"]["valley"], check)
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert verdict == {**expected.summary(), "check_steps": 15, "check_runs": CHECK_RUNS}
    assert expected.best_lr is not None and expected.sentence in out


def test_without_check_there_is_no_check(tmp_path, capsys):
    code, out, err = _lr_find(capsys, "--preset", "finder-fails", "--steps", "20", "--out", str(tmp_path))
    assert code == 0, err
    assert not (tmp_path / "check.csv").exists() and not (tmp_path / "verdict.json").exists()
    assert "checking" not in out


def test_a_bad_check_length_is_one_line_and_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:     # argparse refuses it, as every whole-number option
        _lr_find(capsys, "--preset", "finder-fails", "--check", "--check-steps", "0", "--out", str(tmp_path / "x"))
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == BAD_INPUT and len(err) == 1
    assert err[0].startswith("error: argument --check-steps: must be a whole number >= 1")
    assert not (tmp_path / "x").exists()
