"""The trajectories tab driven as a user would: add optimizers, click the map, play, scrub, read the table."""
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from engine.labs.trajectories import compute_trajectory, parse_spec
from gui.labs.trajectories import TrajectoriesTab


@pytest.fixture
def tab(qtbot):
    widget = TrajectoriesTab(steps=60)
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitUntil(lambda: not widget.busy(), timeout=30000)
    yield widget
    widget.shutdown()


def computed(qtbot, tab):
    qtbot.waitUntil(lambda: not tab.busy(), timeout=30000)


def test_default_paths_are_the_engines_and_the_table_shows_their_values(qtbot, tab):
    assert tab.optimizer_count() == 3
    tab.set_step(60)
    for row in range(3):
        path = tab.trajectory(row)
        expected = compute_trajectory("rosenbrock", tab.start(), tab.spec(row), 60)
        assert np.array_equal(path.x, expected.x) and np.array_equal(path.loss, expected.loss)
        assert tab.table_text(row, 1) == f"{expected.loss[-1]:.4g}"
        d = np.hypot(expected.x[-1] - 1, expected.y[-1] - 1)
        assert tab.table_text(row, 2) == f"{d:.3g}"
        assert tab.table_text(row, 3) == "done"
    assert tab.table_text(1, 0) == "sgd:lr=0.001,momentum=0.9"


def test_adding_an_optimizer_with_its_own_hyperparameters(qtbot, tab):
    row = tab.add_optimizer("rmsprop", lr="0.01", alpha="0.9")
    assert tab.optimizer_count() == 4
    computed(qtbot, tab)
    assert tab.spec(row) == parse_spec("rmsprop:lr=0.01,alpha=0.9")
    assert tab.trajectory(row).steps == 60
    tab._select(row)
    assert set(tab._fields) == {"lr", "alpha", "eps", "momentum", "weight_decay", "noise"}   # rmsprop's, and noise
    tab.remove_optimizer(row)
    assert tab.optimizer_count() == 3


def test_invalid_hyperparameter_is_shown_at_the_field_and_nothing_crashes(qtbot, tab):
    tab._select(1)
    field = tab.field("momentum")
    field.setText("1.5")
    field.editingFinished.emit()
    assert tab.field_error("momentum") == "momentum: must be in [0, 1), got 1.5"
    assert tab.spec(1) is None and tab.trajectory(1) is None
    assert tab.table_text(1, 3) == "invalid momentum"
    field.setText("0.5")
    field.editingFinished.emit()
    assert tab.field_error("momentum") == ""
    computed(qtbot, tab)
    assert tab.trajectory(1).spec == parse_spec("sgd:lr=0.001,momentum=0.5")


def click(widget, pos):
    """A left click as the window system delivers it (press with the button down, release without)."""
    where = QPointF(pos)
    glob = QPointF(widget.mapToGlobal(where.toPoint()))
    for kind, buttons in ((QEvent.Type.MouseButtonPress, Qt.MouseButton.LeftButton),
                          (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton)):
        QApplication.sendEvent(widget, QMouseEvent(kind, where, glob, Qt.MouseButton.LeftButton, buttons,
                                                   Qt.KeyboardModifier.NoModifier))


def test_clicking_the_map_sets_the_common_start(qtbot, tab):
    vb = tab._plot.getPlotItem().vb
    scene_pos = vb.mapViewToScene(QPointF(0.5, 0.25))
    with qtbot.waitSignal(tab.start_changed, timeout=5000):
        click(tab._plot.viewport(), tab._plot.mapFromScene(scene_pos))
    x, y = tab.start()
    assert x == pytest.approx(0.5, abs=0.03) and y == pytest.approx(0.25, abs=0.03)
    assert tab._start_label.text() == f"({x:.3g}, {y:.3g})"
    computed(qtbot, tab)
    for row in range(3):
        path = tab.trajectory(row)
        assert (path.x[0], path.y[0]) == (x, y)


