"""The experiment form: it shows the engine's defaults, gives back exactly the experiment it was
given, shows only what the chosen dataset, model, optimizer and schedule take, and says in red,
under the right field, why an experiment cannot run."""
import dataclasses
import html
import math

import numpy as np
import pytest

from engine.config import (
    DEFAULT_STEPS,
    DataConfig,
    DataKind,
    Experiment,
    ModelConfig,
    OptimizerConfig,
    ScheduleConfig,
    TrainConfig,
    bounds,
    steps_per_epoch,
)
from engine.data.datasets import DATASETS
from engine.experiment import REGISTRIES, experiment_to_dict, parse_experiment, resolve, schema
from engine.lessons.text import LESSON_TEXT
from engine.model.models import MODELS
from engine.optim.optimizers import OPTIMIZERS, optimizer_kwargs
from engine.optim.schedules import SCHEDULES, lr_curve
from gui.training.form import (
    CHOOSERS,
    META,
    ExperimentForm,
    LengthField,
    ListField,
    NumberBox,
    PathField,
    RateField,
    format_hint,
)

OPTIONAL_OPTIMIZER_KEYS = ("momentum", "nesterov", "alpha", "betas", "eps", "weight_decay", "trust_coefficient")
SCHEDULE_KEYS = ("step_size", "gamma", "eta_min", "max_lr", "pct_start", "cycle_momentum")


@pytest.fixture
def form(qtbot):
    widget = ExperimentForm()
    qtbot.addWidget(widget)
    widget.resize(360, 900)
    return widget


def type_into(form, key, text):
    """Replace the text of the field editing ``key``, as typing would."""
    field = form.field(key)
    if isinstance(field, LengthField):
        (field.epochs if key == "train.epochs" else field.steps).lineEdit().setText(text)
    elif isinstance(field, (RateField, PathField)):
        field.edit.setText(text)
    elif hasattr(field, "box"):
        field.box.lineEdit().setText(text)
    else:
        field.editor.setText(text)


def choose(form, key, name):
    combo = form.field(key).editor
    index = combo.findText(name)
    assert index >= 0, name
    combo.setCurrentIndex(index)


# -- defaults -------------------------------------------------------------------------------------

def test_a_new_form_holds_the_engine_default_experiment(form):
    assert form.is_valid() and form.error() is None
    assert form.experiment() == Experiment()
    defaults = Experiment()
    for entry in schema():
        if entry.default is None:
            continue
        shown = form.displayed_value(entry.path)
        expected = tuple(entry.default) if isinstance(entry.default, list) else entry.default
        assert shown == expected, entry.path
    assert form.field("optimizer.lr").edit.text() == "1.00e-02"
    assert form.field("model.hidden").editor.text() == "16, 16"
    assert form.displayed_value("train.steps") == DEFAULT_STEPS == defaults.total_steps()
    # Keys left unset show what the run will use: resolve() fills them in.
    run = resolve(defaults)
    assert form.displayed_value("data.classes") == run.data.classes == 2
    for key in OPTIMIZERS["adam"].takes:
        if key != "lr":
            assert form.displayed_value(f"optimizer.{key}") == getattr(run.optimizer, key), key


def test_sections_come_in_the_lesson_order_inside_a_scroll_area(form):
    assert list(form.sections) == ["Data", "Model", "Initialization", "Optimizer", "Schedule",
                                   "Regularization", "Training"]
    content = form.scroll.widget()
    form.show()
    tops = [section.mapTo(content, section.rect().topLeft()).y() for section in form.sections.values()]
    assert tops == sorted(tops) and len(set(tops)) == 7
    assert form.sections["Schedule"].header.font().bold()
    section_of = {"data.path": "Data", "model.channels": "Model", "model.init_std": "Initialization",
                  "optimizer.betas": "Optimizer", "schedule.warmup_steps": "Schedule",
                  "model.dropout": "Regularization", "optimizer.weight_decay": "Regularization",
                  "model.norm": "Regularization", "train.grad_clip": "Training"}
    for key, title in section_of.items():
        assert form.field(key).section is form.sections[title], key


