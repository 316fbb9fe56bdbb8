"""Learning-rate schedules, stepped once per optimizer step, built from torch.optim.lr_scheduler.

A schedule here is a torch scheduler plus two things torch does not give in one
piece:

* linear warm-up *in front of* the schedule: for the first ``W`` steps the rate
  is ``start * (t + 1) / W`` (torch's ``LinearLR`` with ``start_factor = 1/W``),
  where ``start`` is the rate the schedule itself begins with; the schedule then
  runs over the remaining steps;
* a clamp at the end: torch's cosine is periodic past ``T_max`` and its
  one-cycle raises past ``total_steps``, so the scheduler is no longer stepped
  once it has reached its last value, and the rate stays there.

``lr_curve`` runs exactly this machinery on a throw-away parameter, so the
preview a student sees is the rate training will use, step for step.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np
import torch
from torch.optim import lr_scheduler

from engine.config import ScheduleConfig

Builder = Callable[[torch.optim.Optimizer, ScheduleConfig, int], "tuple[lr_scheduler.LRScheduler | None, int | None]"]


@dataclass(frozen=True)
class ScheduleInfo:
    name: str
    description: str
    takes: tuple[str, ...]      # ScheduleConfig keys this schedule uses, besides warmup_steps
    build: Builder              # (optimizer, resolved cfg, steps of the schedule) -> (scheduler, horizon)
    formula: str = ""


def _constant(opt, cfg, steps):
    return None, None


def _step(opt, cfg, steps):
    return lr_scheduler.StepLR(opt, step_size=cfg.step_size, gamma=cfg.gamma), None


def _exponential(opt, cfg, steps):
    return lr_scheduler.ExponentialLR(opt, gamma=cfg.gamma), None


def _cosine(opt, cfg, steps):
    # Stop stepping at T_max: past it torch's cosine climbs back up.
    return lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=cfg.eta_min), steps


def _one_cycle(opt, cfg, steps):
    sched = lr_scheduler.OneCycleLR(opt, max_lr=cfg.max_lr, total_steps=steps, pct_start=cfg.pct_start,
                                    cycle_momentum=cfg.cycle_momentum)
    # OneCycleLR raises when stepped past total_steps - 1, its final (lowest) rate.
    return sched, steps - 1


SCHEDULES: dict[str, ScheduleInfo] = {info.name: info for info in (
    ScheduleInfo("constant", "The same rate at every step.", (), _constant, "lr_t = lr"),
    ScheduleInfo("step", "Multiply the rate by gamma every step_size steps: simple, but the "
                 "milestones need tuning by hand.", ("step_size", "gamma"), _step,
                 "lr_t = lr * gamma^floor(t / step_size)"),
    ScheduleInfo("exponential", "Multiply the rate by gamma after every step: a smooth, "
                 "steady decay.", ("gamma",), _exponential, "lr_t = lr * gamma^t"),
    ScheduleInfo("cosine", "Glide from lr down to eta_min along half a cosine, reaching it at "
                 "the last step.", ("eta_min",), _cosine,
                 "lr_t = eta_min + (lr - eta_min) * (1 + cos(pi t / T)) / 2"),
    ScheduleInfo("one_cycle", "Rise from max_lr/25 to max_lr over pct_start of the steps, then "
                 "anneal far below the start: the warm-up lets it use a high peak rate. Cycles momentum "
                 "the other way unless cycle_momentum is off.",
                 ("max_lr", "pct_start", "cycle_momentum"), _one_cycle),
)}


def main_steps(cfg: ScheduleConfig, total_steps: int) -> int:
    """Steps left to the schedule itself after warm-up."""
    return max(1, total_steps - warmup_length(cfg))


def warmup_length(cfg: ScheduleConfig) -> int:
    # One step of warm-up from lr/1 is no warm-up at all.
    return cfg.warmup_steps if cfg.warmup_steps > 1 else 0


def resolve_schedule(cfg: ScheduleConfig, lr: float, total_steps: int,
                     optimizer_has_momentum: bool = True) -> ScheduleConfig:
    """Fill every ``None`` with its concrete default for this run.

    Defaults: step decays by torch's 0.1 every third of the schedule;
    exponential picks the gamma that ends at lr/100; cosine ends at torch's
    eta_min 0; one-cycle peaks at the optimizer's lr and cycles momentum when
    the optimizer has one.
    """
    n = main_steps(cfg, total_steps)
    fill: dict[str, Any] = {}
    if cfg.step_size is None:
        fill["step_size"] = max(1, n // 3)
    if cfg.gamma is None:
        fill["gamma"] = 0.1 if cfg.name == "step" else 0.01 ** (1.0 / n)
    if cfg.eta_min is None:
        fill["eta_min"] = 0.0
    if cfg.max_lr is None:
        fill["max_lr"] = lr
    if cfg.pct_start is None:
        fill["pct_start"] = 0.3
    if cfg.cycle_momentum is None:
        fill["cycle_momentum"] = optimizer_has_momentum
    return replace(cfg, **fill)


class LRSchedule:
    """Drives the learning rate of one optimizer: warm-up, then the schedule, then a clamp.

    Call :meth:`step` once after every ``optimizer.step()``.  ``cfg`` must be
    resolved (:func:`resolve_schedule`).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, cfg: ScheduleConfig, total_steps: int):
        self.warmup = warmup_length(cfg)
        # The schedule is built first, so it sets its own starting rate (one-cycle starts at
        # max_lr/25); warm-up then ramps up to that rate.
        self.main, self.horizon = SCHEDULES[cfg.name].build(optimizer, cfg, main_steps(cfg, total_steps))
        self.warm = (lr_scheduler.LinearLR(optimizer, start_factor=1.0 / self.warmup, end_factor=1.0,
                                           total_iters=self.warmup - 1) if self.warmup else None)
        self.t = 0  # optimizer steps taken so far

    @property
    def active(self) -> bool:
        """False when the rate can never change again (constant, no warm-up): the trainer skips us."""
        return self.main is not None or self.warm is not None

    def step(self) -> None:
        self.t += 1
        if self.t < self.warmup:
            assert self.warm is not None  # built whenever warmup > 0
            self.warm.step()
        elif self.t > self.warmup and self.main is not None:
            if self.horizon is None or self.main.last_epoch < self.horizon:
                self.main.step()

    def state_dict(self) -> dict:
        return {"t": self.t, "main": self.main.state_dict() if self.main else None,
                "warm": self.warm.state_dict() if self.warm else None}

    def load_state_dict(self, state: dict) -> None:
        self.t = state["t"]
        if self.main is not None:
            self.main.load_state_dict(state["main"])
        if self.warm is not None:
            self.warm.load_state_dict(state["warm"])


def lr_curve(cfg: ScheduleConfig, lr: float, total_steps: int) -> np.ndarray:
    """The rate used at each of ``total_steps`` steps, without training anything.

    Runs :class:`LRSchedule` itself on one throw-away parameter (SGD with a
    momentum slot, so one-cycle can cycle it), so the curve is the one training
    will follow.
    """
    cfg = resolve_schedule(cfg, lr, total_steps)
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=lr, momentum=0.9)
    sched = LRSchedule(opt, cfg, total_steps)
    group = opt.param_groups[0]
    out = np.empty(total_steps)
    with warnings.catch_warnings():
        # torch warns that the scheduler steps without optimizer.step(): here that is the point.
        warnings.simplefilter("ignore", UserWarning)
        for t in range(total_steps):
            out[t] = group["lr"]
            sched.step()
    return out
