"""Each preset shows the claim it teaches when it is run."""
import math

import pytest

from engine.events import DIVERGED, FINISHED, EvalEvent
from engine.presets import PRESETS
from engine.trainer import Trainer


def run(exp):
    trainer = Trainer(exp)
    evals = []
    trainer.run(lambda e: evals.append(e) if isinstance(e, EvalEvent) else None)
    return trainer, evals


def first_step_reaching(evals, accuracy):
    return next((e.step for e in evals if e.val_acc >= accuracy), math.inf)


def runs(name):
    return {exp.name: run(exp) for exp in PRESETS[name].runs}


def test_momentum_and_adam_get_there_before_plain_sgd():
    results = runs("optimizers")
    reach = {name: first_step_reaching(evals, 0.9) for name, (_, evals) in results.items()}
    assert reach["sgd"] >= 2 * reach["sgd+momentum"]
    assert max(reach["adam"], reach["adamw"]) <= reach["sgd+momentum"]
    assert all(t.status == FINISHED for t, _ in results.values())


def test_too_high_diverges_too_low_crawls():
    results = runs("too-high-lr")
    high, _ = results["lr 50 (too high)"]
    assert high.status == DIVERGED and high.step_count < 20
    low = results["lr 0.0001 (too low)"][1][-1]
    good = results["lr 0.1"][1][-1]
    assert low.val_loss > 0.5 and good.val_loss < 0.2 and good.val_acc > 0.9


def test_zeros_init_never_leaves_the_starting_loss():
    results = runs("zeros-init")
    zeros, he = results["zeros"][1][-1], results["he_normal"][1][-1]
    assert zeros.train_loss == pytest.approx(math.log(2), abs=1e-3)  # symmetric units: no better than chance
    assert he.train_loss < 0.3


def test_digits_network_learns_the_real_digits():
    (trainer, evals), = runs("digits-mlp").values()
    assert evals[-1].val_acc > 0.95 and evals[-1].train_acc > evals[-1].val_acc