# -- round trip -----------------------------------------------------------------------------------

def _round_trip_cases():
    cases = []
    for name, info in OPTIMIZERS.items():
        values = {"momentum": 0.85, "nesterov": True, "alpha": 0.95, "betas": (0.8, 0.98),
                  "eps": 3.5e-7, "weight_decay": 0.0123, "trust_coefficient": 0.0021}
        opt = OptimizerConfig(name=name, lr=0.0031415, **{k: v for k, v in values.items() if k in info.takes})
        cases.append(Experiment(name=f"all of {name}", optimizer=opt))
    for name, info in SCHEDULES.items():
        values = {"step_size": 250, "gamma": 0.5 if name == "step" else 0.999, "eta_min": 1e-5,
                  "max_lr": 0.05, "pct_start": 0.25, "cycle_momentum": False}
        sched = ScheduleConfig(name=name, warmup_steps=100,
                               **{k: v for k, v in values.items() if k in info.takes})
        cases.append(Experiment(name=name, schedule=sched, train=TrainConfig(steps=1500)))
    cases += [
        Experiment(name="cnn on digits", seed=7,
                   data=DataConfig(dataset="digits", n_train=1000, n_val=797),
                   model=ModelConfig(kind="cnn", hidden=(64,), channels=(4, 8, 16), activation="gelu",
                                     norm="batch", dropout=0.25, init="orthogonal")),
        Experiment(name="by epochs", train=TrainConfig(epochs=5, batch_size=64)),
        Experiment(name="clipped", train=TrainConfig(steps=300, grad_clip=0.75, precision="bf16",
                                                     eval_every=7, histogram_every=0,
                                                     divergence_factor=None)),
        # keys the form hides for these choices must survive: momentum under adam, betas under sgd,
        # channels of an mlp, init_std of he_normal, a cosine's eta_min under a constant schedule
        Experiment(name="hidden keys", model=ModelConfig(channels=(3, 5), init_std=0.5),
                   optimizer=OptimizerConfig(name="adam", momentum=0.9, alpha=0.5),
                   schedule=ScheduleConfig(name="constant", eta_min=0.001, gamma=0.5)),
        Experiment(name="odd floats", data=DataConfig(dataset="spiral", classes=5, noise=0.123456789,
                                                      label_noise=0.1 + 0.2),
                   model=ModelConfig(init="normal", init_std=1e-3), optimizer=OptimizerConfig(lr=7.77e-5)),
        Experiment(name="mnist", data=DataConfig(dataset="mnist", path="/data/mnist")),
    ]
    return cases


def test_set_experiment_then_experiment_gives_it_back_exactly(form, qtbot):
    for exp in _round_trip_cases():
        exp = parse_experiment(experiment_to_dict(exp))   # as a file would give it
        emitted = []
        form.changed.connect(lambda emitted=emitted: emitted.append(1))
        form.set_experiment(exp)
        form.changed.disconnect()
        assert form.error() is None, (exp.name, form.error())
        assert form.experiment() == exp, exp.name
        assert optimizer_kwargs(form.experiment().optimizer) == optimizer_kwargs(exp.optimizer)
        assert resolve(form.experiment()) == resolve(exp)
        assert emitted == [1], f"{exp.name}: set_experiment must emit changed once, got {len(emitted)}"


def test_set_experiment_shows_the_values(form):
    form.set_experiment(Experiment(optimizer=OptimizerConfig(name="sgd", lr=0.1, momentum=0.9),
                                   train=TrainConfig(epochs=3)))
    assert form.field("optimizer.name").editor.currentText() == "sgd"
    assert form.field("optimizer.lr").edit.text() == "1.00e-01"
    assert form.field("optimizer.momentum").box.text() == "0.9"
    length = form.field("train.epochs")
    assert length.mode.currentText() == "epochs" and length.epochs.text() == "3"


