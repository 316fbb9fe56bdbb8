"""The initialization explorer tab, driven as a student would: controls -> probe -> curves; Train each -> losses."""
import math

import numpy as np
import pytest

from engine.labs.initprobe import ProbeConfig
from gui.labs.init import InitTab, log_curve

PROBE_TIMEOUT = 20000


@pytest.fixture
def tab(qtbot):
    """A small, fast network: 8 ReLU layers of 32."""
    widget = InitTab()
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.probe_done, timeout=PROBE_TIMEOUT):
        widget.set_config(ProbeConfig(depth=8, width=32, activation="relu",
                                      schemes=("he_normal", "xavier_normal", "zeros")))
    yield widget
    widget.shutdown()


def _ys(curve):
    """The values given to the curve (getData() would give log10 of them on a log axis)."""
    return curve.yData


def test_changing_depth_redraws_every_curve_with_that_many_points(qtbot, tab):
    assert set(tab.activation_curves) == {"he_normal", "xavier_normal", "zeros"}
    assert all(len(_ys(c)) == 8 for c in tab.activation_curves.values())
    with qtbot.waitSignal(tab.probe_done, timeout=PROBE_TIMEOUT) as blocker:
        tab.depth_spin.setValue(13)
    assert blocker.args[0].config.depth == 13
    for curves in (tab.activation_curves, tab.gradient_curves):
        assert all(len(c.xData) == 13 and len(_ys(c)) == 13 for c in curves.values())
    assert tab.layer_slider.maximum() == 13
    # He stays level, Xavier falls: the drawn numbers are the probe's
    he, xavier = _ys(tab.activation_curves["he_normal"]), _ys(tab.activation_curves["xavier_normal"])
    assert 0.5 < he[-1] / he[0] < 2 and xavier[-1] / xavier[0] < 0.1


def test_zeros_are_drawn_on_the_floor_and_named_in_the_legend(tab):
    zeros = _ys(tab.activation_curves["zeros"])
    positive = np.concatenate([_ys(tab.activation_curves[s]) for s in ("he_normal", "xavier_normal")])
    assert np.all(np.isfinite(zeros)) and np.all(zeros > 0) and np.all(zeros < positive.min())
    assert "zeros = 0" in tab.legends["activation"].text().replace("&nbsp;", " ")
    assert tab._floor_lines["activation"].isVisible()
    values, note = log_curve(np.array([1.0, 0.0, math.inf, math.nan]), 1e-9)
    assert values[1] == 1e-9 and np.isnan(values[2]) and note == "overflow from layer 3"


def test_selecting_schemes_adds_and_removes_curves(qtbot, tab):
    with qtbot.waitSignal(tab.probe_done, timeout=PROBE_TIMEOUT):
        tab.set_checked_schemes(["orthogonal", "normal"])
    assert set(tab.activation_curves) == {"orthogonal", "normal"} == set(tab.histogram_curves)
    assert "normal (std 0.01)" in tab.legends["activation"].text().replace("&nbsp;", " ")
    # no scheme: nothing to run, the user is told, training is off
    tab.set_checked_schemes([])
    assert tab.config() is None and not tab.train_button.isEnabled()
    assert "scheme" in tab.status_label.text()


def test_a_bad_std_is_shown_at_the_field_and_nothing_runs(qtbot, tab):
    tab.set_checked_schemes(["normal"])
    tab.std_edit.setText("-1")
    assert tab.config() is None and not tab.std_error.isHidden() and "> 0" in tab.std_error.text()
    assert "border" in tab.std_edit.styleSheet()
    with qtbot.waitSignal(tab.probe_done, timeout=PROBE_TIMEOUT) as blocker:
        tab.std_edit.setText("0.5")
    assert tab.std_error.isHidden() and blocker.args[0].config.init_std == 0.5


