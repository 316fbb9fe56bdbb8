"""A log axis labels 1, 2 and 5 of each decade where they fit; on a short axis over a decade or so, 1 and 3
rather than a single power of ten (a schedule of learning rates read "0.01" and nothing else)."""
import numpy as np
import pyqtgraph as pg

from gui.widgets.plotting import LogFriendlyAxis, _TickFit

LO, HI = np.log10(0.003), np.log10(0.09)          # a learning rate's schedule: 1.5 decades, one power of ten


def labels(axis, size):
    (spacing, values), *_ = axis.tickValues(LO, HI, size)
    strings = axis.tickStrings(values, 1.0, spacing)
    return [s for s in strings if s]


def test_a_short_log_axis_labels_1_and_3_and_a_long_one_1_2_and_5(qtbot):
    widget = pg.PlotWidget(axisItems={"left": LogFriendlyAxis("left")})
    qtbot.addWidget(widget)
    axis = widget.getPlotItem().getAxis("left")
    axis.setLogMode(True)
    fit = _TickFit(axis, LO, HI, 100.0)
    need = fit.extent(["0.05", "0.02", "0.01"]) + fit.gap      # a label and its gap, in this font, in px
    decade = need / 0.4                 # log10(2) of a decade is too little for a label, log10(3) enough
    assert labels(axis, decade * (HI - LO)) == ["0.003", "0.01", "0.03"]
    assert labels(axis, 2 * decade * (HI - LO)) == ["0.005", "0.01", "0.02", "0.05"]
