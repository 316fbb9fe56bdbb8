"""The regularization lab's claim, run headless: regularizers narrow the train-validation gap.

Measured (final train acc / val acc, gap) at seeds 0/1/2, 400 steps each:
none 1.00/0.73 0.27, 1.00/0.76 0.24, 1.00/0.78 0.22;
dropout 0.5 gap 0.18/0.18/0.16; weight decay 2 gap 0.15/0.16/0.11; augmentation 0.00/0.01/0.05;
batch norm 0.27/0.29/0.22; all together -0.05/-0.08/-0.04 at train acc 0.65/0.53/0.61.
The six runs take about 4 s on one core (7 s on the shared, busy 2-core VM).
"""
import csv
import os

import numpy as np
import pytest

from engine.config import Experiment, TrainConfig
from engine.labs.regularization import (
    GAP_COLUMNS,
    ComparisonRow,
    GapCurve,
    gap_curve,
    run_comparison,
    run_gap_curves,
    write_gap_csv,
)
from engine.lessons.presets import LAB_NOTES, PRESETS
from engine.training.events import EvalEvent
from engine.training.updates import EvalSeries

SEED = os.environ.get("PRESET_SEED") or None


@pytest.fixture(scope="module")
def curves():
    runs = PRESETS["regularization-lab"].runs
    if SEED is not None:
        runs = [exp.replace(seed=int(SEED)) for exp in runs]
    return {curve.name: curve for curve in run_gap_curves(runs)}


@pytest.fixture(scope="module")
def rows(curves):
    return {name: curve.row for name, curve in curves.items()}


def test_the_lab_has_six_variants_each_explained_in_one_line():
    names = [exp.name for exp in PRESETS["regularization-lab"].runs]
    assert names == list(LAB_NOTES) and len(names) == 6
    assert all(len(note) < 100 and note.count(". ") == 0 for note in LAB_NOTES.values())
    by = {exp.name: exp for exp in PRESETS["regularization-lab"].runs}
    assert by["none"].model.dropout == 0 and by["none"].optimizer.weight_decay == 0
    assert not by["none"].augment.active and by["none"].model.norm == "none"
    together = by["all together"]
    assert together.model.dropout == by["dropout 0.5"].model.dropout
    assert together.optimizer.weight_decay == by["weight decay 2"].optimizer.weight_decay
    assert together.augment == by["augmentation"].augment and together.model.norm == "batch"


def test_regularization_narrows_the_train_val_gap(rows):
    none = rows["none"]
    assert none.train_acc == 1.0 and none.gap > 0.2          # memorized, wrong labels included
    for name in ("dropout 0.5", "weight decay 2", "augmentation"):
        assert rows[name].gap < none.gap - 0.04, name
        assert rows[name].val_acc > none.val_acc + 0.02, name
    assert rows["augmentation"].gap < min(rows["dropout 0.5"].gap, rows["weight decay 2"].gap)
    assert rows["all together"].gap < 0.05 < none.gap
    # The price of stacking them all: it no longer fits even the training set.
    assert rows["all together"].train_acc < 0.8
    # Batch norm is an optimization aid: alone it hardly narrows the gap.
    assert rows["batch norm"].gap > none.gap - 0.05


def test_a_gap_curve_is_train_minus_val_at_each_evaluation_and_ends_at_the_row():
    events = [EvalEvent(0, 0.0, 2.3, 0.1, 2.3, 0.12), EvalEvent(50, 10.0, 0.5, 0.8, 0.9, 0.7),
              EvalEvent(100, 20.0, 0.1, 0.95, 1.1, 0.72)]
    curve = gap_curve("x", events)
    np.testing.assert_array_equal(curve.step, [0, 50, 100])
    np.testing.assert_allclose(curve.train_acc, [0.1, 0.8, 0.95])
    np.testing.assert_allclose(curve.val_acc, [0.12, 0.7, 0.72])
    np.testing.assert_allclose(curve.gap, [-0.02, 0.1, 0.23])
    assert curve.row == ComparisonRow("x", 0.95, 0.72) and curve.row.gap == pytest.approx(curve.gap[-1])
    # The window's log keeps evaluations as batches of arrays: the same evaluations, the same curve.
    batches = [EvalSeries(*(np.array([getattr(e, k) for e in part]) for k in
                            ("step", "epoch", "train_loss", "train_acc", "val_loss", "val_acc")))
               for part in (events[:2], events[2:])]
    from_log = gap_curve("x", batches)
    assert from_log.step.dtype == np.int64 and from_log.row == curve.row
    np.testing.assert_array_equal(from_log.gap, curve.gap)
    with pytest.raises(ValueError, match="no evaluation"):
        gap_curve("x", [])
    with pytest.raises(ValueError):
        GapCurve("x", np.array([0, 1]), np.array([0.5]), np.array([0.5]))


def test_the_lab_curves_end_at_the_rows_and_show_memorizing(curves):
    for curve in curves.values():
        exp = next(e for e in PRESETS["regularization-lab"].runs if e.name == curve.name)
        every, total = exp.train.eval_every, exp.total_steps()
        assert list(curve.step) == sorted({*range(0, total, every), total})   # every evaluation, in order
        np.testing.assert_array_equal(curve.gap, curve.train_acc - curve.val_acc)
        assert curve.gap[-1] == curve.row.gap
    none = curves["none"]
    assert none.gap[0] < 0.1 < none.gap[-1]        # the untrained network knows nothing, seen or not