def test_play_advances_and_stops_at_the_end_and_the_slider_scrubs(qtbot, tab):
    tab.set_step(0)
    tab.set_speed(600)
    tab.play()
    assert tab.playing()
    qtbot.waitUntil(lambda: tab.step() >= 60, timeout=5000)
    qtbot.waitUntil(lambda: not tab.playing(), timeout=1000)
    assert tab._slider.value() == 60
    tab._slider.setValue(10)                       # the user drags the slider back
    assert tab.step() == 10
    path = tab.trajectory(2)
    assert tab.table_text(2, 1) == f"{path.loss[10]:.4g}"
    line_x, _ = tab._items[2]["line"].getData()
    assert len(line_x) == 11


def test_a_path_that_leaves_the_box_is_marked(qtbot, tab):
    tab.set_hyperparameter(0, "lr", "0.01")          # plain SGD at 0.01 jumps out of Rosenbrock's box
    computed(qtbot, tab)
    path = tab.trajectory(0)
    assert path.stopped and path.status == "left_box" and path.stop_step < 5
    tab.set_step(0)
    assert tab.table_text(0, 3) == "running"
    tab.set_step(30)
    assert tab.table_text(0, 3) == "✕ left box"
    assert f"left the box at step {path.stop_step}" in tab._table.item(0, 3).toolTip()
    assert len(tab._items[0]["stop"].data) == 1


def test_arrows_show_gradient_and_update_directions(qtbot, tab):
    tab.set_step(30)
    assert tab._items[1]["grad"].xData is None or len(tab._items[1]["grad"].xData) == 0
    tab.set_arrows(True)
    gx, gy = tab._items[1]["grad"].xData, tab._items[1]["grad"].yData
    ux, uy = tab._items[1]["update"].xData, tab._items[1]["update"].yData
    assert len(gx) == 6 and len(ux) == 6
    path = tab.trajectory(1)
    g = np.array([gx[1] - gx[0], gy[1] - gy[0]])
    u = np.array([ux[1] - ux[0], uy[1] - uy[0]])
    assert np.dot(g, -path.grad[30]) / np.linalg.norm(g) / np.linalg.norm(path.grad[30]) == pytest.approx(1)
    assert np.dot(u, path.update[30]) / np.linalg.norm(u) / np.linalg.norm(path.update[30]) == pytest.approx(1)


def test_surfaces_switch_and_the_saddle_has_no_distance(qtbot, tab):
    tab.set_surface("saddle")
    computed(qtbot, tab)
    tab.set_step(10)
    assert tab.start() == (-1.8, 0.02)
    assert tab.table_text(0, 2) == "n/a"
    tab.set_surface("ravine", condition=100)
    assert not tab._condition.isHidden() and tab._condition.text() == "100"
    tab._condition.setText("0")
    tab._condition.editingFinished.emit()
    assert "condition: must be in [1, 10000]" in tab._condition_error.text()
    computed(qtbot, tab)


def test_the_path_cache_keeps_one_entry_per_key_and_forgets_the_oldest():
    from gui.labs.trajectories.paths import CACHE_DROP, CACHE_SIZE, OptimizerRow, PathCache, path_key
    good, bad = OptimizerRow("sgd", {"lr": "0.01"}, 0), OptimizerRow("sgd", {"momentum": "1.5"}, 1)
    assert bad.spec is None and bad.error_key == "momentum" and path_key("saddle", {}, (0, 0), 5, bad.spec) is None
    cache = PathCache()
    keys = [path_key("saddle", {}, (0.0, float(i)), 5, good.spec) for i in range(CACHE_SIZE + 1)]
    assert cache.missing([(keys[0], good.spec), (keys[0], good.spec), (None, None)]) == [(keys[0], good.spec)]
    path = compute_trajectory("saddle", (0.0, 0.0), good.spec, 5)
    for key in keys:
        cache.store(key, path)
    assert cache.get(keys[0]) is None and cache.get(keys[CACHE_DROP]) is path and cache.get(keys[-1]) is path
    assert cache.missing([(k, good.spec) for k in keys]) == [(k, good.spec) for k in keys[:CACHE_DROP]]


