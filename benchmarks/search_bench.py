"""The search lab's two performance targets (issue 12), measured through the real engine.

1. **Scaling**: two worker processes finish a fixed race at >= 1.8x the trials per second of one, for
   trials of about a second, on 2 cores.  The same search is started twice with
   :func:`engine.labs.search.launch.start` (what ``main.py search`` calls), ``workers=1`` then ``workers=2``,
   each into a fresh folder with its own journal file; the ratio is taken in the same run.  The wall time is
   the whole race as a user waits for it: the training processes' start-up (spawn, torch imported) and the
   files written at the end are in it.
   Beside it, the **machine's ceiling**: the same trial trained by two already-started processes at once
   against one, with no search at all (no node, no storage, no start-up): ``2 x t(one alone) / t(two at
   once)``.  On a VM whose two cores share a physical core or its memory bandwidth this is well under 2,
   and no search can beat it; the search's ratio is then read against it (its share of the ceiling).
2. **Suggesting**: the time the node spends suggesting (the samplers, the Gaussian process included) is
   under 10% of the race's wall time, at 30 trials per method (grid, random, TPE, GP), two workers.  The
   node runs in this process, so its public calls are timed where they are made: ``Node.ask`` (what the
   node's loop calls for each trial: the budget's bookkeeping and the sampler) and, inside it,
   ``optuna.Study.ask`` (the sampler alone), each wrapped for the race and put back after it.  While the
   node suggests, a training process that has finished waits for its next trial, so this time is lost
   throughput, whatever the other cores do.

Usage (it takes a few minutes; run it on a quiet machine, the load average is printed with the figures)::

    nice .venv/bin/python benchmarks/search_bench.py
    .venv/bin/python benchmarks/search_bench.py --trials 24 --steps 500      # the scaling race's size

Each race's files go to a temporary folder removed afterwards.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STEPS = 500             # about a second a trial at one torch thread on the development VM
SCALING_TRIALS = 24
SUGGEST_TRIALS = 30


def search_file(methods: list[str], trials: int, steps: int) -> dict:
    """The random-beats-grid lesson's three knobs (only the learning rate matters) on a trial of about a second,
    the rate in ``1e-4 .. 1``, where no trial of this base diverges, so every trial trains its steps."""
    return {"base": {"name": "search-bench", "data": {"dataset": "spiral", "n_train": 400, "n_val": 400},
                     "model": {"hidden": [32, 32]}, "optimizer": {"name": "sgd"},
                     "train": {"steps": steps, "batch_size": 32, "eval_every": 50, "histogram_every": 0}},
            "space": {"optimizer.lr": {"log": [1e-4, 1.0]}, "model.init_std": {"uniform": [0.01, 0.1]},
                      "schedule.eta_min": {"uniform": [0.0, 1e-3]}},
            "methods": methods, "trials": trials, "objective": "best_val_loss", "seed": 0}


@dataclass
class Race:
    workers: int
    wall: float
    trials: int
    trial_seconds: list[float]
    node_ask: float = 0.0                       # seconds in Node.ask, every call
    sampler_ask: dict[str, float] = field(default_factory=dict)     # seconds in Study.ask, by method
    asks: int = 0

    @property
    def rate(self) -> float:
        return self.trials / self.wall


@contextmanager
def timed_asks(race: Race):
    """Time ``Node.ask`` and ``optuna.Study.ask`` while the race runs (both restored after it)."""
    import optuna

    from engine.labs.search import work
    node_ask, study_ask = work.Node.ask, optuna.Study.ask
    sampler: dict[str, float] = defaultdict(float)

    def node_timed(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return node_ask(self, *args, **kwargs)
        finally:
            race.node_ask += time.perf_counter() - started
            race.asks += 1

    def study_timed(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return study_ask(self, *args, **kwargs)
        finally:
            sampler[self.study_name.rsplit(".", 1)[-1]] += time.perf_counter() - started

    work.Node.ask, optuna.Study.ask = node_timed, study_timed
    try:
        yield
    finally:
        work.Node.ask, optuna.Study.ask = node_ask, study_ask
        race.sampler_ask = dict(sampler)


def run_race(raw: dict, workers: int) -> Race:
    from engine.labs.search.launch import start
    from engine.labs.search.spec import parse_search
    from engine.labs.search.work import Told
    from engine.status import RunStatus

    search = parse_search(raw)
    race = Race(workers, 0.0, 0, [])
    with tempfile.TemporaryDirectory(prefix="search-bench-") as out, timed_asks(race):
        started = time.perf_counter()
        done = start(search, Path(out), None, "bench", workers)
        race.wall = time.perf_counter() - started
    told = [t for t in done.told if isinstance(t, Told)]
    bad = [t for t in told if t.result.status not in (RunStatus.FINISHED, RunStatus.DIVERGED)]
    if bad:
        raise SystemExit(f"{len(bad)} trials failed: {bad[0].result.message}")
    race.trials = len(told)
    race.trial_seconds = [t.result.seconds for t in told]
    return race


def _ceiling_trial(raw: dict, repeats: int) -> list[float]:
    """Seconds of ``repeats`` trainings of one trial of ``raw`` (learning rate 0.05), in this process."""
    import torch

    from engine.labs.search.spec import parse_search
    from engine.labs.search.trial import train_trial
    torch.set_num_threads(1)
    search = parse_search(raw)
    return [train_trial(search.base, {"optimizer.lr": 0.05}, search.settings.objective).seconds
            for _ in range(repeats)]


def ceiling(raw: dict, repeats: int = 3) -> tuple[float, float]:
    """(median seconds of a trial with one process training, with two training at once), both in processes
    started and warmed up (one trial each) before anything is timed."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_ceiling_trial, [raw, raw], [1, 1]))           # both started, torch imported, warm
        alone = pool.submit(_ceiling_trial, raw, repeats).result()
        together = [t for f in [pool.submit(_ceiling_trial, raw, repeats) for _ in range(2)] for t in f.result()]
    return statistics.median(alone), statistics.median(together)