# -- which fields are shown -----------------------------------------------------------------------

def test_sgd_shows_momentum_and_nesterov_and_hides_betas_adam_the_reverse(form):
    choose(form, "optimizer.name", "sgd")
    assert form.is_shown("optimizer.momentum") and form.is_shown("optimizer.nesterov")
    assert form.field("optimizer.momentum").container.isVisibleTo(form)
    assert not form.is_shown("optimizer.betas") and not form.is_shown("optimizer.eps")
    assert not form.field("optimizer.betas").container.isVisibleTo(form)
    choose(form, "optimizer.name", "adam")
    assert form.is_shown("optimizer.betas") and form.is_shown("optimizer.eps")
    assert form.field("optimizer.betas").container.isVisibleTo(form)
    assert not form.is_shown("optimizer.momentum") and not form.is_shown("optimizer.nesterov")
    assert not form.field("optimizer.momentum").container.isVisibleTo(form)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_optimizer_shows_exactly_what_it_takes_prefilled_with_its_defaults(form, name):
    choose(form, "optimizer.name", name)
    info = OPTIMIZERS[name]
    shown = {k for k in OPTIONAL_OPTIMIZER_KEYS if form.is_shown(f"optimizer.{k}")}
    assert shown == set(info.takes) - {"lr"}
    for key, default in info.defaults.items():
        if key == "lr":
            continue
        assert form.displayed_value(f"optimizer.{key}") == default, key
        assert getattr(form.experiment().optimizer, key) is None, key   # shown, not typed
    if "eps" in info.takes:
        assert form.field("optimizer.eps").box.lineEdit().placeholderText() == format_hint(info.defaults["eps"])
    if "betas" in info.takes:
        assert [b.lineEdit().placeholderText() for b in form.field("optimizer.betas").boxes] == \
            [format_hint(v) for v in info.defaults["betas"]]


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_each_schedule_shows_exactly_what_it_takes(form, name):
    choose(form, "schedule.name", name)
    shown = {k for k in SCHEDULE_KEYS if form.is_shown(f"schedule.{k}")}
    assert shown == set(SCHEDULES[name].takes)
    run = resolve(form.experiment())
    for key in SCHEDULES[name].takes:
        assert form.displayed_value(f"schedule.{key}") == getattr(run.schedule, key), key


def test_dataset_model_and_init_choose_their_rows(form):
    assert form.is_shown("data.classes") and not form.is_shown("data.path")
    choose(form, "data.dataset", "moons")
    assert not form.is_shown("data.classes")
    choose(form, "data.dataset", "mnist")
    assert form.is_shown("data.path")
    assert not form.is_shown("data.noise")
    assert not form.is_shown("model.channels")
    choose(form, "model.kind", "cnn")
    assert form.is_shown("model.channels")
    assert not form.is_shown("model.init_std")
    choose(form, "model.init", "normal")
    assert form.is_shown("model.init_std")


def test_the_cnn_shows_its_channels_an_mlp_hides_them_and_image_data_hides_the_noise(form):
    assert "channels" in MODELS["cnn"].takes and "channels" not in MODELS["mlp"].takes
    assert not form.is_shown("model.channels")
    choose(form, "model.kind", "cnn")
    assert form.is_shown("model.channels") and form.field("model.channels").container.isVisibleTo(form)
    choose(form, "model.kind", "mlp")
    assert not form.is_shown("model.channels") and not form.field("model.channels").container.isVisibleTo(form)
    for name, info in DATASETS.items():
        choose(form, "data.dataset", name)
        assert ("noise" in info.takes) == (info.kind == DataKind.PLANE), name
        assert form.is_shown("data.noise") == ("noise" in info.takes), name
        assert form.field("data.noise").container.isVisibleTo(form) == ("noise" in info.takes), name


