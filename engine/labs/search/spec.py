"""The search file: what to search (keys of an experiment and their ranges), how, and for how long.

One JSON document, read by the one JSON reader (:func:`engine.inputs.read_json`) and checked like the
experiment file: anything wrong raises :class:`~engine.experiment.ExperimentError`, one line naming the key
(``space.optimizer.lr.log[0]: must be > 0, got -0.1``), which ``main.py`` prints as ``error:`` with exit 2::

    {"base": {...an experiment...}  or  "preset": "NAME",
     "space": {"optimizer.lr": {"log": [1e-4, 1.0]}, "model.dropout": {"uniform": [0.0, 0.6]},
               "train.batch_size": {"choice": [16, 32, 64]}},
     "methods": ["grid", "random", "tpe", "gp", "pbt"], "trials": 27, "objective": "val_loss", "seed": 0,
     "startup": 10, "heartbeat": 10, "pbt": {"population": 8, "interval": 100}}

Every key of the space is a key path of the experiment (``main.py schema`` lists them), and each end of a range
(each choice) is put into the base experiment and checked by the experiment's own validator, so a range may hold
only values the experiment file itself accepts.  The scalar settings are fields with ``engine.config`` bounds,
parsed by the experiment's parser, so their messages read the same.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from engine.config import Experiment, at_least, at_most, between, param
from engine.experiment import ExperimentError, _parse_section, experiment_to_dict, parse_experiment, schema
from engine.inputs import InputError, read_json
from engine.labs.search.objectives import OBJECTIVES
from engine.labs.search.space import KINDS, Param

MAX_TRIALS = 10_000
METHOD_NAMES = ("grid", "random", "tpe", "gp", "pbt")
FILE_KEYS = ("base", "preset", "space", "methods", "trials", "objective", "seed", "startup", "heartbeat", "pbt")
UNSEARCHABLE = ("name", "train.seeds")   # a run's label and its count of seeds: not hyperparameters
NOT_BUILT: dict[str, str] = {}
"""Methods the file may name that this version cannot run yet: refused with the reason, never skipped silently."""
PBT_FIXED = ("data.", "seed", "model.kind", "model.hidden", "model.channels", "model.norm", "optimizer.name",
             "train.steps", "train.epochs")
"""Keys population-based training cannot explore: a member copies its parent's weights and optimizer state,
which fit only the same network and the same optimizer, and every member trains the same total steps."""


@dataclass(frozen=True)
class SearchSettings:
    trials: int = param(20, "Trials per method (the budget; grid search uses the grid it buys).",
                        checks=(at_least(1), at_most(MAX_TRIALS)))
    objective: str = param("val_loss", "What a trial is judged by.", choices=tuple(OBJECTIVES))
    seed: int = param(0, "Seed of every sampler: same seed, same trials.", checks=(at_least(0), at_most(2**32 - 1)))
    startup: int = param(10, "Random start-up trials of TPE and GP before their model guides them (random search "
                         "draws the same first points, so the race is paired).", checks=(at_least(1),))
    heartbeat: float = param(10.0, "Seconds between a worker's signs of life; a running trial silent for 3 of them "
                             "is failed and queued again.", checks=(between(0.1, 3600),))


@dataclass(frozen=True)
class PBTConfig:
    population: int = param(8, "Members trained side by side.", checks=(at_least(2), at_most(256)))
    interval: int = param(100, "Steps between exploit/explore rounds.", checks=(at_least(1),))
    quantile: float = param(0.25, "Share of the population that is bottom (copies) and top (copied).",
                            checks=(between(0, 0.5, high_open=False), at_least(0.01)))
    resample: float = param(0.25, "Probability that an explored key is drawn afresh from its range instead of "
                            "being perturbed.", checks=(between(0, 1),))


@dataclass(frozen=True)
class Search:
    """A checked search file.  ``to_dict`` is the resolved file: the base experiment itself, never the preset's
    name (``preset`` says where it came from), so it reads back as the same search without any preset."""
    base: Experiment
    space: tuple[Param, ...]
    methods: tuple[str, ...]
    settings: SearchSettings
    pbt: PBTConfig
    preset: str | None = None

    @property
    def trials(self) -> int:
        return self.settings.trials

    def to_dict(self) -> dict[str, Any]:
        return {"base": experiment_to_dict(self.base), "space": {p.path: p.to_dict() for p in self.space},
                "methods": list(self.methods), **dataclasses.asdict(self.settings),
                "pbt": dataclasses.asdict(self.pbt)}


PresetLookup = Callable[[str], Experiment]


def load_search(path: str | Path, presets: PresetLookup | None = None) -> Search:
    """Read and check a search file; ``presets`` turns ``"preset": NAME`` into its experiment (the caller
    owns the lesson presets: this lab sits below them)."""
    try:
        raw = read_json(path, "search file")
    except InputError as err:
        raise ExperimentError("", str(err)) from None
    return parse_search(raw, presets)


def parse_search(raw: Any, presets: PresetLookup | None = None) -> Search:
    if not isinstance(raw, dict):
        raise ExperimentError("", "a search file must be a JSON object")
    for key in raw:
        if key not in FILE_KEYS:
            raise ExperimentError(key, f"unknown key (known: {', '.join(FILE_KEYS)})")
    base = _base(raw, presets)
    if base.train.seeds > 1:
        raise ExperimentError("base.train.seeds", f"a trial trains one seed, the base's seed (bands of seeds "
                                                  f"are the training tab's); set it to 1, got {base.train.seeds}")
    space = _space(raw.get("space"), base)
    methods = _methods(raw.get("methods", ["grid", "random", "tpe", "gp"]))
    scalars = {k: raw[k] for k in ("trials", "objective", "seed", "startup", "heartbeat") if k in raw}
    settings = _parse_section("", SearchSettings, scalars)
    pbt = _parse_section("pbt", PBTConfig, raw.get("pbt", {}))
    preset = raw.get("preset") if "base" not in raw else None
    if "pbt" in methods:
        _check_pbt_space(space)
    return Search(base, space, methods, settings, pbt, preset)


def _base(raw: Mapping[str, Any], presets: PresetLookup | None) -> Experiment:
    if "base" in raw and "preset" in raw and raw.get("preset") is not None:
        raise ExperimentError("preset", "give base or preset, not both")
    if "base" in raw:
        try:
            return parse_experiment(raw["base"])
        except ExperimentError as err:
            raise ExperimentError(f"base.{err.path}" if err.path else "base",
                                  str(err).split(": ", 1)[-1] if err.path else str(err)) from None
    name = raw.get("preset")
    if name is None:
        raise ExperimentError("base", "give the experiment to search (base: {...}) or a preset name (preset)")
    if not isinstance(name, str):
        raise ExperimentError("preset", f"must be a string, got {name!r}")
    if presets is None:
        raise ExperimentError("preset", "no presets are known here; give base")
    return presets(name)


_TYPES = {e.path: e.type for e in schema()}


def _space(raw: Any, base: Experiment) -> tuple[Param, ...]:
    if not isinstance(raw, dict) or not raw:
        raise ExperimentError("space", "must be a non-empty JSON object of key path -> range")
    return tuple(_param(path, spec, base) for path, spec in raw.items())


def _param(path: str, spec: Any, base: Experiment) -> Param:
    where = f"space.{path}"
    if path not in _TYPES or path in UNSEARCHABLE:
        raise ExperimentError(where, "not a key of the experiment that can be searched (see: main.py schema)")
    if not isinstance(spec, dict) or len(spec) != 1:
        raise ExperimentError(where, f"must be one of {{{', '.join(f'{k!r}: [...]' for k in KINDS)}}}")
    (kind, values), = spec.items()
    if kind not in KINDS:
        raise ExperimentError(f"{where}.{kind}", f"unknown kind of range (choose from {', '.join(KINDS)})")
    where = f"{where}.{kind}"
    field_type = _TYPES[path].removesuffix(" or null")
    if not any(field_type.startswith(t) for t in KINDS[kind].field_types):
        raise ExperimentError(where, f"{path} is a {_TYPES[path]}; a {kind} range fits "
                              f"{' or '.join(KINDS[kind].field_types)} keys")
    if not isinstance(values, list) or not values:
        raise ExperimentError(where, "must be a non-empty list")
    for i, value in enumerate(values):
        _check_value(f"{where}[{i}]", path, value, base)
    if kind == "choice":
        return Param(path, kind, choices=tuple(values))
    if len(values) != 2:
        raise ExperimentError(where, f"must be [low, high], got {len(values)} values")
    low, high = values
    if kind == "int" and not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ExperimentError(where, f"must be whole numbers, got {values}")
    if not low < high:
        raise ExperimentError(where, f"low must be below high, got [{low}, {high}]")
    if kind == "log" and not low > 0:
        raise ExperimentError(f"{where}[0]", f"a log range must start above 0, got {low}")
    return Param(path, kind, float(low), float(high))


def set_path(exp: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of the experiment dict ``exp`` with the key ``path`` (``section.key`` or ``key``) set."""
    section, _, key = path.rpartition(".")
    if not section:
        return {**exp, key: value}
    return {**exp, section: {**exp.get(section, {}), key: value}}


