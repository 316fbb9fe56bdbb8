"""The trajectories lab's surface controls: which surface, its parameter, how many steps, the common start.

The surface's own description and formula come from
``engine.labs.surfaces.SURFACES``; a parameter (the ravine's condition number)
is checked by the surface's own ``resolve``, whose one-line message is shown
under the field.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QWidget

from engine.labs.surfaces import SURFACES, surface
from engine.labs.trajectories import MAX_STEPS
from engine.lessons.claims.measured import measured
from gui.style.palette import NEUTRAL
from gui.widgets.common import error_label


class SurfaceControls(QWidget):
    """``surface_chosen(name)`` from the surface box; ``params_edited(params)``: the user set the surface's
    parameters to new, valid values; ``default_start()``: the user asked for the surface's own start.
    ``steps`` is the spin box of the number of steps."""

    surface_chosen = Signal(str)
    params_edited = Signal(object)
    default_start = Signal()

    def __init__(self, steps: int, parent: QWidget | None = None):
        super().__init__(parent)
        self._surface, self._params = "", {}
        self.surface_box = QComboBox()
        # as narrow as a few characters allow: the panel's width decides, not the longest name
        self.surface_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.surface_box.setMinimumContentsLength(12)
        for info in SURFACES.values():
            self.surface_box.addItem(info.title, info.name)
            self.surface_box.setItemData(self.surface_box.count() - 1, info.description,
                                         Qt.ItemDataRole.ToolTipRole)
        self.surface_box.setToolTip("The loss landscape to explore. Each one shows a different difficulty "
                                    "that real networks' losses have somewhere in their many dimensions.")
        self.surface_box.currentIndexChanged.connect(lambda _: self.surface_chosen.emit(self.surface_box.currentData()))
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.condition = QLineEdit()
        self.condition_label = QLabel("Condition number")
        self.condition_error = error_label()
        self.condition.editingFinished.connect(self._on_condition_edited)
        self.steps = QSpinBox()
        self.steps.setRange(1, min(MAX_STEPS, 5000))
        self.steps.setValue(steps)
        self.steps.setSingleStep(50)
        self.steps.setToolTip("How many updates every optimizer takes. Paths are computed with torch.optim, "
                              "exactly as in a training loop on a 2-parameter model.")
        self.noise_seed = QSpinBox()
        self.noise_seed.setRange(0, 9999)
        self.noise_seed.setToolTip("Seed of the gradient noise of the paths that have some (their noise "
                                   "field): another seed, another walk. A claim about noise holds only if it "
                                   "holds at (almost) every seed.")
        self.start_label = QLabel()
        self.start_label.setToolTip("Every optimizer starts here, so only the update rule differs. "
                                    "Click on the map to move it.")
        reset = QPushButton("Default start")
        reset.setToolTip("Put the start back where this surface shows its difficulty best.")
        reset.clicked.connect(self.default_start)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(QLabel("Surface"))
        form.addRow(self.surface_box)       # a row of its own: a surface's whole name fits in large type
        form.addRow(self.description)
        form.addRow(self.condition_label, self.condition)
        form.addRow(self.condition_error)
        form.addRow("Steps", self.steps)
        form.addRow("Noise seed", self.noise_seed)
        start_row = QHBoxLayout()
        start_row.addWidget(self.start_label, 1)
        start_row.addWidget(reset)
        form.addRow("Start", start_row)

    def show_surface(self, name: str, params: dict[str, float], start: tuple[float, float]) -> None:
        """The controls of surface ``name`` (the box follows without a signal), its parameter and start."""
        self._surface, self._params = name, params
        if self.surface_box.currentData() != name:
            self.surface_box.blockSignals(True)
            self.surface_box.setCurrentIndex(list(SURFACES).index(name))
            self.surface_box.blockSignals(False)
        info = surface(name)
        has_condition = any(p.name == "condition" for p in info.params)
        for w in (self.condition, self.condition_label):
            w.setVisible(has_condition)
        self.condition_error.hide()
        if has_condition:
            p = info.params[0]
            self.condition.setText(f"{params.get('condition', p.default):g}")
            self.condition.setToolTip(f"{p.help} Allowed: {p.low:g} to {p.high:g}.")
        self.show_start(start)

    def show_description(self, log_scale: bool) -> None:
        info = surface(self._surface)
        scale = ("Colours: log scale, light = low (the values span decades)." if log_scale
                 else "Colours: linear scale, light = low.")
        found = measured(f"lab {info.name}")         # a surface whose description is a checked claim
        held = f" <span style='color:{NEUTRAL}'>({html.escape(found.text)})</span>" if found else ""
        self.description.setText(f"<i>{html.escape(info.formula)}</i><br>{html.escape(info.description)}{held}"
                                 f"<br><span style='color:{NEUTRAL}'>{scale}</span>")

    def show_start(self, start: tuple[float, float]) -> None:
        self.start_label.setText(f"({start[0]:.3g}, {start[1]:.3g})")

    @Slot()
    def _on_condition_edited(self) -> None:
        try:
            params = surface(self._surface).resolve({"condition": self.condition.text()})
        except ValueError as err:
            self.condition_error.setText(str(err))
            self.condition_error.show()
            return
        self.condition_error.hide()
        if params != self._params:
            self._params = params
            self.params_edited.emit(params)
