"""The regularization tab: Compare emits the six lab experiments; show_results draws the bars."""
import numpy as np
import pytest

from engine.labs.regularization import ComparisonRow
from engine.lessons.presets import LAB_NOTES, PRESETS
from gui.labs.regularization import RegularizationTab

ROWS = [("none", 1.0, 0.73), ("dropout 0.5", 0.97, 0.79), ("weight decay 2", 0.95, 0.79),
        ("augmentation", 0.82, 0.82), ("batch norm", 1.0, 0.73), ("all together", 0.65, 0.70)]


@pytest.fixture
def tab(qtbot):
    widget = RegularizationTab()
    qtbot.addWidget(widget)
    return widget


def test_the_six_variants_are_listed_with_what_they_do(tab):
    assert list(tab.variant_labels) == list(LAB_NOTES)
    assert all(tab.variant_labels[name].text() == note for name, note in LAB_NOTES.items())


def test_compare_emits_the_six_experiments(tab, qtbot):
    with qtbot.waitSignal(tab.compare) as signal:
        tab.compare_button.click()
    runs = signal.args[0]
    assert runs == list(PRESETS["regularization-lab"].runs) and len(runs) == 6


def test_show_results_draws_train_val_and_gap_bars(tab):
    tab.show_results(list(reversed(ROWS)))       # any order: drawn in the preset's
    heights = {name: np.asarray(bars.opts["height"]) for name, bars in
               (("train", tab.train_bars), ("val", tab.val_bars), ("gap", tab.gap_bars))}
    assert np.allclose(heights["train"], [r[1] for r in ROWS])
    assert np.allclose(heights["val"], [r[2] for r in ROWS])
    assert np.allclose(heights["gap"], [r[1] - r[2] for r in ROWS])
    assert np.allclose(tab.gap_bars.opts["x"] - tab.train_bars.opts["x"], 2 * (tab.val_bars.opts["x"]
                                                                                  - tab.train_bars.opts["x"]))
    assert tab.axis.names == [r[0] for r in ROWS]
    assert [label.toPlainText() for label in tab.value_labels] == ["+0.27", "+0.18", "+0.16", "+0.00", "+0.27", "-0.05"]
    assert [r.name for r in tab.rows] == [r[0] for r in ROWS] and isinstance(tab.rows[0], ComparisonRow)
    tab.show_results([ComparisonRow("none", 0.9, 0.8)])
    assert np.allclose(tab.gap_bars.opts["height"], [0.1]) and len(tab.value_labels) == 1


def test_gap_curves_are_train_minus_val_per_variant(qtbot):
    tab = RegularizationTab()
    qtbot.addWidget(tab)
    names = [exp.name for exp in tab.experiments()]
    tab.show_gap_curves({names[0]: ([0, 50, 100], [0.5, 0.9, 1.0], [0.5, 0.7, 0.72])})
    x, y = tab.gap_curves[names[0]].getData()
    np.testing.assert_allclose(x, [0, 50, 100])
    np.testing.assert_allclose(y, [0.0, 0.2, 0.28])
    x, _ = tab.gap_curves[names[1]].getData()
    assert x is None or len(x) == 0


def test_gap_curves_from_the_engine_draw_its_gap_and_the_bars_use_the_palette(qtbot):
    from PySide6.QtGui import QColor

    from engine.labs.regularization import gap_curve
    from engine.training.events import EvalEvent
    from gui.style.palette import ACCURACY_BAR, GAP_BAR, RUN_COLORS
    tab = RegularizationTab()
    qtbot.addWidget(tab)
    name = tab.experiments()[2].name
    curve = gap_curve(name, [EvalEvent(0, 0.0, 2.0, 0.1, 2.0, 0.1), EvalEvent(40, 4.0, 0.2, 0.95, 0.8, 0.7)])
    tab.show_gap_curves({name: curve})
    x, y = tab.gap_curves[name].getData()
    np.testing.assert_allclose(x, [0, 40])
    np.testing.assert_allclose(y, curve.gap)
    tab.show_results([curve.row])
    assert np.allclose(tab.gap_bars.opts["height"], [curve.row.gap])
    pens = [QColor(bars.opts["pen"].color()).name().upper() for bars in (tab.train_bars, tab.val_bars, tab.gap_bars)]
    assert pens == [ACCURACY_BAR.upper(), ACCURACY_BAR.upper(), GAP_BAR.upper()]      # grey, grey, orange
    assert tab.train_bars.opts["brush"] == ACCURACY_BAR and tab.gap_bars.opts["brush"] == GAP_BAR
    assert QColor(tab.val_bars.opts["brush"]).alpha() < 255          # validation: open, a faint fill
    assert not {c.upper() for c in pens} & {c.upper() for c in RUN_COLORS}    # beside the runs' gap lines



def test_the_narrowest_gap_is_the_one_closest_to_zero_whatever_its_sign(qtbot):
    tab = RegularizationTab()
    qtbot.addWidget(tab)
    names = [exp.name for exp in tab.experiments()[:3]]
    # gaps (train - val): +0.30, -0.02 (validation a little above training), +0.10
    tab.show_results([(names[0], 0.95, 0.65), (names[1], 0.80, 0.82), (names[2], 0.90, 0.80)])
    assert f"narrowest: {names[1]} (-0.02)" in tab.status.text()
    assert f"Widest gap: {names[0]} (+0.30)" in tab.status.text()
