"""The optimizer-trajectories lab: several optimizers walk the same 2-D loss surface from one start.

A view over :mod:`engine.labs.surfaces` and :mod:`engine.labs.trajectories`: the map is
the surface's :func:`~engine.labs.surfaces.grid` coloured (log colours where its
values span decades) with contour lines; each optimizer's path is computed in
the engine, exactly torch.optim's steps, in a background job
(:class:`gui.concurrency.jobs.TaskRunner`: a few hundred steps cost a fraction of a
second of Python overhead each, too long to freeze the window for), and
cached by everything it depends on, so editing one optimizer recomputes only
that one.  Play does not compute anything: a QTimer on the GUI thread reveals
the precomputed paths step by step, and the slider scrubs them.

What a class should see: on Rosenbrock plain SGD crawls down the valley while
momentum overshoots and comes back; in the ravine SGD zig-zags across, Adam
walks straight; on the saddle everything lingers, then slides off the map.
"""
from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.labs.surfaces import SURFACES, distance_to_minimum, grid, surface
from engine.labs.trajectories import (
    DEFAULT_LR,
    FINISHED,
    LEFT_BOX,
    MAX_STEPS,
    SpecError,
    Trajectory,
    make_spec,
    trajectories_job,
)
from engine.optim.optimizers import OPTIMIZERS
from engine.status import RunStatus
from gui.concurrency.jobs import TaskRunner
from gui.style.palette import ERROR, RUN_COLORS, run_color
from gui.style.theme import LIGHT, Theme, style_plot
from gui.widgets.common import error_label

FRAME_MS = 33                       # ~30 redraws a second while playing, whatever the speed
SPEEDS = (5, 20, 60, 200, 600)      # steps per second offered by the speed box
DEFAULT_SPEED = 60
DEFAULT_STEPS = 300
GRID_POINTS = 200
ARROW_FRACTION = 0.12               # arrows are drawn this fraction of the box's width long

# A pale, desaturated map (low = light): every run colour and the black arrows stay readable on it.
MAP_COLORS = ("#fbf8ef", "#ece3c9", "#d9cbab", "#bdb09b", "#9a94a0", "#77748a")

# The starting line-up: what the lesson contrasts (plain SGD, the heavy ball, Adam).
DEFAULT_OPTIMIZERS = (("sgd", {"lr": "0.001"}), ("sgd", {"lr": "0.001", "momentum": "0.9"}),
                      ("adam", {"lr": "0.05"}))

HYPER_TIPS = {
    "lr": "Learning rate: how far each step goes. Too small and the path crawls; too large and it "
          "bounces off the walls or leaves the map.",
    "momentum": "Fraction of the previous step's velocity kept (0.9 is typical): the ball keeps rolling "
                "along consistent directions and oscillations across the valley cancel.",
    "nesterov": "Nesterov momentum: take the gradient where momentum is about to carry you, a look-ahead "
                "that brakes earlier before overshooting.",
    "betas": "Two decay rates, beta1/beta2 (e.g. 0.9/0.999): how long the running mean of the gradient "
             "and of its square remember the past.",
    "eps": "Added to the denominator sqrt(v) so that a tiny gradient does not give a huge step.",
    "weight_decay": "Pull toward the origin (0, 0) added to every step; it moves the minimum the optimizer "
                    "actually finds.",
    "alpha": "RMSprop's smoothing of the running average of squared gradients (0.99 remembers ~100 steps).",
}


