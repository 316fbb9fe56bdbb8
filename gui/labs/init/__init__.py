"""The initialization explorer tab: how far the signal gets through a deep plain network, per init scheme.

The numbers come from :mod:`engine.labs.initprobe` (no Qt); this widget only asks
for them and draws them:

* **Activation std by layer** (forward pass) and **gradient std by layer**
  (backward pass, of ``∂L/∂activation``; or of ``∂L/∂W`` on request), on a log
  y axis, one coloured curve per scheme: a scheme that loses a constant factor
  per layer draws a straight falling line.  A std that is exactly 0 (the
  ``zeros`` scheme; or float32 underflow) has no place on a log axis, so it is
  drawn on a dashed floor line labelled "exactly 0", and the legend says "= 0";
  an overflow (``inf``/``nan``) is left out and the legend says where it began.
* **Histogram of the activations at one layer** (slider), for the checked
  schemes, on common bins; exact zeros (half of every ReLU layer) are left out
  of the bars and given as a percentage in the legend.
* **Train each**: the same network trained a few hundred steps once per
  checked scheme (SGD with momentum, the engine's Trainer), loss curves drawn
  live: only the schemes whose signal survives learn.

The probe runs in a :class:`gui.concurrency.jobs.TaskRunner` (20 layers of 256 take about
a second for all eight schemes, 50 of 512 about eight: too long for the GUI
thread), restarted 150 ms after the last change, and each scheme's curves
appear as soon as it is measured.  Training runs in a second runner.  Call
:meth:`InitTab.shutdown` before the tab goes away (``closeEvent`` does).
"""
from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.labs.initprobe import (
    MAX_DEPTH,
    MAX_WIDTH,
    MIN_DEPTH,
    MIN_WIDTH,
    LayerHistograms,
    ProbeConfig,
    ProbeResult,
    TrainEachConfig,
    TrainProgress,
    check_probe_config,
    layer_histograms,
    run_probe,
    run_training,
)
from engine.model.inits import INITS
from engine.model.models import ACTIVATIONS
from engine.status import RunStatus
from gui.concurrency.jobs import TaskRunner
from gui.style.palette import ERROR, RUN_COLORS, with_alpha

#: One fixed colour per scheme (registry order), so a scheme keeps its colour whichever are checked.
SCHEME_COLORS: dict[str, str] = {name: RUN_COLORS[i % len(RUN_COLORS)] for i, name in enumerate(INITS)}
DEFAULT_SCHEMES = ("xavier_normal", "he_normal", "orthogonal", "normal", "zeros")
ACTIVATION_CHOICES = ("relu", "tanh", "sigmoid", "linear") + tuple(a for a in ACTIVATIONS
                                                                   if a not in ("relu", "tanh", "sigmoid", "linear"))
PROBE_DELAY_MS = 150
DEFAULT_TRAIN_STEPS = 300
INVALID_STYLE = f"QLineEdit {{ border: 2px solid {ERROR}; }}"

EXPLANATION = (
    "<b>Why initialization matters.</b> Before training begins the weights must start somewhere. "
    "A layer with n inputs multiplies the variance of its signal by n·Var(W), and over many layers "
    "these factors multiply: too large and activations explode, too small and they vanish, and the "
    "gradients on the way back do the same. The goal is to keep the variance of activations and "
    "gradients about constant across layers: flat curves here.<br>"
    "<b>Xavier/Glorot</b>, Var(W) = 2/(n<sub>in</sub>+n<sub>out</sub>), is designed for linear, tanh "
    "or sigmoid units. <b>He/Kaiming</b>, Var(W) = 2/n<sub>in</sub>, is designed for ReLU, which kills "
    "half the signal, so the variance is doubled to compensate. <b>Zeros</b> makes every unit "
    "compute the same thing: the signal is exactly 0 at every layer (drawn on the dashed floor) and "
    "the symmetry never breaks.<br>"
    "Try ReLU at depth 20: He stays flat, Xavier falls by about 2<sup>−½</sup> per layer; switch to "
    "tanh and Xavier holds. Then press <i>Train each</i>: only the schemes whose signal survives learn."
)


