"""The experiment form: the left-hand column of the training window.

A teacher edits it, presses Start, and the app trains what the form says.  The
form never decides what is valid itself: on every edit it builds the raw
experiment dict and hands it to :func:`engine.experiment.parse_experiment`, the
same validator that reads experiment files, and shows its one-line message in
red under the field it names.  What a field offers (which optimizer
hyperparameters exist, their defaults, the ranges of the arrows, the combo
items and their descriptions) is read from the engine's registries and from the
field table in :mod:`engine.config`, so adding an optimizer or a schedule there
adds it here.  Which rows are shown is read the same way: the chosen dataset,
model, optimizer and schedule each name in ``takes`` the keys they use.

"Unset" and "the default" are kept apart, as the experiment file keeps them
apart: an optional key left at ``None`` ("the chosen optimizer's own default")
shows that default as grey placeholder text, and clearing a field returns it to
``None``.  The text of every number field is the value itself, so
``set_experiment(e)`` followed by ``experiment()`` gives ``e`` back exactly,
including keys the form hides (momentum while Adam is chosen).
"""
from __future__ import annotations

import html
import math
import re
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QFrame, QScrollArea, QSlider, QVBoxLayout, QWidget

from engine.config import SECTIONS, DataConfig, DataKind, Experiment, TrainConfig, steps_per_epoch
from engine.data.datasets import DATASETS
from engine.experiment import REGISTRIES, ExperimentError, parse_experiment, resolve
from engine.model.inits import INITS
from engine.model.precision import PRECISIONS
from engine.optim.optimizers import OPTIMIZERS, OptimizerInfo
from engine.optim.schedules import SCHEDULES
from gui.training.form.compound_fields import LengthField, PairField, RateField, ToggledNumberField
from gui.training.form.fields import (
    CheckField,
    ChoiceField,
    Field,
    ListField,
    NumberField,
    PathField,
    TextField,
    Unreadable,
)
from gui.training.form.preview import SchedulePreview
from gui.training.form.schema import (
    CHOOSERS,
    META,
    OPTIMIZER_KEYS,
    SCHEDULE_KEYS,
    descriptions,
    flatten,
    format_rate,
    tooltip_for,
)
from gui.training.form.widgets import Section, WheelGuard
from gui.widgets.common import error_label
from gui.widgets.optimizer_memory import StateMemoryLine


