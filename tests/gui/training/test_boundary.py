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