def _swatch(color: str, dashed: bool = False) -> QIcon:
    pix = QPixmap(14, 14)
    pix.fill(QColor(color) if not dashed else QColor(0, 0, 0, 0))
    if dashed:
        from PySide6.QtGui import QPainter
        p = QPainter(pix)
        for x in (0, 8):
            p.fillRect(x, 0, 6, 14, QColor(color))
        p.end()
    return QIcon(pix)


def _pen(scheme: str, width: float = 2.0):
    style = Qt.DashLine if scheme.endswith("_uniform") else Qt.SolidLine
    return pg.mkPen(SCHEME_COLORS.get(scheme, "#808080"), width=width, style=style)


def _scheme_label(scheme: str, std: float) -> str:
    return f"normal (std {std:g})" if scheme == "normal" else scheme


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return "overflow"
    return f"{value:.2g}"


def log_curve(values: np.ndarray, floor: float) -> tuple[np.ndarray, str]:
    """Values ready for a log axis: exact zeros drawn at ``floor``, non-finite ones left out (nan).

    Returns them and a legend note ("", "= 0", "0 from layer 7", "overflow from layer 31").
    """
    values = np.asarray(values, dtype=np.float64)
    out = values.copy()
    finite = np.isfinite(values)
    zero = values == 0
    out[zero] = floor
    out[~finite] = np.nan
    note = ""
    if not finite.all():
        note = f"overflow from layer {int(np.argmin(finite)) + 1}"
    elif zero.all():
        note = "= 0"
    elif zero.any():
        note = f"0 from layer {int(np.argmax(zero)) + 1}"
    return out, note


def log_floor(arrays: list[np.ndarray]) -> float:
    """A level one decade below the smallest positive finite value shown (where "exactly 0" is drawn)."""
    positive = [a[np.isfinite(a) & (a > 0)] for a in arrays]
    positive = [p for p in positive if p.size]
    if not positive:
        return 1e-3
    smallest = min(float(p.min()) for p in positive)
    return 10.0 ** (math.floor(math.log10(smallest)) - 1)


def legend_html(entries: list[tuple[str, str]]) -> str:
    """A legend as one wrapped line of rich text: a line key in the scheme's colour, then the text."""
    parts = []
    for scheme, text in entries:
        key = "╍╍" if scheme.endswith("_uniform") else "━━"
        parts.append(f"<span style='color:{SCHEME_COLORS.get(scheme, '#808080')}'><b>{key}</b></span>"
                     f"&nbsp;{html.escape(text).replace(' ', '&nbsp;')}")
    return " &nbsp; ".join(parts)