class TrajectoriesTab(QWidget):
    """Optimizers racing on a 2-D loss surface.

    Signals: ``start_changed(x, y)`` when the common start moves;
    ``step_changed(step)`` when the shown step changes (playing or scrubbing);
    ``paths_changed()`` when a path is computed, dropped or invalidated.
    Call :meth:`shutdown` before the widget goes away (it joins the job thread).
    """

    start_changed = Signal(float, float)
    step_changed = Signal(int)
    paths_changed = Signal()

    def __init__(self, parent: QWidget | None = None, theme: Theme = LIGHT, presenter: bool = False,
                 steps: int = DEFAULT_STEPS):
        super().__init__(parent)
        self._computing = False              # a job is running or its last results are still on their way
        self._theme, self._presenter = theme, presenter
        self._surface = "rosenbrock"
        self._params: dict[str, float] = {}
        self._start = SURFACES[self._surface].start
        self._rows: list[dict] = []          # {"name", "texts", "color", "spec", "error", "error_key"}
        self._next_color = 0
        self._cache: dict[tuple, Trajectory] = {}
        self._pending = False
        self._step = 0
        self._carry = 0.0
        self._items: list[dict] = []         # plot items per row

        self._runner = TaskRunner(self, name="trajectories")
        self._runner.partial.connect(self._on_partial)
        self._runner.failed.connect(self._on_failed)
        self._runner.finished.connect(self._on_finished)
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._tick)

        self._build(steps)
        for name, texts in DEFAULT_OPTIMIZERS:
            self.add_optimizer(name, **texts)
        self._table.selectRow(0)
        self._set_surface_widgets()
        self._draw_surface()
        self._request()

    # -- layout -----------------------------------------------------------------------------------

    def _build(self, steps: int) -> None:
        self._plot = pg.PlotWidget()
        self._plot.setAspectLocked(True)
        self._plot.setMenuEnabled(False)
        self._plot.setMinimumSize(380, 300)
        self._plot.setToolTip("The loss surface seen from above: light is low, dark is high. Click anywhere "
                              "to start every optimizer from there; white stars mark the minima.")
        item = self._plot.getPlotItem()
        item.setLabel("bottom", "x")
        item.setLabel("left", "y")
        self._image = pg.ImageItem()
        self._image.setColorMap(pg.ColorMap(np.linspace(0, 1, len(MAP_COLORS)), [QColor(c) for c in MAP_COLORS]))
        self._plot.addItem(self._image)
        self._isocurves: list[pg.IsocurveItem] = []
        self._minima = pg.ScatterPlotItem(symbol="star", size=16, brush=pg.mkBrush("#ffffff"),
                                          pen=pg.mkPen("#000000", width=1.2))
        self._minima.setZValue(5)
        self._plot.addItem(self._minima)
        self._start_mark = pg.ScatterPlotItem(symbol="o", size=11, brush=pg.mkBrush("#ffffff"),
                                              pen=pg.mkPen("#000000", width=2))
        self._start_mark.setZValue(6)
        self._plot.addItem(self._start_mark, ignoreBounds=True)
        self._plot.scene().sigMouseClicked.connect(self._on_map_clicked)

        # Controls under the map: play, speed, the step slider, arrows.
        self._play = QPushButton("Play")
        self._play.setCheckable(True)
        self._play.setToolTip("Animate every path together, one optimizer step after another. Press again "
                              "to pause; at the end it starts over.")
        self._play.toggled.connect(self._on_play_toggled)
        self._speed = QComboBox()
        for s in SPEEDS:
            self._speed.addItem(f"{s} steps/s", s)
        self._speed.setCurrentIndex(SPEEDS.index(DEFAULT_SPEED))
        self._speed.setToolTip("How many optimizer steps the animation shows per second. Slow down to "
                               "watch single steps bounce; speed up to see where each path ends.")
        self._slider = QSlider(Qt.Orientation.Horizontal)
        self._slider.setToolTip("Scrub through the steps: every path is shown as it was after this many "
                                "updates. Drag back to see how a path got where it is.")
        self._slider.valueChanged.connect(self.set_step)
        self._step_label = QLabel()
        self._step_label.setMinimumWidth(90)
        self._arrows = QCheckBox("Arrows")
        self._arrows.setToolTip("At the head of each path, draw the downhill direction -gradient (black, "
                                "dashed) and the step the optimizer actually takes (path colour). With momentum "
                                "or Adam they differ: the velocity carries the ball. Directions only, "
                                "drawn at one length.")
        self._arrows.toggled.connect(lambda _: self._redraw())
        controls = QHBoxLayout()
        controls.addWidget(self._play)
        controls.addWidget(self._speed)
        controls.addWidget(self._slider, 1)
        controls.addWidget(self._step_label)
        controls.addWidget(self._arrows)
        left = QVBoxLayout()
        left.addWidget(self._plot, 1)
        left.addLayout(controls)

        # Right column: surface, start and steps, optimizers, hyperparameters.
        self._surface_box = QComboBox()
        for info in SURFACES.values():
            self._surface_box.addItem(info.title, info.name)
            self._surface_box.setItemData(self._surface_box.count() - 1, info.description,
                                          Qt.ItemDataRole.ToolTipRole)
        self._surface_box.setToolTip("The loss landscape to explore. Each one shows a different difficulty "
                                     "that real networks' losses have somewhere in their many dimensions.")
        self._surface_box.currentIndexChanged.connect(lambda _: self.set_surface(self._surface_box.currentData()))
        self._description = QLabel()
        self._description.setWordWrap(True)
        self._condition = QLineEdit()
        self._condition_label = QLabel("Condition number")
        self._condition_error = error_label()
        self._condition.editingFinished.connect(self._on_condition_edited)
        self._steps = QSpinBox()
        self._steps.setRange(1, min(MAX_STEPS, 5000))
        self._steps.setValue(steps)
        self._steps.setSingleStep(50)
        self._steps.setToolTip("How many updates every optimizer takes. Paths are computed with torch.optim, "
                               "exactly as in a training loop on a 2-parameter model.")
        self._steps.valueChanged.connect(lambda _: self._request())
        self._start_label = QLabel()
        self._start_label.setToolTip("Every optimizer starts here, so only the update rule differs. "
                                     "Click on the map to move it.")
        reset = QPushButton("Default start")
        reset.setToolTip("Put the start back where this surface shows its difficulty best.")
        reset.clicked.connect(lambda: self.set_start(*surface(self._surface).start))
        form = QFormLayout()
        form.addRow("Surface", self._surface_box)
        form.addRow(self._description)
        form.addRow(self._condition_label, self._condition)
        form.addRow(self._condition_error)
        form.addRow("Steps", self._steps)
        start_row = QHBoxLayout()
        start_row.addWidget(self._start_label, 1)
        start_row.addWidget(reset)
        form.addRow("Start", start_row)

        self._table = QTableWidget(0, 5)
        self._table.setHorizontalHeaderLabels(["Optimizer", "Loss", "Distance", "Status", ""])
        self._table.setColumnHidden(4, True)
        self._table.verticalHeader().hide()
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self._table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self._table.setToolTip("One row per optimizer, in its path's colour: the loss and the distance to the "
                               "nearest minimum at the shown step, and whether the path was stopped (left the "
                               "map or overflowed). Select a row to edit its hyperparameters.")
        self._table.itemSelectionChanged.connect(self._show_editor)
        self._add_name = QComboBox()
        for name, info in OPTIMIZERS.items():
            self._add_name.addItem(name, name)
            self._add_name.setItemData(self._add_name.count() - 1, info.description, Qt.ItemDataRole.ToolTipRole)
        self._add_name.setToolTip("Which update rule to add: every optimizer of the training lab (torch.optim) "
                                  "plus LAMB. Hover an entry for what it does.")
        add = QPushButton("Add")
        add.setToolTip("Add this optimizer with its default hyperparameters, in a new colour; then tune "
                       "it below.")
        add.clicked.connect(lambda: self._select(self.add_optimizer(self._add_name.currentData())))
        self._remove = QPushButton("Remove")
        self._remove.setToolTip("Remove the selected optimizer and its path.")
        self._remove.clicked.connect(lambda: self.remove_optimizer(self.selected_row()))
        buttons = QHBoxLayout()
        buttons.addWidget(self._add_name, 1)
        buttons.addWidget(add)
        buttons.addWidget(self._remove)

        self._editor = QGroupBox("Hyperparameters")
        self._editor_layout = QFormLayout(self._editor)
        self._fields: dict[str, QWidget] = {}
        self._field_errors: dict[str, QLabel] = {}

        self._busy_label = QLabel()
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self._table, 1)
        right.addLayout(buttons)
        right.addWidget(self._editor)
        right.addWidget(self._busy_label)
        panel = QWidget()
        panel.setLayout(right)
        panel.setFixedWidth(380)

        outer = QHBoxLayout(self)
        outer.addLayout(left, 1)
        outer.addWidget(panel)
        self.apply_theme(self._theme, self._presenter)

    # -- public API -------------------------------------------------------------------------------

    def set_surface(self, name: str, **params) -> None:
        """Switch the surface (and its parameters, e.g. ``condition=100``); the start moves to its default."""
        info = surface(name)
        self._surface, self._params = name, info.resolve(params)
        self._start = info.start
        if self._surface_box.currentData() != name:
            self._surface_box.blockSignals(True)
            self._surface_box.setCurrentIndex(list(SURFACES).index(name))
            self._surface_box.blockSignals(False)
        self._set_surface_widgets()
        self._draw_surface()
        self.start_changed.emit(*self._start)
        self._request()

    def set_start(self, x: float, y: float) -> None:
        """Move the common start (must lie in the surface's box; else ignored)."""
        if not surface(self._surface).contains(x, y):
            return
        self._start = (float(x), float(y))
        self.start_changed.emit(*self._start)
        self.set_step(0)
        self._request()

    def start(self) -> tuple[float, float]:
        return self._start

    def add_optimizer(self, name: str, **settings: str) -> int:
        """Add a path for ``name`` with hyperparameter texts (e.g. ``lr="0.01"``); returns its row."""
        if name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {name!r}")
        texts = {k: str(v) for k, v in settings.items()}
        if "lr" not in texts:
            texts["lr"] = f"{DEFAULT_LR:g}"
        row = {"name": name, "texts": texts, "color": self._next_color % len(RUN_COLORS)}
        self._next_color += 1
        self._rows.append(row)
        self._items.append(self._make_items(row["color"]))
        self._table.insertRow(self._table.rowCount())
        self._validate(len(self._rows) - 1)
        self._request()
        return len(self._rows) - 1

    def remove_optimizer(self, index: int) -> None:
        if not 0 <= index < len(self._rows):
            return
        del self._rows[index]
        for it in self._items.pop(index).values():
            self._plot.removeItem(it)
        self._table.removeRow(index)
        self._show_editor()
        self._redraw()
        self.paths_changed.emit()

    def set_hyperparameter(self, index: int, key: str, text: str) -> str | None:
        """Set one hyperparameter of row ``index`` as typed; returns the error shown, or None."""
        self._rows[index]["texts"][key] = str(text)
        self._validate(index)
        if index == self.selected_row():
            editor = self._fields.get(key)
            if isinstance(editor, QLineEdit) and editor.text() != str(text):
                editor.setText(str(text))
            self._show_field_errors()
        self._request()
        return self._rows[index]["error"]

    def optimizer_count(self) -> int:
        return len(self._rows)

    def spec(self, index: int):
        """Row ``index``'s checked :class:`~engine.labs.trajectories.OptimizerSpec`, None while invalid."""
        return self._rows[index]["spec"]

    def trajectory(self, index: int) -> Trajectory | None:
        """Row ``index``'s computed path, None while invalid or not yet computed."""
        key = self._key(self._rows[index])
        return self._cache.get(key) if key else None

    def selected_row(self) -> int:
        rows = self._table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def step(self) -> int:
        return self._step

    def max_step(self) -> int:
        return self._steps.value()

    def set_steps(self, steps: int) -> None:
        self._steps.setValue(steps)

    @Slot(int)
    def set_step(self, step: int) -> None:
        """Show every path as it was after ``step`` updates (clamped to 0..steps)."""
        step = max(0, min(int(step), self._steps.value()))
        changed = step != self._step
        self._step = step
        if self._slider.value() != step:
            self._slider.blockSignals(True)
            self._slider.setValue(step)
            self._slider.blockSignals(False)
        self._redraw()
        if changed:
            self.step_changed.emit(step)

    def play(self) -> None:
        self._play.setChecked(True)

    def pause(self) -> None:
        self._play.setChecked(False)

    def playing(self) -> bool:
        return self._timer.isActive()

    def set_speed(self, steps_per_second: int) -> None:
        self._speed.setCurrentIndex(SPEEDS.index(steps_per_second))

    def set_arrows(self, on: bool) -> None:
        self._arrows.setChecked(on)

    def busy(self) -> bool:
        """Whether paths are still being computed."""
        return self._computing or self._pending

    def table_text(self, row: int, column: int) -> str:
        item = self._table.item(row, column)
        return item.text() if item else ""

    def shutdown(self) -> None:
        """Stop the animation and the job thread (call before the window closes)."""
        self._timer.stop()
        self._pending = False
        self._runner.shutdown(15000)

    def apply_theme(self, theme: Theme, presenter: bool) -> None:
        self._theme, self._presenter = theme, presenter
        style_plot(self._plot, theme, presenter)
        width = 3.5 if presenter else 2.0
        for items, row in zip(self._items, self._rows):
            color = run_color(row["color"])
            items["line"].setPen(pg.mkPen(color, width=width))
            items["update"].setPen(pg.mkPen(color, width=width))
        self._redraw()

    def closeEvent(self, event) -> None:   # noqa: N802 (Qt's name)
        self.shutdown()
        super().closeEvent(event)

    # -- surface ----------------------------------------------------------------------------------

    def _set_surface_widgets(self) -> None:
        info = surface(self._surface)
        has_condition = any(p.name == "condition" for p in info.params)
        for w in (self._condition, self._condition_label):
            w.setVisible(has_condition)
        self._condition_error.hide()
        if has_condition:
            p = info.params[0]
            self._condition.setText(f"{self._params.get('condition', p.default):g}")
            self._condition.setToolTip(f"{p.help} Allowed: {p.low:g} to {p.high:g}.")
        self._start_label.setText(self._start_text())

    def _start_text(self) -> str:
        return f"({self._start[0]:.3g}, {self._start[1]:.3g})"

    @Slot()
    def _on_condition_edited(self) -> None:
        info = surface(self._surface)
        try:
            params = info.resolve({"condition": self._condition.text()})
        except ValueError as err:
            self._condition_error.setText(str(err))
            self._condition_error.show()
            return
        self._condition_error.hide()
        if params != self._params:
            self._params = params
            self._draw_surface()
            self._request()

    def _draw_surface(self) -> None:
        info = surface(self._surface)
        g = grid(self._surface, self._params, n=GRID_POINTS)
        self._image.setImage(g.colors, autoLevels=False, levels=(float(g.colors.min()), float(g.colors.max())))
        xmin, xmax, ymin, ymax = info.box
        dx, dy = (xmax - xmin) / (GRID_POINTS - 1), (ymax - ymin) / (GRID_POINTS - 1)
        self._image.setRect(QRectF(xmin - dx / 2, ymin - dy / 2, xmax - xmin + dx, ymax - ymin + dy))
        for iso in self._isocurves:
            scene = iso.scene()
            iso.setParentItem(None)
            if scene is not None:
                scene.removeItem(iso)
        self._isocurves = []
        pen = pg.mkPen(QColor(0, 0, 0, 70), width=1)
        for level in g.levels:
            iso = pg.IsocurveItem(data=g.colors, level=float(level), pen=pen)
            iso.setParentItem(self._image)
            self._isocurves.append(iso)
        if info.minima:
            m = np.asarray(info.minima)
            self._minima.setData(m[:, 0], m[:, 1])
        else:
            self._minima.clear()
        self._plot.getPlotItem().vb.enableAutoRange()       # frames the image whatever the widget's size
        # A short title: a PlotItem is never narrower than its title, so a long one would clip the map.
        self._plot.getPlotItem().setTitle(info.title)
        scale = ("Colours: log scale, light = low (the values span decades)." if g.log_scale
                 else "Colours: linear scale, light = low.")
        self._description.setText(f"<i>{html.escape(info.formula)}</i><br>{html.escape(info.description)}"
                                   f"<br><span style='color:gray'>{scale}</span>")
        self._redraw()

    @Slot(object)
    def _on_map_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        vb = self._plot.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        p = vb.mapSceneToView(event.scenePos())
        self.set_start(p.x(), p.y())

    # -- optimizers -------------------------------------------------------------------------------

    def _make_items(self, color_index: int) -> dict:
        color = run_color(color_index)
        width = 3.5 if self._presenter else 2.0
        items = {
            "line": pg.PlotDataItem(pen=pg.mkPen(color, width=width)),
            "head": pg.ScatterPlotItem(symbol="o", size=10, brush=pg.mkBrush(color), pen=pg.mkPen("#000000")),
            "stop": pg.ScatterPlotItem(symbol="x", size=18, brush=pg.mkBrush(color), pen=pg.mkPen("#000000")),
            "grad": pg.PlotDataItem(connect="pairs", pen=pg.mkPen("#000000", width=2, style=Qt.PenStyle.DashLine)),
            "update": pg.PlotDataItem(connect="pairs", pen=pg.mkPen(color, width=width)),
        }
        for z, it in enumerate(items.values()):
            it.setZValue(10 + z)
            self._plot.addItem(it, ignoreBounds=True)    # the view frames the map, not a path leaving it
        return items

    def _validate(self, index: int) -> None:
        row = self._rows[index]
        row["spec"] = row["error"] = row["error_key"] = None
        try:
            row["spec"] = make_spec(row["name"], row["texts"])
        except SpecError as err:
            row["error"], row["error_key"] = str(err), err.key
        self._fill_row(index)

    def _key(self, row: dict) -> tuple | None:
        if row["spec"] is None:
            return None
        return (self._surface, tuple(sorted(self._params.items())), self._start, self._steps.value(), row["spec"])

    def _select(self, index: int) -> None:
        self._table.selectRow(index)

    @Slot()
    def _show_editor(self) -> None:
        """The hyperparameter fields of the selected optimizer: only the keys it takes (from OPTIMIZERS)."""
        while self._editor_layout.rowCount():
            self._editor_layout.removeRow(0)
        self._fields, self._field_errors = {}, {}
        index = self.selected_row()
        self._remove.setEnabled(index >= 0)
        if index < 0:
            self._editor.setTitle("Hyperparameters (select an optimizer)")
            return
        row = self._rows[index]
        info = OPTIMIZERS[row["name"]]
        self._editor.setTitle(f"Hyperparameters of {row['name']}")
        self._editor.setToolTip(info.description)
        defaults = info.defaults
        for key in info.takes:
            tip = HYPER_TIPS.get(key, "")
            if key == "nesterov":
                box = QCheckBox("Nesterov look-ahead")
                box.setChecked(row["texts"].get(key, "false").lower() in ("true", "1"))
                box.toggled.connect(lambda on, k=key, i=index: self.set_hyperparameter(i, k, "true" if on else ""))
                editor = box
            else:
                edit = QLineEdit(row["texts"].get(key, ""))
                default = DEFAULT_LR if key == "lr" else defaults.get(key)
                if isinstance(default, tuple):
                    default = "/".join(f"{v:g}" for v in default)
                elif isinstance(default, float):
                    default = f"{default:g}"
                edit.setPlaceholderText(f"default {default}")
                edit.editingFinished.connect(lambda k=key, i=index, e=edit: self._on_field_edited(i, k, e))
                editor = edit
            editor.setToolTip(tip)
            error = error_label()
            self._editor_layout.addRow(key, editor)
            self._editor_layout.addRow(error)
            self._fields[key], self._field_errors[key] = editor, error
        self._show_field_errors()

    def _show_field_errors(self) -> None:
        """The selected row's error in words under the field it is about (a whole-spec error under lr)."""
        index = self.selected_row()
        row = self._rows[index] if index >= 0 else None
        for key, editor in self._fields.items():
            error = self._field_errors[key]
            bad = row is not None and row["error"] is not None and (
                row["error_key"] == key or (row["error_key"] not in self._fields and key == "lr"))
            error.setText(row["error"] if bad else "")
            error.setVisible(bad)
            if isinstance(editor, QLineEdit):
                editor.setStyleSheet(f"QLineEdit {{ border: 1.5px solid {ERROR}; }}" if bad else "")

    def _on_field_edited(self, index: int, key: str, edit: QLineEdit) -> None:
        if index < len(self._rows) and self._rows[index]["texts"].get(key, "") != edit.text():
            self.set_hyperparameter(index, key, edit.text())

    def field(self, key: str) -> QWidget | None:
        """The editor of ``key`` for the selected optimizer (tests type into it)."""
        return self._fields.get(key)

    def field_error(self, key: str) -> str:
        label = self._field_errors.get(key)
        return label.text() if label is not None and not label.isHidden() else ""

    # -- computing --------------------------------------------------------------------------------

    def _request(self) -> None:
        """Compute the paths not in the cache, in the background; a running job is stopped first."""
        self._start_label.setText(self._start_text())
        if self._slider.maximum() != self._steps.value():
            self._slider.setRange(0, self._steps.value())
        missing, seen = [], set()
        for row in self._rows:
            key = self._key(row)
            if key is not None and key not in self._cache and key not in seen:
                seen.add(key)
                missing.append((key, row["spec"]))
        self._redraw()
        self.paths_changed.emit()
        if self._runner.busy():
            self._pending = True
            self._runner.cancel()
            if not self._computing:      # its finished signal came already: the thread is ending, retry soon
                QTimer.singleShot(10, self._retry)
            return
        self._pending = False
        if missing:
            self._busy_label.setText(f"computing {len(missing)} path{'s' if len(missing) > 1 else ''}…")
            self._computing = self._runner.start(trajectories_job, self._surface, self._start,
                                                 dict(self._params), self._steps.value(), missing)

    @Slot()
    def _retry(self) -> None:
        if self._pending:
            self._request()

    @Slot(object)
    def _on_partial(self, result) -> None:
        key, path = result
        self._cache[key] = path
        if len(self._cache) > 200:                       # forget the oldest paths, keep memory bounded
            for old in list(self._cache)[:100]:
                del self._cache[old]
        self._redraw()
        self.paths_changed.emit()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._busy_label.setText(f"could not compute: {message}")

    @Slot()
    def _on_finished(self) -> None:
        self._computing = False      # relayed after every partial result of the job, so all have arrived
        if not self._busy_label.text().startswith("could not"):
            self._busy_label.setText("")
        if self._pending:
            self._request()

    # -- animation --------------------------------------------------------------------------------

    @Slot(bool)
    def _on_play_toggled(self, on: bool) -> None:
        self._play.setText("Pause" if on else "Play")
        if on:
            if self._step >= self._steps.value():
                self.set_step(0)
            self._carry = 0.0
            self._timer.start()
        else:
            self._timer.stop()

    @Slot()
    def _tick(self) -> None:
        self._carry += self._speed.currentData() * FRAME_MS / 1000.0
        advance = int(self._carry)
        self._carry -= advance
        if advance:
            self.set_step(self._step + advance)
        if self._step >= self._steps.value():
            self.pause()

    # -- drawing ----------------------------------------------------------------------------------

    def _redraw(self) -> None:
        self._start_mark.setData([self._start[0]], [self._start[1]])
        self._step_label.setText(f"step {self._step} / {self._steps.value()}")
        info = surface(self._surface)
        length = ARROW_FRACTION * (info.box[1] - info.box[0])
        for index, (row, items) in enumerate(zip(self._rows, self._items)):
            key = self._key(row)
            path = self._cache.get(key) if key else None
            if path is None:
                for it in items.values():
                    it.setData([], []) if not isinstance(it, pg.ScatterPlotItem) else it.clear()
                self._fill_row(index)
                continue
            k = min(self._step, path.steps)
            items["line"].setData(path.x[:k + 1], path.y[:k + 1])
            items["head"].setData([path.x[k]], [path.y[k]])
            if path.stopped and self._step >= path.stop_step:
                items["stop"].setData([path.x[k]], [path.y[k]])
            else:
                items["stop"].clear()
            show = self._arrows.isChecked()
            items["grad"].setData(*_arrow(path.x[k], path.y[k], -path.grad[k], length) if show else ([], []))
            items["update"].setData(*_arrow(path.x[k], path.y[k], path.update[k], length) if show else ([], []))
            self._fill_row(index, path, k)

    def _fill_row(self, index: int, path: Trajectory | None = None, k: int = 0) -> None:
        row = self._rows[index]
        label = row["spec"].text if row["spec"] is not None else row["name"] + " (invalid)"
        cells = [label, "", "", ""]
        if row["error"]:
            cells[3] = f"invalid {row['error_key'] or 'setting'}"
        elif path is None:
            cells[3] = "computing…"
        else:
            cells[1] = f"{path.loss[k]:.4g}"
            if surface(self._surface).has_minimum:
                cells[2] = f"{float(distance_to_minimum(self._surface, path.x[k], path.y[k])):.3g}"
            else:
                cells[2] = "n/a"
            if path.stopped and self._step >= path.stop_step:
                cells[3] = "✕ left box" if path.status == LEFT_BOX else "✕ overflow"    # the step: in the tooltip
            elif path.status == FINISHED and self._step >= path.steps:
                cells[3] = "done"
            else:
                cells[3] = RunStatus.RUNNING
        tips = [row["spec"].text if row["spec"] else row["error"], "Loss f(x, y) at the shown step.",
                "Distance to the nearest minimum (n/a: this surface has none).",
                path.message if path is not None else (row["error"] or "")]
        for col, text in enumerate(cells):
            item = self._table.item(index, col)
            if item is None:
                item = QTableWidgetItem()
                self._table.setItem(index, col, item)
            if item.text() != text:
                item.setText(text)
            item.setToolTip(tips[col])
            if col == 0:
                item.setData(Qt.ItemDataRole.DecorationRole, run_color(row["color"]))
            if col == 3:
                item.setForeground(QColor(ERROR) if (row["error"] or (path is not None and path.stopped
                                                                           and self._step >= path.stop_step))
                                   else self.palette().text().color())


def _arrow(x: float, y: float, direction: np.ndarray, length: float) -> tuple[np.ndarray, np.ndarray]:
    """Segments (for ``connect="pairs"``) of an arrow from (x, y) along ``direction``, ``length`` long."""
    d = np.asarray(direction, dtype=np.float64)
    norm = float(np.hypot(*d)) if np.isfinite(d).all() else 0.0
    if norm == 0.0:
        return np.array([]), np.array([])
    u = d / norm * length
    tip = np.array([x, y]) + u
    barbs = [tip - 0.3 * _rotate(u, a) for a in (math.radians(25), -math.radians(25))]
    pts = np.array([[x, y], tip, tip, barbs[0], tip, barbs[1]])
    return pts[:, 0], pts[:, 1]


def _rotate(v: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])
