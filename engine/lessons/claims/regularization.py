"""The claims of the regularization lessons: dropout and weight decay, the regularization lab,
Adam + L2 against AdamW, and the digits network's gap."""
from __future__ import annotations

import math

from engine.lessons.claims.measuring import ReadPreset, Records, last_numbers, preset_claim, shared
from engine.lessons.claims.table import cond


def _regularization(runs: Records) -> dict[str, float]:
    numbers: dict[str, float] = {}
    for name in runs:
        last = last_numbers(runs, ("train loss", "val loss", "val acc"), {name: name})
        numbers.update({f"{name} gap": last[f"{name} val loss"] - last[f"{name} train loss"], **last})
    numbers.update(last_numbers(runs, ("train acc",), {"none": "none"}))
    numbers["none val loss rise"] = numbers["none val loss"] - min(e.val_loss for e in runs["none"].evals)
    return numbers


def _memorization(runs: Records) -> dict[str, float]:
    """The rise-then-fall: the best validation accuracy, where it came, and how far it fell by the end."""
    from engine.lessons.presets import MEMO_STEPS
    (run,) = runs.values()
    evals = run.evals
    best = max(evals, key=lambda e: e.val_acc)
    return {"best val acc": best.val_acc, "best step": float(best.step), "steps": float(MEMO_STEPS),
            "final val acc": evals[-1].val_acc, "fall": best.val_acc - evals[-1].val_acc,
            "train acc": evals[-1].train_acc}


def _regularization_lab(runs: Records) -> dict[str, float]:
    """The lab compares final accuracies: gap = train accuracy - validation accuracy."""
    numbers: dict[str, float] = {}
    for name in runs:
        numbers.update(last_numbers(runs, ("train acc", "val acc"), {name: name}))
        numbers[f"{name} gap"] = numbers[f"{name} train acc"] - numbers[f"{name} val acc"]
        numbers.update(last_numbers(runs, ("train loss",), {name: name}))
    return numbers


regularization = ReadPreset("regularization", _regularization)
memorization = ReadPreset("memorization", _memorization)
regularization_lab = ReadPreset("regularization-lab", _regularization_lab)


@shared
def adam_l2_vs_adamw(seed: int) -> dict[str, float]:
    import torch

    from engine.lessons.presets import DECAY, DECAY_LR, PRESETS
    from engine.training.records import RecordKeeper
    from engine.training.trainer import Trainer

    results = {}
    for exp in PRESETS["adam-l2-vs-adamw"].runs:
        trainer = Trainer(exp.replace(seed=seed, train={"histogram_every": 0}))
        start = [p.detach().clone() for p in trainer.model.parameters()]
        keeper = RecordKeeper()
        trainer.run(keeper.add)
        (record,) = keeper.records() or ()
        results[exp.name] = (trainer, record, start)
    steps = PRESETS["adam-l2-vs-adamw"].runs[0].total_steps()
    # Weights from pixels blank in every training image get no gradient from the data: only decay moves them.
    data = results["adam"][0].data
    blank = (data.x_train.flatten(1) == 0).all(0)

    def blank_ratio(name: str) -> float:
        trainer, _, start = results[name]
        weight = next(trainer.model.parameters())      # the first layer's weights, the ones from the pixels
        return float(weight.detach()[:, blank].norm() / start[0][:, blank].norm())

    # Weights grouped by their gradient size (Adam's sqrt(v) in the run without decay): AdamW keeps the same
    # fraction of every group, Adam + L2 takes most from the weights with small gradients.
    adam = results["adam"][0]
    scale = torch.cat([adam.optimizer.state[p]["exp_avg_sq"].flatten() for p in adam.model.parameters()]).sqrt()
    group = torch.bucketize(scale, torch.quantile(scale, torch.tensor([0.25, 0.5, 0.75, 0.9])))
    w_adam = torch.cat([p.detach().flatten() for p in adam.model.parameters()])

    def kept(name: str) -> list[float]:
        w = torch.cat([p.detach().flatten() for p in results[name][0].model.parameters()])
        return [float(w[group == g].norm() / w_adam[group == g].norm()) for g in range(5)]

    def norm(name: str) -> float:
        return float(torch.cat([p.detach().flatten() for p in results[name][0].model.parameters()]).norm())

    l2, adamw = kept("adam + L2"), kept("adamw")
    return {**last_numbers({name: record for name, (_, record, _) in results.items()}, ("train loss", "train acc", "val loss", "val acc")),
            "adamw norm / adam's": norm("adamw") / norm("adam"), "adam+L2 norm / adam's": norm("adam + L2") / norm("adam"),
            "blank weights": float(blank.sum()), "adam blank kept": blank_ratio("adam"),
            "adamw blank kept": blank_ratio("adamw"), "adamw blank expected": (1 - DECAY_LR * DECAY) ** steps,
            "adam+L2 blank kept": blank_ratio("adam + L2"),
            **{f"adam+L2 kept q{g}": v for g, v in enumerate(l2)}, **{f"adamw kept q{g}": v for g, v in enumerate(adamw)}}


def _digits_mlp(runs: Records) -> dict[str, float]:
    (name,) = runs
    return last_numbers(runs, ("val acc", "train acc"), {name: ""})


digits_mlp = ReadPreset("digits-mlp", _digits_mlp)


