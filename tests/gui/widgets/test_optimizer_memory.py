"""The optimizer's state memory in the window: the form's line follows the chosen optimizer and network, and the
table shows every optimizer with the note on Adafactor."""
from __future__ import annotations

import pytest

from engine.config import Experiment, OptimizerConfig
from engine.experiment import parse_experiment
from engine.optim.optimizers import OPTIMIZERS
from gui.training.form import ExperimentForm
from gui.widgets.optimizer_memory import OptimizerMemoryDialog, chosen_memory


@pytest.fixture
def form(qtbot):
    widget = ExperimentForm()
    qtbot.addWidget(widget)
    widget.resize(360, 900)
    qtbot.waitUntil(lambda: "measuring" not in widget.state_memory.text(), timeout=60_000)
    return widget


def line(form):
    return form.state_memory.text()


def test_the_line_shows_the_chosen_optimizers_state_for_the_current_network(form):
    assert "State memory: 2.0x the weights, 2.9 KB" in line(form)          # adam on the default 2-16-16-2
    assert form.state_memory.memory.state_bytes == 2 * 354 * 4 + 4 * 6
    assert "exp_avg, exp_avg_sq, step" in form.state_memory.toolTip()
    form.set_experiment(Experiment(optimizer=OptimizerConfig(name="sgd")))
    assert "none kept (0 B)" in line(form)
    form.set_experiment(Experiment(optimizer=OptimizerConfig(name="sgd", momentum=0.9)))
    assert "1.0x the weights, 1.4 KB" in line(form)


def test_it_follows_the_network_and_typed_edits(form):
    combo = form.field("optimizer.name").editor
    combo.setCurrentIndex(combo.findText("adafactor"))
    assert "0.3x the weights, 432 B" in line(form)
    form.field("model.hidden").editor.setText("128, 128")
    # 2-128-128-2: a row and a column per matrix (130 + 256 + 130 floats), the biases whole (258), 6 steps
    assert (130 + 256 + 130 + 258) * 4 + 6 * 4 == 3120
    assert "0.045x the weights, 3.1 KB" in line(form)                      # of 17,154 weights (68,616 B)
    form.field("model.hidden").editor.setText("128, -1")                     # invalid: the last figure stays
    assert form.experiment() is None and "3.1 KB" in line(form)


def test_the_measurement_is_cached_and_ignores_the_rate():
    a = parse_experiment({"optimizer": {"name": "adam", "lr": 0.1}})
    b = parse_experiment({"optimizer": {"name": "adam", "lr": 0.001}, "train": {"steps": 7}})
    assert chosen_memory(a) is chosen_memory(b)


def test_the_table_has_every_optimizer_on_both_networks_and_the_adafactor_note(form, qtbot):
    form.set_experiment(parse_experiment({"data": {"dataset": "digits"}, "model": {"hidden": [128, 128]}}))
    form.state_memory.open_table()
    dialog = form.state_memory.dialog
    assert isinstance(dialog, OptimizerMemoryDialog) and dialog.isVisible()
    table = dialog.table
    assert table.rowCount() == len(OPTIMIZERS)
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert names == list(OPTIMIZERS)
    adam, factor = names.index("adam"), names.index("adafactor")
    assert table.item(adam, 2).text() == "2.0x" and table.item(adam, 3).text() == "100.0%"
    assert table.item(factor, 3).text() == "1.6%" and table.item(factor, 6).text() == "0.1%"
    assert table.item(adam, 0).font().bold() and not table.item(factor, 0).font().bold()
    note = dialog.note.text()
    assert "~50%" in note and "1.6% of Adam's state on mlp 64-128-128-10" in note and "first moment" in note
    dialog.close()