def test_the_rows_a_choice_shows_are_read_from_takes_not_from_names(form, monkeypatch):
    """An mlp that took channels, digits that took noise: the form would show them."""
    monkeypatch.setitem(MODELS, "mlp", dataclasses.replace(MODELS["mlp"], takes=(*MODELS["mlp"].takes, "channels")))
    digits = DATASETS["digits"]
    monkeypatch.setitem(DATASETS, "digits", dataclasses.replace(digits, takes=(*digits.takes, "noise")))
    choose(form, "model.kind", "cnn")
    choose(form, "model.kind", "mlp")
    assert form.is_shown("model.channels")
    choose(form, "data.dataset", "digits")
    assert form.is_shown("data.noise")
    choose(form, "data.dataset", "mnist")
    assert not form.is_shown("data.noise")


@pytest.mark.parametrize("choice", CHOOSERS)
def test_every_entry_of_every_choice_shows_exactly_the_keys_it_takes(form, choice):
    registry = REGISTRIES[META[choice]["registry"]]
    section = choice.split(".")[0]
    assert CHOOSERS[choice], f"{choice} decides no row"
    for name, entry in registry.items():
        choose(form, choice, name)
        shown = {key.split(".")[1] for key in CHOOSERS[choice] if form.is_shown(key)}
        assert shown == {k for k in entry.takes if f"{section}.{k}" in CHOOSERS[choice]}, (choice, name)
    assert set(CHOOSERS) == {"data.dataset", "model.kind", "optimizer.name", "schedule.name"}
    assert CHOOSERS["model.kind"] == ("model.channels",)
    assert CHOOSERS["data.dataset"] == ("data.noise", "data.classes", "data.path")


def test_a_class_count_typed_for_spiral_is_dropped_for_moons(form):
    type_into(form, "data.classes", "5")
    assert form.experiment().data.classes == 5
    choose(form, "data.dataset", "moons")
    assert form.is_valid() and form.experiment().data.classes is None
    choose(form, "data.dataset", "spiral")
    assert form.experiment().data.classes == 5


def test_a_broken_value_in_a_field_that_gets_hidden_does_not_block_the_run(form):
    type_into(form, "optimizer.eps", "1e-")
    assert not form.is_valid() and form.error().startswith("optimizer.eps: ")
    choose(form, "optimizer.name", "sgd")      # sgd takes no eps
    assert form.is_valid(), form.error()
    assert form.experiment().optimizer.eps is None
    choose(form, "optimizer.name", "adam")     # back: the broken text is there to fix
    assert form.error().startswith("optimizer.eps: ")


# -- learning-rate slider -------------------------------------------------------------------------

def test_lr_text_and_log_slider_stay_in_sync(form):
    lr = form.field("optimizer.lr")
    assert lr.slider.minimum() == 0 and lr.slider.maximum() == 700     # 1e-6 .. 10, 100 ticks a decade
    assert lr.slider.value() == round((math.log10(0.01) + 6) * 100) == 400
    lr.edit.setText("3e-4")
    assert lr.slider.value() == round((math.log10(3e-4) + 6) * 100) == 248
    assert form.experiment().optimizer.lr == 3e-4
    lr.edit.editingFinished.emit()
    assert lr.edit.text() == "3.00e-04"
    lr.slider.setValue(100)
    assert lr.edit.text() == "1.00e-05"
    assert form.experiment().optimizer.lr == 1e-5
    lr.slider.setValue(450)
    assert lr.edit.text() == "3.16e-02" and form.experiment().optimizer.lr == 0.0316
    lr.edit.setText("100")                  # above the slider: the text rules, the slider pins
    assert lr.slider.value() == 700 and form.experiment().optimizer.lr == 100.0


def test_max_lr_follows_lr_until_typed(form):
    choose(form, "schedule.name", "one_cycle")
    peak = form.field("schedule.max_lr")
    type_into(form, "optimizer.lr", "0.002")
    assert peak.edit.placeholderText() == "2.00e-03" and peak.slider.value() == 330
    assert form.experiment().schedule.max_lr is None
    peak.slider.setValue(500)
    assert form.experiment().schedule.max_lr == 0.1


