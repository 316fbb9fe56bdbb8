"""The claims of the Lessons menu's questions, the labs' statements and the tooltips that assert an
outcome: each the set-up the text is about and what the text says of it.

A question's claim is what its answer (``Question.look`` in :mod:`engine.lessons.questions`) says the
opened lab shows; a tooltip's is the outcome its words in :mod:`engine.lessons.text` promise, checked
on the lesson preset that shows it.  Claims about a preset's set-up share that preset's training
(:func:`~engine.lessons.claims.measuring.shared`), so they add no cost.
"""
from __future__ import annotations

import math
from typing import Mapping, cast

from engine.lessons.claims import normalization, optimization, regularization
from engine.lessons.claims.measuring import LN2, shared
from engine.lessons.claims.table import Claim, cond


def _question(key: str) -> str:
    from engine.lessons.questions import QUESTIONS
    question, = (q for q in QUESTIONS if q.key == key)
    return f"{question.text} {question.look}"


def _surface_text(name: str) -> str:
    from engine.labs.surfaces import SURFACES
    return SURFACES[name].description


def _tooltip(key: str) -> str:
    from engine.lessons.text import LESSON_TEXT
    return LESSON_TEXT[key]


def ravine(seed: int) -> dict[str, float]:
    """Question 1's ravine (engine.lessons.questions.RAVINE): deterministic, the same at every seed
    (the paths start at the surface's fixed point and have no noise)."""
    from engine.labs.surfaces import SURFACES, distance_to_minimum
    from engine.labs.trajectories import compute_trajectories
    from engine.lessons.questions import RAVINE

    surface = str(RAVINE["surface"])
    optimizers = cast("tuple[str, ...]", RAVINE["optimizers"])
    steps, condition = cast(int, RAVINE["steps"]), cast(float, RAVINE["condition"])
    slow, too_fast, adam = compute_trajectories(surface, SURFACES[surface].start, optimizers, steps,
                                                {"condition": condition})
    bounced = (too_fast.status == "left_box" or not math.isfinite(too_fast.loss[-1])
               or abs(too_fast.y[-1]) > abs(too_fast.y[0]))
    return {"sgd steep left": float(abs(slow.y[-1])), "sgd flat left": float(abs(slow.x[-1])),
            "sgd 0.021 bounced out": float(bounced),
            "sgd distance": float(distance_to_minimum(surface, slow.x[-1], slow.y[-1])),
            "adam distance": float(distance_to_minimum(surface, adam.x[-1], adam.y[-1]))}


@shared
def init_lab(seed: int) -> dict[str, float]:
    """The init lab's probe at its defaults (depth 20, width 256), once per activation the text names:
    activation std of the last layer over the first, and the gradient's at layer 1 over layer 20."""
    from engine.labs.initprobe import ProbeConfig, probe_inits

    numbers: dict[str, float] = {}
    for activation, schemes in (("relu", ("xavier_normal", "he_normal")), ("tanh", ("xavier_normal",)),
                                ("sigmoid", ("xavier_normal", "he_normal", "orthogonal", "normal"))):
        result = probe_inits(ProbeConfig(activation=activation, seed=seed, schemes=schemes))
        for probe in result.schemes:
            act, grad = probe.activation_std, probe.gradient_std
            name = f"{activation} {probe.scheme}"
            numbers[f"{name} act last/first"] = float(act[-1] / act[0])
            numbers[f"{name} act per layer"] = float((act[-1] / act[0]) ** (1 / (len(act) - 1)))
            numbers[f"{name} act max/min"] = float(act.max() / act.min())
            numbers[f"{name} grad first/last"] = float(grad[0] / grad[-1])
    return numbers




#: The init lab's statement about its "Train each" button (gui/labs/init/controls.py EXPLANATION).
INIT_LAB_TRAIN_SAYS = "Then press <i>Train each</i>: only the schemes whose signal survives learn."
INIT_LAB_SCHEMES = ("xavier_normal", "he_normal", "orthogonal", "normal", "zeros")   # the lab's defaults
SURVIVES = (0.5, 2.0)       # a signal "survives" 20 layers: its last layer's std within 2x of its input's
LEARNS_BELOW = LN2 - 0.1    # a scheme "learns": its train loss ends 0.1 below chance (ln 2, two classes)


