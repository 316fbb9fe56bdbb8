"""The boundary a finished or single-stepped run leaves on screen is the one of its last step."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor

from engine.config import Experiment, TrainConfig
from engine.status import RunStatus
from engine.training.session import Lab
from gui.style.palette import BOUNDARY_BACKGROUND
from gui.training.boundary import BoundaryView, boundary_rgba
from gui.widgets.plotting import plain_text


def title(view: BoundaryView) -> str:
    return plain_text(view.plot_widget().getPlotItem().titleLabel.text)


def shown_through(view: BoundaryView, lab: Lab, now: float) -> None:
    """What the window does with each update: the newest boundary of a run goes to the view."""
    for update in lab.take_updates(now=now):
        if update.boundary is not None:
            view.show(update.run_id, update.boundary)


def test_a_finished_run_shows_the_boundary_of_its_last_step(qtbot):
    lab = Lab(boundary_grid=30, boundary_interval=1e9)   # the cadence alone would never send another
    lab.add("a", Experiment(name="a", train=TrainConfig(steps=25, eval_every=5)))
    lab.start()
    view = BoundaryView()
    qtbot.addWidget(view)
    for i in range(30):
        lab.step_round()
        if i == 0:
            view.set_data("a", lab.data("a"))
        shown_through(view, lab, now=float(i))
    assert lab.status("a") == RunStatus.FINISHED
    assert title(view) == "step 25"
    final = lab.boundary("a")
    np.testing.assert_array_equal(view.image_array(), boundary_rgba(final.probs, QColor(BOUNDARY_BACKGROUND)))


def test_each_single_step_redraws_the_boundary(qtbot):
    lab = Lab(boundary_grid=30, boundary_interval=1e9)
    lab.add("a", Experiment(name="a", train=TrainConfig(steps=25, eval_every=5)))
    view = BoundaryView()
    qtbot.addWidget(view)
    titles = []
    for i in range(3):
        lab.step_once()
        if i == 0:
            view.set_data("a", lab.data("a"))
        shown_through(view, lab, now=float(i))
        titles.append(title(view))
    assert titles == ["step 1", "step 2", "step 3"]


def test_after_clear_runs_and_add_run_the_new_run_is_drawn_not_the_removed_one(qtbot, lab_window):
    """Removing the run shown used to leave it the view's run: the next run's data and boundary were stored
    but the view still showed the removed one ("Select a run"), until a click on the runs list."""
    from engine.config import DataConfig
    window = lab_window

    def train(name: str, dataset: str) -> str:
        run_id = window.add_run(Experiment(name=name, data=DataConfig(dataset=dataset),
                                           train=TrainConfig(steps=20, eval_every=10)))
        window.start_action.trigger()
        qtbot.waitUntil(lambda: all(r.status == RunStatus.FINISHED for r in window.runs.values()), timeout=60_000)
        window.training_tab.flush_drawing()
        return run_id

    window.clear_runs()
    window.runs_list.select(train("old", "spiral"))
    view = window.boundary
    assert view.message() is None and view.image_array() is not None
    window.clear_runs()
    assert view.message() is not None and view.image_array() is None      # nothing of the removed run
    new = train("new", "moons")
    assert view.message() is None, view.message()
    final = window.training_tab.boundary._boundaries[new]
    np.testing.assert_array_equal(view.image_array(), boundary_rgba(final.probs, QColor(BOUNDARY_BACKGROUND)))
    assert "moons" in plain_text(view.key_text())


def test_removing_the_run_shown_shows_another_run_with_data(qtbot):
    view = BoundaryView()
    qtbot.addWidget(view)
    lab = Lab(boundary_grid=10, boundary_interval=1e9)
    for run_id in ("a", "b"):
        lab.add(run_id, Experiment(name=run_id, train=TrainConfig(steps=3)))
    lab.start()
    lab.step_round()
    for run_id in ("a", "b"):
        view.set_data(run_id, lab.data(run_id))
    shown_through(view, lab, now=0.0)
    view.select_run("a")
    view.remove_run("a")
    np.testing.assert_array_equal(view.image_array(), boundary_rgba(lab.boundary("b").probs, QColor(BOUNDARY_BACKGROUND)))
    view.remove_run("b")
    assert view.message() is not None and view.image_array() is None
