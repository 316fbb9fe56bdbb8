"""The lesson labs inside the main window: built when opened, wired to the training lab and the form."""
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSettings

from gui.labs import LABS, LabHolder
from gui.shell.window import MainWindow

TIMEOUT = 60_000


@pytest.fixture
def window(lab_window):
    return lab_window


def _stop(qtbot, window):
    window.stop_runs()
    qtbot.waitUntil(lambda: all(r.status in ("finished", "diverged", "stopped", "error")
                                for r in window.runs.values()), timeout=TIMEOUT)


def test_every_lab_is_a_tab_built_only_when_first_opened(qtbot, window):
    titles = [window.labs.tabText(i) for i in range(window.labs.count())]
    assert titles == ["Training", *(info.title for info in LABS)]
    for info in LABS:
        holder = window.lab_holders[info.key]
        assert isinstance(holder, LabHolder) and holder.lab is None
    expected = {"trajectories": "TrajectoriesTab", "finder": "FinderTab", "init": "InitTab",
                "schedules": "ScheduleRaceTab", "regularization": "RegularizationTab", "search": "SearchTab",
                "large-batch": "LargeBatchTab"}
    for index, info in enumerate(LABS, start=1):
        window.labs.setCurrentIndex(index)
        lab = window.lab_holders[info.key].lab
        assert type(lab).__name__ == expected[info.key]
        assert lab.isVisible()


def test_a_lab_built_before_its_tab_is_shown_appears_with_it(qtbot, window):
    lab = window.show_lab("schedules")
    assert window.labs.currentWidget() is window.lab_holders["schedules"] and lab.isVisible()


def test_training_shortcuts_belong_to_the_training_tab(qtbot, window):
    assert window.start_action.shortcut().toString() == "Space"
    window.show_lab("trajectories")
    assert window.start_action.shortcut().isEmpty() and window.reset_action.shortcut().isEmpty()
    window.labs.setCurrentIndex(0)
    assert window.start_action.shortcut().toString() == "Space" and window.step_action.shortcut().toString() == "S"


def test_the_finder_pick_goes_into_the_form_and_back_to_training(qtbot, window):
    finder = window.show_lab("finder")
    finder.use_lr.emit(0.0123)
    assert window.form.experiment().optimizer.lr == pytest.approx(0.0123)
    assert window.labs.currentIndex() == 0
    assert "0.0123" in window.statusBar().currentMessage()


def test_the_finder_preset_is_put_in_the_form_too(qtbot, window):
    finder = window.show_lab("finder")
    finder.load_preset()
    assert window.form.experiment() == finder.experiment()


def test_the_schedule_curves_follow_the_form(qtbot, window):
    schedules = window.show_lab("schedules")
    exp = window.form.experiment()
    window.form.set_experiment(exp.replace(train={"steps": 777}))
    qtbot.waitUntil(lambda: schedules.experiments() and schedules.experiments()[0].train.steps == 777, timeout=5000)


def test_a_schedule_race_trains_one_run_per_checked_schedule(qtbot, window):
    schedules = window.show_lab("schedules")
    wanted = [exp.name for exp in schedules.experiments()]
    assert len(wanted) >= 2
    schedules.race_button.click()
    assert [r.name for r in window.runs.values()] == wanted
    assert window.labs.currentIndex() == 0
    qtbot.waitUntil(lambda: all(r.step > 0 for r in window.runs.values()), timeout=TIMEOUT)
    schedules_run = [exp.schedule for exp in schedules.experiments()]
    assert len(set(schedules_run)) == len(schedules_run)     # each run has its own schedule
    assert {s.name for s in schedules_run} >= {"constant", "cosine", "one_cycle"}
    _stop(qtbot, window)


def test_the_regularization_comparison_feeds_its_bars_live(qtbot, window):
    lab = window.show_lab("regularization")
    lab.compare_button.click()
    preset_names = [exp.name for exp in lab.experiments()]
    assert [r.name for r in window.runs.values()] == preset_names
    qtbot.waitUntil(lambda: len(lab.rows) == len(preset_names), timeout=TIMEOUT)
    assert [row.name for row in lab.rows] == preset_names
    assert all(0.0 <= row.train_acc <= 1.0 and 0.0 <= row.val_acc <= 1.0 for row in lab.rows)
    for row in lab.rows:     # the gap curve ends where the bars stand
        _, gap = lab.gap_curves[row.name].getData()
        assert len(gap) >= 1 and gap[-1] == pytest.approx(row.gap)
    _stop(qtbot, window)


def test_presenter_mode_reaches_the_labs_plots(qtbot, window):
    lab = window.show_lab("init")
    plots = lab.findChildren(pg.PlotWidget)
    assert plots
    before = plots[0].getPlotItem().getAxis("bottom").style["tickFont"]
    before = before.pointSizeF() if before is not None else 0
    window.presenter_action.trigger()
    after = plots[0].getPlotItem().getAxis("bottom").style["tickFont"].pointSizeF()
    window.presenter_action.trigger()
    assert after > before


def test_closing_the_window_stops_a_lab_job(qtbot, tmp_path):
    w = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), backend="thread")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.ready, timeout=TIMEOUT)
    init = w.show_lab("init")
    assert init.start_training(steps=100_000)
    qtbot.waitUntil(init.training, timeout=TIMEOUT)
    w.close()
    assert not init.training()
