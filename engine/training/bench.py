"""How much the engine costs over a bare PyTorch loop, measured as a ratio in one run.

Machines here are noisy, so absolute steps/s mean little; the two loops are
stepped turn about (one bare step, one engine step, ...) on the same model,
data, batch size and thread count, and the ratio of their times is what
counts (the median over rounds).  The engine runs with evaluation and histograms at their defaults
(every 50 steps), as is everything else (400 training and 400 validation
examples, batch 32); the bare loop does only what any honest loop does:
forward, loss, backward, step, and read the loss.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.config import DataConfig, Experiment, ModelConfig, OptimizerConfig
from engine.data.datasets import load_data
from engine.model.models import build_model
from engine.training.trainer import Trainer

CASES = {
    "spiral, 2-16-16-2 MLP, Adam": Experiment(
        data=DataConfig(dataset="spiral"), model=ModelConfig(hidden=(16, 16)),
        optimizer=OptimizerConfig(name="adam", lr=0.01)),
    "digits, 64-128-128-10 MLP, Adam": Experiment(
        data=DataConfig(dataset="digits"), model=ModelConfig(hidden=(128, 128)),
        optimizer=OptimizerConfig(name="adam", lr=0.001)),
}


@dataclass(frozen=True)
class BenchResult:
    case: str
    bare_steps_per_sec: float
    engine_steps_per_sec: float
    ratio: float          # engine / bare, median of the per-round ratios
    quiet_ratio: float    # the same with evaluation and histograms switched off: the loop's own cost
    threads: int


def bare_steps(exp: Experiment):
    """The plainest correct loop on the same model, data and batches, one step per ``next()``."""
    data = load_data(exp.data, exp.seed)
    torch.manual_seed(exp.seed)
    model = build_model(exp.model, data.input_shape, data.n_classes)
    opt = torch.optim.Adam(model.parameters(), lr=exp.optimizer.lr)
    gen = torch.Generator().manual_seed(exp.seed)
    n, bs = len(data.y_train), exp.train.batch_size
    order, cursor, losses = torch.randperm(n, generator=gen), 0, []
    while True:
        if cursor >= n:
            order, cursor = torch.randperm(n, generator=gen), 0
        idx = order[cursor:cursor + bs]
        cursor += len(idx)
        loss = F.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        yield


CHUNK = 100  # steps per turn: two measurement ticks, so every turn carries its share


def measure_round(exp: Experiment, steps: int) -> tuple[float, float]:
    """Seconds spent by the bare loop and by the engine over ``steps`` steps, taken in short turns.

    The loops take turns of ``CHUNK`` steps, so both live through the same
    moments of a noisy machine and their ratio holds even when absolute speed
    drifts by 20% within a second.  Who goes first alternates.
    """
    bare = bare_steps(exp)
    trainer = Trainer(exp.replace(train={"steps": steps + 1}))
    next(bare), trainer.step()  # step 0's evaluation and histograms are set-up, not steady state
    clock = time.perf_counter

    def bare_turn():
        start = clock()
        for _ in range(CHUNK):
            next(bare)
        return clock() - start

    def engine_turn():
        start = clock()
        for _ in range(CHUNK):
            trainer.step()
        return clock() - start

    bare_time = engine_time = 0.0
    for turn in range(steps // CHUNK):
        if turn % 2:
            bare_time += bare_turn()
            engine_time += engine_turn()
        else:
            engine_time += engine_turn()
            bare_time += bare_turn()
    trainer.stop()
    return bare_time, engine_time


def measure(case: str, exp: Experiment, steps: int, repeats: int) -> BenchResult:
    quiet = exp.replace(train={"eval_every": 10 * steps, "histogram_every": 0})
    measure_round(exp, CHUNK)  # warm caches and lazy imports
    rounds = [measure_round(exp, steps) for _ in range(repeats)]
    quiet_rounds = [measure_round(quiet, steps) for _ in range(repeats)]
    bare = statistics.median(steps / b for b, _ in rounds)
    engine = statistics.median(steps / e for _, e in rounds)
    ratio = statistics.median(b / e for b, e in rounds)
    quiet_ratio = statistics.median(b / e for b, e in quiet_rounds)
    return BenchResult(case, bare, engine, ratio, quiet_ratio, torch.get_num_threads())


def main(repeats: int = 15, steps: int = 600) -> int:
    torch.set_num_threads(1)
    print(f"engine vs bare PyTorch loop, stepped turn about: {repeats} rounds of {steps} steps, "
          f"{torch.get_num_threads()} torch thread(s), eval and histograms every 50 steps\n")
    print("| case | bare loop steps/s | engine steps/s | engine / bare | engine / bare, measurements off |")
    print("|---|---:|---:|---:|---:|")
    for case, exp in CASES.items():
        r = measure(case, exp, steps, repeats)
        print(f"| {r.case} | {r.bare_steps_per_sec:,.0f} | {r.engine_steps_per_sec:,.0f} | {r.ratio:.3f} "
              f"| {r.quiet_ratio:.3f} |", flush=True)
    return 0
