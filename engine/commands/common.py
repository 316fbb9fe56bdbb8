"""What several commands share: the experiment-or-preset source, the thread count, output names."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from engine.commands import CommandError


def add_source(parser: argparse.ArgumentParser, what: str = "experiment JSON file",
               preset_help: str = "a built-in experiment instead of a file (see: presets)") -> None:
    parser.add_argument("experiment", nargs="?", help=what)
    parser.add_argument("--preset", help=preset_help)


def add_out(parser: argparse.ArgumentParser, default: str, what: str) -> None:
    parser.add_argument("--out", default=default, help=f"{what} (default {default})")


def whole_at_least(low: int):
    """An argparse ``type``: a whole number >= ``low`` (its error names the option: see main.Parser)."""
    def parse(text: str) -> int:
        text = text.strip()
        if not (text.isascii() and text.lstrip("-").isdigit()) or int(text) < low:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {low}, got {text!r}")
        return int(text)
    parse.__name__ = f"whole number >= {low}"
    return parse


def add_threads(parser: argparse.ArgumentParser, why: str = "") -> None:
    parser.add_argument("--threads", type=whole_at_least(1), default=1, help=f"torch threads (default 1{why})")


def set_threads(count: int) -> None:
    import torch
    torch.set_num_threads(count)


def stop_state(stop):
    """A job's :class:`~engine.training.jobs.TaskState` whose stop is requested by Ctrl-C or SIGTERM too:
    ``stop`` is an entered :class:`~engine.training.runner.StopSignals`.  The long lab commands hand it to
    their engine job, which stops where it is and returns what it has, so its files are still written."""
    from engine.training.jobs import TaskState

    class SignalState(TaskState):
        def stop_requested(self) -> bool:
            return stop() or super().stop_requested()

    return SignalState()


def slug(name: str) -> str:
    """A run's name as one folder name inside ``--out``: never empty, ``.`` or ``..``, never a path."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return text or "run"


def _probe(folder: Path) -> None:
    """Refuse a folder no file can be created in (``engine.files.cannot_write_in``), as ``--out``'s line."""
    from engine.files import cannot_write_in  # here: building the parser imports no numpy
    problem = cannot_write_in(folder)
    if problem:
        raise CommandError(f"--out: {problem}")


def check_out_folder(path: str | Path) -> Path:
    """Refuse, before any work, an ``--out`` folder that cannot hold the results (exit 2, one line):
    an existing file, or a folder (or the nearest existing parent of a new one) that cannot be written.
    Nothing is created here: a run refused later (a data file that does not load) leaves no folder behind."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out: {out} is a file, not a folder")
    parent = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    if not parent.is_dir():
        raise CommandError(f"--out: {parent} is a file, not a folder")
    _probe(parent)
    return out


#: ``--out``'s words for each kind of ``engine.files.TargetProblem`` (the window's are ``TARGET_WORDS``).
OUT_FILE_WORDS = {
    "nul": "the name holds a NUL character",
    "too_long": "the name is too long (at most 255 bytes)",
    "is_folder": "{place} is a folder; give a file name, e.g. {example}",
    "not_folder": "{place} is a file, not a folder",
    "read_only": "{place} cannot be overwritten (read-only)",
    "unwritable": "cannot write in {place}: {reason}",
}


def check_out_file(path: str | Path) -> Path:
    """The same for an ``--out`` that names one file: the one check of a file target
    (``engine.files.target_problem``), with missing folders allowed (the command creates them) and
    ``--out``'s words."""
    from engine.files import target_problem
    out = Path(path)
    problem = target_problem(out, new_folders=True)
    if problem is not None:
        words = OUT_FILE_WORDS[problem.kind]
        raise CommandError("--out: " + words.format(place=problem.place, reason=problem.reason,
                                                    example=problem.place / "trajectories.csv"))
    return out


def num(value) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def preset_runs(name: str):
    """The runs of a built-in preset, or the one-line error naming ``--preset``."""
    from engine.experiment import ExperimentError
    from engine.lessons.presets import PRESETS
    if name not in PRESETS:
        raise ExperimentError("--preset", f"unknown preset {name!r} (see: main.py presets)")
    return PRESETS[name].runs
