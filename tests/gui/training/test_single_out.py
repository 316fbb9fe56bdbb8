"""A member of a multi-seed run singled out as its own run: the run list's right-click menu, the run it adds
(seed + k on the band's data), and its curve, which runs inside the band it came from at every evaluation."""
from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QMenu

from engine.config import Experiment
from engine.training.members import member_experiment
from tests.gui.shell.test_window import wait_final

BAND = Experiment(name="band", seed=3).replace(data={"dataset": "moons", "n_train": 64, "n_val": 64},
                                               model={"hidden": (8,), "dropout": 0.2},
                                               train={"steps": 60, "eval_every": 10, "seeds": 4})


def test_the_menu_singles_out_a_member_that_trains_inside_its_band(qtbot, lab_window):
    w = lab_window
    tab = w.training_tab
    tab.set_runs([BAND])
    (band_id,) = tab.runs
    menu = tab.run_menu.menu(band_id)
    (single_menu,) = [a.menu() for a in menu.actions() if a.menu() is not None]
    assert single_menu.title() == "Single out a member"
    actions = single_menu.actions()
    assert [a.text() for a in actions] == [f"member {k} (seed {3 + k})" for k in range(4)]
    actions[2].trigger()
    assert len(tab.runs) == 2
    new_id = tab.runs_list.selected_run()
    single = tab.runs[new_id]
    assert single.name == "band · seed 5"
    assert single.experiment == member_experiment(BAND, 2).replace(name="band · seed 5")
    assert (single.experiment.seed, single.experiment.data.seed, single.experiment.train.seeds) == (5, 3, 1)
    assert "Member 2 of band is its own run" in w.statusBar().currentMessage()
    w.toggle_start()
    wait_final(qtbot, w)
    band = tab.plots._bands[band_id].evals
    mine = tab.plots._runs[new_id].points.evals
    assert list(mine["step"]) == list(band["step"]) and len(band["step"]) == 7
    for name in ("val_loss", "train_acc"):
        low, high, value = band[f"{name}_minimum"], band[f"{name}_maximum"], mine[name]
        assert np.all(low - 1e-6 <= value) and np.all(value <= high + 1e-6), name
    assert np.any(band["val_loss_maximum"] - band["val_loss_minimum"] > 1e-4)    # a band, not a line


def test_a_one_seed_run_has_no_member_to_single_out_and_a_right_click_opens_the_menu(qtbot, lab_window):
    tab = lab_window.training_tab
    tab.set_runs([BAND.replace(train={"seeds": 1})])
    (run_id,) = tab.runs
    menu = tab.run_menu.menu(run_id)
    assert [a.text() for a in menu.actions()] == ["Remove"]
    assert tab.run_menu.single_out(run_id, 0) is None and len(tab.runs) == 1
    shown = []
    tab.runs_list.menu_requested.connect(lambda rid, where: shown.append(rid))
    tab.runs_list.customContextMenuRequested.emit(tab.runs_list.visualItemRect(tab.runs_list.item(0, 0)).center())
    assert shown == [run_id]
    popped = tab.findChildren(QMenu)
    assert any(m.isVisible() for m in popped)        # the tab's own handler popped the menu up
    for m in popped:
        m.hide()
    menu.actions()[0].trigger()
    assert not tab.runs
