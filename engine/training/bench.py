"""How much the engine costs over a bare PyTorch loop, measured as a ratio in one run.

Machines here are noisy, so absolute steps/s mean little; the two loops are
stepped turn about (one bare step, one engine step, ...) on the same model,
data, batch size and thread count, and the ratio of their times is what
counts (the median over rounds).  The engine runs with evaluation and histograms at their defaults
(every 50 steps), as is everything else (400 training and 400 validation
examples, batch 32); the bare loop does only what any honest loop does:
forward, loss, backward, step, and read the loss.

The seeds-as-bands rows (:func:`members_main`, issue 13) race K members of one experiment vectorized
(``engine.training.vectorized``) against the same K members as K sequential runs
(``SequentialMembers``), turn about in one process, in model-steps per second (K per step); the best of
a few rounds, as the machine is shared.

The precision rows (:func:`precision_main`, issue 14) race one experiment at ``train.precision`` fp32, bf16
and fp16 (dynamic loss scaling) turn about, measurements off, and give each one's steps per second as a
fraction of fp32's in the same rounds: what mixed precision costs on this CPU (on a GPU's tensor cores it
is the 2-3x speed-up; here the casts are extra work and the matrix products are no faster).
"""
from __future__ import annotations

import statistics
import time
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.config import DataConfig, Experiment, ModelConfig, OptimizerConfig
from engine.data.datasets import load_data
from engine.model.models import build_model
from engine.training.members import SequentialMembers
from engine.training.trainer import Trainer
from engine.training.vectorized import VectorizedMembers

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


MEMBER_KS = (1, 4, 16, 64)


@dataclass(frozen=True)
class MembersResult:
    case: str
    K: int
    vectorized: float     # model-steps per second (K member steps per step), best of the repeats
    sequential: float
    ratio: float          # vectorized / sequential, best of the per-round ratios


def members_round(exp: Experiment, K: int, steps: int) -> tuple[float, float]:
    """Seconds of ``steps`` steps of K vectorized members and of K sequential runs (K Trainers in
    lock-step), taken in turns of ``CHUNK // 10`` steps so both see the same moments of the machine."""
    long = exp.replace(train={"seeds": K, "steps": 10 * steps + 10})
    trainers: list[VectorizedMembers | SequentialMembers] = [VectorizedMembers(long), SequentialMembers(long)]
    for t in trainers:
        t.step()     # step 0's measurements are set-up
    clock, turn = time.perf_counter, max(1, CHUNK // 10)
    spent = [0.0, 0.0]
    for i in range(max(1, steps // turn)):
        for j in ((0, 1) if i % 2 else (1, 0)):
            start = clock()
            for _ in range(turn):
                trainers[j].step()
            spent[j] += clock() - start
    for t in trainers:
        t.stop()
    return spent[0], spent[1]


def measure_members(case: str, exp: Experiment, K: int, steps: int, repeats: int) -> MembersResult:
    members_round(exp, K, CHUNK // 10)   # warm up
    rounds = [members_round(exp, K, steps) for _ in range(repeats)]
    done = K * max(1, steps // max(1, CHUNK // 10)) * max(1, CHUNK // 10)
    return MembersResult(case, K, max(done / v for v, _ in rounds), max(done / s for _, s in rounds),
                         max(s / v for v, s in rounds))


def members_main(repeats: int = 3, steps: int = 200, ks: tuple[int, ...] = MEMBER_KS) -> int:
    """The seeds-as-bands rows: K members vectorized against K sequential runs, model-steps per second."""
    torch.set_num_threads(1)
    print(f"\nK seeds vectorized vs K sequential runs, side by side: best of {repeats} rounds of {steps} steps, "
          f"{torch.get_num_threads()} torch thread(s), eval and histograms every 50 steps\n")
    print("| case | K | vectorized model-steps/s | sequential model-steps/s | speed-up |")
    print("|---|---:|---:|---:|---:|")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)     # the stacked gradient's layout hint
        for case, exp in CASES.items():
            for K in ks:
                r = measure_members(case, exp, K, steps, repeats)
                print(f"| {r.case} | {r.K} | {r.vectorized:,.0f} | {r.sequential:,.0f} | {r.ratio:.1f}x |",
                      flush=True)
    return 0


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


PRECISIONS = ("fp32", "bf16", "fp16")


def precision_round(exp: Experiment, steps: int) -> dict[str, float]:
    """Seconds of ``steps`` steps at each precision (fp16 with dynamic loss scaling), measurements off,
    taken in turns of ``CHUNK`` steps in a rotating order so each sees the same moments of the machine."""
    quiet = exp.replace(train={"steps": 10 * steps + 10, "eval_every": 100 * steps, "histogram_every": 0})
    trainers = {p: Trainer(quiet.replace(train={"precision": p, "loss_scale": "dynamic"})) for p in PRECISIONS}
    for t in trainers.values():
        t.step()
    spent = dict.fromkeys(PRECISIONS, 0.0)
    names = list(PRECISIONS)
    for i in range(max(1, steps // CHUNK)):
        for name in names[i % 3:] + names[:i % 3]:
            start = time.perf_counter()
            for _ in range(CHUNK):
                trainers[name].step()
            spent[name] += time.perf_counter() - start
    for t in trainers.values():
        t.stop()
    return spent


def precision_main(repeats: int = 5, steps: int = 600) -> int:
    """The precision rows: fp32's steps per second and bf16's and fp16's as a fraction of it (median of the
    per-round ratios)."""
    torch.set_num_threads(1)
    print(f"\nprecision, stepped turn about: {repeats} rounds of {steps} steps, {torch.get_num_threads()} torch "
          f"thread(s), measurements off; speed relative to fp32 in the same rounds\n")
    print("| case | fp32 steps/s | bf16 / fp32 | fp16 (dynamic scaling) / fp32 |")
    print("|---|---:|---:|---:|")
    for case, exp in CASES.items():
        precision_round(exp, CHUNK)    # warm up
        rounds = [precision_round(exp, steps) for _ in range(repeats)]
        fp32 = statistics.median(steps / r["fp32"] for r in rounds)
        bf16 = statistics.median(r["fp32"] / r["bf16"] for r in rounds)
        fp16 = statistics.median(r["fp32"] / r["fp16"] for r in rounds)
        print(f"| {case} | {fp32:,.0f} | {bf16:.2f}x | {fp16:.2f}x |", flush=True)
    return 0
