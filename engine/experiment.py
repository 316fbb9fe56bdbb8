"""Reading, checking and writing the experiment file (JSON), the user-facing contract.

Every key is optional and takes the default documented in ``engine.config``.
Anything wrong (an unknown key, a wrong type, a value out of range, two keys
that cannot go together) raises :class:`ExperimentError` whose message is one
line naming the key path, e.g. ``optimizer.lr: must be > 0, got -0.1``; nothing
runs on a bad file.  The same field table drives :func:`schema`, which
``main.py schema`` prints and the GUI form reads.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config import MAX_LAYERS, MAX_PARAMETERS, MAX_TOTAL_STEPS, SECTIONS, DataKind, Experiment
from engine.data.augment import check_fits
from engine.data.datasets import DATASETS
from engine.inputs import InputError, read_json
from engine.model.inits import INITS
from engine.model.models import ACTIVATIONS, MODELS, NORMS
from engine.model.precision import PRECISIONS
from engine.optim.optimizers import OPTIMIZERS, resolve_optimizer, unused_keys
from engine.optim.schedules import SCHEDULES, resolve_schedule

REGISTRIES: dict[str, dict] = {
    "datasets": DATASETS, "models": MODELS, "activations": ACTIVATIONS, "norms": NORMS,
    "inits": INITS, "optimizers": OPTIMIZERS, "schedules": SCHEDULES, "precisions": PRECISIONS,
}


class ExperimentError(ValueError):
    """A bad experiment: ``str(err)`` is one line, ``err.path`` the key it is about."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


# -- types --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldType:
    """What a field accepts, worked out once from its annotation."""
    base: type          # int, float, str, bool or tuple
    optional: bool      # None allowed
    item: type | None   # element type of a tuple field

    def describe(self) -> str:
        name = {int: "integer", float: "number", str: "string", bool: "true/false"}.get(self.base, self.base.__name__)
        if self.base is tuple:
            name = f"list of {'integers' if self.item is int else 'numbers'}"
        return name + (" or null" if self.optional else "")


def _field_type(cls, f: dataclasses.Field) -> FieldType:
    return _field_type_of(cls, f.name, f.metadata.get("item"))


@functools.lru_cache(maxsize=None)
def _field_type_of(cls, name: str, item: type | None) -> FieldType:
    """Cached: resolving string annotations costs milliseconds, and the form parses on every edit."""
    hint = typing.get_type_hints(cls)[name]
    args = typing.get_args(hint)
    optional = isinstance(hint, types.UnionType) and type(None) in args
    if optional:
        hint = next(a for a in args if a is not type(None))
    base = typing.get_origin(hint) or hint
    return FieldType(base, optional, item)


def _fmt(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (str, bool)) or value is None else repr(value)


def _coerce_scalar(path: str, value: Any, base: type) -> Any:
    """JSON value -> Python value of ``base``, or a one-line error."""
    if base is bool:
        if isinstance(value, bool):
            return value
    elif base is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, float):
            raise ExperimentError(path, f"must be an integer, got {value!r}")
    elif base is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif base is str:
        if isinstance(value, str):
            return value
    kind = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[base]
    raise ExperimentError(path, f"must be {kind}, got {_fmt(value)}")


def _parse_field(path: str, value: Any, ftype: FieldType, meta) -> Any:
    if value is None:
        if ftype.optional:
            return None
        raise ExperimentError(path, f"must be {ftype.describe()}, got null")
    if ftype.base is tuple:
        if not isinstance(value, (list, tuple)):
            raise ExperimentError(path, f"must be a {ftype.describe()}, got {_fmt(value)}")
        if meta["length"] is not None and len(value) != meta["length"]:
            raise ExperimentError(path, f"must have {meta['length']} entries, got {len(value)}")
        if not value:
            raise ExperimentError(path, "must not be empty")
        item = ftype.item
        if item is None:
            raise TypeError(f"{path}: a list field needs an item type in engine.config")
        items = tuple(_coerce_scalar(f"{path}[{i}]", v, item) for i, v in enumerate(value))
        for i, item in enumerate(items):
            _check(f"{path}[{i}]", item, meta)
        return items
    value = _coerce_scalar(path, value, ftype.base)
    _check(path, value, meta)
    return value


