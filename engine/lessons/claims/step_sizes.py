"""The claims of the optimizer-internals lesson about effective step sizes (the ``step-sizes`` preset, read
in the Weights tab): adaptive optimizers give each parameter its own rate ``lr / (sqrt(v_hat) + eps)``, and
LAMB sets each layer's ``||dtheta|| / ||theta||`` to ``lr``.

The numbers are the run's own histogram ticks (``engine.training.measurements``), at the last tick:
per layer the histogram of log10 of every weight's rate, ``||dtheta|| / ||theta||``, and the weights'
histogram, whose count, mean and std give the layer's norm ``sqrt(n (std^2 + mean^2))``.  Measured at
seeds 0-9 when written: SGD's rate std 0 in every layer; Adam's widest layer spans 10^6.8 to 10^7.4;
LAMB's ratio lr x min(1, 10 / ||theta||) to 1e-3; validation accuracy 0.895 to 0.96.  Between layers, the
largest ratio over the smallest at the last tick: Adam 1.13x to 5.4x, SGD 1.6x to 13x; its median over the
run's 20 ticks (what the claim reads, re-measured 2026-12-04): Adam 1.78x to 2.83x, SGD 2.02x to 2.78x,
LAMB 1.03x to 1.20x.
"""
from __future__ import annotations

import math
import statistics

from engine.lessons.claims.measuring import preset_claim, shared
from engine.lessons.claims.table import Claim, cond

LAMB_NORM_CAP = 10.0      # engine.optim.lamb's phi(z) = min(z, 10)


@shared
def step_sizes(seed: int) -> dict[str, float]:
    from engine.lessons.claims.measuring import train_runs
    from engine.lessons.presets import PRESETS

    out: dict[str, float] = {}
    runs = PRESETS["step-sizes"].runs
    for name, run in train_runs(runs, seed, runs[0].train.histogram_every).items():   # the Weights tab's ticks
        trainer, evals, last = run.trainer, run.evals, run.hists[-1]
        rates = [layer.rate for layer in last.layers]
        ratios = [float(layer.update_ratio) for layer in last.layers]
        spreads = [max(r) / min(r) for r in ([float(layer.update_ratio) for layer in tick.layers] for tick in run.hists[1:])]
        out[f"{name} val acc"] = evals[-1].val_acc
        out[f"{name} lr"] = trainer.experiment.optimizer.lr
        out[f"{name} rate std"] = max(r.std for r in rates)
        out[f"{name} rate mean"] = max(abs(r.mean - math.log10(trainer.experiment.optimizer.lr)) for r in rates)
        out[f"{name} widest span"] = max(high - low for low, high in (r.value_range() for r in rates))
        out[f"{name} ratio spread"] = statistics.median(spreads)      # over the run, as its step-size plot shows
        lr = trainer.experiment.optimizer.lr
        expected = []
        for layer, ratio in zip(last.layers, ratios):
            w = layer.weight
            norm = math.sqrt(float(w.counts.sum()) * (w.std ** 2 + w.mean ** 2))
            expected.append(abs(ratio / (lr * min(1.0, LAMB_NORM_CAP / norm)) - 1.0))
        out[f"{name} off the capped lr"] = max(expected)
    return out


CLAIMS: tuple[Claim, ...] = (
    preset_claim("step-sizes", step_sizes, (
        cond("every run learns (val acc > 0.85)", lambda m: min(m[f"{k} val acc"] for k in ("sgd", "adam", "lamb")) > 0.85),
        cond("SGD: one rate, lr, for every weight", lambda m: m["sgd rate std"] < 1e-6 and m["sgd rate mean"] < 1e-6),
        cond("Adam: within one layer the rates span more than a factor of 100",
             lambda m: m["adam widest span"] > 2.0),
        # the weights' norm is read from the histogram after the step, the ratio's from before it
        cond("LAMB: every layer moves by lr x min(||theta||, 10) (ratio within 2%)",
             lambda m: m["lamb off the capped lr"] < 0.02),
        # median over the 20 ticks, seeds 0-2: adam 2.17/2.36/2.52, sgd 2.55/2.72/2.78 (at the last tick alone
        # adam's fell to 1.13, so one tick was too thin a reading of a plot over the whole run)
        cond("Adam's and SGD's ratios differ from layer to layer (the largest over 1.5x the smallest, median over the run)",
             lambda m: m["adam ratio spread"] > 1.5 and m["sgd ratio spread"] > 1.5))),
)
