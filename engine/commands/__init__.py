"""The headless commands: one module per command, registered in one table that ``main.py`` builds its
parser from.

A :class:`Command` says how to add its options to an argparse parser and how to run it.  Every command
keeps its heavy imports (torch, the engine's registries) inside ``run``, so that ``main.py --help`` and
``--version`` answer at once.  A bad input raises one of :func:`bad_input_errors`; ``main.py``'s one
wrapper prints it as a single ``error:`` line and exits 2 (:data:`BAD_INPUT`).  The exit codes::

    0    done (a run that diverged is a result, not a failure)
    1    an internal error (a traceback follows), or a run that crashed
    2    bad input: an experiment file, a preset name, an option value
    130  stopped by Ctrl-C (SIGINT), files written        143  stopped by SIGTERM
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable

OK, INTERNAL, BAD_INPUT = 0, 1, 2


class CommandError(ValueError):
    """A bad option value that no engine validator names (the message names the option)."""


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]    # adds the command's options
    run: Callable[[argparse.Namespace], int]                # -> exit code
    source: bool = False    # takes an experiment file or --preset NAME, exactly one of them


def bad_input_errors() -> tuple[type[BaseException], ...]:
    """The error types that mean "the user's input is wrong" (one line, exit 2), whichever engine part raised
    them.  Imported only when an error is being classified: the engine's validators import torch."""
    from engine.data.datasets import DataError
    from engine.experiment import ExperimentError
    from engine.inputs import InputError
    from engine.labs.surfaces import SurfaceError
    from engine.labs.trajectories import SpecError
    return (CommandError, ExperimentError, InputError, DataError, SurfaceError, SpecError)


def _registry() -> dict[str, Command]:
    from engine.commands import (
        bench,
        claims,
        compare,
        init_probe,
        large_batch,
        lr_find,
        optimizer_memory,
        presets,
        race,
        run,
        schema,
        search,
        search_serve,
        trajectories,
    )
    commands = (run.COMMAND, presets.COMMAND, schema.COMMAND, bench.COMMAND, trajectories.COMMAND,
                init_probe.COMMAND, lr_find.COMMAND, race.COMMAND, compare.COMMAND, claims.COMMAND,
                search.COMMAND, search.WORKER_COMMAND, search_serve.COMMAND, optimizer_memory.COMMAND,
                large_batch.COMMAND)
    return {command.name: command for command in commands}


COMMANDS: dict[str, Command] = _registry()
