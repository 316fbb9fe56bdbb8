"""The optimizer-trajectories lab: several optimizers walk the same 2-D loss surface from one start.

A view over :mod:`engine.labs.surfaces` and :mod:`engine.labs.trajectories`: the
map (:mod:`.map`) is the surface's :func:`~engine.labs.surfaces.grid` coloured
(log colours where its values span decades) with contour lines; each
optimizer's path is computed in the engine, exactly torch.optim's steps, in a
background job (:class:`gui.concurrency.jobs.TaskRunner`: a few hundred steps
cost a fraction of a second of Python overhead each, too long to freeze the
window for), and cached by everything it depends on (:mod:`.paths`), so
editing one optimizer recomputes only that one.  Play does not compute
anything: the bar under the map (:mod:`.playback`) reveals the precomputed
paths step by step, and its slider scrubs them.  The results table
(:mod:`.table`) and the hyperparameter editor (:mod:`.editor`) sit on the right.

What a class should see: on Rosenbrock plain SGD crawls down the valley while
momentum overshoots and comes back; in the ravine SGD zig-zags across, Adam
walks straight; on the saddle everything lingers, then slides off the map.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine.labs.surfaces import SURFACES, surface
from engine.labs.trajectories import DEFAULT_LR, OptimizerSpec, Trajectory, trajectories_job
from engine.optim.optimizers import OPTIMIZERS
from gui.concurrency.jobs import TaskRunner
from gui.labs.trajectories.controls import SurfaceControls
from gui.labs.trajectories.editor import HyperparameterEditor
from gui.labs.trajectories.map import ARROW_FRACTION, SurfaceMap
from gui.labs.trajectories.paths import OptimizerRow, PathCache, PathKey, path_key
from gui.labs.trajectories.playback import PlaybackBar
from gui.labs.trajectories.table import PathTable, row_cells
from gui.style.palette import RUN_COLORS, run_color
from gui.style.theme import LIGHT, Theme, style_plot
from gui.widgets.common import fit_column

DEFAULT_STEPS = 300

# The starting line-up: what the lesson contrasts (plain SGD, the heavy ball, Adam).
DEFAULT_OPTIMIZERS = (("sgd", {"lr": "0.001"}), ("sgd", {"lr": "0.001", "momentum": "0.9"}),
                      ("adam", {"lr": "0.05"}))


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
        self._rows: list[OptimizerRow] = []
        self._next_color = 0
        self._cache = PathCache()
        self._pending = False
        self._failed: str | None = None      # the last job's one-line failure, shown under the table
        self._closed = False                 # shut down: no job starts again
        self._step = 0

        self._runner = TaskRunner(self, name="trajectories")
        self._runner.partial.connect(self._on_partial)
        self._runner.failed.connect(self._on_failed)
        self._runner.finished.connect(self._on_finished)

        self._build(steps)
        for name, texts in DEFAULT_OPTIMIZERS:
            self.add_optimizer(name, **texts)
        self._table.selectRow(0)
        self._controls.show_surface(self._surface, self._params, self._start)
        self._draw_surface()
        self._request()

    # -- layout -----------------------------------------------------------------------------------

    def _build(self, steps: int) -> None:
        self._plot = SurfaceMap()
        self._plot.clicked.connect(self.set_start)
        self._items = self._plot.paths       # plot items per row
        self._playback = PlaybackBar()
        self._playback.step_requested.connect(self.set_step)
        self._playback.arrows.toggled.connect(lambda _: self._redraw())
        self._slider = self._playback.slider
        left = QVBoxLayout()
        left.addWidget(self._plot, 1)
        left.addWidget(self._playback)

        # Right column: surface, start and steps, optimizers, hyperparameters.
        self._controls = SurfaceControls(steps)
        self._controls.surface_chosen.connect(self.set_surface)
        self._controls.params_edited.connect(self._set_params)
        self._controls.default_start.connect(lambda: self.set_start(*surface(self._surface).start))
        self._steps = self._controls.steps
        self._steps.valueChanged.connect(lambda _: self._request())
        self._noise_seed = self._controls.noise_seed
        self._noise_seed.valueChanged.connect(lambda _: self._request())
        self._condition, self._condition_error = self._controls.condition, self._controls.condition_error
        self._start_label = self._controls.start_label

        self._table = PathTable()
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

        self._editor = HyperparameterEditor()
        self._editor.edited.connect(self._on_field_edited)
        self._fields = self._editor.fields

        self._busy_label = QLabel()
        right = QVBoxLayout()
        right.addWidget(self._controls)
        right.addWidget(self._table, 1)
        right.addLayout(buttons)
        right.addWidget(self._editor)
        right.addWidget(self._busy_label)
        panel = QWidget()
        panel.setLayout(right)
        self._panel = panel
        panel.installEventFilter(self)     # its layout asks again (a longer optimizer, larger type): refit
        # The controls scroll when the screen is short (a 1024x768 projector): their texts are never squashed.
        self._scroll = QScrollArea()
        self._scroll.setWidget(panel)
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._fit_panel()

        outer = QHBoxLayout(self)
        outer.addLayout(left, 1)
        outer.addWidget(self._scroll)
        self.apply_theme(self._theme, self._presenter)

    def _fit_panel(self) -> None:
        """The controls' column: 380 px, or as wide as its texts need in large type (presenter mode)."""
        fit_column(self._panel, getattr(self, "_scroll", None), 380)

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.FontChange and hasattr(self, "_panel"):
            self._fit_panel()
        super().changeEvent(event)

    def eventFilter(self, watched, event) -> bool:   # noqa: N802 (Qt's name)
        """The column refits when anything in it asks for more room: the optimizer table wraps its long
        texts but keeps its widest unbreakable piece whole, so it may need a wider column."""
        if watched is self._panel and event.type() == QEvent.Type.LayoutRequest:
            self._fit_panel()
        return super().eventFilter(watched, event)

    # -- public API -------------------------------------------------------------------------------

    def set_noise_seed(self, seed: int) -> None:
        """The seed of the noisy paths' gradient noise (the paths are computed again)."""
        self._noise_seed.setValue(seed)

    def set_surface(self, name: str, **params) -> None:
        """Switch the surface (and its parameters, e.g. ``condition=100``); the start moves to its default."""
        info = surface(name)
        self._surface, self._params = name, info.resolve(params)
        self._start = info.start
        self._controls.show_surface(name, self._params, self._start)
        self._draw_surface()
        self.start_changed.emit(*self._start)
        self._request()

    @Slot(float, float)
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
        row = OptimizerRow(name, texts, self._next_color % len(RUN_COLORS))
        self._next_color += 1
        self._rows.append(row)
        self._plot.add_path(run_color(row.color))
        self._table.insertRow(self._table.rowCount())
        self._fill_row(len(self._rows) - 1)
        self._request()
        return len(self._rows) - 1

    def remove_optimizer(self, index: int) -> None:
        if not 0 <= index < len(self._rows):
            return
        del self._rows[index]
        self._plot.remove_path(index)
        self._table.removeRow(index)
        self._show_editor()
        self._redraw()
        self.paths_changed.emit()

    def set_hyperparameter(self, index: int, key: str, text: str) -> str | None:
        """Set one hyperparameter of row ``index`` as typed; returns the error shown, or None."""
        row = self._rows[index]
        row.texts[key] = str(text)
        row.validate()
        self._fill_row(index)
        if index == self.selected_row():
            self._editor.set_text(key, str(text))
            self._editor.show_error(row.error, row.error_key)
        self._request()
        return row.error

    def optimizer_count(self) -> int:
        return len(self._rows)

    def spec(self, index: int) -> OptimizerSpec | None:
        """Row ``index``'s checked :class:`~engine.labs.trajectories.OptimizerSpec`, None while invalid."""
        return self._rows[index].spec

    def trajectory(self, index: int) -> Trajectory | None:
        """Row ``index``'s computed path, None while invalid or not yet computed."""
        return self._cache.get(self._key(self._rows[index]))

    def selected_row(self) -> int:
        return self._table.selected_row()

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
        self._redraw()
        if changed:
            self.step_changed.emit(step)

    def play(self) -> None:
        self._playback.play_button.setChecked(True)

    def pause(self) -> None:
        self._playback.play_button.setChecked(False)

    def playing(self) -> bool:
        return self._playback.playing()

    def set_speed(self, steps_per_second: int) -> None:
        self._playback.set_speed(steps_per_second)

    def set_arrows(self, on: bool) -> None:
        self._playback.arrows.setChecked(on)

    def busy(self) -> bool:
        """Whether a wanted path is computing or still missing (and the last job did not fail)."""
        if self._computing or self._pending:
            return True
        return self._failed is None and bool(self._missing())

    def _missing(self) -> list:
        return self._cache.missing([(self._key(row), row.spec) for row in self._rows])

    def table_text(self, row: int, column: int) -> str:
        return self._table.text(row, column)

    def field(self, key: str) -> QWidget | None:
        """The editor of ``key`` for the selected optimizer (tests type into it)."""
        return self._editor.fields.get(key)

    def field_error(self, key: str) -> str:
        return self._editor.error_text(key)

    def shutdown(self) -> None:
        """Stop the animation and the job thread (call before the window closes)."""
        self._playback.stop()
        self._pending = False
        self._closed = True
        self._runner.shutdown(15000)

    def apply_theme(self, theme: Theme, presenter: bool) -> None:
        self._theme, self._presenter = theme, presenter
        style_plot(self._plot, theme, presenter)
        self._plot.set_line_width(3.5 if presenter else 2.0, [run_color(row.color) for row in self._rows])
        self._redraw()

    def closeEvent(self, event) -> None:   # noqa: N802 (Qt's name)
        self.shutdown()
        super().closeEvent(event)

    # -- surface ----------------------------------------------------------------------------------

    @Slot(object)
    def _set_params(self, params: dict[str, float]) -> None:
        self._params = params
        self._draw_surface()
        self._request()

    def _draw_surface(self) -> None:
        g = self._plot.show_surface(self._surface, self._params)
        self._controls.show_description(g.log_scale)
        self._redraw()

    # -- optimizers -------------------------------------------------------------------------------

    def _key(self, row: OptimizerRow) -> PathKey | None:
        return path_key(self._surface, self._params, self._start, self._steps.value(), row.spec,
                        self._noise_seed.value())

    def _select(self, index: int) -> None:
        self._table.selectRow(index)

    @Slot()
    def _show_editor(self) -> None:
        """The hyperparameter fields of the selected optimizer: only the keys it takes (from OPTIMIZERS)."""
        index = self.selected_row()
        if not 0 <= index < len(self._rows):     # mid-removal the table still holds the row just deleted
            index = -1
        self._remove.setEnabled(index >= 0)
        row = self._rows[index] if index >= 0 else None
        self._editor.show_row(index, row.name if row else None, row.texts if row else {})
        self._editor.show_error(row.error if row else None, row.error_key if row else None)

    @Slot(int, str, str)
    def _on_field_edited(self, index: int, key: str, text: str) -> None:
        if index < len(self._rows) and self._rows[index].texts.get(key, "") != text:
            self.set_hyperparameter(index, key, text)

    # -- computing --------------------------------------------------------------------------------

    def _request(self) -> None:
        """Compute the paths not in the cache, in the background; a running job is stopped first."""
        if self._closed:
            return
        self._controls.show_start(self._start)
        self._playback.set_last_step(self._steps.value())
        missing = self._missing()
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
            self._failed = None
            self._busy_label.setText(f"computing {len(missing)} path{'s' if len(missing) > 1 else ''}…")
            self._computing = self._runner.start(trajectories_job, self._surface, self._start,
                                                 dict(self._params), self._steps.value(), missing,
                                                 self._noise_seed.value())

    @Slot()
    def _retry(self) -> None:
        if self._pending:
            self._request()

    @Slot(object)
    def _on_partial(self, result) -> None:
        key, path = result
        self._cache.store(key, path)
        self._redraw()
        self.paths_changed.emit()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._failed = message
        self._busy_label.setText(f"could not compute: {message}")

    @Slot()
    def _on_finished(self) -> None:
        self._computing = False      # relayed after every partial result of the job, so all have arrived
        if self._failed is None:
            self._busy_label.setText("")
        # Again when asked meanwhile, or when a stopped job left a wanted path out (a stop that was
        # meant for an earlier request): a path that is wanted is always computing or computed.
        if self._pending or (self._failed is None and self._missing()):
            self._request()

    # -- drawing ----------------------------------------------------------------------------------

    def _redraw(self) -> None:
        self._plot.show_start(*self._start)
        self._playback.show_step(self._step, self._steps.value())
        info = surface(self._surface)
        length = ARROW_FRACTION * (info.box[1] - info.box[0])
        arrows = self._playback.arrows.isChecked()
        for index, row in enumerate(self._rows):
            path = self._cache.get(self._key(row))
            if path is None:
                self._plot.clear_path(index)
                self._fill_row(index)
                continue
            k = min(self._step, path.steps)
            stopped = path.stopped and self._step >= path.stop_step
            self._plot.show_path(index, path, k, stopped, arrows, length)
            self._fill_row(index, path, k)

    def _fill_row(self, index: int, path: Trajectory | None = None, k: int = 0) -> None:
        row = self._rows[index]
        cells = row_cells(row.name, row.spec, row.error, row.error_key, path, k, self._step, self._surface)
        self._table.show_row(index, cells, run_color(row.color))
