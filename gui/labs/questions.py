"""Each of the lesson's questions opened where the app shows it: a lab set up for it, or a lesson's runs.

The questions themselves (their words and set-ups) are data in :mod:`engine.lessons.questions`; this
module adds, per question, what opening it does to the window.  The Lessons menu lists them; the window
shows the question above whatever it opened.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from engine.labs.trajectories import parse_spec
from engine.lessons import questions as lesson
from engine.lessons.questions import RAVINE


@dataclass(frozen=True)
class OpenQuestion:
    key: str
    title: str
    text: str
    look: str
    open: Callable[["object"], None]   # (main window) -> sets the lab up


def open_trajectories(window, setup: dict, **params) -> None:
    """The Trajectories lab on a set-up of :mod:`engine.lessons.questions` (its surface, its paths as
    ``name:key=value`` specs, noise included, and its steps), replacing the lab's paths."""
    lab = window.show_lab("trajectories")
    lab.set_surface(setup["surface"], **params)
    while lab.optimizer_count():
        lab.remove_optimizer(lab.optimizer_count() - 1)
    for text in setup["optimizers"]:
        spec = parse_spec(text)
        settings = {key: str(value) for key, value in spec.settings}
        if spec.noise:
            settings["noise"] = f"{spec.noise:g}"
        lab.add_optimizer(spec.name, **settings)
    lab.set_steps(setup["steps"])


def _ravine(window) -> None:
    open_trajectories(window, RAVINE, condition=RAVINE["condition"])


def _batchnorm(window) -> None:
    window.load_preset("batchnorm-eval")


def _dropout(window) -> None:
    window.show_lab("regularization")


def _challenge(window) -> None:
    window.show_lab("finder").load_preset()


OPENERS: dict[str, Callable[["object"], None]] = {
    "adam-per-parameter": _ravine,
    "batchnorm-test-time": _batchnorm,
    "dropout-generalizes": _dropout,
    "finder-challenge": _challenge,
}

QUESTIONS: tuple[OpenQuestion, ...] = tuple(
    OpenQuestion(q.key, q.title, q.text, q.look, OPENERS[q.key]) for q in lesson.QUESTIONS)
