"""The regularization lab: six ways to train one memorizable setup, and how well each generalizes.

The setup is the ``regularization-lab`` preset (``engine.lessons.presets``): 150
digits, a fifth mislabelled, a 128-128 network that can learn every label by
heart.  The tab lists the six variants with a line on what each does;
"Compare" emits their experiments for the training lab to train side by side
(its curves show the gap opening); :meth:`RegularizationTab.show_results` takes
each run's final accuracies and draws them as bars: train, validation, and the
gap between them (``engine.labs.regularization.ComparisonRow``), and
:meth:`RegularizationTab.show_gap_curves` draws each run's gap over time
(``engine.labs.regularization.GapCurve``).  The engine computes every gap; the
tab only draws.
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from engine.config import Experiment
from engine.labs.regularization import ComparisonRow, GapCurve
from engine.lessons.presets import LAB_NOTES, PRESETS
from gui.style.palette import ACCURACY_BAR, GAP_BAR, ZERO_LINE, run_color, with_alpha
from gui.style.theme import follow_palette, palette_look
from gui.widgets.plotting import legend_glyph_html, set_title

PRESET = "regularization-lab"
# Beside the runs' gap lines, in no run's colour (gui.style.palette): train and validation one grey, told
# apart as the metric plots tell the two sets apart (filled, open), and the gap in orange.
TRAIN_COLOR = VAL_COLOR = ACCURACY_BAR
GAP_COLOR = GAP_BAR
VAL_FILL_ALPHA = 40       # the validation bar: an outline over a faint fill
BAR_WIDTH = 0.26
TOP = 1.2                 # the bar chart's y range ends here: room above a full bar for the gap's number


class BarAxis(pg.AxisItem):
    """Variant names under their bars."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.names: list[str] = []

    def tickStrings(self, values, scale, spacing):
        return [self.names[int(round(v))] if 0 <= round(v) < len(self.names) and abs(v - round(v)) < 1e-6 else ""
                for v in values]


