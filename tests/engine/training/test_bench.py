"""The benchmark's K-seeds rows (engine/training/bench.py): what they time and how they count it.
Speed itself is measured by `main.py bench`, never asserted here."""
import warnings

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