def test_run_comparison_gives_the_curves_last_points():
    runs = [Experiment(name=name, seed=seed, train=TrainConfig(steps=30, eval_every=10)) for name, seed in
            (("a", 0), ("b", 1))]
    heard: list = []
    curves = run_gap_curves(runs, on_curve=heard.append)
    assert heard == curves and [list(c.step) for c in curves] == [[0, 10, 20, 30]] * 2
    said: list = []
    assert run_comparison(runs, on_row=said.append) == said == [c.row for c in curves]


def test_write_gap_csv_writes_a_row_per_run_and_evaluation(tmp_path):
    curves = [gap_curve("a", [EvalEvent(0, 0.0, 2.0, 0.1, 2.0, 0.2), EvalEvent(10, 1.0, 1.0, 0.9, 1.5, 0.6)]),
              gap_curve("b, c", [EvalEvent(0, 0.0, 2.0, 0.3, 2.0, 0.3)])]
    path = write_gap_csv(curves, tmp_path / "gap_curves.csv")
    with path.open(newline="") as fh:
        lines = list(csv.reader(fh))
    assert tuple(lines[0]) == GAP_COLUMNS == ("name", "step", "train_acc", "val_acc", "gap")
    assert [line[:2] for line in lines[1:]] == [["a", "0"], ["a", "10"], ["b, c", "0"]]
    values = np.array([[float(v) for v in line[2:]] for line in lines[1:]])
    np.testing.assert_allclose(values, [[0.1, 0.2, -0.1], [0.9, 0.6, 0.3], [0.3, 0.3, 0.0]])
    assert float(lines[2][4]) == curves[0].row.gap     # every digit: the last row is comparison.csv's row


def test_a_stop_gives_no_row_and_no_curve():
    assert run_comparison(PRESETS["regularization-lab"].runs, should_stop=lambda: True) == []
    assert run_gap_curves(PRESETS["regularization-lab"].runs, should_stop=lambda: True) == []


# -- a run that did not finish says so; names never become formulas (issue 10) ---------------------------

def test_a_diverged_or_failed_run_says_so_in_its_row_and_curve():
    small = {"data": {"dataset": "spiral", "n_train": 64, "n_val": 32}, "model": {"hidden": [8]},
             "train": {"steps": 10, "eval_every": 5}}
    runs = [Experiment(name="fine").replace(**small),
            Experiment(name="blown").replace(**small, optimizer={"name": "adam", "lr": 1e300}),
            Experiment(name="broken").replace(**{**small, "model": {"hidden": [8], "init": "normal",
                                                                    "init_std": 1e4}})]
    curves = run_gap_curves(runs)
    assert [(c.name, c.status, c.row.status) for c in curves] == [
        ("fine", "finished", "finished"), ("blown", "diverged", "diverged"), ("broken", "diverged", "diverged")]
    assert list(curves[2].step) == [0]                  # broken from the start: its one point is step 0
    assert [r.status for r in run_comparison(runs)] == ["finished", "diverged", "diverged"]


def test_write_comparison_csv_puts_status_last_and_names_as_text(tmp_path):
    from engine.labs.regularization import COMPARISON_COLUMNS, write_comparison_csv
    rows = [ComparisonRow("=1+1", 0.75, 0.5), ComparisonRow("-x", 0.5, 0.25, "diverged"),
            ComparisonRow("plain, name", 0.1 + 0.2, 0.0, "error")]
    path = write_comparison_csv(rows, tmp_path / "comparison.csv")
    with path.open(newline="") as fh:
        lines = list(csv.reader(fh))
    assert tuple(lines[0]) == COMPARISON_COLUMNS == ("name", "train_acc", "val_acc", "gap", "status")
    assert [line[0] for line in lines[1:]] == ["'=1+1", "'-x", "plain, name"]
    assert [line[4] for line in lines[1:]] == ["finished", "diverged", "error"]
    assert float(lines[3][1]) == 0.1 + 0.2 and float(lines[1][3]) == 0.25        # every digit


def test_write_gap_csv_writes_names_as_text(tmp_path):
    curve = gap_curve("+cmd", [EvalEvent(0, 0.0, 2.0, 0.1, 2.0, 0.2)])
    with write_gap_csv([curve], tmp_path / "g.csv").open(newline="") as fh:
        assert list(csv.reader(fh))[1][0] == "'+cmd"


def test_text_cell_quotes_only_formula_leads():
    from engine.files import text_cell
    assert [text_cell(s) for s in ("=A1", "+1", "-1", "@SUM(A1)", "a=b", "", "none")] == \
        ["'=A1", "'+1", "'-1", "'@SUM(A1)", "a=b", "", "none"]


def test_a_run_of_several_seeds_is_refused_before_any_training_naming_the_key():
    """The comparison trains one seed per run: a run of K seeds would silently be its member 0 alone."""
    small = {"data": {"dataset": "spiral", "n_train": 64, "n_val": 32}, "model": {"hidden": [8]},
             "train": {"steps": 10, "eval_every": 5}}
    runs = [Experiment(name="one").replace(**small),
            Experiment(name="four").replace(**{**small, "train": {"steps": 10, "eval_every": 5, "seeds": 4}})]
    heard = []
    with pytest.raises(ValueError, match=r"^train\.seeds: .*'four' has 4"):
        run_gap_curves(runs, on_curve=heard.append)
    assert heard == []