def _check_value(where: str, path: str, value: Any, base: Experiment) -> None:
    """``value`` must be one the experiment file accepts at ``path``: the experiment's own validator says."""
    try:
        parse_experiment(set_path(experiment_to_dict(base), path, value))
    except ExperimentError as err:
        if err.path == path or err.path.startswith(f"{path}["):
            raise ExperimentError(where, str(err).split(": ", 1)[-1]) from None
        # another key objects to this value (a combination): the trial says so when it runs


def _check_pbt_space(space: tuple[Param, ...]) -> None:
    for p in space:
        if any(p.path == fixed or (fixed.endswith(".") and p.path.startswith(fixed)) for fixed in PBT_FIXED):
            raise ExperimentError(f"space.{p.path}", "population-based training cannot explore this key (a copied "
                                  "state fits only the same network, optimizer and length); race it without pbt")


def _methods(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise ExperimentError("methods", f"must be a non-empty list of {', '.join(METHOD_NAMES)}")
    for i, name in enumerate(raw):
        if name not in METHOD_NAMES:
            raise ExperimentError(f"methods[{i}]", f"unknown method {name!r} (choose from {', '.join(METHOD_NAMES)})")
    for i, name in enumerate(raw):
        if name in NOT_BUILT:
            raise ExperimentError(f"methods[{i}]", NOT_BUILT[name])
    if len(set(raw)) != len(raw):
        raise ExperimentError("methods", "each method may appear once")
    return tuple(raw)
