"""Memory of one long run as the training window holds it: it must stay bounded (issue 11, section 3).

No training process: each run length is fed, in a fresh interpreter of its own, to the tab's own objects,
a shown (offscreen) :class:`~gui.training.metric_plots.MetricPlots` and a
:class:`~gui.training.tab.RunEntry` (whose ``log`` is the run's ``MetricsLog``), as
:class:`~engine.training.updates.RunUpdate` batches like the worker sends: ``--batch`` steps each (a
falling, noisy loss; a learning rate decaying; a gradient norm, clipped at every 7th step) and an
evaluation every 50 steps.  Every update is drawn and the event loop turned, so the plots' painted
caches count too.  The resident set (``VmRSS`` in ``/proc/self/status``) is read after the first
update and after the last; their difference is what the run's points cost the window.  ``--histograms``
adds a histogram event (3 layers of 40 bins) every 50 steps, fed to the Weights tab's
:class:`~gui.training.histograms.HistogramView` as well.  Usage::

    .venv/bin/python benchmarks/window_memory.py                       # 20,000 and 2,000,000 steps
    .venv/bin/python benchmarks/window_memory.py --steps 20000 200000 2000000
    .venv/bin/python benchmarks/window_memory.py --histograms --steps 20000 200000

Numbers only, no timed asserts; the bound itself is tested by counting points
(tests/engine/training/test_reservoir.py, tests/gui/training/test_bounded_plots.py).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_STEPS = (20_000, 2_000_000)
EVAL_EVERY = 50


def rss_mib() -> float:
    """This process's resident set now, in MiB (Linux: ``VmRSS`` of ``/proc/self/status``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def histograms(at, rng) -> tuple:
    """A histogram event (3 layers, 40 bins, weights and gradients) at each step of ``at``."""
    import numpy as np

    from engine.training.events import ActivationStats, Histogram, HistogramEvent, LayerHistogram

    def one():
        return Histogram(rng.integers(0, 50, 40), np.linspace(-1.0, 1.0, 41), 0.0, 0.5)
    return tuple(HistogramEvent(int(s), tuple(LayerHistogram(f"hidden{k}.linear.weight", one(), one())
                                               for k in range(3)), (ActivationStats("hidden0", 0.0, 1.0),))
                 for s in at)


def updates(steps: int, batch: int, with_histograms: bool = False):
    """The run's RunUpdates, ``batch`` steps at a time, as ``UpdateBuffer.take`` makes them."""
    import numpy as np

    from engine.training.updates import EMPTY_EVALS, EvalSeries, RunUpdate, StepSeries
    rng = np.random.default_rng(0)
    for start in range(0, steps + 1, batch):
        step = np.arange(start, min(start + batch, steps + 1), dtype=np.int64)
        epoch = step / 25.0
        loss = 2.0 / (1.0 + step / 1000.0) + 0.1 * rng.random(len(step))
        norm = 1.0 + rng.random(len(step))
        series = StepSeries(step, epoch, 0.1 / (1.0 + step / 1e5), loss, norm, step % 7 == 0)
        at = step[step % EVAL_EVERY == 0]
        evals = EMPTY_EVALS
        if len(at):
            value = 1.0 / (1.0 + at / 1000.0)
            evals = EvalSeries(at, at / 25.0, value, 1.0 - value / 2, value * 1.1, 1.0 - value / 1.9)
        status = "finished" if step[-1] == steps else "running"
        hists = histograms(at, rng) if with_histograms else ()
        yield RunUpdate("run1", status, "", int(step[-1]), float(epoch[-1]), 1000.0, series, evals, hists)


def child(steps: int, batch: int, with_histograms: int = 0) -> None:
    """Inside the child: one run fed to the window's plots and run record; prints start and end RSS."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QApplication

    from gui.training.histograms import HistogramView
    from gui.training.metric_plots import MetricPlots
    from gui.training.tab import RunEntry
    app = QApplication.instance() or QApplication([])
    plots = MetricPlots()
    plots.resize(1440, 700)
    plots.show()
    plots.add_run("run1", "run 1", QColor("#0072B2"))
    plots.set_planned_extent(steps, steps / 25.0)
    entry = RunEntry("run1", "run 1", QColor("#0072B2"), None)
    weights = HistogramView()
    weights.add_run("run1", "run 1", QColor("#0072B2"))
    start = None
    for update in updates(steps, batch, bool(with_histograms)):
        entry.log.append(update)
        plots.append(update)
        weights.append(update)
        app.processEvents()
        if start is None:
            start = rss_mib()
    end = rss_mib()
    held = len(plots.curve_data("run1", "loss", "batch")[1])
    print(f"{start:.1f} {end:.1f} {held}", flush=True)


def measure(steps: int, batch: int, with_histograms: bool) -> tuple[float, float, int, float]:
    """(RSS after the first update, after the last, MiB; points held by the batch-loss curve; seconds)."""
    started = time.monotonic()
    said = subprocess.run([sys.executable, __file__, "--child", str(steps), str(batch), str(int(with_histograms))],
                          cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if said.returncode != 0:
        raise SystemExit(f"the run of {steps:,} steps failed (exit {said.returncode}): {said.stderr[-2000:]}")
    start, end, held = said.stdout.split()[-3:]
    return float(start), float(end), int(held), time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=list(DEFAULT_STEPS),
                        help="the run lengths, shortest first (default 20000 2000000)")
    parser.add_argument("--batch", type=int, default=500, help="steps per RunUpdate (default 500)")
    parser.add_argument("--histograms", action="store_true",
                        help="also a weight and gradient histogram of 3 layers every 50 steps, to the Weights view")
    parser.add_argument("--child", nargs=3, type=int, metavar=("STEPS", "BATCH", "HISTOGRAMS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    results = []
    for steps in args.steps:
        start, end, held, seconds = measure(steps, args.batch, args.histograms)
        results.append((steps, end - start))
        print(f"{steps:>12,} steps: RSS {start:7.1f} -> {end:7.1f} MiB (+{end - start:.1f}), "
              f"batch-loss curve holds {held:,} points  ({seconds:,.0f} s)", flush=True)
    (short, low), (long, high) = results[0], results[-1]
    if long != short:
        slope = (high - low) / (long - short) * 1024 * 1024
        print(f"growth {long:,} against {short:,} steps: {high - low:+.1f} MiB ({slope:+.1f} bytes a step); "
              f"{long:,} steps: +{high:.1f} MiB above the start")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