def _check(path: str, value: Any, meta) -> None:
    allowed = _allowed(meta)
    if allowed is not None and value not in allowed:
        raise ExperimentError(path, f"unknown value {_fmt(value)} (choose from {', '.join(allowed)})")
    for check in meta["checks"]:
        problem = check.check(value)
        if problem:
            raise ExperimentError(path, f"{problem}, got {value!r}")


def _allowed(meta) -> tuple[str, ...] | None:
    if meta["registry"]:
        return tuple(REGISTRIES[meta["registry"]])
    return meta["choices"]


def _parse_section(path: str, cls, raw: Any):
    if not isinstance(raw, dict):
        raise ExperimentError(path, f"must be a JSON object, got {_fmt(raw) if not isinstance(raw, list) else 'a list'}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            where = f"{path}.{key}" if path else key
            raise ExperimentError(where, f"unknown key (known: {', '.join(fields)})")
    values = {}
    for key, value in raw.items():
        where = f"{path}.{key}" if path else key
        f = fields[key]
        if key in SECTIONS and not path:
            values[key] = _parse_section(key, SECTIONS[key], value)
        else:
            values[key] = _parse_field(where, value, _field_type(cls, f), f.metadata)
    return cls(**values)


# -- the whole experiment -----------------------------------------------------------------------

def parse_experiment(raw: Any) -> Experiment:
    """A decoded JSON document -> a checked :class:`Experiment`."""
    if not isinstance(raw, dict):
        raise ExperimentError("", f"an experiment must be a JSON object, got {'a list' if isinstance(raw, list) else _fmt(raw)}")
    exp = _parse_section("", Experiment, raw)
    _check_combinations(exp)
    return exp


def _check_combinations(exp: Experiment) -> None:
    """Checks that involve more than one key."""
    data, model, opt, sched, train = exp.data, exp.model, exp.optimizer, exp.schedule, exp.train
    dataset = DATASETS[data.dataset]
    if data.classes is not None and not dataset.variable_classes:
        raise ExperimentError("data.classes", f"{data.dataset} always has {dataset.default_classes} classes")
    if dataset.needs_path and not data.path:
        raise ExperimentError("data.path", f"{data.dataset} needs the folder holding its IDX files")
    if MODELS[model.kind].needs_image and dataset.kind != DataKind.IMAGE:
        raise ExperimentError("model.kind", f"{model.kind} needs image data (digits, mnist, fashion-mnist), "
                              f"got {data.dataset}")
    info = OPTIMIZERS[opt.name]
    resolved = resolve_optimizer(opt)
    if resolved.nesterov and "nesterov" in info.takes and not (resolved.momentum or 0) > 0:
        raise ExperimentError("optimizer.nesterov", "needs momentum > 0")
    if train.steps is not None and train.epochs is not None:
        raise ExperimentError("train.epochs", "give steps or epochs, not both")
    total = exp.total_steps()
    if total > MAX_TOTAL_STEPS:
        key = "train.epochs" if train.epochs is not None else "train.steps"
        raise ExperimentError(key, f"makes {total:,} training steps, more than the {MAX_TOTAL_STEPS:,} "
                              f"a run may take")
    if model.norm == "batch" and data.n_train < 2:
        raise ExperimentError("data.n_train", f"BatchNorm needs at least 2 training examples to normalize, "
                              f"got {data.n_train}")
    if model.norm == "batch" and train.batch_size < 2:
        raise ExperimentError("train.batch_size", f"BatchNorm needs batches of at least 2 examples to normalize, "
                              f"got {train.batch_size}")
    for key, layers in (("model.hidden", model.hidden), ("model.channels", model.channels)):
        if len(layers) > MAX_LAYERS:
            raise ExperimentError(key, f"at most {MAX_LAYERS} layers, got {len(layers):,}")
    count = parameter_count(exp)
    if count > MAX_PARAMETERS:
        raise ExperimentError("model.hidden", f"the model would have {count:,} parameters, more than the "
                              f"{MAX_PARAMETERS:,} that fit comfortably in memory")
    if count * exp.train.seeds > MAX_PARAMETERS:          # every member holds its own weights
        raise ExperimentError("train.seeds", f"{exp.train.seeds} members of {count:,} parameters each hold "
                              f"{count * exp.train.seeds:,}, more than the {MAX_PARAMETERS:,} that fit "
                              f"comfortably in memory")
    if sched.warmup_steps >= total:
        raise ExperimentError("schedule.warmup_steps", f"must be fewer than the {total} training steps, "
                              f"got {sched.warmup_steps}")
    if sched.name == "one_cycle" and sched.cycle_momentum and not info.has_momentum:
        raise ExperimentError("schedule.cycle_momentum", f"{opt.name} has no momentum to cycle; set it to false")
    try:
        check_fits(exp.augment, dataset.kind, data.dataset)     # the augmenter's own rule, one place
    except ValueError as err:
        path, _, message = str(err).partition(": ")
        raise ExperimentError(path, message) from None


# The input each kind of data gives the model, at its largest (a 28x28 grey image: mnist): the
# parameter count below is then an upper bound, computed before any data is loaded.
_LARGEST_INPUT: dict[DataKind, tuple[int, ...]] = {DataKind.PLANE: (2,), DataKind.IMAGE: (1, 28, 28)}


def parameter_count(exp: Experiment) -> int:
    """The model's weights, counted from its config without building it (an upper bound for images).

    A dense layer of ``n`` inputs and ``w`` units holds ``n*w + w``; a 3x3 conv of ``c`` to ``k``
    channels ``9*c*k + k``; a norm layer two per unit or channel (its scale and shift); each conv
    block halves the image while that leaves at least 2x2 (as ``engine.model.models.build_cnn``).
    """
    model = exp.model
    shape = _LARGEST_INPUT[DATASETS[exp.data.dataset].kind]
    classes = exp.data.classes or DATASETS[exp.data.dataset].default_classes
    norm = 0 if model.norm == "none" else 2
    total = 0
    if MODELS[model.kind].needs_image and len(shape) == 3:
        channels, height, width = shape
        for out in model.channels:
            total += 9 * channels * out + out + norm * out
            if min(height, width) // 2 >= 2:
                height, width = height // 2, width // 2
            channels = out
        features = channels * height * width
    else:
        features = 1
        for d in shape:
            features *= d
    for width in model.hidden:
        total += features * width + width + norm * width
        features = width
    return total + features * classes + classes


def resolve(exp: Experiment) -> Experiment:
    """The experiment with every "default of the chosen entry" made concrete, as it will run."""
    info = OPTIMIZERS[exp.optimizer.name]
    opt = resolve_optimizer(exp.optimizer)
    # One-cycle cycles momentum only where there is some: plain SGD (momentum 0) keeps none.
    has_momentum = "betas" in info.takes or ("momentum" in info.takes and (opt.momentum or 0) > 0)
    sched = resolve_schedule(exp.schedule, opt.lr, exp.total_steps(), has_momentum)
    data = exp.data
    if data.classes is None and DATASETS[data.dataset].variable_classes:
        data = dataclasses.replace(data, classes=DATASETS[data.dataset].default_classes)
    return dataclasses.replace(exp, data=data, optimizer=opt, schedule=sched)


def notes(exp: Experiment) -> list[str]:
    """Things worth telling the user that do not stop the run."""
    out = [f"optimizer.{k}: not used by {exp.optimizer.name}" for k in unused_keys(exp.optimizer)]
    batch = exp.train.batch_size
    if exp.model.norm == "batch" and exp.data.n_train % batch == 1 and exp.data.n_train > batch:
        out.append("data.n_train: the last batch of each epoch would hold one example, which BatchNorm "
                   "cannot normalize; it joins the batch before it")
    if exp.train.precision in ("bf16", "fp16"):
        out.append(f"train.precision: {exp.train.precision} is a precision demo on a CPU, not the GPU's "
                   f"speed-up: measured here it is slower than fp32 (main.py bench)")
    if exp.train.precision != "fp16" and exp.train.loss_scale != "dynamic":
        out.append(f"train.loss_scale: not used by {exp.train.precision} (only fp16's gradients underflow)")
    return out


def experiment_to_dict(exp: Experiment) -> dict:
    """JSON-ready dict (tuples become lists); ``parse_experiment`` of it gives ``exp`` back."""
    def convert(value):
        if isinstance(value, tuple):
            return [convert(v) for v in value]
        return value
    return {s: ({k: convert(v) for k, v in dataclasses.asdict(getattr(exp, s)).items()}
                if s in SECTIONS else getattr(exp, s))
            for s in (f.name for f in dataclasses.fields(Experiment))}


def load_experiment(path: str | Path) -> Experiment:
    """Read and check one experiment file; every failure is an :class:`ExperimentError`."""
    return parse_experiment(_read_json(Path(path)))


def _read_json(path: Path, what: str = "experiment file") -> Any:
    """The one JSON reader (:func:`engine.inputs.read_json`: regular files, size, depth, duplicate keys),
    its one-line :class:`~engine.inputs.InputError` wrapped as an :class:`ExperimentError`."""
    try:
        return read_json(path, what)
    except InputError as err:
        raise ExperimentError("", str(err)) from None


def load_run_list(path: str | Path) -> list[Experiment]:
    """An experiment file (one object) or a run list (a JSON list of them), as a list.

    A problem in the n-th run is reported as ``[n].key.path: message``.
    """
    raw = _read_json(Path(path), "run list")
    if isinstance(raw, dict):
        return [parse_experiment(raw)]
    if not isinstance(raw, list) or not raw:
        raise ExperimentError("", f"{Path(path).name}: expected an experiment object or a non-empty list of them")
    runs = []
    for i, item in enumerate(raw):
        try:
            runs.append(parse_experiment(item))
        except ExperimentError as err:
            raise ExperimentError(f"[{i}].{err.path}" if err.path else f"[{i}]",
                                  str(err).split(": ", 1)[-1] if err.path else str(err)) from None
    return runs


def save_experiment(exp: Experiment, path: str | Path) -> None:
    from engine.files import write_text_atomic
    write_text_atomic(Path(path), json.dumps(experiment_to_dict(exp), indent=2) + "\n")


def save_run_list(experiments: list[Experiment], path: str | Path) -> None:
    from engine.files import write_text_atomic
    write_text_atomic(Path(path), json.dumps([experiment_to_dict(e) for e in experiments], indent=2) + "\n")


# -- schema -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SchemaEntry:
    path: str
    type: str
    default: Any
    allowed: tuple[str, ...] | None
    help: str
    default_text: str | None = None
    ranges: str = ""


def schema() -> list[SchemaEntry]:
    """Every key of the experiment file, in file order, with its default and allowed values."""
    entries = []
    defaults = Experiment()
    for f in dataclasses.fields(Experiment):
        if f.name in SECTIONS:
            cls = SECTIONS[f.name]
            for sub in dataclasses.fields(cls):
                entries.append(_entry(f"{f.name}.{sub.name}", cls, sub, getattr(getattr(defaults, f.name), sub.name)))
        else:
            entries.append(_entry(f.name, Experiment, f, getattr(defaults, f.name)))
    return entries


def _entry(path, cls, f, default) -> SchemaEntry:
    meta = f.metadata
    ranges = "; ".join(c.text for c in meta["checks"])
    allowed = _allowed(meta)
    return SchemaEntry(path, _field_type(cls, f).describe(), list(default) if isinstance(default, tuple) else default,
                       tuple(allowed) if allowed else None, meta["help"], meta["default_text"], ranges)


def format_schema() -> str:
    lines = []
    for e in schema():
        default = e.default_text if e.default is None and e.default_text else json.dumps(e.default)
        line = f"{e.path:<26} {e.type:<22} default {default}"
        if e.allowed:
            line += f"; one of: {', '.join(e.allowed)}"
        if e.ranges:
            line += f"; {e.ranges}"
        lines.append(line)
        lines.append(f"{'':<26} {e.help}")
    return "\n".join(lines)
