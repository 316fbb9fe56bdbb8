"""What several commands share: the experiment-or-preset source, the thread count, output names."""
from __future__ import annotations

import argparse
import re


def add_source(parser: argparse.ArgumentParser, what: str = "experiment JSON file",
               preset_help: str = "a built-in experiment instead of a file (see: presets)") -> None:
    parser.add_argument("experiment", nargs="?", help=what)
    parser.add_argument("--preset", help=preset_help)


def add_out(parser: argparse.ArgumentParser, default: str, what: str) -> None:
    parser.add_argument("--out", default=default, help=f"{what} (default {default})")


def add_threads(parser: argparse.ArgumentParser, why: str = "") -> None:
    parser.add_argument("--threads", type=int, default=1, help=f"torch threads (default 1{why})")


def set_threads(count: int) -> None:
    import torch
    torch.set_num_threads(count)


def slug(name: str) -> str:
    """A run's name as a folder name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "run"


def num(value) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def preset_runs(name: str):
    """The runs of a built-in preset, or the one-line error naming ``--preset``."""
    from engine.experiment import ExperimentError
    from engine.lessons.presets import PRESETS
    if name not in PRESETS:
        raise ExperimentError("--preset", f"unknown preset {name!r} (see: main.py presets)")
    return PRESETS[name].runs