# -- invalid input --------------------------------------------------------------------------------

def _sgd_nesterov(form):
    choose(form, "optimizer.name", "sgd")
    form.field("optimizer.nesterov").editor.setChecked(True)


INVALID = [
    # (what the teacher does, the field, error prefix, how to fix it)
    (lambda f: type_into(f, "optimizer.lr", "0"), "optimizer.lr", "optimizer.lr: must be > 0, got 0.0",
     lambda f: type_into(f, "optimizer.lr", "1e-3")),
    (lambda f: type_into(f, "optimizer.lr", "-0.1"), "optimizer.lr", "optimizer.lr: must be > 0, got -0.1",
     lambda f: f.field("optimizer.lr").slider.setValue(300)),
    (lambda f: type_into(f, "model.hidden", "16, x"), "model.hidden",
     "model.hidden: write widths separated by commas, e.g. 16, 16", lambda f: type_into(f, "model.hidden", "16, 8")),
    (lambda f: type_into(f, "model.hidden", "16, 0"), "model.hidden", "model.hidden[1]: must be >= 1, got 0",
     lambda f: type_into(f, "model.hidden", "16")),
    (lambda f: type_into(f, "data.n_train", "0"), "data.n_train", "data.n_train: must be >= 1, got 0",
     lambda f: type_into(f, "data.n_train", "100")),
    (lambda f: type_into(f, "schedule.warmup_steps", "2000"), "schedule.warmup_steps",
     "schedule.warmup_steps: must be fewer than the 2000 training steps",
     lambda f: type_into(f, "train.steps", "3000")),
    (lambda f: choose(f, "model.kind", "cnn"), "model.kind", "model.kind: cnn needs image data",
     lambda f: choose(f, "data.dataset", "digits")),
    (lambda f: choose(f, "data.dataset", "mnist"), "data.path", "data.path: mnist needs the folder",
     lambda f: type_into(f, "data.path", "/data/mnist")),
    (_sgd_nesterov, "optimizer.nesterov", "optimizer.nesterov: needs momentum > 0",
     lambda f: type_into(f, "optimizer.momentum", "0.9")),
    (lambda f: type_into(f, "model.dropout", "1"), "model.dropout", "model.dropout: must be in [0, 1), got 1.0",
     lambda f: type_into(f, "model.dropout", "0.5")),
    (lambda f: type_into(f, "train.batch_size", ""), "train.batch_size", "train.batch_size: write a whole number",
     lambda f: type_into(f, "train.batch_size", "16")),
]


@pytest.mark.parametrize("break_it,key,prefix,fix", INVALID, ids=[case[2].split(":")[0] + ":" + case[2].split(": ")[1][:20]
                                                                for case in INVALID])
def test_invalid_input_is_named_under_its_field_and_fixing_it_restores_validity(form, qtbot, break_it, key,
                                                                               prefix, fix):
    form.show()
    with qtbot.waitSignal(form.validity_changed, timeout=1000) as blocker:
        break_it(form)
    assert blocker.args == [False]
    assert form.experiment() is None and not form.is_valid()
    assert form.error().startswith(prefix), form.error()
    field = form.field(key)
    assert field.message.isVisible()
    assert form.error() == f"{form.error().split(': ')[0]}: {field.message.text()}"
    assert field.frame.invalid
    with qtbot.waitSignal(form.validity_changed, timeout=1000) as blocker:
        fix(form)
    assert blocker.args == [True]
    assert form.is_valid() and form.error() is None and form.experiment() is not None
    assert not field.message.isVisible() and not field.frame.invalid