def test_layer_slider_changes_the_histogram(tab):
    tab.layer_slider.setValue(1)
    first = tab.histogram()
    he_first = tab.histogram_curves["he_normal"].getData()
    tab.layer_slider.setValue(8)
    last = tab.histogram()
    assert first.layer == 1 and last.layer == 8 and "layer 8" in tab.layer_label.text()
    assert not np.array_equal(he_first[1], tab.histogram_curves["he_normal"].getData()[1])
    # Xavier's layer-8 signal is squeezed toward 0 compared with layer 1
    xavier = list(last.schemes).index("xavier_normal")
    assert last.std[xavier] < first.std[xavier] / 4
    assert "100% = 0" in tab.legends["histogram"].text().replace("&nbsp;", " ")   # zeros


def test_train_each_draws_losses_and_he_learns_where_xavier_and_zeros_do_not(qtbot, tab):
    with qtbot.waitSignal(tab.probe_done, timeout=PROBE_TIMEOUT):
        tab.depth_spin.setValue(12)
    partials = []
    tab._train_runner.partial.connect(partials.append)
    with qtbot.waitSignal(tab.training_done, timeout=60000) as blocker:
        assert tab.start_training(steps=80)
        assert tab.train_button.text() == "Stop"
    # The button comes back on the runner's finished signal, which arrives after training_done.
    qtbot.waitUntil(lambda: not tab.training() and tab.train_button.text() == "Train each", timeout=5000)
    progress = blocker.args[0]
    assert set(tab.loss_curves) == {"he_normal", "xavier_normal", "zeros"} and partials
    final = {s: _ys(c)[-1] for s, c in tab.loss_curves.items()}
    assert final["he_normal"] < final["xavier_normal"] - 0.05
    assert final["he_normal"] < final["zeros"] - 0.05
    assert abs(final["zeros"] - math.log(2)) < 0.01
    assert progress.step == 80 and tab.train_button.text() == "Train each"
    assert "he_normal" in tab.legends["loss"].text()


def test_shutdown_stops_a_running_training(qtbot, tab):
    assert tab.start_training(steps=5000)
    qtbot.waitUntil(lambda: tab.train_result() is not None, timeout=20000)
    tab.shutdown()
    assert not tab.training()


def test_changes_during_a_probe_end_with_the_last_one_drawn(qtbot, tab):
    for depth in (30, 9, 17):          # each change lands while the previous probe may still run
        tab.depth_spin.setValue(depth)
        qtbot.wait(60)
    qtbot.waitUntil(lambda: tab.probe_result().config.depth == 17 and not tab._probe_runner.busy()
                    and len(tab.probe_result().schemes) == 3, timeout=PROBE_TIMEOUT)
    assert all(len(_ys(c)) == 17 for c in tab.activation_curves.values())



def test_the_probe_and_the_training_run_on_one_torch_thread(qtbot, tab, monkeypatch):
    """The engine's jobs set it themselves, in the job's thread (two threads fight the GUI: 20x slower on
    2 cores); the tab does not import torch."""
    import torch

    import engine.labs.initprobe as initprobe
    seen = {}
    for name in ("probe_inits", "train_schemes"):
        real = getattr(initprobe, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            seen[_name] = torch.get_num_threads()
            return _real(*args, **kwargs)
        monkeypatch.setattr(initprobe, name, spy)
    try:
        torch.set_num_threads(2)     # as a new thread would inherit it
        with qtbot.waitSignal(tab.probe_done, timeout=PROBE_TIMEOUT):
            tab.depth_spin.setValue(9)
        torch.set_num_threads(2)
        with qtbot.waitSignal(tab.training_done, timeout=60000):
            assert tab.start_training(steps=10)
        qtbot.waitUntil(lambda: not tab.training(), timeout=5000)
    finally:
        torch.set_num_threads(1)
    assert seen == {"probe_inits": 1, "train_schemes": 1}


def test_colours_are_the_palettes(tab):
    from gui.labs.init.curves import SCHEME_COLORS, legend_html
    from gui.style.palette import NEUTRAL, RUN_COLORS
    assert set(SCHEME_COLORS.values()) <= set(RUN_COLORS)
    assert f"color:{NEUTRAL}" in legend_html([("no-such-scheme", "x")])
    assert "╍╍" in legend_html([("he_uniform", "x")]) and "━━" in legend_html([("he_normal", "x")])
    assert tab._floor_lines["activation"].pen.color().name().lower() == NEUTRAL.lower()
