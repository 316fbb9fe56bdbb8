"""Peak memory of a headless run against its number of steps: it must stay flat (issue 10, class 7).

Each run is ``engine.training.runner.run_experiment`` in a fresh interpreter of its own, on the smallest
network (one hidden layer of 2, 64 training examples), with an evaluation every 10,000 steps and no
histograms, so a step is cheap and what grows, if anything, is what the runner keeps per step.  The peak
resident set of each child is what the kernel reports for it (``os.wait4``'s ``ru_maxrss``), and the
difference between the longest and the shortest run is the memory a step costs.  Usage::

    .venv/bin/python benchmarks/runner_memory.py                       # 50,000 and 5,000,000 steps
    .venv/bin/python benchmarks/runner_memory.py --steps 50000 2000000

The results (``metrics.csv``, about 120 bytes a step) go to a temporary folder removed afterwards.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_STEPS = (50_000, 5_000_000)


def experiment(steps: int) -> dict:
    """The cheapest step the app has: a 2-unit hidden layer, 64 examples, rare evaluations."""
    return {"name": f"memory-{steps}", "model": {"hidden": [2]}, "data": {"n_train": 64, "n_val": 16},
            "train": {"steps": steps, "eval_every": 10_000, "histogram_every": 0}}


def child(steps: int, out: str) -> None:
    """Inside the child: one run, as ``main.py run`` makes it (one torch thread)."""
    import torch

    from engine.experiment import parse_experiment
    from engine.training.runner import run_experiment
    torch.set_num_threads(1)
    summary = run_experiment(parse_experiment(experiment(steps)), out)
    print(f"{summary['status']} {summary['steps']}", flush=True)


def peak_rss_mib(steps: int) -> tuple[float, float]:
    """Run ``steps`` in a fresh interpreter; returns (its peak RSS in MiB, seconds it took)."""
    with tempfile.TemporaryDirectory(prefix="runner-memory-") as out:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, __file__, "--child", str(steps), out], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        said = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0 or not said.startswith(f"finished {steps}"):
            raise SystemExit(f"the run of {steps:,} steps failed (exit {proc.returncode}): {said!r}")
        rows = sum(1 for _ in open(Path(out) / "metrics.csv")) - 1
        assert rows == steps + 1, rows
        # ru_maxrss is KiB on Linux, bytes on macOS
        kib = usage.ru_maxrss / 1024 if sys.platform == "darwin" else usage.ru_maxrss
        return kib / 1024, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=list(DEFAULT_STEPS),
                        help="the run lengths, shortest first (default 50000 5000000)")
    parser.add_argument("--child", nargs=2, metavar=("STEPS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(int(args.child[0]), args.child[1])
        return 0
    results = []
    for steps in args.steps:
        mib, seconds = peak_rss_mib(steps)
        results.append((steps, mib))
        print(f"{steps:>12,} steps: peak RSS {mib:8.1f} MiB  ({seconds:,.0f} s, {steps / seconds:,.0f} steps/s)",
              flush=True)
    (short, low), (long, high) = results[0], results[-1]
    slope = (high - low) / (long - short) * 1024 * 1024 if long != short else 0.0
    print(f"difference {long:,} - {short:,} steps: {high - low:+.1f} MiB ({slope:+.2f} bytes a step)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
