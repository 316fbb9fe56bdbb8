"""What the window and the training loop say to each other, as frozen dataclasses (no Qt here).

They cross a ``multiprocessing`` pipe (:func:`engine.training.loop.serve` runs in a child process), so
each one is picklable: plain fields, no callables.  The loop matches on the command types
(:meth:`engine.training.loop.LabLoop.apply`) and the window's worker on the message types, so a
misspelt command is a ``ValueError`` at the one place that turns names into commands
(:func:`command`, read from :data:`COMMANDS`), never an attribute looked up by name.

The window to the loop (commands):

* the run list: :class:`AddRun`, :class:`RemoveRun`, :class:`SetExperiment`, :class:`Reset`;
* driving: :class:`Start`, :class:`Pause`, :class:`Stop`, :class:`Speed`, :class:`StepOnce`;
* :class:`Inspect` (run a named measurement of a trained run), :class:`Ack` (the window has drawn the
  last batch: back-pressure) and :class:`Quit`.

The loop to the window (messages): :class:`Ready`, :class:`Updates`, :class:`DataReady`,
:class:`Inspection`, :class:`Failed`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.config import Experiment
    from engine.data.datasets import DataSplit
    from engine.training.updates import RunUpdate


# -- commands: the window to the loop -----------------------------------------------------------------

@dataclass(frozen=True)
class AddRun:
    """Add a run, queued (``Lab.add``); its trainer is built when it first steps."""
    run_id: str
    experiment: Experiment


@dataclass(frozen=True)
class RemoveRun:
    run_id: str


@dataclass(frozen=True)
class SetExperiment:
    """New settings for a run, which rewinds it (``Lab.set_experiment``)."""
    run_id: str
    experiment: Experiment


@dataclass(frozen=True)
class Reset:
    """Rewind one run, or every run when ``run_id`` is None (``Lab.reset``)."""
    run_id: str | None = None


@dataclass(frozen=True)
class Start:
    """Every run that has not ended trains (again)."""


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Stop:
    """End every run that has started (queued runs stay queued)."""


@dataclass(frozen=True)
class Speed:
    """Rounds (one step of each running run) per second; None: as fast as possible."""
    rounds_per_second: float | None


@dataclass(frozen=True)
class StepOnce:
    """One step of every run that has not ended (slow motion); they stay paused."""


@dataclass(frozen=True)
class Inspect:
    """Run the inspection ``name`` (one of those the loop was handed) on run ``run_id``."""
    name: str
    run_id: str


@dataclass(frozen=True)
class Ack:
    """The window has taken the last batch of updates: the loop may send the next."""


@dataclass(frozen=True)
class Quit:
    """End the loop (and the training process)."""


Command = AddRun | RemoveRun | SetExperiment | Reset | Start | Pause | Stop | Speed | StepOnce | Inspect | Ack | Quit

COMMANDS: dict[str, type] = {
    "add": AddRun,
    "remove": RemoveRun,
    "set_experiment": SetExperiment,
    "reset": Reset,
    "start": Start,
    "pause": Pause,
    "stop": Stop,
    "speed": Speed,
    "step_once": StepOnce,
    "inspect": Inspect,
    "ack": Ack,
    "quit": Quit,
}
"""The window's names for the commands (``post("add", run_id, experiment)``), one entry each."""


def command(name: str, *args: Any) -> Command:
    """The command called ``name`` (a key of :data:`COMMANDS`) with ``args`` as its fields, in order.

    An unknown name is a ``ValueError`` naming the choices; wrong arguments are the dataclass's
    ``TypeError``."""
    try:
        kind = COMMANDS[name]
    except KeyError:
        raise ValueError(f"unknown command {name!r} (choose from {', '.join(COMMANDS)})") from None
    made: Command = kind(*args)
    return made


# -- messages: the loop to the window ------------------------------------------------------------------

@dataclass(frozen=True)
class Ready:
    """The loop is running (torch loaded and warmed): training can start at once."""


@dataclass(frozen=True)
class Updates:
    """What is new in each run since the last batch (runs with nothing new are left out)."""
    updates: tuple[RunUpdate, ...]


@dataclass(frozen=True)
class DataReady:
    """A run's dataset, sent once per run and generation when its trainer is built (the boundary view
    draws its points)."""
    run_id: str
    generation: int
    data: DataSplit


@dataclass(frozen=True)
class Inspection:
    """The result of an :class:`Inspect` (what ``engine.labs.INSPECTIONS[name]`` returns)."""
    name: str
    run_id: str
    result: Any


@dataclass(frozen=True)
class Failed:
    """The loop itself broke (one run's failure is that run's status): one line saying why."""
    text: str


Message = Ready | Updates | DataReady | Inspection | Failed