def init_lab_training(seed: int) -> dict[str, float]:
    """The init lab at its defaults (ReLU, depth 20, width 256, the five schemes it checks, and Train each's
    300 steps of SGD with momentum on the spiral): each scheme's signal at layer 20 over its input
    (``act last/first``, from the probe) and its training loss and accuracy at the end of Train each."""
    from engine.labs.initprobe import ProbeConfig, probe_inits, train_schemes
    from engine.training.jobs import TaskState

    cfg = ProbeConfig(seed=seed, schemes=INIT_LAB_SCHEMES)
    probe = probe_inits(cfg)
    trained = train_schemes(TaskState(), cfg)
    numbers: dict[str, float] = {}
    for scheme in probe.schemes:
        act, curve = scheme.activation_std, trained.get(scheme.scheme)
        numbers[f"{scheme.scheme} act last/first"] = float(act[-1] / act[0]) if act[0] > 0 else 0.0
        numbers[f"{scheme.scheme} train loss"] = float(curve.train_loss[-1])
        numbers[f"{scheme.scheme} train acc"] = float(curve.train_acc[-1])
    return numbers


def _survivors_learn(m: Mapping[str, float]) -> bool:
    """The schemes whose signal survives are exactly the schemes that learn, and there is at least one."""
    survive = {s for s in INIT_LAB_SCHEMES if SURVIVES[0] <= m[f"{s} act last/first"] <= SURVIVES[1]}
    learn = {s for s in INIT_LAB_SCHEMES if m[f"{s} train loss"] < LEARNS_BELOW}
    return bool(survive) and survive == learn


def noisy_descent(seed: int) -> dict[str, float]:
    """The double well (engine.lessons.questions.NOISY_DESCENT): where the exact and the noisy gradient's paths
    end, the noise drawn with ``seed``."""
    from engine.labs.surfaces import SURFACES
    from engine.labs.trajectories import compute_trajectories
    from engine.lessons.questions import NOISY_DESCENT

    surface = str(NOISY_DESCENT["surface"])
    exact, noisy = compute_trajectories(surface, SURFACES[surface].start,
                                        cast("tuple[str, ...]", NOISY_DESCENT["optimizers"]),
                                        cast(int, NOISY_DESCENT["steps"]), noise_seed=seed)
    (deep, _), (shallow, _) = SURFACES[surface].minima
    return {"exact end x": float(exact.x[-1]), "noisy end x": float(noisy.x[-1]), "shallow x": shallow,
            "deep x": deep, "noisy finished": float(noisy.status == "finished")}


def _lab_notes() -> str:
    from engine.lessons.presets import LAB_NOTES
    return " ".join(LAB_NOTES.values())


#: The init lab's statements, as its explanation (gui/labs/init/controls.py EXPLANATION) words them;
#: tests/engine/lessons/test_claims.py checks the window still says exactly this.
INIT_LAB_SAYS = ("Try ReLU at depth 20: He stays flat, Xavier falls by about 2<sup>−½</sup> per layer; switch to "
                 "tanh and Xavier nearly holds (it fades about 4x over 20 layers); with sigmoid the gradient "
                 "vanishes whatever the scheme.")


_REG = regularization.regularization_lab