class InitTab(QWidget):
    """The initialization explorer.

    Public: :meth:`config` (the :class:`ProbeConfig` the controls describe, or
    None while a field is invalid), :meth:`set_config`, :meth:`probe_result`,
    :meth:`train_result`, :meth:`start_training`, :meth:`stop_training`,
    :meth:`shutdown`; signals ``probe_done(ProbeResult)``,
    ``training_done(TrainProgress)``; the controls (``depth_spin``,
    ``width_spin``, ``activation_combo``, ``scheme_list``, ``std_edit``,
    ``seed_spin``, ``layer_slider``, ``gradient_combo``, ``train_steps_spin``,
    ``train_button``) and the curves (``activation_curves``,
    ``gradient_curves``, ``histogram_curves``, ``loss_curves``: dicts by scheme).
    """

    probe_done = Signal(object)
    training_done = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._result: ProbeResult | None = None
        self._train: TrainProgress | None = None
        self._pending = False
        self._probe_runner = TaskRunner(self, name="init-probe")
        self._train_runner = TaskRunner(self, name="init-train")
        self._probe_runner.partial.connect(self._on_probe_partial)
        self._probe_runner.done.connect(self._on_probe_done)
        self._probe_runner.failed.connect(self._on_failed)
        self._probe_runner.finished.connect(self._on_probe_finished)
        self._train_runner.partial.connect(self._on_train_partial)
        self._train_runner.done.connect(self._on_train_done)
        self._train_runner.failed.connect(self._on_failed)
        self._train_runner.finished.connect(self._on_train_finished)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PROBE_DELAY_MS)
        self._timer.timeout.connect(self._start_probe)

        self.activation_curves: dict[str, pg.PlotDataItem] = {}
        self.gradient_curves: dict[str, pg.PlotDataItem] = {}
        self.histogram_curves: dict[str, pg.PlotDataItem] = {}
        self.loss_curves: dict[str, pg.PlotDataItem] = {}

        self._build_controls()
        self._build_plots()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self._controls)
        layout.addLayout(self._plots, 1)
        self._changed()

    # -- building -------------------------------------------------------------------------------

    def _build_controls(self) -> None:
        self._controls = QWidget()
        self._controls.setFixedWidth(290)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        self.depth_spin = QSpinBox()
        self.depth_spin.setRange(MIN_DEPTH, MAX_DEPTH)
        self.depth_spin.setValue(20)
        self.depth_spin.setToolTip("Hidden layers of the plain network (no normalization, no skips).")
        self.width_spin = QSpinBox()
        self.width_spin.setRange(MIN_WIDTH, MAX_WIDTH)
        self.width_spin.setValue(256)
        self.width_spin.setToolTip("Units per layer; the input and the read-out are as wide, so every layer is "
                                   "width × width.")
        self.activation_combo = QComboBox()
        for name in ACTIVATION_CHOICES:
            self.activation_combo.addItem(name)
            self.activation_combo.setItemData(self.activation_combo.count() - 1,
                                              ACTIVATIONS[name].description, Qt.ToolTipRole)
        self.std_edit = QLineEdit("0.01")
        self.std_edit.setToolTip(INITS["normal"].description)
        self.std_error = QLabel()
        self.std_error.setStyleSheet(f"color: {ERROR};")
        self.std_error.setWordWrap(True)
        self.std_error.hide()
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 999_999)
        self.seed_spin.setToolTip("Seeds the weights, the input batch and the loss's read-out: same seed, "
                                  "same numbers.")
        form.addRow("Depth", self.depth_spin)
        form.addRow("Width", self.width_spin)
        form.addRow("Activation", self.activation_combo)

        self.scheme_list = QListWidget()
        self.scheme_list.setToolTip("Check the schemes to compare; hover one for its formula.")
        for name, info in INITS.items():
            item = QListWidgetItem(_swatch(SCHEME_COLORS[name], name.endswith("_uniform")), name)
            item.setData(Qt.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if name in DEFAULT_SCHEMES else Qt.Unchecked)
            item.setToolTip(f"<b>{html.escape(name)}</b>: {html.escape(info.variance)}<br>"
                            f"{html.escape(info.description)}")
            self.scheme_list.addItem(item)
        rows = self.scheme_list.sizeHintForRow(0) * len(INITS) + 2 * self.scheme_list.frameWidth() + 4
        self.scheme_list.setFixedHeight(rows)
        std_row = QHBoxLayout()
        std_row.addWidget(QLabel("normal's std"))
        std_row.addWidget(self.std_edit, 1)
        seed_row = QFormLayout()
        seed_row.setContentsMargins(0, 0, 0, 0)
        seed_row.addRow("Seed", self.seed_spin)

        self.gradient_combo = QComboBox()
        self.gradient_combo.addItem("∂L/∂ activations", "gradient_std")
        self.gradient_combo.addItem("∂L/∂ weights", "weight_gradient_std")
        self.gradient_combo.setToolTip(
            "Activations: the backward signal itself, the mirror of the forward curve. Weights: what the "
            "optimizer receives, (∂L/∂z)·hᵀ, which mixes both passes.")
        grad_row = QFormLayout()
        grad_row.setContentsMargins(0, 0, 0, 0)
        grad_row.addRow("Gradient of", self.gradient_combo)

        self.train_steps_spin = QSpinBox()
        self.train_steps_spin.setRange(10, 5000)
        self.train_steps_spin.setSingleStep(50)
        self.train_steps_spin.setValue(DEFAULT_TRAIN_STEPS)
        self.train_steps_spin.setToolTip("SGD steps (lr 0.01, momentum 0.9, batches of 32 spiral points) per scheme.")
        self.train_button = QPushButton("Train each")
        self.train_button.setToolTip("Train this network once per checked scheme on the spiral, side by side.")
        train_row = QHBoxLayout()
        train_row.addWidget(self.train_button, 1)
        train_row.addWidget(self.train_steps_spin)
        train_row.addWidget(QLabel("steps"))
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.explanation = QLabel(EXPLANATION)
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.RichText)
        self.explanation.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.explanation.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Expanding)
        font = self.explanation.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.explanation.setFont(font)

        col = QVBoxLayout(self._controls)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(form)
        col.addWidget(QLabel("Schemes"))
        col.addWidget(self.scheme_list)
        col.addLayout(std_row)
        col.addWidget(self.std_error)
        col.addLayout(seed_row)
        col.addLayout(grad_row)
        col.addLayout(train_row)
        col.addWidget(self.status_label)
        scroll = QScrollArea()
        scroll.setWidget(self.explanation)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        col.addWidget(scroll, 1)

        self.depth_spin.valueChanged.connect(self._changed)
        self.width_spin.valueChanged.connect(self._changed)
        self.seed_spin.valueChanged.connect(self._changed)
        self.activation_combo.currentIndexChanged.connect(self._changed)
        self.std_edit.textChanged.connect(self._changed)
        self.scheme_list.itemChanged.connect(self._changed)
        self.gradient_combo.currentIndexChanged.connect(self._draw_depth_curves)
        self.train_button.clicked.connect(self._train_clicked)

    def _plot(self, title: str, left: str, bottom: str, log_y: bool) -> pg.PlotWidget:
        widget = pg.PlotWidget()
        item = widget.getPlotItem()
        item.setTitle(title)
        item.setLabel("left", left)
        item.setLabel("bottom", bottom)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setLogMode(y=log_y)
        item.setMenuEnabled(False)
        widget.setMinimumSize(200, 150)
        return widget

    def _build_plots(self) -> None:
        self.activation_plot = self._plot("Forward: activation std by layer", "std", "layer", True)
        self.gradient_plot = self._plot("Backward: gradient std by layer", "std", "layer", True)
        self.histogram_plot = self._plot("Activations at layer", "fraction", "activation value", False)
        self.loss_plot = self._plot("Train each: loss on the training set", "loss", "step", False)
        # Legends sit under the plots, not on them: a legend box inside would hide the very curves
        # (the falling ones end bottom right, the histograms' tails run to the right).
        self.legends: dict[str, QLabel] = {}
        for key in ("activation", "gradient", "histogram", "loss"):
            label = QLabel()
            label.setWordWrap(True)
            label.setTextFormat(Qt.RichText)
            font = label.font()
            font.setPointSizeF(font.pointSizeF() * 0.9)
            label.setFont(font)
            self.legends[key] = label
        for plot in (self.activation_plot, self.gradient_plot, self.histogram_plot, self.loss_plot):
            plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)   # no "(x1e+21)" on a log axis
        self._loss_hint = pg.TextItem("Press “Train each”",
                                      anchor=(0.5, 0.5), color="#8a8a8a")
        self.loss_plot.getPlotItem().addItem(self._loss_hint, ignoreBounds=True)
        self._loss_hint.setPos(0.5, 0.5)
        self._floor_lines = {}
        for key, widget in (("activation", self.activation_plot), ("gradient", self.gradient_plot)):
            line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen("#9A9A9A", width=1, style=Qt.DashLine),
                                   label="exactly 0", labelOpts={"position": 0.5, "color": "#8a8a8a"})
            line.hide()
            widget.getPlotItem().addItem(line, ignoreBounds=True)
            self._floor_lines[key] = line

        self.layer_slider = QSlider(Qt.Horizontal)
        self.layer_slider.setRange(1, 20)
        self.layer_slider.setValue(1)
        self.layer_slider.setToolTip("The hidden layer whose activations the histogram shows.")
        self.layer_label = QLabel("layer 1")
        self.layer_label.setMinimumWidth(64)
        self.layer_slider.valueChanged.connect(self._layer_changed)
        slider_row = QHBoxLayout()
        slider_row.addWidget(self.layer_label)
        slider_row.addWidget(self.layer_slider, 1)

        def box(plot: pg.PlotWidget, legend: QLabel, extra=None) -> QWidget:
            widget = QWidget()
            layout = QVBoxLayout(widget)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.setSpacing(2)
            layout.addWidget(plot, 1)
            if extra is not None:
                layout.addLayout(extra)
            layout.addWidget(legend)
            return widget

        self._plots = QGridLayout()
        self._plots.setSpacing(6)
        self._plots.addWidget(box(self.activation_plot, self.legends["activation"]), 0, 0)
        self._plots.addWidget(box(self.gradient_plot, self.legends["gradient"]), 0, 1)
        self._plots.addWidget(box(self.histogram_plot, self.legends["histogram"], slider_row), 1, 0)
        self._plots.addWidget(box(self.loss_plot, self.legends["loss"]), 1, 1)

    # -- the configuration ----------------------------------------------------------------------

    def checked_schemes(self) -> tuple[str, ...]:
        items = (self.scheme_list.item(i) for i in range(self.scheme_list.count()))
        return tuple(item.data(Qt.UserRole) for item in items if item.checkState() == Qt.Checked)

    def set_checked_schemes(self, schemes) -> None:
        wanted = set(schemes)
        self.scheme_list.blockSignals(True)
        for i in range(self.scheme_list.count()):
            item = self.scheme_list.item(i)
            item.setCheckState(Qt.Checked if item.data(Qt.UserRole) in wanted else Qt.Unchecked)
        self.scheme_list.blockSignals(False)
        self._changed()

    def _std(self) -> float | None:
        try:
            value = float(self.std_edit.text())
        except ValueError:
            return None
        return value if math.isfinite(value) and value > 0 else None

    def config(self) -> ProbeConfig | None:
        """What the controls describe, or None while the std is invalid or no scheme is checked."""
        std = self._std()
        schemes = self.checked_schemes()
        if std is None or not schemes:
            return None
        return ProbeConfig(depth=self.depth_spin.value(), width=self.width_spin.value(),
                           activation=self.activation_combo.currentText(), schemes=schemes,
                           init_std=std, seed=self.seed_spin.value())

    def set_config(self, cfg: ProbeConfig) -> None:
        check_probe_config(cfg)
        for widget in (self.depth_spin, self.width_spin, self.activation_combo, self.std_edit, self.seed_spin):
            widget.blockSignals(True)
        self.depth_spin.setValue(cfg.depth)
        self.width_spin.setValue(cfg.width)
        self.activation_combo.setCurrentText(cfg.activation)
        self.std_edit.setText(f"{cfg.init_std:g}")
        self.seed_spin.setValue(cfg.seed)
        for widget in (self.depth_spin, self.width_spin, self.activation_combo, self.std_edit, self.seed_spin):
            widget.blockSignals(False)
        self.set_checked_schemes(cfg.schemes)

    def probe_result(self) -> ProbeResult | None:
        return self._result

    def train_result(self) -> TrainProgress | None:
        return self._train

    @Slot()
    def _changed(self, *args) -> None:
        std_ok = self._std() is not None
        self.std_edit.setStyleSheet("" if std_ok else INVALID_STYLE)
        self.std_error.setText("" if std_ok else f"must be a number > 0, got {self.std_edit.text()!r}")
        self.std_error.setVisible(not std_ok)
        cfg = self.config()
        self.train_button.setEnabled(cfg is not None or self._train_runner.busy())
        if cfg is None:
            self._timer.stop()
            self.status_label.setText("Check at least one scheme." if std_ok else "Fix the std to continue.")
            return
        self._timer.start()

    # -- probing --------------------------------------------------------------------------------

    @Slot()
    def _start_probe(self) -> None:
        cfg = self.config()
        if cfg is None:
            return
        if self._probe_runner.busy():
            # The running probe is stale: ask it to stop (it ends between schemes) and try again
            # shortly.  Polling, not only waiting for ``finished``: that signal can arrive while the
            # thread is still ending, when busy() is still true, and the new probe would never start.
            self._pending = True
            self._probe_runner.cancel()
            self._timer.start()
            return
        self._pending = False
        self.status_label.setText(f"Measuring {len(cfg.schemes)} scheme(s)…")
        self._probe_runner.start(run_probe, cfg)

    @Slot(object)
    def _on_probe_partial(self, result: ProbeResult) -> None:
        if not self._pending and result.config == self.config():   # never draw a stale probe
            self._show(result)

    @Slot(object)
    def _on_probe_done(self, result: ProbeResult) -> None:
        if self._pending or result.config != self.config() or len(result.schemes) < len(result.config.schemes):
            return
        self._show(result)
        cfg = result.config
        self.status_label.setText(f"{cfg.depth} {cfg.activation} layers of {cfg.width}, "
                                  f"batch of {cfg.batch}, seed {cfg.seed}.")
        self.probe_done.emit(result)

    @Slot()
    def _on_probe_finished(self) -> None:
        if self._pending:
            self._start_probe()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.status_label.setText(f"Failed: {message}")

    def _show(self, result: ProbeResult) -> None:
        depth = result.config.depth
        new_depth = self._result is None or self._result.config.depth != depth
        self._result = result
        if new_depth:
            self.layer_slider.blockSignals(True)
            self.layer_slider.setRange(1, depth)
            self.layer_slider.setValue(max(1, min(depth, depth // 2)))
            self.layer_slider.blockSignals(False)
        self._draw_depth_curves()
        self._draw_histogram()

    @Slot()
    def _draw_depth_curves(self) -> None:
        result = self._result
        grad_field = self.gradient_combo.currentData()
        for key, plot, curves, field in (
                ("activation", self.activation_plot, self.activation_curves, "activation_std"),
                ("gradient", self.gradient_plot, self.gradient_curves, grad_field)):
            item = plot.getPlotItem()
            for curve in curves.values():
                item.removeItem(curve)
            curves.clear()
            entries = []
            if result is None:
                self.legends[key].setText("")
                continue
            arrays = [getattr(p, field) for p in result.schemes]
            floor = log_floor(arrays)
            any_zero = False
            for p, values in zip(result.schemes, arrays):
                y, note = log_curve(values, floor)
                any_zero |= bool(np.any(values == 0))
                name = _scheme_label(p.scheme, result.config.init_std) + (f" {note}" if note else "")
                entries.append((p.scheme, name))
                curve = pg.PlotDataItem(result.layers, y, pen=_pen(p.scheme), connect="finite",
                                        symbol="o" if result.config.depth <= 25 else None, symbolSize=4,
                                        symbolPen=None, symbolBrush=SCHEME_COLORS.get(p.scheme))
                curve.setToolTip(f"{p.scheme}: first layer {_fmt(values[0])}, last {_fmt(values[-1])}")
                item.addItem(curve)
                curves[p.scheme] = curve
            self.legends[key].setText(legend_html(entries))
            line = self._floor_lines[key]
            line.setPos(math.log10(floor))
            line.setVisible(any_zero)
            item.setXRange(1, result.config.depth, padding=0.02)
            item.enableAutoRange(axis="y")

    # -- the histogram --------------------------------------------------------------------------

    @Slot(int)
    def _layer_changed(self, layer: int) -> None:
        self._draw_histogram()

    def histogram(self) -> LayerHistograms | None:
        """What the histogram plot shows now."""
        if self._result is None or not self._result.schemes:
            return None
        return layer_histograms(self._result, self.layer_slider.value())

    def _draw_histogram(self) -> None:
        layer = self.layer_slider.value()
        self.layer_label.setText(f"layer {layer}")
        item = self.histogram_plot.getPlotItem()
        item.setTitle(f"Activations at layer {layer}")
        for curve in self.histogram_curves.values():
            item.removeItem(curve)
        self.histogram_curves.clear()
        hist = self.histogram()
        if hist is None:
            self.legends["histogram"].setText("")
            return
        entries = []
        for i, scheme in enumerate(hist.schemes):
            color = QColor(SCHEME_COLORS.get(scheme, "#808080"))
            zero = hist.zero_fraction[i]
            name = f"{scheme}: std {_fmt(hist.std[i])}" + (f", {zero:.0%} = 0" if zero > 0 else "")
            entries.append((scheme, name))
            curve = pg.PlotDataItem(hist.edges, hist.counts[i], stepMode="center", fillLevel=0,
                                    brush=with_alpha(color, 40), pen=_pen(scheme, 1.5))
            item.addItem(curve)
            self.histogram_curves[scheme] = curve
        self.legends["histogram"].setText(legend_html(entries) + "<br><span style='color:#8a8a8a'>"
                                          "bars: values that are not exactly 0, as a fraction of all</span>")
        item.enableAutoRange()

    # -- training -------------------------------------------------------------------------------

    @Slot()
    def _train_clicked(self) -> None:
        if self._train_runner.busy():
            self.stop_training()
        else:
            self.start_training()

    def start_training(self, steps: int | None = None) -> bool:
        """Train the configured network once per checked scheme; False if invalid or already training."""
        cfg = self.config()
        if cfg is None or self._train_runner.busy():
            return False
        if steps is not None:
            self.train_steps_spin.setValue(steps)
        train = TrainEachConfig(steps=self.train_steps_spin.value(),
                                eval_every=max(1, self.train_steps_spin.value() // 60))
        self._train = None
        self._training_cfg = cfg
        self._draw_losses()
        self.loss_plot.getPlotItem().setXRange(0, train.steps, padding=0.02)
        self.loss_plot.getPlotItem().setTitle(
            f"Train each: loss, {cfg.depth}×{cfg.width} {cfg.activation}")
        self.train_button.setText("Stop")
        self.status_label.setText(f"Training {len(cfg.schemes)} scheme(s) {train.steps} steps each…")
        return self._train_runner.start(run_training, cfg, train)

    def stop_training(self) -> None:
        self._train_runner.cancel()

    def training(self) -> bool:
        return self._train_runner.busy()

    @Slot(object)
    def _on_train_partial(self, progress: TrainProgress) -> None:
        self._train = progress
        self._draw_losses()
        self.status_label.setText(f"Training: step {progress.step} of {progress.total_steps}…")

    @Slot(object)
    def _on_train_done(self, progress: TrainProgress) -> None:
        self._train = progress
        self._draw_losses()
        finals = ", ".join(f"{c.scheme} {c.train_loss[-1]:.3g}" for c in progress.curves if c.train_loss.size)
        self.status_label.setText(f"Trained {progress.step} steps. Final loss: {finals}.")
        self.training_done.emit(progress)

    @Slot()
    def _on_train_finished(self) -> None:
        self.train_button.setText("Train each")
        self.train_button.setEnabled(self.config() is not None)

    def _draw_losses(self) -> None:
        item = self.loss_plot.getPlotItem()
        progress = self._train
        if progress is None:
            for curve in self.loss_curves.values():
                item.removeItem(curve)
            self.loss_curves.clear()
            self.legends["loss"].setText("")
            return
        self._loss_hint.hide()
        entries = []
        std = getattr(self, "_training_cfg", None)
        for c in progress.curves:
            curve = self.loss_curves.get(c.scheme)
            last = f"{c.train_loss[-1]:.3g}" if c.train_loss.size else "…"
            name = f"{_scheme_label(c.scheme, std.init_std if std else 0.01)}: {last}"
            if c.status not in (None, RunStatus.FINISHED):
                name += f" ({c.status})"
            entries.append((c.scheme, name))
            if curve is None:
                curve = pg.PlotDataItem(pen=_pen(c.scheme), connect="finite")
                item.addItem(curve)
                self.loss_curves[c.scheme] = curve
            y = np.where(np.isfinite(c.train_loss), c.train_loss, np.nan)
            curve.setData(c.steps, y)
        self.legends["loss"].setText(legend_html(entries))

    # -- lifetime -------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the probe and the training and join their threads (call before the tab goes away)."""
        self._timer.stop()
        self._pending = False
        self._probe_runner.shutdown(15000)
        self._train_runner.shutdown(15000)

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)


if __name__ == "__main__":
    import sys

    from PySide6.QtWidgets import QApplication

    from gui.style.theme import LIGHT, apply_theme
    app = QApplication(sys.argv)
    apply_theme(app, LIGHT, False)
    tab = InitTab()
    tab.resize(1100, 720)
    tab.show()
    sys.exit(app.exec())
