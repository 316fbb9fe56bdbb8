"""The claim of the normalization lesson: BatchNorm's running statistics against batch statistics at
test time."""
from __future__ import annotations

from engine.lessons.claims.measuring import last_numbers, preset_claim, shared, train_preset
from engine.lessons.claims.table import cond


@shared
def batchnorm_eval(seed: int) -> dict[str, float]:
    from engine.labs.batchnorm import batchnorm_table
    results = train_preset("batchnorm-eval", seed)
    (name,) = results
    numbers = last_numbers(results, ("val acc",), {name: ""})
    rows = batchnorm_table(results[name].trainer)
    by = {(0 if r.whole_set else r.batch_size, r.composition): r for r in rows}
    return {**numbers, "running spread": max(abs(r.running - numbers["val acc"]) for r in rows),
            "batch whole set": by[(0, "shuffled")].batch, "batch pairs": by[(2, "shuffled")].batch,
            "batch 8": by[(8, "shuffled")].batch, "batch 32": by[(32, "shuffled")].batch,
            "batch one class": by[(32, "one class")].batch}


CLAIMS = (
    preset_claim("batchnorm-eval", batchnorm_eval, (
        # seeds 0/1/2: 0.975/0.977/0.965
        cond("the trained network reaches 95% val acc", lambda m: m["val acc"] > 0.95),
        cond("with running statistics every batching gives the same accuracy", lambda m: m["running spread"] < 1e-9),
        # pairs 0.54/0.50/0.55, batches of 8 0.89/0.88/0.91, whole set 0.98/0.98/0.97, one class 0.19/0.22/0.21
        cond("batch statistics of the whole set are fine", lambda m: m["batch whole set"] > m["val acc"] - 0.03),
        cond("batch statistics of pairs are wrong (< 70%)", lambda m: m["batch pairs"] < 0.7),
        cond("batches of 8 worse than batches of 32", lambda m: m["batch 8"] < m["batch 32"]),
        cond("single-class batches worst (< 40%)", lambda m: m["batch one class"] < 0.4))),
)