def test_remove_takes_the_selected_optimizer_and_then_the_rest_without_an_exception(qtbot, tab):
    n = tab.optimizer_count()
    tab._table.selectRow(n - 1)                 # the last row: removing it leaves the table's selection past the end
    with qtbot.captureExceptions() as raised:
        tab._remove.click()
        assert tab.optimizer_count() == n - 1
        while tab.optimizer_count():
            tab._table.selectRow(tab.optimizer_count() - 1)
            tab._remove.click()
        tab._remove.click()                     # nothing left: the button does nothing
    assert raised == [] and tab.optimizer_count() == 0 and not tab._remove.isEnabled()


def test_a_long_optimizer_wraps_in_a_column_as_wide_as_its_widest_piece_and_copies_as_typed(qtbot, tab):
    """The optimizer's text breaks after ':', ',' and '=' (zero-width spaces the reader never gets back):
    rows grow to their wrapped lines, the column stays as wide as the longest unbreakable piece, and a
    hyperparameter making the text longer widens the controls' column instead of cutting the cell."""
    from PySide6.QtGui import QGuiApplication, QKeySequence

    from gui.labs.trajectories.table import BREAK
    from tests.gui.shell.layout_checks import clipped_cells
    table = tab._table
    before = table.minimumSizeHint().width()
    row = tab.add_optimizer("adamw", lr="0.001", weight_decay="0.123456789")
    for _ in range(3):
        QApplication.processEvents()
    assert BREAK in table.item(row, 0).text()
    assert tab.table_text(row, 0) == "adamw:lr=0.001,weight_decay=0.123456789"
    assert table.minimumSizeHint().width() > before                 # "weight_decay=" wider than any before
    assert table.rowHeight(row) > table.rowHeight(0)                 # wrapped: more lines than "sgd:lr=0.001"
    assert clipped_cells(tab) == []
    table.setCurrentCell(row, 0)
    qtbot.keySequence(table, QKeySequence.StandardKey.Copy)
    assert QGuiApplication.clipboard().text() == "adamw:lr=0.001,weight_decay=0.123456789"


def test_gradient_noise_is_a_field_of_every_path_and_its_seed_the_labs(qtbot, tab):
    """The double well at the claim's set-up: the exact path stays in the shallow valley, the noisy one (its
    noise field) crosses into the deep one, both the engine's paths; another noise seed is another walk, and
    only the noisy path is computed again.  The surface's words carry their claim's measured seeds."""
    from engine.lessons.claims.measured import measured
    tab.set_surface("double-well")
    tab.set_steps(1000)
    computed(qtbot, tab)
    assert measured("lab double-well").text in tab._controls.description.text()
    tab._select(0)
    field = tab.field("noise")
    assert field.placeholderText() == "0 (exact gradient)"
    field.setText("3")
    field.editingFinished.emit()
    exact_row = tab.add_optimizer("sgd", lr="0.05")
    tab.set_hyperparameter(0, "lr", "0.05")
    computed(qtbot, tab)
    noisy, exact = tab.trajectory(0), tab.trajectory(exact_row)
    assert noisy.spec == parse_spec("sgd:lr=0.05,noise=3")
    want = compute_trajectory("double-well", tab.start(), "sgd:lr=0.05,noise=3", 1000, noise_seed=0)
    assert np.array_equal(noisy.x, want.x) and noisy.x[-1] < 0 < 0.8 < exact.x[-1]
    tab.set_noise_seed(3)
    computed(qtbot, tab)
    again = compute_trajectory("double-well", tab.start(), "sgd:lr=0.05,noise=3", 1000, noise_seed=3)
    assert np.array_equal(tab.trajectory(0).x, again.x) and tab.trajectory(exact_row) is exact
    tab._select(0)
    tab.field("noise").setText("-2")
    tab.field("noise").editingFinished.emit()
    assert tab.field_error("noise") == "noise: must be a number in [0, 1000], got -2.0"
