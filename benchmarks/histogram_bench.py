"""Memory of the Weights tab after 1,000 and after 100,000 histogram ticks: it must not grow with the run.

100,000 ticks is a 5,000,000-step run with a histogram every 50 steps.  No training process: each tick
count is fed, in a fresh interpreter of its own, to a shown (offscreen)
:class:`~gui.training.histograms.HistogramView` as :class:`~engine.training.updates.RunUpdate` batches
like the worker sends (``--batch`` ticks each; 3 layers of 40 bins, weights and gradients, the weights
spreading slowly and the gradients shrinking, as in training).  Every update is drawn and the event loop
turned, so the heatmap's image and caches count too.  Reported per tick count: the resident set
(``VmRSS``) above its value after the first update, and the bytes the layers' histories hold
(:attr:`~gui.training.histogram_history.LayerHistory.nbytes`, exact); then the ratios long / short.
A bounded history gives a held-bytes ratio of 1 once both runs fill the history (``cap`` rows a kind),
and an RSS ratio near 1 up to the allocator's noise.  Usage::

    .venv/bin/python benchmarks/histogram_bench.py                      # 1,000 and 100,000 ticks
    .venv/bin/python benchmarks/histogram_bench.py --ticks 1000 10000 100000

Numbers only, no timed asserts; the bound itself is tested by counting rows and bytes
(tests/gui/training/test_histogram_history.py).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TICKS = (1_000, 100_000)
EVERY = 50            # steps between histogram ticks
LAYERS, BINS = 3, 40


def rss_mib() -> float:
    """This process's resident set now, in MiB (Linux: ``VmRSS`` of ``/proc/self/status``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def updates(ticks: int, batch: int):
    """The run's RunUpdates, ``batch`` histogram ticks each."""
    import numpy as np

    from engine.training.events import ActivationStats, Histogram, HistogramEvent, LayerHistogram
    from engine.training.updates import EMPTY_EVALS, EMPTY_STEPS, RunUpdate
    rng = np.random.default_rng(0)

    def one(half: float) -> Histogram:
        return Histogram(rng.integers(0, 50, BINS), np.linspace(-half, half, BINS + 1), 0.0, half / 2)

    for start in range(0, ticks, batch):
        events = tuple(HistogramEvent(EVERY * i, tuple(
            LayerHistogram(f"hidden{k}.linear.weight", one(1.0 + i / ticks), one(0.1 / (1.0 + i / 100)) if i else None)
            for k in range(LAYERS)), (ActivationStats("hidden0", 0.0, 1.0),))
            for i in range(start, min(start + batch, ticks)))
        status = "finished" if start + batch >= ticks else "running"
        yield RunUpdate("run1", status, "", events[-1].step, 0.0, 1000.0, EMPTY_STEPS, EMPTY_EVALS, events)


def child(ticks: int, batch: int) -> None:
    """Inside the child: one run's histograms fed to the Weights tab; prints start and end RSS, held bytes."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QApplication

    from gui.training.histograms import HistogramView
    app = QApplication.instance() or QApplication([])
    view = HistogramView()
    view.resize(1200, 700)
    view.show()
    view.add_run("run1", "run 1", QColor("#0072B2"))
    start = None
    for update in updates(ticks, batch):
        view.append(update)
        app.processEvents()
        if start is None:
            start = rss_mib()
    end = rss_mib()
    held = sum(layer.nbytes for layer in view._runs["run1"].layers.values())
    print(f"{start:.1f} {end:.1f} {held}", flush=True)


def measure(ticks: int, batch: int) -> tuple[float, float, int, float]:
    """(RSS after the first update, after the last, MiB; bytes the histories hold; seconds)."""
    started = time.monotonic()
    said = subprocess.run([sys.executable, __file__, "--child", str(ticks), str(batch)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if said.returncode != 0:
        raise SystemExit(f"the run of {ticks:,} ticks failed (exit {said.returncode}): {said.stderr[-2000:]}")
    start, end, held = said.stdout.split()[-3:]
    return float(start), float(end), int(held), time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, nargs="+", default=list(DEFAULT_TICKS),
                        help="the histogram tick counts, fewest first (default 1000 100000)")
    parser.add_argument("--batch", type=int, default=50, help="ticks per RunUpdate (default 50: 2,500 steps)")
    parser.add_argument("--child", nargs=2, type=int, metavar=("TICKS", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.batch < 1 or any(t < 1 for t in args.ticks):
        parser.error("--ticks and --batch must be at least 1")
    if args.child:
        child(*args.child)
        return 0
    results = []
    for ticks in args.ticks:
        start, end, held, seconds = measure(ticks, args.batch)
        results.append((ticks, end - start, held))
        print(f"{ticks:>9,} ticks ({ticks * EVERY:,} steps): RSS {start:7.1f} -> {end:7.1f} MiB (+{end - start:.1f}), "
              f"histories hold {held / 2 ** 20:.2f} MiB  ({seconds:,.0f} s)", flush=True)
    (short, grown_short, held_short), (long, grown_long, held_long) = results[0], results[-1]
    if long != short:
        rss = f"{grown_long / grown_short:.2f}" if grown_short > 0 else "n/a (no growth at the short run)"
        print(f"{long:,} against {short:,} ticks ({long / short:,.0f}x the ticks): held bytes x{held_long / held_short:.2f}, "
              f"RSS growth {grown_long:+.1f} against {grown_short:+.1f} MiB (ratio {rss})")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
