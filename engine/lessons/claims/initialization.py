"""The claims of the initialization lessons: Xavier against He in depth, and zeros."""
from __future__ import annotations

import math

from engine.lessons.claims.measuring import LN2, last_numbers, preset_claim, reach, train_preset
from engine.lessons.claims.table import cond


def init_depth(seed: int) -> dict[str, float]:
    results = train_preset("init-depth", seed, histogram_every=None)   # histograms at step 0 and the end
    numbers: dict[str, float] = {}
    for name, run in results.items():
        start = run.hists[0]
        stds = [a.std for a in start.activations]
        numbers[f"{name} act last/first"] = stds[-1] / stds[0] if stds[0] else 0.0
        numbers[f"{name} act max/min"] = max(stds) / min(stds) if min(stds) else math.inf
        numbers[f"{name} act falls every layer"] = float(all(b < a for a, b in zip(stds, stds[1:])))
        numbers[f"{name} act last"] = stds[-1]
        numbers[f"{name} step at 90%"] = reach(run.evals, 0.9)
        numbers.update(last_numbers(results, ("train loss",), {name: name}))
    return numbers


def zeros_init(seed: int) -> dict[str, float]:
    results = train_preset("zeros-init", seed)
    params = list(results["zeros"].trainer.model.named_parameters())
    moved = [name for name, p in params if float(p.detach().abs().max()) > 0]
    return {**last_numbers(results, ("train loss",), {"zeros": "zeros", "he_normal": "he_normal"}),
            "zeros tensors moved": float(len(moved)),
            "zeros only the output bias moved": float(moved == [params[-1][0]] and params[-1][0].endswith("bias"))}


CLAIMS = (
    preset_claim("init-depth", init_depth, (
        # act last/first: xavier 0.042/0.022/0.014, he 1.9/0.99/0.66; he max/min 2.1/1.2/1.7
        cond("Xavier's ReLU activations fall every layer, to < 0.1 of the first",
             lambda m: m["xavier act last/first"] < 0.1 and m["xavier act falls every layer"] == 1.0),
        cond("He's stay within 3x of each other", lambda m: m["he act max/min"] < 3),
        cond("normal 0.01's vanish (< 1e-10)", lambda m: m["normal 0.01 act last"] < 1e-10),
        # step at 90%: he 175/125/150, xavier 325/450/575
        cond("He reaches 90% val acc in <= 0.6x Xavier's steps", lambda m: m["he step at 90%"] <= 0.6 * m["xavier step at 90%"]),
        cond("normal 0.01 never leaves chance (ln 2)", lambda m: abs(m["normal 0.01 train loss"] - LN2) < 1e-3))),
    preset_claim("zeros-init", zeros_init, (
        cond("from zeros it stays at chance (ln 2)", lambda m: abs(m["zeros train loss"] - LN2) < 1e-3),
        cond("from zeros only the output bias moves (every other weight stays exactly 0)",
             lambda m: m["zeros only the output bias moved"] == 1.0),
        cond("He normal learns (train loss < 0.3)", lambda m: m["he_normal train loss"] < 0.3))),
)