def test_validity_changed_only_on_transitions_and_changed_on_every_edit(form, qtbot):
    flips, edits = [], []
    form.validity_changed.connect(flips.append)
    form.changed.connect(lambda: edits.append(1))
    type_into(form, "data.n_train", "300")
    type_into(form, "data.n_train", "0")
    type_into(form, "data.n_train", "-5")
    type_into(form, "data.n_train", "200")
    assert flips == [False, True]
    assert len(edits) == 4
    assert form.experiment().data.n_train == 200


def test_garbage_anywhere_never_raises(form):
    for key in ("seed", "data.n_train", "data.noise", "optimizer.lr", "optimizer.eps", "model.hidden",
                "model.channels", "schedule.warmup_steps", "train.batch_size", "train.steps", "optimizer.betas"):
        for text in ("", "-", ".", "e", "1e", "1e400", "--1", "1.5.2", ",", "9" * 40):
            if key == "optimizer.betas":
                form.field(key).boxes[1].lineEdit().setText(text)
            else:
                type_into(form, key, text)
            assert (form.experiment() is None) == (form.error() is not None)
            if key != "optimizer.betas" and hasattr(form.field(key), "box"):
                box = form.field(key).box
                box.stepEnabled()       # Qt asks this while painting: an exception there kills the process
                box.stepBy(1)
    form.set_experiment(Experiment())
    assert form.experiment() == Experiment()


def test_an_error_in_a_folded_section_is_named_at_the_top(form):
    form.show()
    form.sections["Model"].set_expanded(False)
    choose(form, "model.kind", "cnn")
    choose(form, "data.dataset", "moons")
    assert form.error().startswith("model.kind: ")
    assert form.banner.isVisible() and "model.kind" in form.banner.text()
    form.reveal("model.kind")
    assert form.sections["Model"].expanded


# -- training length ------------------------------------------------------------------------------

def test_epochs_instead_of_steps(form):
    length = form.field("train.steps")
    length.mode.setCurrentText("epochs")
    per_epoch = steps_per_epoch(400, 32)
    assert per_epoch == 13
    assert form.experiment().train.epochs == round(DEFAULT_STEPS / per_epoch) == 154
    assert form.experiment().train.steps is None
    type_into(form, "data.n_train", "640")
    assert form.experiment().total_steps() == 154 * 20
    assert "3,080 steps in all, 20 per epoch" in length.caption.text()
    length.mode.setCurrentText("steps")
    assert form.experiment().train.steps is None and form.experiment().train.epochs is None


def test_a_batch_size_of_zero_is_named_and_flips_validity(form, qtbot):
    """The step-count caption divided by the batch size: 0 raised inside the edit and the form never
    said it had become invalid."""
    length = form.field("train.steps")
    with qtbot.waitSignal(form.validity_changed, timeout=1000) as blocker:
        type_into(form, "train.batch_size", "0")
    assert blocker.args == [False]
    assert form.error() == "train.batch_size: must be >= 1, got 0" and length.caption.isHidden()
    type_into(form, "train.batch_size", "50")
    assert form.is_valid() and "2,000 steps in all, 8 per epoch" in length.caption.text()
    assert form.experiment().total_steps() == DEFAULT_STEPS


def test_grad_clip_checkbox_enables_a_value(form):
    clip = form.field("train.grad_clip")
    assert form.experiment().train.grad_clip is None and not clip.box.isEnabled()
    clip.check.setChecked(True)
    assert clip.box.isEnabled() and form.experiment().train.grad_clip == 1.0
    clip.box.lineEdit().setText("0.25")
    assert form.experiment().train.grad_clip == 0.25
    clip.check.setChecked(False)
    assert form.experiment().train.grad_clip is None


def test_arrows_step_within_the_config_range(form):
    n_train = form.field("data.n_train").box
    type_into(form, "data.n_train", "100")
    n_train.stepBy(-1)
    assert form.experiment().data.n_train == 1                 # >= 1: stops at the bound
    assert not (n_train.stepEnabled() & n_train.StepEnabledFlag.StepDownEnabled)
    dropout = form.field("model.dropout").box
    type_into(form, "model.dropout", "0.9")
    dropout.stepBy(2)
    assert form.experiment().model.dropout == 0.9               # [0, 1): 1.0 is never offered
    dropout.stepBy(1)
    assert form.experiment().model.dropout == 0.95


