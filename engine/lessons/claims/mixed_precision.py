"""The claim of mixed precision: in fp16 without loss scaling the small gradients of a deep narrow network
underflow to exactly zero; with dynamic loss scaling they survive, as in fp32.

The lesson also says the loss then stalls.  In this set-up it does not for long (measured at seeds 0-9:
fp16 without scaling ends within the spread of fp32's runs): Adam's step, ``m_hat / sqrt(v_hat)``, is the
same for a gradient of 1e-9 as of 1, so the bias gradients that do not underflow (the last layers' are
~1e-4) grow the top layers' weights, and the gradients below them rise over the floor one layer after
another.  The preset's words say so; only the underflow is a claim.

Each claim is a set-up and the conditions its numbers must meet, checked at many seeds
(:mod:`engine.lessons.claims.table`).
"""
from __future__ import annotations

from engine.lessons.claims.measuring import preset_claim, shared
from engine.lessons.claims.table import cond

RUNS = {"fp32": "fp32", "fp16 no scaling": "none", "fp16 dynamic scaling": "dynamic"}
DEEP = 4      # the first four weight matrices: the set-up puts their gradients below fp16's floor


@shared
def early_gradients(seed: int) -> dict[str, float]:
    """The preset at ``seed``, each run's second training step (the first moved the biases off zero; at the
    first, the untrained net's deepest activations, ~1e-8, underflow in fp16's forward pass too, which no
    loss scale changes): over the first ``DEEP`` weight matrices, fp32's largest gradient entry and each
    run's fraction of exactly-zero entries (from the trainer's own ``.grad``)."""
    from engine.lessons.presets import PRESETS
    from engine.training.trainer import Trainer

    numbers = {}
    for exp in PRESETS["mixed-precision"].runs:
        trainer = Trainer(exp.replace(seed=seed, train={"histogram_every": 0}))
        trainer.step(), trainer.step()      # step 0's measurement and the first step; then the second
        grads = [p.grad for p in trainer.model.parameters() if p.dim() == 2 and p.grad is not None][:DEEP]
        zeros = [float((g == 0).float().mean()) for g in grads]
        label = RUNS[exp.name]
        if label == "fp32":
            numbers["fp32 largest gradient"] = max(float(g.abs().max()) for g in grads)
        numbers[f"{label} zero min"] = min(zeros)
        numbers[f"{label} zero max"] = max(zeros)
    return numbers


CLAIMS = (
    preset_claim("mixed-precision", early_gradients, (
        # seeds 0-9: fp32's largest entry 1.3e-9 to 3e-8; without scaling 100% zero in every one; with dynamic
        # scaling at most 3.1% zero (0% in most layers)
        cond("fp32: the first four layers' weight gradients all lie below fp16's smallest number, 6e-8",
             lambda m: m["fp32 largest gradient"] < 2.0 ** -24),
        cond("fp32: none of them is exactly zero", lambda m: m["fp32 zero max"] == 0.0),
        cond("fp16 without scaling: >= 99% of each is exactly zero", lambda m: m["none zero min"] >= 0.99),
        cond("fp16 with dynamic scaling: <= 5% of each is zero", lambda m: m["dynamic zero max"] <= 0.05))),
)
