"""The benchmark's K-seeds and precision rows (engine/training/bench.py): what they time and how they count it.
Speed itself is measured by `main.py bench`, never asserted here."""
import warnings

import pytest

import main
from engine.commands import BAD_INPUT
from engine.training.bench import CASES, MembersResult, measure_members, members_round


def test_a_members_round_times_both_trainers():
    exp = next(iter(CASES.values()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        vectorized, sequential = members_round(exp, 2, 20)
    assert vectorized > 0 and sequential > 0


def test_a_members_row_counts_model_steps():
    case, exp = next(iter(CASES.items()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        row = measure_members(case, exp, 2, 20, 1)
    assert isinstance(row, MembersResult) and row.K == 2 and row.case == case
    assert row.vectorized > 0 and row.sequential > 0 and row.ratio > 0


def test_a_precision_round_times_every_precision(capsys):
    from engine.training.bench import PRECISIONS, precision_main, precision_round
    exp = next(iter(CASES.values()))
    spent = precision_round(exp, 20)
    assert set(spent) == set(PRECISIONS) == {"fp32", "bf16", "fp16"} and all(t > 0 for t in spent.values())
    assert precision_main(repeats=1, steps=20) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "x |" in line]
    assert len(rows) == len(CASES)      # one row per case: fp32 steps/s, bf16 and fp16 as fractions of it


def test_a_negative_precision_repeats_is_one_line_naming_it(capsys):
    with pytest.raises(SystemExit) as exit_:
        main.main(["bench", "--precision-repeats", "-1"])
    assert exit_.value.code == BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "argument --precision-repeats" in err[0]