# Experiments in which every number box of the form is shown and taken (shift needs images,
# momentum sgd, alpha rmsprop, gamma the step schedule, ...); each box is tested in the first that shows it.
EDGE_BASES = (
    Experiment(),
    Experiment(data=DataConfig(dataset="digits"), optimizer=OptimizerConfig(name="sgd"),
               schedule=ScheduleConfig(name="step"), train=TrainConfig(epochs=2, grad_clip=1.0)),
    Experiment(optimizer=OptimizerConfig(name="rmsprop"), schedule=ScheduleConfig(name="one_cycle")),
    Experiment(model=ModelConfig(init="normal"), schedule=ScheduleConfig(name="cosine")),
    Experiment(optimizer=OptimizerConfig(name="lars")),
)


def number_boxes(form):
    """key -> the spin boxes of every numeric field the form shows (steps and epochs share one field)."""
    out = {}
    for entry in schema():
        try:
            field = form.field(entry.path)
        except KeyError:
            continue
        boxes = field.container.findChildren(NumberBox)
        if isinstance(field, LengthField):
            boxes = [field.epochs if entry.path == "train.epochs" else field.steps]
        if boxes:
            out[entry.path] = boxes
    return out


def edges(box, key):
    """(lowest, highest) value the arrows may reach for ``key``, straight from the config's checks."""
    b = bounds(META[key]["checks"])
    low, high = b.low, b.high
    if box.integer:     # whole numbers: an open edge is reached one step inside
        low = None if low is None else (math.floor(low) + 1 if b.low_open else math.ceil(low))
        high = None if high is None else (math.ceil(high) - 1 if b.high_open else math.floor(high))
        return low, high, False, False
    return low, high, b.low_open, b.high_open


def test_every_number_box_stops_its_arrows_at_both_edges_of_the_config_range(form):
    boxes = number_boxes(form)
    numeric = {e.path for e in schema() if "integer" in e.type or "number" in e.type}
    # Every numeric key has spin boxes, except rates (a log slider) and the layer lists (text),
    # and every spin box of the form is one of them.
    assert all(isinstance(form.field(k), (RateField, ListField)) for k in numeric - set(boxes))
    assert set(boxes) <= numeric
    assert all(any(b in bs for bs in boxes.values()) for b in form.findChildren(NumberBox))
    up, down = NumberBox.StepEnabledFlag.StepUpEnabled, NumberBox.StepEnabledFlag.StepDownEnabled
    tested = {"high": set(), "low": set()}
    for key, key_boxes in boxes.items():
        field = form.field(key)
        base = next((e for e in EDGE_BASES if (form.set_experiment(e), form.is_shown(key))[1]
                     and field.active and all(b.isEnabled() for b in key_boxes)), None)
        assert base is not None, f"{key}: no experiment shows it"
        for box in key_boxes:
            low, high, low_open, high_open = edges(box, key)
            b = bounds(META[key]["checks"])
            for side, edge, is_open, flag, click in (("high", high, high_open, up, 1),
                                                     ("low", low, low_open, down, -1)):
                if edge is None:
                    continue
                form.set_experiment(base)
                # At a closed edge itself; one step inside an open one (dropout's 1 in [0, 1)).
                start = edge if not is_open else float(f"{edge - click * box.step:.12g}")
                box.set_number(start)
                assert form.is_valid(), (key, side, start, form.error())
                assert not box.stepEnabled() & flag, f"{key}: the {side} arrow is enabled at {start}"
                box.stepBy(click)
                value = box.number()
                assert value == start and b.contains(value), (key, side, value)
                assert form.is_valid(), (key, side, form.error())
                tested[side].add(key)
    assert "augment.shift" in tested["high"] and "augment.shift" in tested["low"]
    assert {"data.n_train", "model.dropout", "train.steps", "train.epochs", "optimizer.betas",
            "train.divergence_factor"} <= tested["high"] | tested["low"]


