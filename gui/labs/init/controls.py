"""The init lab's controls: the network (depth, width, activation), the schemes, normal's std, the seed.

Nothing is decided here: :meth:`InitControls.config` reads the controls into
an :class:`engine.labs.initprobe.ProbeConfig` (None while the std is not a
number > 0 or no scheme is checked), and the engine's
:func:`~engine.labs.initprobe.check_probe_config` has the last word.
"""
from __future__ import annotations

import html
import math

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.labs.initprobe import MAX_DEPTH, MAX_WIDTH, MIN_DEPTH, MIN_WIDTH, ProbeConfig, check_probe_config
from engine.model.inits import INITS
from engine.model.models import ACTIVATIONS
from gui.labs.init.curves import dashed, scheme_color
from gui.style.palette import ERROR
from gui.widgets.common import error_label, swatch

DEFAULT_SCHEMES = ("xavier_normal", "he_normal", "orthogonal", "normal", "zeros")
ACTIVATION_CHOICES = ("relu", "tanh", "sigmoid", "linear") + tuple(a for a in ACTIVATIONS
                                                                   if a not in ("relu", "tanh", "sigmoid", "linear"))
DEFAULT_TRAIN_STEPS = 300
INVALID_STYLE = f"QLineEdit {{ border: 2px solid {ERROR}; }}"

EXPLANATION = (
    "<b>Why initialization matters.</b> Before training begins the weights must start somewhere. "
    "A layer with n inputs multiplies the variance of its signal by n·Var(W), and over many layers "
    "these factors multiply: too large and activations explode, too small and they vanish, and the "
    "gradients on the way back do the same. The goal is to keep the variance of activations and "
    "gradients about constant across layers: flat curves here.<br>"
    "<b>Xavier/Glorot</b>, Var(W) = 2/(n<sub>in</sub>+n<sub>out</sub>), is derived for units that are "
    "linear near zero: it holds linear units, tanh roughly, and not sigmoid, whose outputs are not "
    "centred on zero. <b>He/Kaiming</b>, Var(W) = 2/n<sub>in</sub>, is designed for ReLU, which kills "
    "half the signal, so the variance is doubled to compensate. <b>Zeros</b> makes every unit "
    "compute the same thing: the signal is exactly 0 at every layer (drawn on the dashed floor) and "
    "the symmetry never breaks.<br>"
    "Try ReLU at depth 20: He stays flat, Xavier falls by about 2<sup>−½</sup> per layer; switch to "
    "tanh and Xavier nearly holds (it fades about 4x over 20 layers); with sigmoid the gradient "
    "vanishes whatever the scheme. Then press <i>Train each</i>: only the schemes whose signal survives learn."
)


class InitControls(QWidget):
    """The left column. ``changed()`` after any edit of the network, the schemes, the std or the seed
    (the std's error is shown by then); the gradient box and Train each are the tab's to connect."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedWidth(290)
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
        self.std_error = error_label()
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
            item = QListWidgetItem(swatch(scheme_color(name), dashed=dashed(name)), name)
            item.setData(Qt.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if name in DEFAULT_SCHEMES else Qt.Unchecked)
            item.setToolTip(f"<b>{html.escape(name)}</b>: {html.escape(info.variance)}<br>"
                            f"{html.escape(info.description)}")
            self.scheme_list.addItem(item)
        self._fit_schemes()
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

        col = QVBoxLayout(self)
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

        self.depth_spin.valueChanged.connect(self._edited)
        self.width_spin.valueChanged.connect(self._edited)
        self.seed_spin.valueChanged.connect(self._edited)
        self.activation_combo.currentIndexChanged.connect(self._edited)
        self.std_edit.textChanged.connect(self._edited)
        self.scheme_list.itemChanged.connect(self._edited)

    def _fit_schemes(self) -> None:
        """The schemes list as tall as its rows, in the type size of now (larger in presenter mode)."""
        rows = self.scheme_list.sizeHintForRow(0) * self.scheme_list.count() + 2 * self.scheme_list.frameWidth() + 4
        self.scheme_list.setFixedHeight(rows)

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.FontChange and hasattr(self, "scheme_list"):
            self._fit_schemes()     # the rows grew or shrank with the type: no row is cut or overlapped
        super().changeEvent(event)

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
        self._edited()

    def std(self) -> float | None:
        """normal's std as typed, None unless a finite number > 0."""
        try:
            value = float(self.std_edit.text())
        except ValueError:
            return None
        return value if math.isfinite(value) and value > 0 else None

    def config(self) -> ProbeConfig | None:
        """What the controls describe, or None while the std is invalid or no scheme is checked."""
        std = self.std()
        schemes = self.checked_schemes()
        if std is None or not schemes:
            return None
        return ProbeConfig(depth=self.depth_spin.value(), width=self.width_spin.value(),
                           activation=self.activation_combo.currentText(), schemes=schemes,
                           init_std=std, seed=self.seed_spin.value())

    def set_config(self, cfg: ProbeConfig) -> None:
        check_probe_config(cfg)
        widgets = (self.depth_spin, self.width_spin, self.activation_combo, self.std_edit, self.seed_spin)
        for widget in widgets:
            widget.blockSignals(True)
        self.depth_spin.setValue(cfg.depth)
        self.width_spin.setValue(cfg.width)
        self.activation_combo.setCurrentText(cfg.activation)
        self.std_edit.setText(f"{cfg.init_std:g}")
        self.seed_spin.setValue(cfg.seed)
        for widget in widgets:
            widget.blockSignals(False)
        self.set_checked_schemes(cfg.schemes)

    @Slot()
    def _edited(self, *args) -> None:
        std_ok = self.std() is not None
        self.std_edit.setStyleSheet("" if std_ok else INVALID_STYLE)
        self.std_error.setText("" if std_ok else f"must be a number > 0, got {self.std_edit.text()!r}")
        self.std_error.setVisible(not std_ok)
        self.changed.emit()