def load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS, help=f"steps a trial trains (default {STEPS})")
    parser.add_argument("--trials", type=int, default=SCALING_TRIALS,
                        help=f"trials of the scaling race (random search; default {SCALING_TRIALS})")
    parser.add_argument("--suggest-trials", type=int, default=SUGGEST_TRIALS,
                        help=f"trials per method of the suggesting race (default {SUGGEST_TRIALS})")
    parser.add_argument("--skip", choices=("scaling", "suggest"), help="leave one part out")
    args = parser.parse_args(argv)
    from engine.labs.search.methods import quiet_optuna
    quiet_optuna()
    print(f"{os.cpu_count()} cores, load average {load()} (1/5/15 min) at the start", flush=True)

    if args.skip != "scaling":
        raw = search_file(["random"], args.trials, args.steps)
        one = run_race(raw, 1)
        print(f"workers=1: {one.trials} trials in {one.wall:.1f} s", flush=True)
        two = run_race(raw, 2)
        print(f"workers=2: {two.trials} trials in {two.wall:.1f} s", flush=True)
        ratio = two.rate / one.rate
        alone, together = ceiling(raw)
        top = 2 * alone / together
        print("\n| race | trials | trial s (median) | wall s | trials/s |\n|---|---:|---:|---:|---:|")
        for race in (one, two):
            print(f"| random, {race.workers} worker{'s' if race.workers > 1 else ''} | {race.trials} | "
                  f"{statistics.median(race.trial_seconds):.2f} | {race.wall:.1f} | {race.rate:.3f} |")
        print(f"| machine ceiling: one trial, 1 process alone / 2 at once (no search) | | {alone:.2f} / "
              f"{together:.2f} | | |")
        print(f"\ntwo workers / one: **{ratio:.2f}x** (target >= 1.8x); the machine's ceiling "
              f"{top:.2f}x (two warm processes training at once, no search), so the search reaches "
              f"{100 * ratio / top:.0f}% of it; load average {load()}\n", flush=True)

    if args.skip != "suggest":
        raw = search_file(["grid", "random", "tpe", "gp"], args.suggest_trials, args.steps)
        race = run_race(raw, 2)
        share = race.node_ask / race.wall
        print(f"| suggesting race: grid, random, TPE, GP, {args.suggest_trials} trials each, 2 workers | |\n|---|---:|")
        print(f"| trials (grid: the grid its budget buys) | {race.trials} |")
        print(f"| trial s (median) | {statistics.median(race.trial_seconds):.2f} |")
        print(f"| race wall s | {race.wall:.1f} |")
        for method, seconds in sorted(race.sampler_ask.items()):
            print(f"| sampler ask s, {method} | {seconds:.2f} |")
        print(f"| Node.ask s (all {race.asks} calls: sampler and budget bookkeeping) | {race.node_ask:.2f} |")
        print(f"| suggesting / wall | **{100 * share:.1f}%** (target < 10%) |")
        print(f"\nload average {load()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
