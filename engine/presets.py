"""Built-in experiments, each one a claim of the lesson that a class can watch come true.

A preset is one or more runs on the same data and seed, so that the only
difference between them is the thing being taught.  ``main.py run --preset``
trains them headless; the training window opens them side by side.
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import DataConfig, Experiment, ModelConfig, OptimizerConfig, TrainConfig


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    lesson: str                         # two or three sentences shown next to the runs
    runs: tuple[Experiment, ...]


def _spiral(name: str, optimizer: OptimizerConfig, steps: int = 2000, **train) -> Experiment:
    return Experiment(name=name, seed=0, data=DataConfig(dataset="spiral"),
                      model=ModelConfig(hidden=(32, 32)), optimizer=optimizer,
                      train=TrainConfig(steps=steps, **train))


def _digits(name: str, **model) -> Experiment:
    return Experiment(name=name, seed=0, data=DataConfig(dataset="digits", n_train=1000, n_val=797),
                      model=ModelConfig(hidden=(128, 128), **model),
                      optimizer=OptimizerConfig(name="adam", lr=0.001), train=TrainConfig(steps=1500))


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("adam-on-spiral", "Adam on the spiral",
           "The default experiment: a small ReLU network learns to separate two interleaved "
           "spiral arms with Adam. Watch the decision boundary wind itself around the arms.",
           (Experiment(name="adam-on-spiral"),)),
    Preset("optimizers", "SGD vs momentum vs Adam vs AdamW",
           "Four optimizers, same data, same seed, same initial weights. Plain SGD crawls; "
           "momentum builds speed along the consistent direction; Adam and AdamW adapt each "
           "parameter's rate and get there first.",
           (_spiral("sgd", OptimizerConfig(name="sgd", lr=0.05)),
            _spiral("sgd+momentum", OptimizerConfig(name="sgd", lr=0.05, momentum=0.9)),
            _spiral("adam", OptimizerConfig(name="adam", lr=0.01)),
            _spiral("adamw", OptimizerConfig(name="adamw", lr=0.01, weight_decay=0.01)))),
    Preset("too-high-lr", "Too high a learning rate diverges",
           "Plain SGD at lr 50 overshoots every valley: the loss explodes within a few steps and "
           "the run stops as diverged, telling at which step and rate. Too low a rate barely moves.",
           (_spiral("lr 50 (too high)", OptimizerConfig(name="sgd", lr=50.0), steps=500),
            _spiral("lr 0.0001 (too low)", OptimizerConfig(name="sgd", lr=1e-4), steps=500),
            _spiral("lr 0.1", OptimizerConfig(name="sgd", lr=0.1, momentum=0.9), steps=500))),
    Preset("digits-mlp", "A 64-128-128-10 network on handwritten digits",
           "The real 8x8 digits that scikit-learn ships. A wide network fits the training set "
           "almost perfectly; the gap to validation accuracy is what regularization fights.",
           (_digits("digits"),)),
    Preset("zeros-init", "Zero initialization cannot break symmetry",
           "With every weight zero, every hidden unit computes the same thing and receives the "
           "same gradient, so they stay identical forever and the network cannot learn more "
           "than a linear boundary. He initialization breaks the tie.",
           (Experiment(name="zeros", model=ModelConfig(init="zeros"), train=TrainConfig(steps=1000)),
            Experiment(name="he_normal", model=ModelConfig(init="he_normal"), train=TrainConfig(steps=1000)))),
)}
