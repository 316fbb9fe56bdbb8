"""The run list: a run's row shows its colour, and a final status its palette colour."""
from __future__ import annotations

from PySide6.QtGui import QColor

from engine.status import RunStatus
from gui.style.palette import STATUS_COLORS, run_color
from gui.training.runs_list import RunsList


def test_status_colours_come_from_the_palette_and_the_rest_keep_the_text_colour(qtbot):
    view = RunsList()
    qtbot.addWidget(view)
    view.add_run("a", "adam", run_color(0))
    icon = view.item(0, 0).icon().pixmap(14, 14).toImage()
    assert icon.pixelColor(7, 7).name() == run_color(0).name()        # the swatch is the run's colour
    for status in RunStatus:
        view.set_status("a", status)
        shown = view.item(0, 1).foreground().color().name()
        expected = QColor(STATUS_COLORS[status]) if status in STATUS_COLORS else view.palette().text().color()
        assert shown == expected.name(), status
    assert STATUS_COLORS[RunStatus.DIVERGED] != STATUS_COLORS[RunStatus.FINISHED]
