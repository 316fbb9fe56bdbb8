"""What the form knows about each key, read from the engine: nothing here is a widget.

``META`` is the field table of :mod:`engine.config` by key path ("optimizer.lr"),
with each field's help, checks, default text and registry.  From it come the
numbers the arrows stop at (:func:`bounds_of`, the same ``Bound`` the validator
checks), the tooltips (the lesson's sentence, the allowed range, what "left
empty" means), and which rows a choice decides: a dataset, model, optimizer or
schedule names in ``takes`` the keys of its section it uses
(:data:`CHOOSERS`).  The format helpers turn values into text that reads back
as exactly the same value, so a form filled from an experiment gives it back.
"""
from __future__ import annotations

import dataclasses
import html
import math
from typing import Any

from engine.config import SECTIONS, Bound, Experiment, bounds
from engine.experiment import REGISTRIES, ExperimentError, parse_experiment
from engine.lessons.text import LESSON_TEXT
from engine.optim.optimizers import HYPERPARAMETERS

# Arrow and wheel step of each number field (how far one click moves); ranges come from config checks.
STEPS: dict[str, float] = {
    "seed": 1, "data.seed": 1, "data.n_train": 100, "data.n_val": 100, "data.noise": 0.05, "data.label_noise": 0.05,
    "data.classes": 1, "model.init_std": 0.01, "model.dropout": 0.05, "optimizer.momentum": 0.05,
    "optimizer.betas": 0.001, "optimizer.alpha": 0.01, "optimizer.weight_decay": 0.001,
    "optimizer.trust_coefficient": 0.0005,
    "schedule.warmup_steps": 50, "schedule.step_size": 100, "schedule.gamma": 0.05,
    "schedule.pct_start": 0.05, "train.steps": 500, "train.epochs": 1, "train.batch_size": 8,
    "train.grad_clip": 0.5, "train.eval_every": 10, "train.histogram_every": 10, "train.seeds": 1,
    "train.divergence_factor": 100, "augment.shift": 1, "augment.rotate": 5, "augment.jitter": 0.05,
    "augment.mixup": 0.1,
}


# -- the field table ------------------------------------------------------------------------------

def _field_metadata() -> dict[str, Any]:
    """key path -> the ``metadata`` of that field in engine.config."""
    out = {}
    for f in dataclasses.fields(Experiment):
        if f.name in SECTIONS:
            for sub in dataclasses.fields(SECTIONS[f.name]):
                out[f"{f.name}.{sub.name}"] = sub.metadata
        else:
            out[f.name] = f.metadata
    return out


META = _field_metadata()


UNBOUNDED = Bound()


def bounds_of(key: str) -> Bound:
    """The range all of ``key``'s config checks allow, as numbers (no edge: ``None``)."""
    return bounds(META[key]["checks"])


def whole_bounds(b: Bound) -> Bound:
    """``b`` for whole numbers: open edges step inside ("> 0" becomes ">= 1", "< 8" becomes "<= 7")."""
    low = None if b.low is None else (math.floor(b.low) + 1 if b.low_open else math.ceil(b.low))
    high = None if b.high is None else (math.ceil(b.high) - 1 if b.high_open else math.floor(b.high))
    return Bound(low, high, finite=b.finite)


def tooltip_for(key: str, unset: str = "Left empty") -> str:
    """The lesson's sentence on ``key`` (or the config help), plus its allowed range and default."""
    meta = META[key]
    parts = [html.escape(LESSON_TEXT.get(key, meta["help"]))]
    ranges = "; ".join(c.text for c in meta["checks"])
    if ranges:
        parts.append(f"Allowed: {html.escape(ranges)}.")
    if meta["default_text"]:
        parts.append(f"{unset}: {html.escape(meta['default_text'])}.")
    return "<p>" + "</p><p>".join(parts) + "</p>"


# -- formatting -----------------------------------------------------------------------------------

def format_number(v: float | int | None, integer: bool = False) -> str:
    """The shortest readable text that reads back as exactly ``v`` (so values round-trip)."""
    if v is None:
        return ""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)       # not a number: shown as is, so the validator can name it
    if isinstance(v, int):
        return str(v)
    if integer and v.is_integer():
        return str(int(v))
    short = f"{v:.6g}"
    return short if float(short) == v else repr(float(v))


def format_rate(v: float | None) -> str:
    """Scientific notation with at least two decimals, more only where needed to stay exact."""
    if v is None:
        return ""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if not math.isfinite(v):
        return repr(v)
    for digits in range(2, 17):
        text = f"{v:.{digits}e}"
        if float(text) == v:
            return text
    return f"{v:.16e}"


def format_hint(v: Any) -> str:
    """A default as grey placeholder text: short, not needed to round-trip."""
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


# -- what a choice decides ------------------------------------------------------------------------

def decided_keys(choice: str) -> tuple[str, ...]:
    """The key paths of ``choice``'s section that one entry of its registry takes and another does not.

    ``choice`` names a registry entry ("model.kind"); each entry's ``takes`` lists the keys of the
    section it uses, and the form shows these rows only while an entry that takes them is chosen.
    A key every entry takes (the learning rate) is always shown; one that none lists is not the
    choice's to decide (``warmup_steps``, which goes in front of every schedule).
    """
    section = choice.rpartition(".")[0]
    takes = [set(entry.takes) for entry in REGISTRIES[META[choice]["registry"]].values()]
    varying = set.union(*takes) - set.intersection(*takes)
    return tuple(f"{section}.{f.name}" for f in dataclasses.fields(SECTIONS[section]) if f.name in varying)


def _takes_keys(meta: dict[str, Any]) -> bool:
    registry = meta["registry"]
    return bool(registry) and all(hasattr(entry, "takes") for entry in REGISTRIES[registry].values())


CHOOSERS: dict[str, tuple[str, ...]] = {key: decided_keys(key) for key, meta in META.items() if _takes_keys(meta)}
"""choice key -> the rows it shows or hides: data.dataset, model.kind, optimizer.name, schedule.name."""

# The optional keys an optimizer or a schedule fills with its own default (lr, name and warm-up are always set).
OPTIMIZER_KEYS = tuple(k for k in HYPERPARAMETERS if k != "lr")
SCHEDULE_KEYS = tuple(f.name for f in dataclasses.fields(SECTIONS["schedule"]) if f.name not in ("name", "warmup_steps"))


def descriptions(registry: str) -> dict[str, str]:
    """name -> the sentence a combo item shows as its tooltip."""
    return {name: info.description for name, info in REGISTRIES[registry].items()}


def passes_own_checks(key: str, value: Any) -> bool:
    """Whether ``value`` passes the checks of ``key`` alone (the other keys at their defaults)."""
    section, _, name = key.rpartition(".")
    raw = {section: {name: value}} if section else {name: value}
    try:
        parse_experiment(raw)
    except ExperimentError as err:
        return not err.path.startswith(key)
    except Exception:       # noqa: BLE001 - a value the validator chokes on is no good value
        return False
    return True


def flatten(exp: Experiment) -> dict[str, Any]:
    """key path -> value of every key of ``exp``."""
    out = {}
    for f in dataclasses.fields(Experiment):
        value = getattr(exp, f.name)
        if f.name in SECTIONS:
            for sub in dataclasses.fields(value):
                out[f"{f.name}.{sub.name}"] = getattr(value, sub.name)
        else:
            out[f.name] = value
    return out
