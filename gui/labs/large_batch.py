"""The large-batch lab: the lab's spiral trained at batch sizes from 32 to 8192, at equal epochs, by scaled SGD,
LARS and LAMB; final validation accuracy and loss against the batch size (log axis), a table, the claim.

Every number comes from :func:`engine.labs.large_batch.run_large_batch` (the app's Trainer on ordinary
experiments), run in a :class:`~gui.concurrency.jobs.TaskRunner`: the tab shows each run as it finishes.
The verdict line reads the claim's own conditions (``engine.lessons.claims.large_batch``) on the runs
shown, and the shipped table's "holds at k of 10 seeds" (``engine.lessons.claims.measured``).
"""
from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.config import MAX_SEEDS
from engine.labs.large_batch import (
    BATCHES,
    DEFAULT_EPOCHS,
    LAB_EXPERIMENT,
    METHODS,
    LargeBatchResult,
    LargeBatchSettings,
    run_large_batch,
)
from engine.lessons.claims.large_batch import CLAIM_BATCHES, CLAIMS, needs, numbers_of
from engine.lessons.claims.measured import measured
from gui.concurrency.jobs import TaskRunner
from gui.style.palette import NEUTRAL, run_color
from gui.style.theme import follow_palette
from gui.widgets.plotting import lab_plot

CLAIM = CLAIMS[0]
TAB_BATCHES = (32, *CLAIM_BATCHES)        # ticked at start: the runs the claim reads
SHOWS = ("What it shows: at equal epochs a batch k times larger takes k times fewer steps. Scaled SGD with "
         "warm-up keeps up only to a point; LARS and LAMB scale each layer's step to its weights and go "
         "further, but not all the way: at 8192 (40 steps) here LARS breaks as well, and LAMB stays below "
         "the small batch, where the lesson's claim (they hold up) does not reproduce at this scale.")
COLUMNS = ("method", "batch", "lr", "steps", "status", "val loss", "val acc")