CLAIMS = (
    preset_claim("regularization", regularization, (
        # val - train loss: none 0.68/0.82/0.54, dropout 0.19/0.34/0.12, weight decay 0.34/0.49/0.31, both -0.07/0.03/-0.11
        cond("unregularized, it memorizes (train acc 100%) and its val loss climbs 0.1 from its minimum",
             lambda m: m["none train acc"] == 1.0 and m["none val loss rise"] > 0.1),
        cond("unregularized gap > 0.4", lambda m: m["none gap"] > 0.4),
        cond("dropout's gap < 0.6x none's", lambda m: m["dropout 0.5 gap"] < 0.6 * m["none gap"]),
        cond("weight decay's gap < 0.75x none's", lambda m: m["weight decay 1 gap"] < 0.75 * m["none gap"]),
        cond("both together narrowest", lambda m: m["both gap"] < min(m["dropout 0.5 gap"], m["weight decay 1 gap"])),
        # Check Your Understanding Q3: train loss 0.009/0.006/0.006 vs 0.21/0.17/0.17; val loss 0.69/0.83/0.54 vs 0.40/0.51/0.29
        cond("without dropout: lower train loss, but val loss 0.15 higher and val acc lower",
             lambda m: m["none train loss"] < m["dropout 0.5 train loss"]
             and m["none val loss"] > m["dropout 0.5 val loss"] + 0.15 and m["none val acc"] < m["dropout 0.5 val acc"]))),
    preset_claim("memorization", memorization, (
        # seeds 0-4: best 0.85-0.87 at step 140-280 of 1,500, fall 0.17-0.23, train acc 0.993-1
        cond("validation accuracy climbs past 80%", lambda m: m["best val acc"] > 0.8),
        cond("its best comes in the first third of the run", lambda m: m["best step"] <= m["steps"] / 3),
        cond("then falls back by ten points or more", lambda m: m["fall"] >= 0.1),
        cond("while training accuracy reaches 98%", lambda m: m["train acc"] >= 0.98))),
    preset_claim("regularization-lab", regularization_lab, (
        cond("unregularized: train acc 100%, validation at least 20 points below",
             lambda m: m["none train acc"] == 1.0 and m["none gap"] > 0.2),
        cond("dropout, weight decay and augmentation each narrow the gap",
             lambda m: all(m[f"{r} gap"] < m["none gap"] for r in ("dropout 0.5", "weight decay 2", "augmentation"))),
        cond("augmentation narrows it most of the three",
             lambda m: m["augmentation gap"] < min(m["dropout 0.5 gap"], m["weight decay 2 gap"])),
        cond("batch norm alone barely does (> 0.8x none's gap)", lambda m: m["batch norm gap"] > 0.8 * m["none gap"]),
        cond("all together close it (gap < 0.05) and underfit (train acc below none's by 5 points)",
             lambda m: m["all together gap"] < 0.05 and m["all together train acc"] < m["none train acc"] - 0.05))),
    preset_claim("adam-l2-vs-adamw", adam_l2_vs_adamw, (
        cond("3 to 19 pixels are blank in every training image", lambda m: 3 <= m["blank weights"] < 20),
        cond("Adam leaves their weights untouched", lambda m: m["adam blank kept"] == 1.0),
        cond("AdamW shrinks them by exactly (1 - lr*wd)^steps",
             lambda m: math.isclose(m["adamw blank kept"], m["adamw blank expected"], rel_tol=1e-4)),
        cond("Adam + L2 nearly erases them (< 2% left)", lambda m: m["adam+L2 blank kept"] < 0.02),
        # lr 0.003, λ 0.1, seeds 0-4: adam + L2, smallest quartile to largest decile 0.02 0.07 0.14 0.21 0.35;
        # adamw 0.85-0.92 down to 0.69-0.72
        cond("Adam + L2 keeps least of the small-gradient weights, most of the large (5x more)",
             lambda m: m["adam+L2 kept q0"] < 0.1 and m["adam+L2 kept q4"] > 5 * m["adam+L2 kept q0"]
             and all(m[f"adam+L2 kept q{g}"] <= m[f"adam+L2 kept q{g + 1}"] for g in range(4))),
        # adam + L2 train loss 1.20-1.25, val acc 0.69-0.74 against Adam's 0.96-0.97
        cond("Adam + L2 underfits (train loss > 0.5, val acc below 80%)",
             lambda m: m["adam + L2 train loss"] > 0.5 and m["adam + L2 val acc"] < 0.8),
        cond("AdamW fits the training set and reaches Adam's val acc (within 2 points)",
             lambda m: m["adamw train acc"] >= 0.99 and abs(m["adamw val acc"] - m["adam val acc"]) < 0.02),
        # weight norm 0.78-0.80 of Adam's; train loss 4-5x Adam's
        cond("AdamW's weights end about a fifth smaller (0.7 to 0.87 of Adam's norm)",
             lambda m: 0.7 < m["adamw norm / adam's"] < 0.87),
        cond("AdamW's training loss ends more than 2x Adam's", lambda m: m["adamw train loss"] > 2 * m["adam train loss"]),
        cond("AdamW keeps 0.6 to 1.0 of Adam's weights in every gradient group",
             lambda m: all(0.6 < m[f"adamw kept q{g}"] < 1.0 for g in range(5))))),
    preset_claim("digits-mlp", digits_mlp, (
        cond("above 95% val acc, train acc higher", lambda m: m["val acc"] > 0.95 and m["train acc"] > m["val acc"]),)),
)
