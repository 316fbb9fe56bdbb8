"""The trajectories lab's hyperparameter editor: the fields of the selected optimizer, each with its error.

Only the keys the optimizer takes (``engine.optim.optimizers.OPTIMIZERS``) get
a field; an empty field is the optimizer's default, shown as the placeholder.
Nothing is checked here: the tab hands the texts to
:func:`engine.labs.trajectories.make_spec` and shows its one-line message under
the field it names (a message about the whole spec goes under ``lr``).
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QWidget

from engine.labs.trajectories import DEFAULT_LR
from engine.optim.optimizers import OPTIMIZERS
from gui.style.palette import ERROR
from gui.widgets.common import error_label

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
    "trust_coefficient": "LARS: each step is this fraction (eta) of the point's norm per unit of lr, "
                         "eta ||w|| / (||g|| + wd ||w|| + eps), however steep the surface.",
    "noise": "Gradient noise: Gaussian noise of this standard deviation added to every gradient, as a "
             "mini-batch's gradient is the full one plus noise (the smaller the batch, the larger). Empty or "
             "0: the exact, full-batch gradient. Its draws follow the lab's Noise seed.",
}
PATH_KEYS = ("noise",)
"""Settings of a path that every optimizer has (engine.labs.trajectories: not an optimizer's own key)."""


def _default_text(name: str, key: str) -> str:
    if key == "noise":
        return "0 (exact gradient)"
    default = DEFAULT_LR if key == "lr" else OPTIMIZERS[name].defaults.get(key)
    if isinstance(default, tuple):
        return "/".join(f"{v:g}" for v in default)
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)


class HyperparameterEditor(QGroupBox):
    """``edited(row, key, text)``: a field of optimizer row ``row`` was edited (a line edit when editing
    finished, the Nesterov box when toggled: ``"true"`` or ``""``).

    ``fields`` and ``errors`` (by key) are the same dicts for the editor's whole life, refilled per row.
    """

    edited = Signal(int, str, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Hyperparameters", parent)
        self._layout = QFormLayout(self)
        self.fields: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}

    def show_row(self, index: int, name: str | None, texts: dict[str, str]) -> None:
        """The fields of optimizer ``name`` (row ``index``) filled with ``texts``; None: no row selected."""
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self.fields.clear()
        self.errors.clear()
        if name is None:
            self.setTitle("Hyperparameters (select an optimizer)")
            return
        info = OPTIMIZERS[name]
        self.setTitle(f"Hyperparameters of {name}")
        self.setToolTip(info.description)
        for key in (*info.takes, *PATH_KEYS):
            editor: QWidget
            if key == "nesterov":
                box = QCheckBox("Nesterov look-ahead")
                box.setChecked(texts.get(key, "false").lower() in ("true", "1"))
                box.toggled.connect(lambda on, k=key, i=index: self.edited.emit(i, k, "true" if on else ""))
                editor = box
            else:
                edit = QLineEdit(texts.get(key, ""))
                default = _default_text(name, key)
                edit.setPlaceholderText(default if key in PATH_KEYS else f"default {default}")
                edit.editingFinished.connect(lambda k=key, i=index, e=edit: self.edited.emit(i, k, e.text()))
                editor = edit
            editor.setToolTip(HYPER_TIPS.get(key, ""))
            error = error_label()
            self._layout.addRow(key, editor)
            self._layout.addRow(error)
            self.fields[key], self.errors[key] = editor, error

    def set_text(self, key: str, text: str) -> None:
        editor = self.fields.get(key)
        if isinstance(editor, QLineEdit) and editor.text() != text:
            editor.setText(text)

    def show_error(self, error: str | None, error_key: str | None) -> None:
        """``error`` in words under the field ``error_key`` (under ``lr`` if no field has that key)."""
        for key, editor in self.fields.items():
            label = self.errors[key]
            bad = error is not None and (error_key == key or (error_key not in self.fields and key == "lr"))
            label.setText(error if bad else "")
            label.setVisible(bad)
            if isinstance(editor, QLineEdit):
                editor.setStyleSheet(f"QLineEdit {{ border: 1.5px solid {ERROR}; }}" if bad else "")

    def error_text(self, key: str) -> str:
        label = self.errors.get(key)
        return label.text() if label is not None and not label.isHidden() else ""
