"""Schedules: the torch schedulers themselves, warm-up in front, clamped at the end, previewed exactly."""
import math
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler

from engine.config import Experiment, OptimizerConfig, ScheduleConfig
from engine.optim.schedules import SCHEDULES, lr_curve, resolve_schedule
from engine.training.events import StepEvent
from engine.training.trainer import Trainer

LR, T = 0.1, 60


def torch_curve(make, steps, lr=LR):
    """The rate torch's scheduler gives at each step, built directly on a throw-away optimizer."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=0.9)
    sched = make(opt)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(steps):
            out.append(opt.param_groups[0]["lr"])
            sched.step()
    return np.array(out)


DIRECT = {
    "constant": (ScheduleConfig(name="constant"), lambda o: lr_scheduler.LambdaLR(o, lambda t: 1.0)),
    "step": (ScheduleConfig(name="step", step_size=7, gamma=0.5), lambda o: lr_scheduler.StepLR(o, 7, 0.5)),
    "exponential": (ScheduleConfig(name="exponential", gamma=0.97), lambda o: lr_scheduler.ExponentialLR(o, 0.97)),
    "cosine": (ScheduleConfig(name="cosine", eta_min=0.001),
               lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=T, eta_min=0.001)),
    "one_cycle": (ScheduleConfig(name="one_cycle", max_lr=0.5, pct_start=0.25),
                  lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=T, pct_start=0.25)),
}


def test_every_schedule_is_compared_here():
    assert set(DIRECT) == set(SCHEDULES)


@pytest.mark.parametrize("name", SCHEDULES)
def test_curve_is_the_torch_scheduler_built_directly(name):
    cfg, make = DIRECT[name]
    np.testing.assert_array_equal(lr_curve(cfg, LR, T), torch_curve(make, T))


def test_formulas_of_the_lesson():
    t = np.arange(T)
    np.testing.assert_allclose(lr_curve(ScheduleConfig(name="step", step_size=10, gamma=0.5), LR, T),
                               LR * 0.5 ** (t // 10), rtol=1e-12)
    np.testing.assert_allclose(lr_curve(ScheduleConfig(name="cosine", eta_min=0.01), LR, T),
                               0.01 + 0.5 * (LR - 0.01) * (1 + np.cos(np.pi * t / T)), rtol=1e-9)
    np.testing.assert_allclose(lr_curve(ScheduleConfig(name="exponential", gamma=0.9), LR, T),
                               LR * 0.9 ** t, rtol=1e-12)


def test_cosine_is_clamped_at_its_end_where_torch_climbs_back():
    cfg = ScheduleConfig(name="cosine", eta_min=0.001)
    ours = lr_curve(cfg, LR, 3 * T)  # schedule spans all 3T steps: monotone down
    assert np.all(np.diff(ours) <= 1e-15)
    # The trainer runs past the plan (e.g. Step once after the end): the rate stays at eta_min.
    trainer = Trainer(Experiment(schedule=cfg).replace(train={"steps": T, "eval_every": 1000,
                                                              "histogram_every": 0}))
    for _ in range(T):
        trainer.step()
    for _ in range(T):
        trainer.schedule.step()
    assert trainer.lr == pytest.approx(0.001, abs=1e-12)
    periodic = torch_curve(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=T, eta_min=0.001), 2 * T)
    assert periodic[-1] > 0.05  # what the clamp protects against


def test_one_cycle_does_not_raise_past_its_end_and_stays_at_its_floor():
    cfg = resolve_schedule(ScheduleConfig(name="one_cycle"), LR, T)
    curve = lr_curve(cfg, LR, T)
    assert curve.max() == pytest.approx(LR)  # max_lr defaults to the optimizer's lr
    assert curve[0] == pytest.approx(LR / 25) and curve[-1] == pytest.approx(LR / 25 / 1e4)


@pytest.mark.parametrize("name", SCHEDULES)
def test_warmup_ramps_linearly_to_the_schedules_start_then_runs_it(name):
    cfg, make = DIRECT[name]
    W = 12
    warm = lr_curve(ScheduleConfig(**{**cfg.__dict__, "warmup_steps": W}), LR, T + W)
    start = torch_curve(make, 1)[0]
    np.testing.assert_allclose(warm[:W], start * (np.arange(W) + 1) / W, rtol=1e-12)
    np.testing.assert_allclose(warm[W:], torch_curve(make, T), rtol=1e-12)


def test_exponential_default_reaches_a_hundredth_at_the_end():
    curve = lr_curve(ScheduleConfig(name="exponential"), LR, 500)
    assert curve[-1] == pytest.approx(LR / 100 * 0.01 ** (-1 / 500), rel=1e-9)


def test_training_uses_exactly_the_previewed_rates():
    cfg = ScheduleConfig(name="cosine", warmup_steps=20)
    exp = Experiment(schedule=cfg).replace(train={"steps": 120, "eval_every": 1000, "histogram_every": 0})
    trainer = Trainer(exp)
    used = [e.lr for _ in range(120) for e in trainer.step() if isinstance(e, StepEvent)]
    np.testing.assert_array_equal(used, lr_curve(cfg, exp.optimizer.lr, 120))


def test_one_cycle_cycles_adam_beta1_unless_told_not_to():
    base = Experiment(optimizer=OptimizerConfig(name="adam", lr=0.01))
    for cycle, expect_changed in ((None, True), (False, False)):
        exp = base.replace(schedule={"name": "one_cycle", "cycle_momentum": cycle},
                           train={"steps": 50, "eval_every": 1000, "histogram_every": 0})
        trainer = Trainer(exp)
        betas = set()
        for _ in range(50):
            trainer.step()
            betas.add(trainer.optimizer.param_groups[0]["betas"][0])
        assert (len(betas) > 1) == expect_changed
        assert math.isclose(min(betas), 0.85) if expect_changed else betas == {0.9}


def test_one_cycle_leaves_plain_sgd_without_momentum():
    from engine.experiment import resolve
    plain = resolve(Experiment(optimizer=OptimizerConfig(name="sgd"), schedule=ScheduleConfig(name="one_cycle")))
    heavy = resolve(Experiment(optimizer=OptimizerConfig(name="sgd", momentum=0.9),
                               schedule=ScheduleConfig(name="one_cycle")))
    assert plain.schedule.cycle_momentum is False and heavy.schedule.cycle_momentum is True