class LargeBatchTab(QWidget):
    """Choose batch sizes and methods, Run, read the curves, the table and the verdict.

    Public: ``base`` (the experiment trained, :data:`LAB_EXPERIMENT`), :meth:`settings`, :meth:`start` / :meth:`stop` / :meth:`busy`, :meth:`result`, :meth:`show_result`,
    :meth:`shutdown`; ``batch_boxes`` and ``method_boxes`` (by batch and method key), ``epochs_spin``,
    ``seed_spin``, ``run_button``, ``table``, ``acc_curves`` / ``loss_curves`` (by method), ``verdict``;
    signal ``result_done(LargeBatchResult)`` when a race has ended.
    """

    result_done = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._result: LargeBatchResult | None = None
        self.base = LAB_EXPERIMENT          # what is trained (its data, model; the seed box's seed): the lab's
        self._runner = TaskRunner(self, name="large-batch")
        self._runner.partial.connect(self.show_result)
        self._runner.done.connect(self._on_done)
        self._runner.failed.connect(self._on_failed)
        self._runner.finished.connect(self._on_finished)

        title = QLabel("<b>Large batches</b>: one problem at batch sizes 32 to 8192, at equal epochs")
        shows = QLabel(SHOWS)
        shows.setWordWrap(True)

        controls = QWidget()
        grid = QGridLayout(controls)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("<b>Batch sizes</b>"), 0, 0, 1, 3)
        self.batch_boxes: dict[int, QCheckBox] = {}
        for i, batch in enumerate(BATCHES):
            box = QCheckBox(str(batch))
            box.setChecked(batch in TAB_BATCHES)
            box.toggled.connect(self._changed)
            self.batch_boxes[batch] = box
            grid.addWidget(box, 1 + i // 3, i % 3)
        row = 1 + math.ceil(len(BATCHES) / 3)
        grid.addWidget(QLabel("<b>Methods</b>"), row, 0, 1, 3)
        self.method_boxes: dict[str, QCheckBox] = {}
        for i, method in enumerate(METHODS):
            box = QCheckBox(method.label)
            box.setChecked(True)
            box.setToolTip(f"<p>{html.escape(method.description)}</p>")
            box.setStyleSheet(f"QCheckBox {{ color: {run_color(i).name()}; font-weight: bold; }}")
            box.toggled.connect(self._changed)
            self.method_boxes[method.key] = box
            grid.addWidget(box, row + 1 + i, 0, 1, 3)
        row += 1 + len(METHODS)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 100)
        self.epochs_spin.setValue(DEFAULT_EPOCHS)
        self.epochs_spin.setToolTip("Passes over the 32,768 examples, the same for every run")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, MAX_SEEDS * 1000)
        self.seed_spin.setToolTip("Seed of the data, the weights and the batch order")
        grid.addWidget(QLabel("epochs"), row, 0)
        grid.addWidget(self.epochs_spin, row, 1, 1, 2)
        grid.addWidget(QLabel("seed"), row + 1, 0)
        grid.addWidget(self.seed_spin, row + 1, 1, 1, 2)
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Train every ticked method at every ticked batch size (the B=32 runs take "
                                   "longest: about 10 s each)")
        self.run_button.clicked.connect(self._run_clicked)
        grid.addWidget(self.run_button, row + 2, 0, 1, 3)
        self.status = QLabel("Tick batch sizes and methods, then Run.")
        self.status.setWordWrap(True)
        grid.addWidget(self.status, row + 3, 0, 1, 3)
        grid.setRowStretch(row + 4, 1)
        scroll = QScrollArea()
        scroll.setWidget(controls)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(controls.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 8)

        self.acc_plot = lab_plot("Final validation accuracy", bottom="batch size", left="accuracy")
        self.loss_plot = lab_plot("Final validation loss", bottom="batch size", left="loss (log)")
        self.acc_curves: dict[str, pg.PlotDataItem] = {}
        self.loss_curves: dict[str, pg.PlotDataItem] = {}
        for plot, curves in ((self.acc_plot, self.acc_curves), (self.loss_plot, self.loss_curves)):
            item = plot.getPlotItem()
            item.setLogMode(x=True, y=plot is self.loss_plot)
            item.getAxis("bottom").setTicks([[(math.log10(b), str(b)) for b in BATCHES[::2]]])
            # room either side for the end ticks' labels ("32", "8192"), which pyqtgraph drops when they overhang
            item.setXRange(math.log10(BATCHES[0]) - 0.2, math.log10(BATCHES[-1]) + 0.25, padding=0)
            item.setMouseEnabled(False, False)
            item.hideButtons()
            for i, method in enumerate(METHODS):
                color = run_color(i)
                curves[method.key] = item.plot([], [], pen=pg.mkPen(color, width=2), symbol="o", symbolSize=7,
                                               symbolBrush=color, symbolPen=pg.mkPen(color))
        self.acc_plot.getPlotItem().setYRange(0.4, 1.0, padding=0.02)
        self.key = QLabel(" &nbsp; ".join(f"<span style='color:{run_color(i).name()}'>━━</span>&nbsp;"
                                          f"{html.escape(m.label).replace(' ', '&nbsp;')}"
                                          for i, m in enumerate(METHODS)))
        self.key.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.RichText)

        plots = QHBoxLayout()
        plots.addWidget(self.acc_plot, 1)
        plots.addWidget(self.loss_plot, 1)
        # The verdict scrolls inside its own area: its wrapped lines must not take the plots' height on a
        # 1024x768 projector.
        verdict_scroll = QScrollArea()
        verdict_scroll.setWidget(self.verdict)
        verdict_scroll.setWidgetResizable(True)
        verdict_scroll.setFrameShape(QFrame.Shape.NoFrame)
        verdict_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.table.setMinimumHeight(60)
        lower = QHBoxLayout()
        lower.addWidget(self.table, 3)
        lower.addWidget(verdict_scroll, 2)
        right = QVBoxLayout()
        right.addLayout(plots, 3)
        right.addWidget(self.key)
        right.addLayout(lower, 2)
        body = QHBoxLayout()
        body.addWidget(scroll)
        body.addLayout(right, 1)
        column = QVBoxLayout(self)
        column.addWidget(title)
        column.addWidget(shows)
        column.addLayout(body, 1)
        self._apply_palette()
        self.show_result(None)
        self._changed()

    # -- the settings ---------------------------------------------------------------------------

    def settings(self) -> LargeBatchSettings | None:
        """What the boxes describe, or None when no batch size or no method is ticked."""
        batches = tuple(b for b, box in self.batch_boxes.items() if box.isChecked())
        methods = tuple(k for k, box in self.method_boxes.items() if box.isChecked())
        if not batches or not methods:
            return None
        return LargeBatchSettings(batches, methods, self.epochs_spin.value())

    @Slot()
    def _changed(self) -> None:
        settings = self.settings()
        if not self.busy():
            self.run_button.setEnabled(settings is not None)
            n = len(settings.batches) * len(settings.methods) if settings else 0
            self.run_button.setText(f"Run {n} trainings" if n else "Run")
            if settings is None:
                self.status.setText("Tick at least one batch size and one method.")

    # -- running --------------------------------------------------------------------------------

    def busy(self) -> bool:
        return self._runner.busy()

    def start(self) -> bool:
        """Race what the boxes describe; False when nothing is ticked or a race is running."""
        settings = self.settings()
        if settings is None or self.busy():
            return False
        base = self.base.replace(seed=self.seed_spin.value())
        self.show_result(LargeBatchResult(settings, base.name))
        self.run_button.setText("Stop")
        self.status.setText(f"Training {len(settings.batches) * len(settings.methods)} runs…")
        return self._runner.start(run_large_batch, base, settings)

    def stop(self) -> None:
        self._runner.cancel()

    @Slot()
    def _run_clicked(self) -> None:
        if self.busy():
            self.stop()
        else:
            self.start()

    @Slot(object)
    def _on_done(self, result: LargeBatchResult) -> None:
        self.show_result(result)
        self.status.setText(f"{'Stopped' if result.stopped else 'Done'}: {len(result.rows)} runs.")
        self.result_done.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.status.setText(f"Failed: {message}")

    @Slot()
    def _on_finished(self) -> None:
        self.run_button.setText("Run")
        self._changed()

    def result(self) -> LargeBatchResult | None:
        return self._result

    # -- drawing --------------------------------------------------------------------------------

    @Slot(object)
    def show_result(self, result: LargeBatchResult | None) -> None:
        """Curves, table and verdict of ``result`` (None: empty)."""
        self._result = result
        for method in METHODS:
            batches, acc, loss = result.curve(method.key) if result is not None else ([], [], [])
            x = np.asarray(batches, dtype=float)
            self.acc_curves[method.key].setData(x, np.asarray(acc, dtype=float))
            finite = np.isfinite(loss) & (np.asarray(loss, dtype=float) > 0) if len(loss) else np.array([], bool)
            self.loss_curves[method.key].setData(x[finite], np.asarray(loss, dtype=float)[finite])
        rows = result.rows if result is not None else ()
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            cells = (r.method, str(r.batch_size), f"{r.lr:.4g}", str(r.steps), r.status,
                     "n/a" if r.final_val_loss is None else f"{r.final_val_loss:.4f}",
                     "n/a" if r.final_val_acc is None else f"{r.final_val_acc:.4f}")
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, item)
        self.verdict.setText(self.verdict_html(result))

    @staticmethod
    def verdict_html(result: LargeBatchResult | None) -> str:
        """The claim, its shipped k of 10, and each of its conditions read on ``result`` when it holds the
        runs they read at the claim's epochs (else what to tick)."""
        found = measured(CLAIM.key)
        held = found.text if found is not None else "not yet measured at 10 seeds"
        lines = [f"<b>The claim</b>: {html.escape(CLAIM.says)} <i>It {html.escape(held)}.</i>"]
        have = {(r.method, r.batch_size) for r in result.rows} if result is not None else set()
        if (result is None or result.experiment != LAB_EXPERIMENT.name or result.settings.epochs != DEFAULT_EPOCHS
                or not needs() <= have):
            lines.append(f"<span style='color:{NEUTRAL}'>A run is judged against it with SGD at 32 and every "
                         f"method at {', '.join(map(str, CLAIM_BATCHES))}, {DEFAULT_EPOCHS} epochs, on the lab's "
                         f"spiral.</span>")
            return "<br>".join(lines)
        numbers = numbers_of(result)
        marks = [("✓" if c.test(numbers) else "✗") + " " + html.escape(c.text) for c in CLAIM.conditions]
        kept = sum(m.startswith("✓") for m in marks)
        lines.append(f"In this run {kept} of {len(marks)} conditions hold:<br>" + "<br>".join(marks))
        return "<br>".join(lines)

    def _apply_palette(self) -> None:
        follow_palette(self.acc_plot)
        follow_palette(self.loss_plot)

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    # -- lifetime -------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the race and join its thread (call before the tab goes away)."""
        self._runner.shutdown(15000)

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)