class RegularizationTab(QWidget):
    """Six variants of the lab preset, a Compare button and a bar chart of their final accuracies.

    ``compare`` carries the list of the six experiments.  ``show_results(rows)``
    takes ``(name, train_acc, val_acc)`` tuples or ``ComparisonRow``s, in any
    order, and draws them.
    """

    compare = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.preset = PRESETS[PRESET]
        self.rows: list[ComparisonRow] = []

        title = QLabel(f"<b>{html.escape(self.preset.title)}</b>")
        lesson = QLabel(self.preset.lesson)
        lesson.setWordWrap(True)

        variants = QWidget()
        grid = QGridLayout(variants)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        self.variant_labels: dict[str, QLabel] = {}
        for i, exp in enumerate(self.preset.runs):
            # the name above its note: the note gets the column's whole width, and the charts the window's
            name = QLabel(f"<b>{html.escape(exp.name)}</b>")
            note = QLabel(LAB_NOTES.get(exp.name, ""))
            note.setWordWrap(True)
            grid.addWidget(name, 2 * i, 0)
            grid.addWidget(note, 2 * i + 1, 0)
            self.variant_labels[exp.name] = note
        grid.setColumnStretch(0, 1)

        self.compare_button = QPushButton(f"Compare {len(self.preset.runs)} variants")
        self.compare_button.setToolTip("Train the six variants side by side in the training lab; their "
                                       "final accuracies appear here when they finish")
        self.compare_button.clicked.connect(self._compare)
        self.status = QLabel("Press Compare: the bars fill in when the runs finish.")
        self.status.setWordWrap(True)

        self.axis = BarAxis("bottom")
        self.plot = pg.PlotWidget(axisItems={"bottom": self.axis})
        self.plot.setMinimumHeight(240)
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.setMouseEnabled(False, False)
        item.hideButtons()
        item.setLabel("left", "accuracy")
        item.showGrid(y=True, alpha=0.2)
        small = self.font()
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.9))
        self.axis.setStyle(tickFont=small)
        self._fit_axis()
        self.train_bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, brush=TRAIN_COLOR,
                                          pen=pg.mkPen(TRAIN_COLOR))
        self.val_bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH,
                                        brush=with_alpha(pg.mkColor(VAL_COLOR), VAL_FILL_ALPHA),
                                        pen=pg.mkPen(VAL_COLOR, width=2))
        self.gap_bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, brush=GAP_COLOR, pen=pg.mkPen(GAP_COLOR))
        for bars in (self.train_bars, self.val_bars, self.gap_bars):
            item.addItem(bars)
        # The key under the chart, not over it: over the bars it hid the tallest ones on a projector.
        self.bar_key = QLabel(" &nbsp; ".join([
            legend_glyph_html(TRAIN_COLOR, "\u25a0", "train"),
            legend_glyph_html(VAL_COLOR, "\u25a1", "validation"),
            legend_glyph_html(GAP_COLOR, "\u25a0", "gap (train − val): the number above each variant")]))
        self.bar_key.setWordWrap(True)
        self.bar_key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zero_line = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(ZERO_LINE))
        item.addItem(self.zero_line)
        self.value_labels: list[pg.TextItem] = []

        # The gap as it opens during training, one line per variant in its run's colour: memorizing
        # shows as a gap that keeps growing after validation accuracy has stopped improving.
        self.gap_plot = pg.PlotWidget()
        self.gap_plot.setMinimumHeight(160)
        gap_item = self.gap_plot.getPlotItem()
        set_title(gap_item, "Gap during training (train − val accuracy)")
        gap_item.setLabel("bottom", "step")
        gap_item.showGrid(y=True, alpha=0.2)
        gap_item.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(ZERO_LINE)))
        self.gap_curves: dict[str, pg.PlotDataItem] = {}
        for i, exp in enumerate(self.preset.runs):
            # The i-th run of a fresh run list takes run_color(i): the same colour as in the training lab.
            self.gap_curves[exp.name] = gap_item.plot([], [], pen=pg.mkPen(run_color(i), width=2))
        # The key under the plot, not over the lines (they fill the whole plot).
        self.gap_key = QLabel(" &nbsp; ".join(
            f"<span style='color:{run_color(i).name()}'>━━</span>&nbsp;{html.escape(exp.name).replace(' ', '&nbsp;')}"
            for i, exp in enumerate(self.preset.runs)))
        self.gap_key.setWordWrap(True)
        self.gap_key.setAlignment(Qt.AlignmentFlag.AlignCenter)

        variants_scroll = QScrollArea()        # six notes in large type may not fit: they scroll, never overlap
        variants_scroll.setWidgetResizable(True)
        variants_scroll.setFrameShape(QFrame.Shape.NoFrame)
        variants_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        variants_scroll.setWidget(variants)
        left = QVBoxLayout()
        left.addWidget(variants_scroll, 1)
        left.addWidget(self.compare_button)
        left.addWidget(self.status)
        charts = QVBoxLayout()
        charts.addWidget(self.plot, 3)
        charts.addWidget(self.bar_key)
        charts.addWidget(self.gap_plot, 2)
        charts.addWidget(self.gap_key)
        body = QHBoxLayout()
        body.addLayout(left, 2)
        body.addLayout(charts, 5)       # six groups of three bars and their names need the width
        column = QVBoxLayout(self)
        column.addWidget(title)
        column.addWidget(lesson)
        column.addLayout(body, 1)
        self._apply_palette()
        self.show_results([])

    # -- public API -------------------------------------------------------------------------------

    def experiments(self) -> list[Experiment]:
        return list(self.preset.runs)

    @Slot(object)
    def show_results(self, rows) -> None:
        """Draw train, validation and gap bars for each ``(name, train_acc, val_acc)``, in the preset's order."""
        rows = [r if isinstance(r, ComparisonRow) else ComparisonRow(*r) for r in rows]
        order = {exp.name: i for i, exp in enumerate(self.preset.runs)}
        rows.sort(key=lambda r: order.get(r.name, len(order)))
        self.rows = rows
        x = np.arange(len(rows), dtype=float)
        train = np.array([r.train_acc for r in rows], dtype=float)
        val = np.array([r.val_acc for r in rows], dtype=float)
        gap = np.array([r.gap for r in rows], dtype=float)
        self.train_bars.setOpts(x=x - BAR_WIDTH, height=train)
        self.val_bars.setOpts(x=x, height=val)
        self.gap_bars.setOpts(x=x + BAR_WIDTH, height=gap)
        self.axis.names = [r.name for r in rows] or [exp.name for exp in self.preset.runs]
        n = max(len(self.axis.names), 1)
        # One word a line ("weight / decay 2"): six names side by side fit a narrow window this way.
        self.axis.setTicks([[(i, name.replace(" ", "\n", 1)) for i, name in enumerate(self.axis.names)]])
        self._fit_axis()
        item = self.plot.getPlotItem()
        for label in self.value_labels:
            item.removeItem(label)
        self.value_labels = []
        # Each gap's number above its variant's tallest bar, centred on the group: wider than one bar, it
        # would cover its neighbour beside the gap bar, and below a negative one it fell off the chart.
        foreground = palette_look(self.plot.palette()).foreground
        font = self.axis.style.get("tickFont") or self.font()
        for i, (t, v, g) in enumerate(zip(train, val, gap)):
            label = pg.TextItem(f"{g:+.2f}", color=foreground, anchor=(0.5, 1.0))
            label.setFont(font)
            label.setPos(i, max(t, v, g, 0.0) + 0.02)
            item.addItem(label)
            self.value_labels.append(label)
        low = min(0.0, float(gap.min()) - 0.05) if len(rows) else 0.0
        item.setYRange(low, TOP, padding=0)
        item.setXRange(-0.5, n - 0.5, padding=0)
        if rows:
            widest = max(rows, key=lambda r: abs(r.gap))      # a gap is its size: -0.05 is narrower than +0.1
            narrowest = min(rows, key=lambda r: abs(r.gap))
            self.status.setText(f"Widest gap: {widest.name} ({widest.gap:+.2f}); narrowest: "
                                f"{narrowest.name} ({narrowest.gap:+.2f}).")

    @Slot(object)
    def show_gap_curves(self, curves) -> None:
        """``{name: GapCurve}`` (or ``{name: (steps, train_acc, val_acc)}``): each variant's gap at every
        evaluation so far; a variant missing from ``curves`` has no line."""
        for name, line in self.gap_curves.items():
            curve = curves.get(name)
            if curve is None:
                line.setData([], [])
                continue
            if not isinstance(curve, GapCurve):
                curve = GapCurve(name, *(np.asarray(a, dtype=float) for a in curve))
            line.setData(np.asarray(curve.step, dtype=float), curve.gap)

    # -- reacting ---------------------------------------------------------------------------------

    @Slot()
    def _compare(self) -> None:
        self.status.setText("Training the six variants in the training lab…")
        self.compare.emit(self.experiments())

    def _apply_palette(self) -> None:
        follow_palette(self.plot)
        follow_palette(self.gap_plot)
        foreground = palette_look(self.plot.palette()).foreground
        for label in self.value_labels:      # the numbers in the text colour of the look now
            label.setColor(foreground)

    def _fit_axis(self) -> None:
        """Room for two lines of tick text under the bars ("weight" over "decay 2"), in the axis' font."""
        font = self.axis.style.get("tickFont") or self.font()
        self.axis.setHeight(int(2 * QFontMetrics(font).lineSpacing() + 14))

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.PaletteChange:
            self._apply_palette()
        elif event.type() == event.Type.FontChange:
            self._fit_axis()
            self.show_results(self.rows)      # the numbers above the bars in the new size
        super().changeEvent(event)
