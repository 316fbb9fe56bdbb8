"""Built-in experiments, each one a claim of the lesson that a class can watch come true.

A preset is one or more runs on the same data and seed, so that the only
difference between them is the thing being taught (same seed and same network:
same initial weights).  ``main.py run --preset`` trains them headless; the
training window opens them side by side with the preset's ``lesson`` text.

Every claim a ``lesson`` makes is data in :mod:`engine.lessons.claims` (the preset's runs and
conditions on their numbers, with a margin), checked at two seeds by the quick suite and at ten by
``make claims``; the settings were chosen so the claim holds at 9 or more of seeds 0-9, not only at
the seed shipped here.

The measurement the ``batchnorm-eval`` preset is about (test-time BatchNorm with
running versus batch statistics) is in :mod:`engine.labs.batchnorm`: the trainer
always evaluates in eval mode, so the other half of the comparison is computed
there, on the trained model, by the training process on the window's request.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.config import (
    AugmentConfig,
    DataConfig,
    Experiment,
    ModelConfig,
    OptimizerConfig,
    ScheduleConfig,
    TrainConfig,
)


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    lesson: str                         # two to four plain sentences shown next to the runs
    runs: tuple[Experiment, ...]


def _spiral(name: str, optimizer: OptimizerConfig, steps: int = 2000, schedule: ScheduleConfig | None = None,
            **train) -> Experiment:
    return Experiment(name=name, seed=0, data=DataConfig(dataset="spiral"),
                      model=ModelConfig(hidden=(32, 32)), optimizer=optimizer,
                      schedule=schedule or ScheduleConfig(), train=TrainConfig(steps=steps, **train))


def _digits(name: str, **model) -> Experiment:
    return Experiment(name=name, seed=0, data=DataConfig(dataset="digits", n_train=1000, n_val=797),
                      model=ModelConfig(hidden=(128, 128), **model),
                      optimizer=OptimizerConfig(name="adam", lr=0.001), train=TrainConfig(steps=1500))


# -- warm-up: a deep ReLU net under plain SGD at a rate its random start cannot take -------------

WARMUP_LR = 1.4
WARMUP_STEPS = 500


def _warmup(name: str, warmup_steps: int) -> Experiment:
    # Seed 1: without warm-up the loss explodes at step 7.  Seeds 1-9 all diverge so; seed 0 instead
    # kills every unit (the loss sits at ln 2), the lesson's other failure, less plain to see.
    return Experiment(name=name, seed=1, data=DataConfig(dataset="circles"),
                      model=ModelConfig(hidden=(64,) * 6),
                      optimizer=OptimizerConfig(name="sgd", lr=WARMUP_LR, momentum=0.0),
                      schedule=ScheduleConfig(name="cosine", warmup_steps=warmup_steps),
                      train=TrainConfig(steps=1500))


# -- regularization: few, noisily labelled digits and a network big enough to memorize them -----

NOISY_DIGITS = DataConfig(dataset="digits", n_train=250, n_val=800, label_noise=0.2)


def _noisy_digits(name: str, optimizer: OptimizerConfig, dropout: float = 0.0) -> Experiment:
    return Experiment(name=name, seed=0, data=NOISY_DIGITS,
                      model=ModelConfig(hidden=(128, 128), dropout=dropout),
                      optimizer=optimizer, train=TrainConfig(steps=1500))


# -- memorization: so many wrong labels that learning them by heart undoes what was learnt -------

MEMO_DIGITS = DataConfig(dataset="digits", n_train=300, n_val=797, label_noise=0.4)
MEMO_STEPS = 1500


def _memorize(name: str) -> Experiment:
    # Seeds 0-4: best val acc 0.85-0.87 at step 140-280, final 0.64-0.70, train acc >= 0.993.
    # The small rate (3e-4) stretches the rise over a few hundred steps, so the class sees it.
    return Experiment(name=name, seed=0, data=MEMO_DIGITS, model=ModelConfig(hidden=(256, 256)),
                      optimizer=OptimizerConfig(name="adam", lr=0.0003),
                      train=TrainConfig(steps=MEMO_STEPS, eval_every=20))


# -- the regularization lab: six variants of one small, noisy, memorizable setup, fast to train ----

LAB_DIGITS = DataConfig(dataset="digits", n_train=150, n_val=500, label_noise=0.2)
LAB_DROPOUT, LAB_DECAY, LAB_AUGMENT = 0.5, 2.0, AugmentConfig(shift=1)
LAB_NOTES: dict[str, str] = {
    "none": "No regularization: the 128-128 network memorizes every label, the wrong ones too.",
    "dropout 0.5": "Each hidden unit is silenced half the time, so no unit can hold a memory alone.",
    "weight decay 2": "AdamW shrinks every weight toward zero each step: memorizing needs large weights.",
    "augmentation": "Each digit is shifted up to a pixel each time it is seen: never quite the same example.",
    "batch norm": "Normalizes each unit over the batch: an optimization aid; its batch noise barely regularizes.",
    "all together": "All four at once: the gap closes entirely, but now the network underfits.",
}
"""What each variant of the ``regularization-lab`` preset does, one line each, in its order."""


def _lab(name: str, dropout: float = 0.0, norm: str = "none", weight_decay: float = 0.0,
         augment: AugmentConfig = AugmentConfig()) -> Experiment:
    return Experiment(name=name, seed=0, data=LAB_DIGITS,
                      model=ModelConfig(hidden=(128, 128), dropout=dropout, norm=norm),
                      optimizer=OptimizerConfig(name="adamw", lr=0.005, weight_decay=weight_decay),
                      augment=augment, train=TrainConfig(steps=400, eval_every=25))


# -- initialization in depth: twelve ReLU layers, nothing to renormalize the signal -------------

def _deep(name: str, init: str, init_std: float = 0.01) -> Experiment:
    return Experiment(name=name, seed=0, data=DataConfig(dataset="spiral"),
                      model=ModelConfig(hidden=(64,) * 12, init=init, init_std=init_std),
                      optimizer=OptimizerConfig(name="sgd", lr=0.01, momentum=0.9),
                      train=TrainConfig(steps=1000, eval_every=25))


# -- mixed precision: a deep narrow tanh net started small, whose first gradients lie below fp16's floor --
# Eight tanh layers of 32, weights of std 0.02: the backward signal shrinks ~0.1x a layer, so the first
# gradients of the first four layers are ~1e-9 to 3e-8, under fp16's smallest subnormal 2^-24 = 6e-8. Adam
# trains it in float32 (its step ignores a gradient's size). At lr 0.002 the gradients that survive in fp16
# without scaling restart the layers below late or not at all; at 0.01 they did within a few dozen steps.
PRECISION_LR = 0.002
PRECISION_STEPS = 800


def _precision(name: str, precision: str, loss_scale: str = "dynamic") -> Experiment:
    return Experiment(name=name, seed=0, data=DataConfig(dataset="moons"),
                      model=ModelConfig(hidden=(32,) * 8, activation="tanh", init="normal", init_std=0.02),
                      optimizer=OptimizerConfig(name="adam", lr=PRECISION_LR),
                      train=TrainConfig(steps=PRECISION_STEPS, precision=precision, loss_scale=loss_scale,
                                        eval_every=25, histogram_every=50))


# -- effective step sizes: one network, three optimizers, read in the Weights tab's "effective rates" --
# Three hidden layers of 16 on the spiral, 1,000 steps, a histogram every 50. Measured at seeds 0-9: SGD's
# rates all lr; Adam's span 10^6.8 to 10^7.4 within its widest layer (a dead unit's weights: v ~ 0, rate
# lr / eps); LAMB's layers move by lr x ||w||, ||w|| capped at 10 (two inner layers grow to 12-15).


def _step_sizes(name: str, optimizer: OptimizerConfig) -> Experiment:
    return Experiment(name=name, seed=0, data=DataConfig(dataset="spiral"), model=ModelConfig(hidden=(16, 16, 16)),
                      optimizer=optimizer, train=TrainConfig(steps=1000, histogram_every=50))


# -- Adam + L2 vs AdamW: one weight_decay value, two meanings ------------------------------------
# lr·λ = 3e-4: over 1,500 steps AdamW keeps (1 - 3e-4)^1500 = 0.64 of a weight the data does not hold up,
# enough to see in its curves (at lr 0.001, λ 0.01 it kept 0.985: a run indistinguishable from Adam's).

DECAY_LR = 0.003
DECAY = 0.1
DECAY_DIGITS = DataConfig(dataset="digits", n_train=500, n_val=797)


def _decay(name: str, optimizer: str, weight_decay: float) -> Experiment:
    return Experiment(name=name, seed=0, data=DECAY_DIGITS, model=ModelConfig(hidden=(128, 128)),
                      optimizer=OptimizerConfig(name=optimizer, lr=DECAY_LR, weight_decay=weight_decay),
                      train=TrainConfig(steps=1500))


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
    Preset("learning-rates", "Too high / too low learning rate",
           "The same SGD with momentum 0.9 at three learning rates. At lr 30 every step overshoots "
           "the valley: the loss explodes within a few steps and the run stops as diverged. At "
           "lr 0.001 training crawls: after 1000 steps the loss has barely moved. At lr 0.05 the "
           "network separates the spirals.",
           (_spiral("lr 30 (too high)", OptimizerConfig(name="sgd", lr=30.0, momentum=0.9), steps=1000),
            _spiral("lr 0.001 (too low)", OptimizerConfig(name="sgd", lr=0.001, momentum=0.9), steps=1000),
            _spiral("lr 0.05 (about right)", OptimizerConfig(name="sgd", lr=0.05, momentum=0.9), steps=1000))),
    Preset("warmup", "Warm-up vs none at a high learning rate",
           f"A six-layer ReLU network, plain SGD at lr {WARMUP_LR:g} with a cosine schedule, with and "
           f"without {WARMUP_STEPS} steps of linear warm-up. Around the random start the loss surface "
           "is sharp, so without warm-up the first full-size steps blow the loss up within a few "
           "steps (or kill every unit). With warm-up the rate grows only as the network moves into "
           "flatter ground, and the same peak rate then learns the circles perfectly.",
           (_warmup("no warm-up", 0), _warmup(f"warm-up {WARMUP_STEPS}", WARMUP_STEPS))),
    Preset("schedules", "Cosine vs step decay vs one-cycle",
           "SGD with momentum 0.9 at rate 0.1 on small, noisy batches of 8. At a constant rate the "
           "noise keeps the network bouncing around the valley floor, and the training loss ends "
           "high. Cosine annealing and the one-cycle policy shrink the steps toward the end and "
           "settle to a training loss at least 1.5 times smaller, often three to six times; step "
           "decay ends below the constant rate too, but its milestones are set by hand, and a decay that comes too early freezes an unfinished network.",
           tuple(_spiral(label, OptimizerConfig(name="sgd", lr=0.1, momentum=0.9), steps=1500,
                         schedule=ScheduleConfig(name=name), batch_size=8)
                 for label, name in (("constant", "constant"), ("step", "step"), ("cosine", "cosine"),
                                     ("one-cycle", "one_cycle")))),
    Preset("regularization", "Dropout and weight decay on small noisy digits",
           "250 digits, a fifth of them with a wrong label, and a 128-128 network that can memorize "
           "them all, wrong labels included. Without regularization the training loss goes to zero "
           "while the validation loss climbs: a wide gap. Dropout 0.5 and weight decay (AdamW, 1.0) "
           "each narrow the gap, both together most. The run without dropout reaches the lower "
           "training loss, yet does worse on new data.",
           (_noisy_digits("none", OptimizerConfig(name="adamw", lr=0.001, weight_decay=0.0)),
            _noisy_digits("dropout 0.5", OptimizerConfig(name="adamw", lr=0.001, weight_decay=0.0), dropout=0.5),
            _noisy_digits("weight decay 1", OptimizerConfig(name="adamw", lr=0.001, weight_decay=1.0)),
            _noisy_digits("both", OptimizerConfig(name="adamw", lr=0.001, weight_decay=1.0), dropout=0.5))),
    Preset("memorization", "Memorization: validation accuracy rises, then falls",
           "300 digits, two in five of them with a wrong label, and a 256-256 network with nothing to stop "
           "it memorizing. First it learns what the correct labels share, and validation accuracy climbs "
           "past 80%; then it learns the wrong labels one by one, and validation accuracy falls back by "
           "ten points or more while training accuracy heads for 100%. The best network was the one a "
           "few hundred steps in: stopping early is the simplest regularizer.",
           (_memorize("40% wrong labels"),)),
    Preset("regularization-lab", "Regularization lab: five ways to stop memorizing",
           "150 digits, a fifth of them mislabelled, and a 128-128 network that learns every label by "
           "heart: training accuracy 100%, validation far below. Dropout, weight decay and data "
           "augmentation each narrow the train-validation gap, augmentation most; batch norm alone "
           "barely does. All together close it entirely, at a price: the network now underfits.",
           (_lab("none"), _lab("dropout 0.5", dropout=LAB_DROPOUT), _lab("weight decay 2", weight_decay=LAB_DECAY),
            _lab("augmentation", augment=LAB_AUGMENT), _lab("batch norm", norm="batch"),
            _lab("all together", dropout=LAB_DROPOUT, norm="batch", weight_decay=LAB_DECAY, augment=LAB_AUGMENT))),
    Preset("init-depth", "Xavier vs He in a deep ReLU net",
           "Twelve ReLU layers of 64 units, no normalization. Xavier's variance ignores that ReLU "
           "zeroes half the signal, so at step 0 the activations shrink layer after layer (see the "
           "activation panel); He doubles the variance and keeps them steady, and trains much "
           "faster. Weights of std 0.01 make the signal vanish completely: that network never "
           "leaves the starting loss.",
           (_deep("xavier", "xavier_normal"), _deep("he", "he_normal"), _deep("normal 0.01", "normal", 0.01))),
    Preset("adam-l2-vs-adamw", "Adam + L2 vs AdamW",
           f"Same lr {DECAY_LR:g}, same weight_decay {DECAY:g}: one number, two meanings. Adam + L2 adds "
           f"{DECAY:g}·w to the gradient and then divides it by Adam's running gradient scale, so the weights "
           "the data never pushes (those of the edge pixels blank in every image) are wiped out, the ones with "
           "large gradients feel the pull far less, and the network ends underfitting, near 70% validation "
           "accuracy. AdamW shrinks every weight by the same factor (1 − lr·λ) each step, whatever its "
           "gradient: it fits the training set as Adam does and reaches the same validation accuracy, with "
           "weights about a fifth smaller (Weights tab) and a training loss several times higher.",
           (_decay("adam", "adam", 0.0), _decay("adam + L2", "adam", DECAY), _decay("adamw", "adamw", DECAY))),
    Preset("batchnorm-eval", "BatchNorm: running statistics vs batch statistics at test time",
           "A BatchNorm network trained on the digits. At test time it normalizes with the running "
           "averages it kept while training, so each digit's answer is the same whatever else is "
           "in the batch. Forget to switch, normalizing each test batch by its own mean and "
           "variance, and the answer depends on the neighbours: large random batches still do "
           "well, but digits tested in pairs come out wrong half the time, and batches of a single "
           "class mostly wrong.",
           (Experiment(name="batchnorm", seed=0, data=DataConfig(dataset="digits", n_train=1000, n_val=797),
                       model=ModelConfig(hidden=(64, 64), norm="batch"),
                       optimizer=OptimizerConfig(name="adam", lr=0.003), train=TrainConfig(steps=1000)),)),
    Preset("mixed-precision", "Mixed precision: fp32 vs fp16 without and with loss scaling",
           "Eight tanh layers of 32 units started with weights of std 0.02: the gradient shrinks about "
           "tenfold a layer on its way back, so the first four layers' weight gradients are below 6e-8, "
           "fp16's smallest number. In fp16 without loss scaling every one of them rounds to exactly zero "
           "(the layers nearer the output keep theirs), and in most seeds the loss sits at chance, ln 2, "
           "for most of the run while fp32 trains. Dynamic loss scaling multiplies the loss by 65536 "
           "before the backward pass and divides the gradients after: they survive, and training matches "
           "fp32. On a CPU this is a precision demo: fp16 and bf16 are slower than fp32 here, not the "
           "2-3x of a GPU.",
           (_precision("fp32", "fp32"), _precision("fp16 no scaling", "fp16", "none"),
            _precision("fp16 dynamic scaling", "fp16", "dynamic"))),
    Preset("step-sizes", "Effective step sizes: SGD, Adam and LAMB, weight by weight",
           "In the Weights tab, show the effective rates: SGD gives every weight one rate, lr; Adam gives "
           "each its own, lr / (sqrt(v_hat) + eps), over a factor of 100 apart within a layer. The step-size "
           "plot: LAMB moves every layer by lr times its norm (capped at 10), while Adam's and SGD's steps "
           "differ from layer to layer.",
           (_step_sizes("sgd", OptimizerConfig(name="sgd", lr=0.1, momentum=0.9)),
            _step_sizes("adam", OptimizerConfig(name="adam", lr=0.01)),
            _step_sizes("lamb", OptimizerConfig(name="lamb", lr=0.01, weight_decay=0.0)))),
    Preset("digits-mlp", "A 64-128-128-10 network on handwritten digits",
           "The real 8x8 digits that scikit-learn ships. A wide network fits the training set "
           "almost perfectly; the gap to validation accuracy is what regularization fights.",
           (_digits("digits"),)),
    Preset("zeros-init", "Zero initialization cannot break symmetry",
           "With every weight zero, every hidden unit computes the same thing and receives the "
           "same gradient, so they can never become different. With ReLU that gradient is exactly "
           "zero: the hidden weights never move, only the output bias does, and the loss stays at "
           "chance. He initialization breaks the tie.",
           (Experiment(name="zeros", model=ModelConfig(init="zeros"), train=TrainConfig(steps=1000)),
            Experiment(name="he_normal", model=ModelConfig(init="he_normal"), train=TrainConfig(steps=1000)))),
)}


# -- learning-rate finder lessons: one experiment and what the finder gets wrong about it -------

@dataclass(frozen=True)
class FinderPreset:
    """An experiment for the finder tab, and the claim its "Check the finder" runs show.

    A different shape from :class:`Preset`: the finder sweeps one experiment
    and the check trains it at several rates, so there is nothing to run side
    by side.  ``factor``: the best rate of the check lies more than this many
    times away from the finder's valley pick (``tests/engine/lessons/test_presets.py`` checks it).
    """
    name: str
    title: str
    lesson: str                         # two sentences: why the finder fails here
    experiment: Experiment
    check_steps: int                    # steps of each check run
    factor: float


FINDER_PRESETS: dict[str, FinderPreset] = {p.name: p for p in (
    FinderPreset(
        "finder-fails", "The finder's pick is far too cautious",
        "At its random start this six-layer ReLU network sits on a plateau, so during the sweep's "
        "few batches at each rate the loss barely moves and the curve stays flat and noisy until "
        "just before it blows up, which puts the valley rule's longest descent, and its pick, far "
        "to the left. Trained for a few hundred steps, rates more than five times the valley pick (7 to "
        "70 times, by seed) reach a validation loss at least five times lower, right up to the edge of "
        "divergence: the finder judged a long run by its first hundred batches.",
        Experiment(name="finder-fails", seed=1, data=DataConfig(dataset="circles"),
                   model=ModelConfig(hidden=(32,) * 6),
                   optimizer=OptimizerConfig(name="sgd", lr=0.02, momentum=0.0),
                   train=TrainConfig(steps=200)),
        check_steps=200, factor=5.0),
)}