CLAIMS: tuple[Claim, ...] = (
    Claim("question adam-per-parameter", _question("adam-per-parameter"), ravine, (
        # steep coordinate 0 to 1e-6, flat one still away; Adam > 20x closer than SGD at 0.018
        cond("SGD at 0.018 settles the steep coordinate but not the flat one",
             lambda m: m["sgd steep left"] < 1e-6 < m["sgd flat left"]),
        cond("SGD at 0.021 bounces out of the ravine", lambda m: m["sgd 0.021 bounced out"] == 1.0),
        cond("Adam ends 20x closer to the minimum than SGD", lambda m: m["adam distance"] < m["sgd distance"] / 20))),
    Claim("question batchnorm-test-time", _question("batchnorm-test-time"), normalization.batchnorm_eval, (
        # pairs 0.54/0.50/0.55, one class 0.19/0.22/0.21 against running statistics' 0.975/0.977/0.965
        cond("with running statistics the batching does not matter", lambda m: m["running spread"] < 1e-9),
        cond("with each test batch's own statistics, pairs lose 20 points and one-class batches 50",
             lambda m: m["batch pairs"] < m["val acc"] - 0.2 and m["batch one class"] < m["val acc"] - 0.5))),
    Claim("question dropout-generalizes", _question("dropout-generalizes"), _REG, (
        # seed 0: none train acc 1.000 val 0.730, dropout 0.973 / 0.792, batch norm gap = none's (0.27)
        cond("without regularization: train acc 100% and a wide gap (> 0.15)",
             lambda m: m["none train acc"] == 1.0 and m["none gap"] > 0.15),
        cond("batch norm alone leaves the gap about as wide (> 0.8x)", lambda m: m["batch norm gap"] > 0.8 * m["none gap"]),
        # seeds 0-4: train loss none 0.002, dropout 0.04-0.10; val acc dropout 0.01-0.06 higher
        cond("dropout: the higher training loss, yet the higher validation accuracy",
             lambda m: m["dropout 0.5 train loss"] > m["none train loss"] and m["dropout 0.5 val acc"] > m["none val acc"]))),
    Claim("lab regularization", _lab_notes(), _REG, (
        cond("none memorizes every label (train acc 100%)", lambda m: m["none train acc"] == 1.0),
        cond("batch norm barely regularizes (gap > 0.8x none's)", lambda m: m["batch norm gap"] > 0.8 * m["none gap"]),
        # all together, seeds 0-4: gap -0.06/-0.10/-0.00/-0.01/+0.04, train acc 0.53 to 0.68
        cond("all together the gap closes (< 0.05) and it underfits (train acc 5 points below none's)",
             lambda m: m["all together gap"] < 0.05 and m["all together train acc"] < m["none train acc"] - 0.05))),
    Claim("lab init", INIT_LAB_SAYS, init_lab, (
        # seeds 0-4: relu he max/min 1.2-1.5, xavier per layer 0.698-0.716; tanh xavier last/first 0.245-0.256;
        # sigmoid gradient layer 1 / layer 20 3e-10 (he) down to 3e-27 (normal 0.01)
        cond("ReLU at depth 20: He stays flat (within 2x)", lambda m: m["relu he_normal act max/min"] < 2),
        cond("ReLU: Xavier falls by about 2^-1/2 a layer (0.65 to 0.76)",
             lambda m: 0.65 < m["relu xavier_normal act per layer"] < 0.76),
        cond("tanh: Xavier fades about 4x over 20 layers (3x to 6x)",
             lambda m: 1 / 6 < m["tanh xavier_normal act last/first"] < 1 / 3),
        cond("sigmoid: the gradient vanishes whatever the scheme (layer 1 < 1e-6 of layer 20)",
             lambda m: all(m[f"sigmoid {s} grad first/last"] < 1e-6
                           for s in ("xavier_normal", "he_normal", "orthogonal", "normal"))))),
    Claim("lab init-train", INIT_LAB_TRAIN_SAYS, init_lab_training, (
        # seeds 0-9: He's signal 0.69x to 1.3x its input, train loss 0.20 to 0.54 (acc 0.76 to 0.94);
        # Xavier and orthogonal fall to ~1e-3, normal(0.01) to ~1e-18, zeros to 0: all end at ln 2 (within 0.004)
        cond("the schemes whose signal survives 20 layers (within 2x) are exactly those that learn "
             "(train loss 0.1 below ln 2)", _survivors_learn),
        cond("He survives and learns", lambda m: SURVIVES[0] <= m["he_normal act last/first"] <= SURVIVES[1]
             and m["he_normal train loss"] < LEARNS_BELOW),
        cond("the vanished ones stay at chance (train loss within 0.02 of ln 2)",
             lambda m: all(abs(m[f"{s} train loss"] - LN2) < 0.02
                           for s in INIT_LAB_SCHEMES if m[f"{s} act last/first"] < 0.01)))),
    Claim("lab double-well", _surface_text("double-well"), noisy_descent, (
        # 100 seeds of the same walk (numpy's draws): 100 end in the deep valley; torch's seeds 0-29: 30
        cond("the exact gradient settles in the shallow valley (within 0.01 of its minimum)",
             lambda m: abs(m["exact end x"] - m["shallow x"]) < 0.01),
        cond("the noisy gradient ends in the deep valley (left of the ridge at x = 0.21)",
             lambda m: m["noisy end x"] < 0.0 and m["noisy finished"] == 1.0))),
    Claim("tooltip model.init", _tooltip("model.init"), init_lab, (
        cond("He keeps ReLU's signal steady (within 2x over 20 layers)", lambda m: m["relu he_normal act max/min"] < 2),
        cond("Xavier keeps tanh's roughly steady, fading 3x to 6x over 20 layers",
             lambda m: 1 / 6 < m["tanh xavier_normal act last/first"] < 1 / 3),
        cond("with sigmoid the gradients vanish whatever the scheme (layer 1 < 1e-6 of layer 20)",
             lambda m: all(m[f"sigmoid {s} grad first/last"] < 1e-6
                           for s in ("xavier_normal", "he_normal", "orthogonal", "normal"))))),
    Claim("tooltip optimizer.momentum", _tooltip("optimizer.momentum"), optimization.optimizers, (
        # seeds 0/1/2: sgd 1000/1200/1000 steps to 90%, momentum 200
        cond("on the optimizers lesson momentum reaches 90% val acc in half plain SGD's steps or fewer",
             lambda m: m["sgd+momentum step at 90%"] <= m["sgd step at 90%"] / 2),)),
    Claim("tooltip schedule.name", _tooltip("schedule.name"), optimization.schedules, (
        cond("on the schedules lesson step, cosine and one-cycle all end below the constant rate's train loss",
             lambda m: all(m[f"{s} train loss"] < m["constant train loss"] for s in ("step", "cosine", "one-cycle"))),)),
    Claim("tooltip schedule.max_lr", _tooltip("schedule.max_lr"), optimization.schedules, (
        # train loss cosine 0.085/0.067/0.047, one-cycle 0.089/0.070/0.040
        cond("one-cycle ends within 2x of cosine's train loss",
             lambda m: 0.5 < m["one-cycle train loss"] / m["cosine train loss"] < 2),
        cond("both 1.5x below the constant rate's",
             lambda m: max(m["one-cycle train loss"], m["cosine train loss"]) < m["constant train loss"] / 1.5))),
    Claim("tooltip optimizer.weight_decay", _tooltip("optimizer.weight_decay"), regularization.adam_l2_vs_adamw, (
        cond("on the Adam + L2 lesson, Adam + L2 takes 5x more from the small-gradient weights than the large",
             lambda m: m["adam+L2 kept q4"] > 5 * m["adam+L2 kept q0"]),
        cond("AdamW shrinks the weights the data leaves alone by exactly (1 - lr*wd) a step",
             lambda m: math.isclose(m["adamw blank kept"], m["adamw blank expected"], rel_tol=1e-4)))),
    Claim("tooltip schedule.warmup_steps", _tooltip("schedule.warmup_steps"), optimization.warmup, (
        cond("on the warm-up lesson, without warm-up the run diverges or dies at chance; with it, it learns",
             lambda m: (m["cold diverged"] == 1.0 or m["cold train loss"] > math.log(2) - 0.01)
             and m["warm val acc"] >= 0.98),)),
)
