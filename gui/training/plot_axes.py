"""The axes of the four training plots: left axes of one width, and each y axis as its quantity reads best.

* Loss and gradient norm: linear, rescaled to what is shown when zooming into x.
* Accuracy: 0..1 always, so chance level and 100% stay in place.
* Learning rate: logarithmic, since rates are > 0 and schedules span decades (one-cycle ends 250,000x
  below its peak); on a log axis a constant rate also gets a readable range around its value.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

from gui.widgets.plotting import LogFriendlyAxis


class AlignedAxis(LogFriendlyAxis):
    """A left axis as wide as the widest of its group, so the plots of a column start at the same pixel.

    pyqtgraph lined linked views up by their screen position: a plot with wider tick labels (the learning
    rate's "1e-05") had a narrower view box, and its x range started at step ~147 instead of 0.
    """

    def __init__(self, group: list[AlignedAxis]):
        self._group: list[AlignedAxis] = []      # the base class sizes itself before it is filled in
        self._natural = 0.0
        super().__init__("left")
        self._group = group
        group.append(self)

    def _updateWidth(self) -> None:
        super()._updateWidth()
        self._natural = self.minimumWidth()
        width = max((axis._natural for axis in self._group), default=self._natural)
        for axis in self._group:
            if axis.minimumWidth() != width or axis.maximumWidth() != width:
                axis.setMinimumWidth(width)
                axis.setMaximumWidth(width)


def set_up_axes(widgets: dict[str, pg.PlotWidget]) -> None:
    """Each plot's y axis as its quantity reads best (the module's docstring); curves downsampled and
    clipped to the view; axes cached as pixmaps."""
    for key, widget in widgets.items():
        plot = widget.getPlotItem()
        plot.setDownsampling(auto=True, mode="peak")   # the context menu shows what the curves do
        plot.setClipToView(True)
        for name in ("left", "bottom"):
            # Axes (and the grid, which the left axis draws) are replayed from a QPicture on every
            # paint: measured, that was the largest cost of a redraw.  Cached as a pixmap, they
            # are blitted instead, and redrawn only when their range or look changes.
            plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        if key == "accuracy":
            plot.setYRange(0.0, 1.0, padding=0.05)   # 0..1 always: chance level and 100% stay in place
        elif key == "lr":
            plot.setLogMode(y=True)
            plot.getViewBox().setAutoVisible(y=True)
        else:
            plot.getViewBox().setAutoVisible(y=True)  # zooming into x rescales y to what is shown
