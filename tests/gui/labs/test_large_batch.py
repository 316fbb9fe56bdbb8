"""The large-batch tab: tick batch sizes and methods, Run, and the engine's rows appear in the table and curves."""
import math

import pytest

from engine.config import Experiment
from engine.labs.large_batch import LAB_EXPERIMENT, LargeBatchResult, LargeBatchRow, LargeBatchSettings
from engine.lessons.claims.large_batch import CLAIMS, needs
from engine.status import RunStatus
from gui.labs.large_batch import LargeBatchTab

TIMEOUT = 60_000
TINY = Experiment(name="tiny", seed=1).replace(data={"dataset": "spiral", "n_train": 256, "n_val": 64},
                                               model={"hidden": (8,)})


@pytest.fixture
def tab(qtbot):
    widget = LargeBatchTab()
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def _tick(tab, batches, methods):
    for batch, box in tab.batch_boxes.items():
        box.setChecked(batch in batches)
    for key, box in tab.method_boxes.items():
        box.setChecked(key in methods)


def test_a_tiny_race_shows_its_rows_in_the_table_and_the_curves(qtbot, tab):
    tab.base = TINY
    _tick(tab, (32, 128), ("sgd", "lars"))
    tab.epochs_spin.setValue(2)
    assert tab.run_button.text() == "Run 4 trainings"
    with qtbot.waitSignal(tab.result_done, timeout=TIMEOUT) as done:
        assert tab.start()
    result = done.args[0]
    assert [(r.method, r.batch_size, r.steps) for r in result.rows] == [
        ("sgd", 32, 16), ("lars", 32, 16), ("sgd", 128, 4), ("lars", 128, 4)]     # 2 epochs x ceil(256 / B)
    assert tab.table.rowCount() == 4
    assert [tab.table.item(i, 0).text() for i in range(4)] == ["sgd", "lars", "sgd", "lars"]
    assert tab.table.item(2, 3).text() == "4" and tab.table.item(2, 4).text() == RunStatus.FINISHED
    assert float(tab.table.item(3, 6).text()) == pytest.approx(result.row("lars", 128).final_val_acc, abs=1e-4)
    x, acc = tab.acc_curves["sgd"].xData, tab.acc_curves["sgd"].yData
    assert list(x) == [32, 128] and list(acc) == [result.row("sgd", 32).final_val_acc,
                                                 result.row("sgd", 128).final_val_acc]
    lamb = tab.acc_curves["lamb"].xData
    assert lamb is None or len(lamb) == 0                  # not ticked: no curve
    assert "judged against it" in tab.verdict.text()       # a tiny set-up is not the claim's
    qtbot.waitUntil(lambda: not tab.busy() and tab.run_button.text() == "Run 4 trainings", timeout=TIMEOUT)


def test_nothing_ticked_cannot_run(tab):
    _tick(tab, (), ("sgd",))
    assert tab.settings() is None and not tab.run_button.isEnabled() and not tab.start()


def test_the_verdict_reads_the_claims_own_conditions(tab):
    """Runs of the claim's set-up where SGD holds everywhere: the conditions that say it breaks are marked failed."""
    rows = tuple(LargeBatchRow(m, b, 0.1, 0, 10, 10, RunStatus.FINISHED, "", 0.1, 0.1, 0.96) for m, b in sorted(needs()))
    tab.show_result(LargeBatchResult(LargeBatchSettings(batches=(32, 512, 2048, 8192)), LAB_EXPERIMENT.name, rows))
    text = tab.verdict.text()
    (claim,) = CLAIMS
    kept = [c.text for c in claim.conditions if c.test({f"{m}@{b} val acc": 0.96 for m, b in needs()})]
    assert f"In this run {len(kept)} of {len(claim.conditions)} conditions hold" in text
    assert "✗ and breaks beyond" in text and "✓ scaled SGD holds to B=512" in text
    # the loss plot is on a log axis: every loss drawn is positive and finite
    assert all(math.isfinite(v) and v > 0 for v in tab.loss_curves["sgd"].yData)
