"""Every claim the lesson presets make, as data: a set-up, the numbers it measures, the conditions they
must meet; checked at many seeds, because a claim is only as good as its worst seed.

A :class:`Claim` is a lesson's sentence plus ``measure(seed) -> numbers`` (it trains the preset's runs
with every run's seed set to ``seed``) and a tuple of :class:`Condition`, each a short text and a test on
the numbers.  :func:`check_claim` runs one claim at one seed; :func:`claims_table` runs claims at seeds
and counts at how many each held.  The tests (two seeds, in the quick suite), ``main.py claims`` (ten,
by ``make claims``) and the window's "holds at k of n seeds" read this one table.

The thresholds are the lesson's words made measurable, with a margin; the numbers measured at seeds
0, 1 and 2 when each condition was written are in the comments.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

Numbers = Mapping[str, float]


@dataclass(frozen=True)
class Condition:
    text: str                                   # what must be true, in the numbers' words
    test: Callable[[Numbers], bool]


@dataclass(frozen=True)
class Claim:
    key: str                                    # "preset NAME" or "finder NAME": where the app makes it
    says: str                                   # the claim, as the app teaches it
    measure: Callable[[int], dict[str, float]]  # seed -> the numbers the conditions read
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class ClaimCheck:
    """One claim at one seed: what it measured, and which conditions failed (none: it held)."""
    key: str
    seed: int
    numbers: dict[str, float]
    failed: tuple[str, ...]

    @property
    def holds(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class ClaimRow:
    """One claim over several seeds."""
    claim: Claim
    checks: tuple[ClaimCheck, ...] = field(default=())

    @property
    def held(self) -> int:
        return sum(c.holds for c in self.checks)

    @property
    def verdict(self) -> str:
        return f"holds at {self.held} of {len(self.checks)} seeds"


def check_claim(claim: Claim, seed: int) -> ClaimCheck:
    numbers = claim.measure(seed)
    failed = tuple(c.text for c in claim.conditions if not c.test(numbers))
    return ClaimCheck(claim.key, seed, numbers, failed)


def claims_table(claims: Iterable[Claim], seeds: Sequence[int],
                 on_check: Callable[[ClaimCheck], None] | None = None,
                 should_stop: Callable[[], bool] = lambda: False) -> list[ClaimRow]:
    rows = []
    for claim in claims:
        checks = []
        for seed in seeds:
            if should_stop():
                break
            check = check_claim(claim, seed)
            checks.append(check)
            if on_check is not None:
                on_check(check)
        rows.append(ClaimRow(claim, tuple(checks)))
        if should_stop():
            break
    return rows


CLAIM_COLUMNS = ("claim", "seed", "holds", "failed", "numbers")


def write_claims_csv(rows: Iterable[ClaimRow], path: str | Path) -> Path:
    """``claims.csv``: one row per claim and seed; ``numbers`` as ``name=value`` pairs, ``failed`` the
    conditions that did not hold, joined by ``; ``."""
    from engine.files import write_csv_atomic
    lines = ([c.key, c.seed, "yes" if c.holds else "no", "; ".join(c.failed),
              " ".join(f"{k}={v:.4g}" for k, v in c.numbers.items())]
             for row in rows for c in row.checks)
    return write_csv_atomic(Path(path), list(CLAIM_COLUMNS), lines)


# -- measuring --------------------------------------------------------------------------------------

def _train_preset(name: str, seed: int, histogram_every: int | None = 0):
    """Each run of preset ``name`` at ``seed``, trained to its end: run name -> (trainer, evals, histograms).
    ``histogram_every`` 0 switches histograms off (no claim here reads them unless it asks)."""
    from engine.lessons.presets import PRESETS
    from engine.training.events import EvalEvent, HistogramEvent
    from engine.training.trainer import Trainer

    results = {}
    for exp in PRESETS[name].runs:
        every = exp.total_steps() if histogram_every is None else histogram_every
        trainer = Trainer(exp.replace(seed=seed, train={"histogram_every": every}))
        evals: list = []
        hists: list = []

        def keep(event, evals=evals, hists=hists) -> None:
            if isinstance(event, EvalEvent):
                evals.append(event)
            elif isinstance(event, HistogramEvent):
                hists.append(event)
        trainer.run(keep)
        results[exp.name] = (trainer, evals, hists)
    return results


def _reach(evals, accuracy: float) -> float:
    """The first evaluated step at ``accuracy`` validation accuracy (inf: never)."""
    return float(next((e.step for e in evals if e.val_acc >= accuracy), math.inf))


def _finished(results) -> float:
    from engine.status import RunStatus
    return float(all(t.status == RunStatus.FINISHED for t, _, _ in results.values()))


def _optimizers(seed: int) -> dict[str, float]:
    results = _train_preset("optimizers", seed)
    numbers = {f"{name} step at 90%": _reach(evals, 0.9) for name, (_, evals, _) in results.items()}
    numbers["all finished"] = _finished(results)
    return numbers


def _learning_rates(seed: int) -> dict[str, float]:
    from engine.status import RunStatus
    results = _train_preset("learning-rates", seed)
    high = results["lr 30 (too high)"][0]
    low, good = results["lr 0.001 (too low)"][1], results["lr 0.05 (about right)"][1]
    return {"lr 30 diverged": float(high.status == RunStatus.DIVERGED), "lr 30 steps": float(high.step_count),
            "lr 0.001 start val loss": low[0].val_loss, "lr 0.001 val loss": low[-1].val_loss,
            "lr 0.05 val loss": good[-1].val_loss, "lr 0.05 val acc": good[-1].val_acc}


def _warmup(seed: int) -> dict[str, float]:
    from engine.status import RunStatus
    results = _train_preset("warmup", seed)
    cold, cold_evals, _ = results["no warm-up"]
    warm, warm_evals, _ = results["warm-up 500"]
    return {"cold diverged": float(cold.status == RunStatus.DIVERGED), "cold train loss": cold_evals[-1].train_loss,
            "warm finished": float(warm.status == RunStatus.FINISHED), "warm val acc": warm_evals[-1].val_acc,
            "warm train loss": warm_evals[-1].train_loss}


def _schedules(seed: int) -> dict[str, float]:
    results = _train_preset("schedules", seed)
    numbers: dict[str, float] = {}
    for name, (_, evals, _) in results.items():
        numbers[f"{name} train loss"] = evals[-1].train_loss
        numbers[f"{name} val acc"] = evals[-1].val_acc
    numbers["all finished"] = _finished(results)
    return numbers


def _regularization(seed: int) -> dict[str, float]:
    results = _train_preset("regularization", seed)
    numbers: dict[str, float] = {}
    for name, (_, evals, _) in results.items():
        last = evals[-1]
        numbers[f"{name} gap"] = last.val_loss - last.train_loss
        numbers[f"{name} train loss"] = last.train_loss
        numbers[f"{name} val loss"] = last.val_loss
        numbers[f"{name} val acc"] = last.val_acc
    none = results["none"][1]
    numbers["none train acc"] = none[-1].train_acc
    numbers["none val loss rise"] = none[-1].val_loss - min(e.val_loss for e in none)
    return numbers


def _init_depth(seed: int) -> dict[str, float]:
    results = _train_preset("init-depth", seed, histogram_every=None)   # histograms at step 0 and the end
    numbers: dict[str, float] = {}
    for name, (_, evals, hists) in results.items():
        start = hists[0]
        stds = [a.std for a in start.activations]
        numbers[f"{name} act last/first"] = stds[-1] / stds[0] if stds[0] else 0.0
        numbers[f"{name} act max/min"] = max(stds) / min(stds) if min(stds) else math.inf
        numbers[f"{name} act falls every layer"] = float(all(b < a for a, b in zip(stds, stds[1:])))
        numbers[f"{name} act last"] = stds[-1]
        numbers[f"{name} step at 90%"] = _reach(evals, 0.9)
        numbers[f"{name} train loss"] = evals[-1].train_loss
    return numbers


def _adam_l2_vs_adamw(seed: int) -> dict[str, float]:
    import torch

    from engine.lessons.presets import DECAY, DECAY_LR, PRESETS
    from engine.training.trainer import Trainer

    results = {}
    for exp in PRESETS["adam-l2-vs-adamw"].runs:
        trainer = Trainer(exp.replace(seed=seed, train={"histogram_every": 0}))
        start = [p.detach().clone() for p in trainer.model.parameters()]
        trainer.run()
        results[exp.name] = (trainer, start)
    steps = PRESETS["adam-l2-vs-adamw"].runs[0].total_steps()
    # Weights from pixels blank in every training image get no gradient from the data: only decay moves them.
    data = results["adam"][0].data
    blank = (data.x_train.flatten(1) == 0).all(0)

    def blank_ratio(name: str) -> float:
        trainer, start = results[name]
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

    l2, adamw = kept("adam + L2"), kept("adamw")
    return {"blank weights": float(blank.sum()), "adam blank kept": blank_ratio("adam"),
            "adamw blank kept": blank_ratio("adamw"), "adamw blank expected": (1 - DECAY_LR * DECAY) ** steps,
            "adam+L2 blank kept": blank_ratio("adam + L2"),
            **{f"adam+L2 kept q{g}": v for g, v in enumerate(l2)}, **{f"adamw kept q{g}": v for g, v in enumerate(adamw)}}


def _batchnorm_eval(seed: int) -> dict[str, float]:
    from engine.labs.batchnorm import batchnorm_table
    (trainer, evals, _), = _train_preset("batchnorm-eval", seed).values()
    rows = batchnorm_table(trainer)
    by = {(0 if r.whole_set else r.batch_size, r.composition): r for r in rows}
    return {"val acc": evals[-1].val_acc,
            "running spread": max(abs(r.running - evals[-1].val_acc) for r in rows),
            "batch whole set": by[(0, "shuffled")].batch, "batch pairs": by[(2, "shuffled")].batch,
            "batch 8": by[(8, "shuffled")].batch, "batch 32": by[(32, "shuffled")].batch,
            "batch one class": by[(32, "one class")].batch}


def _zeros_init(seed: int) -> dict[str, float]:
    results = _train_preset("zeros-init", seed)
    params = list(results["zeros"][0].model.named_parameters())
    moved = [name for name, p in params if float(p.detach().abs().max()) > 0]
    return {"zeros train loss": results["zeros"][1][-1].train_loss,
            "he_normal train loss": results["he_normal"][1][-1].train_loss,
            "zeros tensors moved": float(len(moved)),
            "zeros only the output bias moved": float(moved == [params[-1][0]] and params[-1][0].endswith("bias"))}


def _digits_mlp(seed: int) -> dict[str, float]:
    (_, evals, _), = _train_preset("digits-mlp", seed).values()
    return {"val acc": evals[-1].val_acc, "train acc": evals[-1].train_acc}


def _finder_fails(seed: int) -> dict[str, float]:
    from engine.labs.lrfinder import check_finder, check_lrs, find_lr
    from engine.lessons.presets import FINDER_PRESETS
    from engine.training.jobs import TaskState
    from engine.training.trainer import Trainer

    preset = FINDER_PRESETS["finder-fails"]
    exp = preset.experiment.replace(seed=seed)
    result = find_lr(Trainer(exp))
    pick = result.suggestion("valley")
    if pick is None:
        return {"valley lr": math.nan, "best / valley": math.nan, "nearest val loss": math.nan,
                "best val loss": math.nan, "factor": preset.factor}
    valley = pick.lr
    check = check_finder(TaskState(), exp, check_lrs(result), preset.check_steps)
    best = check.best
    nearest = min(check.points, key=lambda p: abs(math.log(p.lr / valley)))
    return {"valley lr": valley, "best lr": best.lr if best else math.nan,
            "best / valley": best.lr / valley if best else math.nan,
            "nearest val loss": nearest.val_loss, "best val loss": best.val_loss if best else math.nan,
            "factor": preset.factor}


def _adam_on_spiral(seed: int) -> dict[str, float]:
    (trainer, evals, _), = _train_preset("adam-on-spiral", seed).values()
    return {"val acc": evals[-1].val_acc, "train acc": evals[-1].train_acc}


def _regularization_lab(seed: int) -> dict[str, float]:
    """The lab compares final accuracies: gap = train accuracy - validation accuracy."""
    results = _train_preset("regularization-lab", seed)
    numbers: dict[str, float] = {}
    for name, (_, evals, _) in results.items():
        numbers[f"{name} train acc"] = evals[-1].train_acc
        numbers[f"{name} val acc"] = evals[-1].val_acc
        numbers[f"{name} gap"] = evals[-1].train_acc - evals[-1].val_acc
    return numbers


def _cond(text: str, test: Callable[[Numbers], bool]) -> Condition:
    return Condition(text, test)


def _preset_says(name: str) -> str:
    from engine.lessons.presets import FINDER_PRESETS, PRESETS
    return PRESETS[name].lesson if name in PRESETS else FINDER_PRESETS[name].lesson


LN2 = math.log(2)

#: Every claim, in the Lessons menu's order.  ``says`` is read from the preset itself, so the words the
#: window shows and the words checked here cannot drift apart.
def _key(name: str) -> str:
    from engine.lessons.presets import PRESETS
    return f"preset {name}" if name in PRESETS else f"finder {name}"


CLAIMS: tuple[Claim, ...] = tuple(Claim(_key(name), _preset_says(name), measure, conditions) for name, measure, conditions in (
    ("adam-on-spiral", _adam_on_spiral, (
        # val acc 0.9475/0.9475/0.945 after its 2,000 steps: separated, not perfectly
        _cond("Adam separates the spiral arms (val acc > 90%)", lambda m: m["val acc"] > 0.9),)),
    ("optimizers", _optimizers, (
        # seeds 0/1/2: sgd 1000/1200/1000, sgd+momentum 200, adam and adamw 150
        _cond("plain SGD reaches 90% val acc", lambda m: m["sgd step at 90%"] < math.inf),
        _cond("plain SGD takes at least 2x momentum's steps", lambda m: m["sgd step at 90%"] >= 2 * m["sgd+momentum step at 90%"]),
        _cond("Adam and AdamW reach 90% no later than momentum",
              lambda m: max(m["adam step at 90%"], m["adamw step at 90%"]) <= m["sgd+momentum step at 90%"]),
        _cond("every run finishes", lambda m: m["all finished"] == 1.0))),
    ("learning-rates", _learning_rates, (
        # lr 30 diverges at step 3/3/5; val loss lr 0.001 0.63/0.62/0.58, lr 0.05 0.11/0.12/0.17
        _cond("lr 30 diverges within 20 steps", lambda m: m["lr 30 diverged"] == 1.0 and m["lr 30 steps"] < 20),
        _cond("lr 0.001 moves but stays above 0.5 val loss",
              lambda m: 0.5 < m["lr 0.001 val loss"] < m["lr 0.001 start val loss"]),
        _cond("lr 0.05 ends below 0.25 val loss and above 90% val acc",
              lambda m: m["lr 0.05 val loss"] < 0.25 and m["lr 0.05 val acc"] > 0.9))),
    ("warmup", _warmup, (
        # seeds 0-9: without warm-up 1-9 diverge within 7 steps, 0 ends dead at ln 2; with it all >= 0.99
        _cond("without warm-up the run diverges or dies at chance",
              lambda m: m["cold diverged"] == 1.0 or m["cold train loss"] > LN2 - 0.01),
        _cond("with warm-up it finishes at >= 98% val acc and train loss < 0.05",
              lambda m: m["warm finished"] == 1.0 and m["warm val acc"] >= 0.98 and m["warm train loss"] < 0.05))),
    ("schedules", _schedules, (
        # final train loss: constant 0.45/0.24/0.23, step 0.21/0.10/0.13, cosine 0.085/0.067/0.047, one-cycle 0.089/0.070/0.040
        # seeds 0-9: constant / cosine 1.85 to 10.8 (median 3.3), constant / one-cycle 2.6 to 11.7
        _cond("cosine and one-cycle end at least 1.5x below the constant rate's train loss",
              lambda m: all(m[f"{s} train loss"] < m["constant train loss"] / 1.5 for s in ("cosine", "one-cycle"))),
        _cond("cosine and one-cycle end with higher val acc than constant",
              lambda m: all(m[f"{s} val acc"] > m["constant val acc"] for s in ("cosine", "one-cycle"))),
        _cond("step ends below the constant rate's train loss", lambda m: m["step train loss"] < m["constant train loss"]),
        _cond("every run finishes", lambda m: m["all finished"] == 1.0))),
    ("regularization", _regularization, (
        # val - train loss: none 0.68/0.82/0.54, dropout 0.19/0.34/0.12, weight decay 0.34/0.49/0.31, both -0.07/0.03/-0.11
        _cond("unregularized, it memorizes (train acc 100%) and its val loss climbs 0.1 from its minimum",
              lambda m: m["none train acc"] == 1.0 and m["none val loss rise"] > 0.1),
        _cond("unregularized gap > 0.4", lambda m: m["none gap"] > 0.4),
        _cond("dropout's gap < 0.6x none's", lambda m: m["dropout 0.5 gap"] < 0.6 * m["none gap"]),
        _cond("weight decay's gap < 0.75x none's", lambda m: m["weight decay 1 gap"] < 0.75 * m["none gap"]),
        _cond("both together narrowest", lambda m: m["both gap"] < min(m["dropout 0.5 gap"], m["weight decay 1 gap"])),
        # Check Your Understanding Q3: train loss 0.009/0.006/0.006 vs 0.21/0.17/0.17; val loss 0.69/0.83/0.54 vs 0.40/0.51/0.29
        _cond("without dropout: lower train loss, but val loss 0.15 higher and val acc lower",
              lambda m: m["none train loss"] < m["dropout 0.5 train loss"]
              and m["none val loss"] > m["dropout 0.5 val loss"] + 0.15 and m["none val acc"] < m["dropout 0.5 val acc"]))),
    ("regularization-lab", _regularization_lab, (
        _cond("unregularized: train acc 100%, validation at least 20 points below",
              lambda m: m["none train acc"] == 1.0 and m["none gap"] > 0.2),
        _cond("dropout, weight decay and augmentation each narrow the gap",
              lambda m: all(m[f"{r} gap"] < m["none gap"] for r in ("dropout 0.5", "weight decay 2", "augmentation"))),
        _cond("augmentation narrows it most of the three",
              lambda m: m["augmentation gap"] < min(m["dropout 0.5 gap"], m["weight decay 2 gap"])),
        _cond("batch norm alone barely does (> 0.8x none's gap)", lambda m: m["batch norm gap"] > 0.8 * m["none gap"]),
        _cond("all together close it (gap < 0.05) and underfit (train acc below none's by 5 points)",
              lambda m: m["all together gap"] < 0.05 and m["all together train acc"] < m["none train acc"] - 0.05))),
    ("init-depth", _init_depth, (
        # act last/first: xavier 0.042/0.022/0.014, he 1.9/0.99/0.66; he max/min 2.1/1.2/1.7
        _cond("Xavier's ReLU activations fall every layer, to < 0.1 of the first",
              lambda m: m["xavier act last/first"] < 0.1 and m["xavier act falls every layer"] == 1.0),
        _cond("He's stay within 3x of each other", lambda m: m["he act max/min"] < 3),
        _cond("normal 0.01's vanish (< 1e-10)", lambda m: m["normal 0.01 act last"] < 1e-10),
        # step at 90%: he 175/125/150, xavier 325/450/575
        _cond("He reaches 90% val acc in <= 0.6x Xavier's steps", lambda m: m["he step at 90%"] <= 0.6 * m["xavier step at 90%"]),
        _cond("normal 0.01 never leaves chance (ln 2)", lambda m: abs(m["normal 0.01 train loss"] - LN2) < 1e-3))),
    ("adam-l2-vs-adamw", _adam_l2_vs_adamw, (
        _cond("3 to 19 pixels are blank in every training image", lambda m: 3 <= m["blank weights"] < 20),
        _cond("Adam leaves their weights untouched", lambda m: m["adam blank kept"] == 1.0),
        _cond("AdamW shrinks them by exactly (1 - lr*wd)^steps",
              lambda m: math.isclose(m["adamw blank kept"], m["adamw blank expected"], rel_tol=1e-4)),
        _cond("Adam + L2 nearly erases them (< 2% left)", lambda m: m["adam+L2 blank kept"] < 0.02),
        # adam + L2, smallest quartile to largest decile: 0.07 0.21 0.34 0.44 0.68
        _cond("Adam + L2 keeps least of the small-gradient weights, most of the large",
              lambda m: m["adam+L2 kept q0"] < 0.15 and m["adam+L2 kept q4"] > 0.5
              and all(m[f"adam+L2 kept q{g}"] <= m[f"adam+L2 kept q{g + 1}"] for g in range(4))),
        _cond("AdamW keeps every group alike (0.95 to 1.02 of Adam)",
              lambda m: all(0.95 < m[f"adamw kept q{g}"] < 1.02 for g in range(5))))),
    ("batchnorm-eval", _batchnorm_eval, (
        # seeds 0/1/2: 0.975/0.977/0.965
        _cond("the trained network reaches 95% val acc", lambda m: m["val acc"] > 0.95),
        _cond("with running statistics every batching gives the same accuracy", lambda m: m["running spread"] < 1e-9),
        # pairs 0.54/0.50/0.55, batches of 8 0.89/0.88/0.91, whole set 0.98/0.98/0.97, one class 0.19/0.22/0.21
        _cond("batch statistics of the whole set are fine", lambda m: m["batch whole set"] > m["val acc"] - 0.03),
        _cond("batch statistics of pairs are wrong (< 70%)", lambda m: m["batch pairs"] < 0.7),
        _cond("batches of 8 worse than batches of 32", lambda m: m["batch 8"] < m["batch 32"]),
        _cond("single-class batches worst (< 40%)", lambda m: m["batch one class"] < 0.4))),
    ("zeros-init", _zeros_init, (
        _cond("from zeros it stays at chance (ln 2)", lambda m: abs(m["zeros train loss"] - LN2) < 1e-3),
        _cond("from zeros only the output bias moves (every other weight stays exactly 0)",
              lambda m: m["zeros only the output bias moved"] == 1.0),
        _cond("He normal learns (train loss < 0.3)", lambda m: m["he_normal train loss"] < 0.3))),
    ("digits-mlp", _digits_mlp, (
        _cond("above 95% val acc, train acc higher", lambda m: m["val acc"] > 0.95 and m["train acc"] > m["val acc"]),)),
    ("finder-fails", _finder_fails, (
        # valley 0.038/0.018/0.018, best check rate 0.77/0.42/0.16 (20x/23x/8.7x)
        _cond("the best check rate lies more than factor x above the valley pick",
              lambda m: m["best / valley"] > m["factor"]),
        _cond("the run nearest the valley ends with factor x the best's val loss",
              lambda m: m["nearest val loss"] > m["factor"] * m["best val loss"]))),
))

CLAIMS_BY_KEY: dict[str, Claim] = {claim.key: claim for claim in CLAIMS}

#: The last ``make claims`` table, shipped with the app: what the window says beside each lesson.
MEASURED = Path(__file__).with_name("claims_measured.json")


@dataclass(frozen=True)
class Measured:
    held: int
    of: int
    measured: str           # the date of the ``make claims`` run

    @property
    def text(self) -> str:
        return f"holds at {self.held} of {self.of} seeds (measured {self.measured})"


def measured(key: str, path: Path = MEASURED) -> Measured | None:
    """The shipped verdict of claim ``key`` ("preset NAME"), or None when the table has none for it
    (or the file is missing or damaged: the window then says nothing rather than something wrong)."""
    from engine.inputs import InputError, read_json
    try:
        table = read_json(path, what="claims table")
        entry = table["claims"][key]
        return Measured(int(entry["held"]), int(entry["of"]), str(table["measured"]))
    except (InputError, OSError, ValueError, KeyError, TypeError):
        return None
