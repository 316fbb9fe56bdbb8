"""How much the engine costs over a bare PyTorch loop, measured as a ratio in one run.

Machines here are noisy, so absolute steps/s mean little; the two loops are
timed in alternation (bare, engine, bare, engine, ...) on the same model,
data, batch size and thread count, and the ratio of their medians is what
counts.  The engine runs with evaluation and histograms at their defaults
(every 50 steps); the bare loop does only what any honest loop does: forward,
loss, backward, step, and read the loss.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .config import DataConfig, Experiment, ModelConfig, OptimizerConfig, TrainConfig
from .datasets import load_data
from .models import build_model
from .trainer import Trainer

CASES = {
    "spiral, 2-16-16-2 MLP, Adam": Experiment(
        data=DataConfig(dataset="spiral"), model=ModelConfig(hidden=(16, 16)),
        optimizer=OptimizerConfig(name="adam", lr=0.01)),
    "digits, 64-128-128-10 MLP, Adam": Experiment(
        data=DataConfig(dataset="digits", n_train=1000, n_val=797), model=ModelConfig(hidden=(128, 128)),
        optimizer=OptimizerConfig(name="adam", lr=0.001)),
}


@dataclass(frozen=True)
class BenchResult:
    case: str
    bare_steps_per_sec: float
    engine_steps_per_sec: float
    ratio: float          # engine / bare, median of the per-round ratios
    threads: int


def bare_loop(exp: Experiment, steps: int) -> float:
    """Steps per second of the plainest correct loop on the same model, data and batches."""
    data = load_data(exp.data, exp.seed)
    torch.manual_seed(exp.seed)
    model = build_model(exp.model, data.input_shape, data.n_classes)
    opt = torch.optim.Adam(model.parameters(), lr=exp.optimizer.lr)
    gen = torch.Generator().manual_seed(exp.seed)
    n, bs = len(data.y_train), exp.train.batch_size
    order, cursor, losses = torch.randperm(n, generator=gen), 0, []
    start = time.process_time()
    for _ in range(steps):
        if cursor >= n:
            order, cursor = torch.randperm(n, generator=gen), 0
        idx = order[cursor:cursor + bs]
        cursor += len(idx)
        loss = F.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return steps / (time.process_time() - start)


def engine_loop(exp: Experiment, steps: int) -> float:
    trainer = Trainer(exp.replace(train={"steps": steps + 1}))
    trainer.step()  # step 0's evaluation and histograms are set-up, not steady state
    start = time.process_time()
    for _ in range(steps):
        trainer.step()
    return steps / (time.process_time() - start)


def measure(case: str, exp: Experiment, steps: int, repeats: int) -> BenchResult:
    bare_loop(exp, 50), engine_loop(exp, 50)  # warm caches and lazy imports
    bare, engine = [], []
    for _ in range(repeats):
        bare.append(bare_loop(exp, steps))
        engine.append(engine_loop(exp, steps))
    ratio = statistics.median(e / b for e, b in zip(engine, bare))
    return BenchResult(case, statistics.median(bare), statistics.median(engine), ratio, torch.get_num_threads())


def main(repeats: int = 5, steps: int = 1500) -> int:
    torch.set_num_threads(1)
    print(f"engine vs bare PyTorch loop: {repeats} alternating rounds of {steps} steps, "
          f"{torch.get_num_threads()} torch thread(s), eval and histograms every 50 steps\n")
    print(f"| case | bare loop steps/s | engine steps/s | engine / bare |")
    print(f"|---|---:|---:|---:|")
    for case, exp in CASES.items():
        r = measure(case, exp, steps, repeats)
        print(f"| {r.case} | {r.bare_steps_per_sec:,.0f} | {r.engine_steps_per_sec:,.0f} | {r.ratio:.3f} |",
              flush=True)
    return 0