def test_shift_at_its_maximum_cannot_be_clicked_past_it(form):
    """The reproduced bug: at augment.shift 8 the up arrow was enabled and one click made it 9."""
    form.set_experiment(Experiment(data=DataConfig(dataset="digits")))
    box = form.field("augment.shift").box
    type_into(form, "augment.shift", "8")
    assert box.bounds.high == 8 and form.is_valid()
    assert not box.stepEnabled() & NumberBox.StepEnabledFlag.StepUpEnabled
    box.stepBy(1)
    assert form.experiment().augment.shift == 8 and form.error() is None
    box.stepBy(-1)
    assert form.experiment().augment.shift == 7


# -- schedule preview -----------------------------------------------------------------------------

def test_preview_is_the_engines_lr_curve_and_redraws_when_steps_change(form, qtbot):
    choose(form, "schedule.name", "one_cycle")
    type_into(form, "schedule.warmup_steps", "100")
    type_into(form, "train.steps", "1200")
    curve = form.schedule_preview.curve
    qtbot.waitUntil(lambda: curve.yData is not None and len(curve.yData) == 1200, timeout=3000)
    exp = form.experiment()
    np.testing.assert_array_equal(curve.yData, lr_curve(exp.schedule, exp.optimizer.lr, 1200))
    np.testing.assert_array_equal(curve.xData, np.arange(1200))
    type_into(form, "train.steps", "700")
    qtbot.waitUntil(lambda: len(curve.yData) == 700, timeout=3000)
    np.testing.assert_array_equal(curve.yData, lr_curve(exp.schedule, exp.optimizer.lr, 700))
    choose(form, "schedule.name", "cosine")
    cosine = lr_curve(ScheduleConfig(name="cosine", warmup_steps=100), 0.01, 700)
    qtbot.waitUntil(lambda: np.array_equal(curve.yData, cosine), timeout=3000)


def test_preview_is_skipped_above_50000_steps(form, qtbot):
    type_into(form, "train.steps", "60000")
    qtbot.waitUntil(lambda: "skipped above 50,000 steps" in form.schedule_preview.note.text(), timeout=3000)
    assert form.schedule_preview.curve.yData is None or len(form.schedule_preview.curve.yData) == 0


# -- tooltips -------------------------------------------------------------------------------------

def test_every_field_carries_the_lessons_words_and_combo_items_their_description(form):
    for entry in schema():
        field = form.field(entry.path)
        text = LESSON_TEXT.get(entry.path)
        assert text, f"no lesson text for {entry.path}"
        assert html.escape(text) in field.container.toolTip(), entry.path
        assert html.escape(text) in field.label.toolTip(), entry.path
    assert "single most important hyperparameter" in form.field("optimizer.lr").edit.toolTip()
    combo = form.field("optimizer.name").editor
    for i in range(combo.count()):
        assert combo.itemData(i, 3) == REGISTRIES["optimizers"][combo.itemText(i)].description  # 3: ToolTipRole


def test_the_preview_follows_the_palette_light_or_dark(form):
    from PySide6.QtGui import QColor, QPalette
    pal = form.palette()
    pal.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    pal.setColor(QPalette.ColorRole.Text, QColor("#e0e0e0"))
    pal.setColor(QPalette.ColorRole.Highlight, QColor("#4f8fee"))
    form.setPalette(pal)
    assert form.schedule_preview.plot.backgroundBrush().color().name() == "#1e1e1e"
    axis = form.schedule_preview.plot.getPlotItem().getAxis("left")
    assert axis.textPen().color().name() == "#e0e0e0"
    assert form.schedule_preview.curve.opts["pen"].color().name() == "#4f8fee"
