"""The claims of the large-batch lab (``engine.labs.large_batch``): at equal epochs plain SGD with the linear
scaling rule and warm-up breaks down as the batch grows, and the layer-wise methods (LARS, LAMB) hold up better.

The lesson's claim reproduces here only in part, and the claim says exactly which part.  On the lab's
spiral of 32,768 examples, 10 epochs, measured at seeds 0-9 (validation accuracy; B = 32 reaches 0.958-0.964):

* scaled SGD holds to B = 512 (within 0.002 of B = 32 at every seed) and breaks beyond: 0.50-0.83 at
  B = 2048, 0.44-0.55 at 8192 (diverged at 5 of the 10 seeds);
* LARS holds to B = 2048 (0.949-0.967, at most 0.012 below B = 32), four times further than SGD, but at
  8192 (40 steps at lr 25.6) it is at chance at every seed: its biases take the plain momentum step at
  that rate (``engine.optim.lars``);
* LAMB at 8192 keeps 0.81-0.96, at least 0.3 above scaled SGD, though below B = 32; at 2048 it is
  unreliable (at chance or far below at 4 of the 10 seeds), so no condition reads it there.

The set-up is the small batch for SGD alone (the three methods agree there to 0.003, and it is the
slowest run) and every method at 512, 2048 and 8192: about 12 s a seed on one core.
"""
from __future__ import annotations

from engine.lessons.claims.measuring import shared
from engine.lessons.claims.table import Claim, cond

CLAIM_BATCHES = (512, 2048, 8192)
SAYS = ("At equal epochs, SGD with the linear scaling rule and warm-up holds to a batch of 512 and breaks "
        "beyond it, while LARS holds to 2048 and LAMB, at 8192, keeps far more accuracy than scaled SGD; "
        "at 8192 LARS breaks too.")


def numbers_of(result) -> dict[str, float]:
    """A :class:`~engine.labs.large_batch.LargeBatchResult`'s numbers as the conditions read them:
    ``"METHOD@B val acc"``, ``"METHOD@B val loss"`` and ``"METHOD@B broken"`` (1 when it diverged)."""
    out: dict[str, float] = {}
    for r in result.rows:
        key = f"{r.method}@{r.batch_size}"
        out[f"{key} val acc"] = float(r.final_val_acc) if r.final_val_acc is not None else 0.0
        out[f"{key} val loss"] = float(r.final_val_loss) if r.final_val_loss is not None else float("inf")
        out[f"{key} broken"] = float(r.broken)
    return out


def needs() -> set[tuple[str, int]]:
    """The (method, batch) runs the conditions read: a result holding them all can be judged."""
    return {("sgd", 32)} | {(m, b) for m in ("sgd", "lars", "lamb") for b in CLAIM_BATCHES}


@shared
def large_batch(seed: int) -> dict[str, float]:
    from engine.labs.large_batch import LAB_EXPERIMENT, LargeBatchSettings, run_large_batch
    from engine.training.jobs import TaskState
    base = LAB_EXPERIMENT.replace(seed=seed)
    small = run_large_batch(TaskState(), base, LargeBatchSettings(batches=(32,), methods=("sgd",)), threads=None)
    large = run_large_batch(TaskState(), base, LargeBatchSettings(batches=CLAIM_BATCHES), threads=None)
    return {**numbers_of(small), **numbers_of(large)}


def _base(m) -> float:
    return m["sgd@32 val acc"]


CONDITIONS = (
    cond("scaled SGD holds to B=512: within 1 point of B=32", lambda m: m["sgd@512 val acc"] >= _base(m) - 0.01),
    cond("and breaks beyond: more than 10 points lost at B=2048 and at B=8192",
         lambda m: m["sgd@2048 val acc"] < _base(m) - 0.1 and m["sgd@8192 val acc"] < _base(m) - 0.1),
    cond("LARS holds to B=2048: within 2 points of B=32", lambda m: m["lars@2048 val acc"] >= _base(m) - 0.02),
    cond("at B=8192 LAMB keeps 25 points more than scaled SGD",
         lambda m: m["lamb@8192 val acc"] >= m["sgd@8192 val acc"] + 0.25),
    cond("at B=8192 LARS breaks too (val acc below 60%)", lambda m: m["lars@8192 val acc"] < 0.6),
)

CLAIMS: tuple[Claim, ...] = (Claim("lab large-batch", SAYS, large_batch, CONDITIONS),)