class ExperimentForm(QWidget):
    """Every key of an experiment, in seven sections; valid or not, it says why.

    ``experiment()`` is the checked :class:`Experiment` the form describes, or
    None while it is invalid; ``error()`` is then the validator's one-line
    message, shown in red under the field it names.
    """

    changed = Signal()
    validity_changed = Signal(bool)

    SECTION_TITLES = ("Data", "Model", "Initialization", "Optimizer", "Schedule", "Regularization", "Training")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._fields: dict[str, Field] = {}
        self._exp: Experiment | None = None
        self._error: str | None = None
        self._error_key: str | None = None
        self._valid = True
        self._loading = False
        self._wheel_guard = WheelGuard(self)

        self.banner = error_label()
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.banner.linkActivated.connect(self.reveal)

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(4, 4, 4, 4)
        column.setSpacing(6)
        self.sections = {title: Section(title) for title in self.SECTION_TITLES}
        for section in self.sections.values():
            column.addWidget(section)
            section.toggled.connect(lambda _on: self._show_error(self._error_key, self._error))
        column.addStretch(1)
        self._build_data()
        self._build_model()
        self._build_init()
        self._build_optimizer()
        self._build_schedule()
        self._build_regularization()
        self._build_training()

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        outer.addWidget(self.banner)
        outer.addWidget(self.scroll, 1)

        # One label column for all seven sections, so the fields line up down the form.
        labels = [f.label for f in self._unique_fields()]
        width = max(label.sizeHint().width() for label in labels)
        for label in labels:
            label.setMinimumWidth(width)
        for field in self._unique_fields():
            field.on_edit = self._field_edited
            for w in field.container.findChildren(QWidget):
                if isinstance(w, (QAbstractSpinBox, QComboBox, QSlider)):
                    w.installEventFilter(self._wheel_guard)

        self._fill(Experiment())
        self._validate()

    # -- building ---------------------------------------------------------------------------------

    def _add(self, section: str, label: str, field: Field) -> Field:
        self.sections[section].add(label, field)
        for key in field.keys():
            self._fields[key] = field
        return field

    def _choice(self, key: str, registry: str | None = None) -> ChoiceField:
        if registry:
            return ChoiceField(key, list(REGISTRIES[registry]), descriptions(registry))
        return ChoiceField(key, list(META[key]["choices"]))

    def _build_data(self):
        s = "Data"
        self._add(s, "Name", TextField("name"))
        self._add(s, "Seed", NumberField("seed", integer=True))
        self._add(s, "Data seed", NumberField("data.seed", integer=True, optional=True))
        self._add(s, "Dataset", self._choice("data.dataset", "datasets"))
        self._add(s, "Training set", NumberField("data.n_train", integer=True))
        self._add(s, "Validation set", NumberField("data.n_val", integer=True))
        self._add(s, "Input noise", NumberField("data.noise", integer=False))
        self._add(s, "Label noise", NumberField("data.label_noise", integer=False))
        classes = self._add(s, "Classes", NumberField("data.classes", integer=True, optional=True))
        classes.drop_when_inactive = True
        self._add(s, "Folder", PathField("data.path"))

    def _build_model(self):
        s = "Model"
        self._add(s, "Network", self._choice("model.kind", "models"))
        self._add(s, "Hidden layers", ListField("model.hidden", "16, 16"))
        self._add(s, "Conv channels", ListField("model.channels", "8, 16"))
        self._add(s, "Activation", self._choice("model.activation", "activations"))

    def _build_init(self):
        s = "Initialization"
        self._add(s, "Scheme", self._choice("model.init", "inits")).add_caption()
        self._add(s, "Std of W", NumberField("model.init_std", integer=False))

    def _build_optimizer(self):
        s = "Optimizer"
        self._add(s, "Optimizer", self._choice("optimizer.name", "optimizers")).add_caption()
        self._add(s, "Learning rate", RateField("optimizer.lr"))
        self._add(s, "Momentum", NumberField("optimizer.momentum", integer=False, optional=True))
        self._add(s, "Nesterov", CheckField("optimizer.nesterov", "look ahead", optional=True))
        self._add(s, "Alpha", NumberField("optimizer.alpha", integer=False, optional=True))
        self._add(s, "Betas", PairField("optimizer.betas"))
        self._add(s, "Epsilon", NumberField("optimizer.eps", integer=False, optional=True))
        self._add(s, "Trust coefficient", NumberField("optimizer.trust_coefficient", integer=False, optional=True))
        # eps is a small float: typed in scientific notation, no arrows
        eps = self._fields["optimizer.eps"].box
        eps.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
        self.state_memory = StateMemoryLine()      # its state's bytes on this network, and the table of all
        self.sections[s].form.addRow(self.state_memory)

    def _build_schedule(self):
        s = "Schedule"
        self._add(s, "Schedule", self._choice("schedule.name", "schedules")).add_caption()
        self._add(s, "Warm-up steps", NumberField("schedule.warmup_steps", integer=True))
        self._add(s, "Step size", NumberField("schedule.step_size", integer=True, optional=True))
        self._add(s, "Gamma", NumberField("schedule.gamma", integer=False, optional=True))
        self._add(s, "Minimum lr", NumberField("schedule.eta_min", integer=False, optional=True))
        self._fields["schedule.eta_min"].box.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
        self._add(s, "Peak lr", RateField("schedule.max_lr", optional=True))
        self._add(s, "Rising part", NumberField("schedule.pct_start", integer=False, optional=True))
        self._add(s, "Cycle momentum", CheckField("schedule.cycle_momentum", "on", optional=True))

        self.schedule_preview = SchedulePreview()
        self.sections[s].form.addRow(self.schedule_preview)

    def _build_regularization(self):
        s = "Regularization"
        self._add(s, "Dropout", NumberField("model.dropout", integer=False))
        self._add(s, "Weight decay", NumberField("optimizer.weight_decay", integer=False, optional=True))
        self._add(s, "Normalization", self._choice("model.norm", "norms"))
        self._add(s, "Shift images", NumberField("augment.shift", integer=True))
        self._add(s, "Rotate images", NumberField("augment.rotate", integer=False))
        self._add(s, "Input jitter", NumberField("augment.jitter", integer=False))
        self._add(s, "Mixup alpha", NumberField("augment.mixup", integer=False))

    def _build_training(self):
        s = "Training"
        self._add(s, "Length", LengthField()).add_caption()
        self._add(s, "Batch size", NumberField("train.batch_size", integer=True))
        self._add(s, "Seeds", NumberField("train.seeds", integer=True))
        self._add(s, "Gradient clip", ToggledNumberField("train.grad_clip", "at norm", 1.0))
        self._add(s, "Precision", self._choice("train.precision", "precisions"))
        self._add(s, "Loss scaling", self._choice("train.loss_scale"))
        self._add(s, "Evaluate every", NumberField("train.eval_every", integer=True))
        self._add(s, "Histograms every", NumberField("train.histogram_every", integer=True))
        self._add(s, "Divergence", ToggledNumberField("train.divergence_factor", "loss ×", 1000.0))

    def _unique_fields(self) -> list[Field]:
        return list(dict.fromkeys(self._fields.values()))

    # -- public API -------------------------------------------------------------------------------

    def experiment(self) -> Experiment | None:
        """The parsed, checked experiment; None while the form is invalid."""
        return self._exp

    def set_experiment(self, exp: Experiment) -> None:
        """Fill every field from ``exp`` (hidden keys included) and emit ``changed`` once."""
        self._fill(exp)
        self._validate()
        self.changed.emit()

    def error(self) -> str | None:
        """The current one-line problem, e.g. "optimizer.lr: must be > 0, got -0.1"."""
        return self._error

    def is_valid(self) -> bool:
        return self._exp is not None

    # Helpers for the window and the tests: where each key lives and what it shows.

    def field(self, key: str) -> Field:
        """The field editing ``key`` ("optimizer.lr"); list items ("model.hidden[1]") map to their list."""
        return self._fields[re.sub(r"\[\d+\]$", "", key)]

    def displayed_value(self, key: str) -> Any:
        """What the form shows for ``key``: the typed value, or the default it displays while unset."""
        field = self.field(key)
        value = field.displayed()
        if isinstance(field, LengthField):
            return value[0] if key == "train.steps" else value[1]
        return value

    def is_shown(self, key: str) -> bool:
        """Whether the row of ``key`` is part of the form for the current choices."""
        return self.field(key).shown

    def reveal(self, key: str) -> None:
        """Expand the section of ``key``, scroll to the field and give it focus."""
        try:
            field = self.field(key)
        except KeyError:
            return
        if field.section is not None:
            field.section.set_expanded(True)
        self.scroll.ensureWidgetVisible(field.container)
        field.focus_widget().setFocus()

    # -- filling ----------------------------------------------------------------------------------

    def _fill(self, exp: Experiment) -> None:
        self._loading = True
        try:
            values = flatten(exp)
            for field in self._unique_fields():
                if isinstance(field, LengthField):
                    field.load((values["train.steps"], values["train.epochs"]))
                else:
                    field.load(values[field.key])
            self._apply_choices()
        finally:
            self._loading = False

    # -- reacting ---------------------------------------------------------------------------------

    def _field_edited(self, field: Field) -> None:
        if self._loading:
            return
        if isinstance(field, ChoiceField):
            self._apply_choices()
        self._validate()
        self.changed.emit()

    def _set_shown(self, key: str, shown: bool) -> None:
        field = self._fields[key]
        field.hideable = True
        field.shown = field.active = shown
        field.section.form.setRowVisible(field.container, shown)

    def _apply_choices(self) -> None:
        """Show the fields the chosen dataset, model, init, optimizer and schedule take, with their defaults."""
        for choice, keys in CHOOSERS.items():
            entry = REGISTRIES[META[choice]["registry"]].get(self._fields[choice].read())
            if entry is not None:
                for key in keys:
                    self._set_shown(key, key.rpartition(".")[2] in entry.takes)
        dataset = DATASETS.get(self._fields["data.dataset"].read())
        if dataset is not None:
            self._fields["data.classes"].set_default(dataset.default_classes)
            for key in ("augment.shift", "augment.rotate"):
                # Pixels to move: images only.  A value already set stays editable, so the
                # validator's message under it ("need image data") can be acted on.
                field = self._fields[key]
                try:
                    held = bool(field.read())
                except Unreadable:
                    held = True
                field.editor.setEnabled(dataset.kind == DataKind.IMAGE or held)
        init = INITS.get(self._fields["model.init"].read())
        if init is not None:
            self._set_shown("model.init_std", init.uses_std)
            self._fields["model.init"].caption.setText(init.variance)
        precision = PRECISIONS.get(self._fields["train.precision"].read())
        if precision is not None:
            # Only fp16's narrow exponent needs the loss scaled; a value already set stays editable.
            self._set_shown("train.loss_scale", precision.scales or self._fields["train.loss_scale"].read() != "dynamic")
        opt = OPTIMIZERS.get(self._fields["optimizer.name"].read())
        if opt is not None:
            self._apply_optimizer(opt)
        sched = SCHEDULES.get(self._fields["schedule.name"].read())
        if sched is not None:
            self._fields["schedule.name"].caption.setText(sched.formula)
            self._fields["schedule.name"].caption.setVisible(bool(sched.formula))

    def _apply_optimizer(self, opt: OptimizerInfo) -> None:
        """The chosen optimizer's own defaults as placeholders, its update rule, and lr's tooltip."""
        for key, value in opt.defaults.items():
            if key in OPTIMIZER_KEYS:   # not lr: it is never unset, the engine's default is 0.01 for all
                self._fields[f"optimizer.{key}"].set_default(value)
        self._fields["schedule.cycle_momentum"].set_default(opt.has_momentum)
        self._fields["optimizer.name"].caption.setText("\n".join(re.split(r"\s*;\s*", opt.formula)))
        self._fields["optimizer.name"].caption.setVisible(bool(opt.formula))
        lr_tip = tooltip_for("optimizer.lr")
        if "lr" in opt.defaults:
            lr_tip += f"<p>torch's own default for {opt.name}: {format_rate(opt.defaults['lr'])}.</p>"
        for w in (self._fields["optimizer.lr"].edit, self._fields["optimizer.lr"].slider):
            w.setToolTip(lr_tip)

    def _collect(self) -> dict:
        """The raw experiment dict, as an experiment file would hold it; raises (key, Unreadable)."""
        raw: dict[str, Any] = {section: {} for section in SECTIONS}
        for field in self._unique_fields():
            try:
                values = field.values()
            except Unreadable as err:
                raise ExperimentError(err.key or field.key, str(err)) from None
            for key, value in values.items():
                section, _, name = key.rpartition(".")
                (raw[section] if section else raw)[name] = value
        return raw

    def _validate(self) -> None:
        exp, key, message = None, None, None
        try:
            exp = parse_experiment(self._collect())
        except ExperimentError as err:
            key, message = err.path, str(err)
        except Exception as err:  # noqa: BLE001 - the form must never raise on what a teacher types
            key, message = "", f"cannot read the form: {err}"
        for field in self._unique_fields():
            field.show_error(None)
        self._exp, self._error = exp, message
        self._error_key = key
        self._show_error(key, message)
        if exp is not None:
            try:
                self._apply_resolved(exp)
            except Exception:  # noqa: BLE001 - placeholders are a courtesy; a valid run must not fail on them
                pass
        self._apply_live_hints()
        self.schedule_preview.show_experiment(exp)
        self.state_memory.show_experiment(exp)
        valid = exp is not None
        if valid != self._valid:
            self._valid = valid
            self.validity_changed.emit(valid)

    def _show_error(self, key: str | None, message: str | None) -> None:
        if message is None:
            self.banner.hide()
            return
        field = None
        if key:
            try:
                field = self.field(key)
            except KeyError:
                field = None
        words = message[len(key) + 2:] if key and message.startswith(f"{key}: ") else message
        if field is not None:
            field.show_error(words)
        if field is not None and field.shown and field.section.expanded:
            self.banner.hide()
        else:
            # The field is hidden or folded away: say it at the top, with a link to it.
            if field is not None:
                text = f'<a href="{html.escape(field.key)}">{html.escape(key)}</a>: {html.escape(words)}'
            else:
                text = html.escape(message)
            self.banner.setText(text)
            self.banner.show()

    def _apply_resolved(self, exp: Experiment) -> None:
        """Defaults that depend on the whole experiment: the schedule's, as resolve() fills them."""
        run = resolve(exp)
        for key in SCHEDULE_KEYS:
            self._fields[f"schedule.{key}"].set_default(getattr(run.schedule, key))

    def _apply_live_hints(self) -> None:
        """Hints that should not wait for the whole form to be valid: the peak rate and the step count."""
        try:
            lr = self._fields["optimizer.lr"].read()
            if isinstance(lr, float) and math.isfinite(lr) and lr > 0:
                self._fields["schedule.max_lr"].set_default(lr)
        except Unreadable:
            pass
        length: LengthField = self._fields["train.steps"]
        try:
            n_train = int(self._fields["data.n_train"].read())
            batch = int(self._fields["train.batch_size"].read())
            steps, epochs = length.read()
            if n_train < 1 or batch < 1:
                raise ValueError
            # The plan as the engine counts it, from the typed values (the rest of the form may be invalid).
            total = Experiment(data=DataConfig(n_train=n_train),
                               train=TrainConfig(steps=steps, epochs=epochs, batch_size=batch)).total_steps()
            if total < 1:
                raise ValueError
            per_epoch = steps_per_epoch(n_train, batch)
            length.steps_per_epoch = per_epoch
            length.caption.setText(f"{int(total):,} steps in all, {per_epoch:,} per epoch")
            length.caption.show()
        except (Unreadable, ValueError, TypeError, OverflowError):
            length.caption.hide()
