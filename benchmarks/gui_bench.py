"""What the training window costs, measured in one run (ratios and latencies, not absolute speed).

    .venv/bin/python benchmarks/gui_bench.py            # offscreen, or on the display DISPLAY names
    xvfb-run -a .venv/bin/python benchmarks/gui_bench.py [--runs 4]

1. Training speed with the window open and every plot live, against the
   engine headless on the same runs (four by default, the classroom case: Adam, SGD,
   momentum and RMSprop on the spiral; the Lab stepped in a loop with no
   window), taken turn about so machine drift cancels: their ratio.
2. While the runs train as fast as possible, a probe timer on the GUI
   thread (every 5 ms) measures how late it fires: p50 / p99 / max stall;
   and how many full redraws per second the window makes while training
   (the engine sends at most 30 batches a second).
3. Time from process start to the window shown, and to the first training
   step (separate processes, started cold).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STEPS = 4000
ROUNDS = 3
PROBE_MS = 5
RUNS = 4
OPTIMIZERS = (("adam", 0.01, 0.0), ("sgd", 0.1, 0.0), ("sgd", 0.05, 0.9), ("rmsprop", 0.003, 0.0))


def experiments(runs: int = RUNS):
    from engine.config import Experiment, OptimizerConfig, TrainConfig
    return [Experiment(name=f"{name} {lr:g}", optimizer=OptimizerConfig(name=name, lr=lr, momentum=momentum),
                       train=TrainConfig(steps=STEPS))
            for name, lr, momentum in (OPTIMIZERS * runs)[:runs]]


def headless_rate(runs: int = RUNS) -> float:
    """Steps per second of the same runs in the engine's Lab, no window."""
    from engine.training.session import Lab
    lab = Lab()
    for i, exp in enumerate(experiments(runs)):
        lab.add(f"r{i}", exp)
    lab.start()
    start = time.perf_counter()
    steps = 0
    while lab.running:
        steps += lab.step_round()
        lab.take_updates()   # the batching the worker does, without anyone drawing
    return steps / (time.perf_counter() - start)


def window_rate(app, window, runs: int = RUNS) -> tuple[float, list[float], float]:
    """Steps per second with the window drawing, the probe's stalls (ms), and full redraws per second."""
    from PySide6.QtCore import QTimer
    window.clear_runs()
    for exp in experiments(runs):
        window.add_run(exp)
    stalls: list[float] = []
    last = [time.perf_counter()]

    def probe():
        now = time.perf_counter()
        stalls.append(max(0.0, (now - last[0]) * 1000 - PROBE_MS))
        last[0] = now

    timer = QTimer()
    timer.setInterval(PROBE_MS)
    timer.timeout.connect(probe)
    drawn_before = window.batches_drawn
    window.toggle_start()
    start = time.perf_counter()
    last[0] = start
    timer.start()
    final = ("finished", "diverged", "stopped", "error")
    drawn_at: list[float] = []     # when each full redraw ended
    seen = drawn_before
    while not all(r.status in final for r in window.runs.values()):
        app.processEvents()
        if window.batches_drawn != seen:
            seen = window.batches_drawn
            drawn_at.append(time.perf_counter())
        time.sleep(0.001)
    elapsed = time.perf_counter() - start
    timer.stop()
    steps = sum(r.step for r in window.runs.values())
    # Redraws per second while training, from the first to the last (the start-up before the first
    # batch is the time-to-first-step measure, not a refresh rate).
    refresh = (len(drawn_at) - 1) / (drawn_at[-1] - drawn_at[0]) if len(drawn_at) > 1 else 0.0
    return steps / elapsed, stalls, refresh


def startup_times(samples: int = 3) -> tuple[float, float]:
    """Seconds from process start to window shown and to the first training step (medians)."""
    shown, first = [], []
    env = dict(os.environ, DESCENT_LAB_STARTUP_PROBE="1")
    for _ in range(samples):
        t0 = time.time()
        out = subprocess.run([sys.executable, str(ROOT / "main.py")], env=env, capture_output=True, text=True,
                             timeout=120)
        marks = dict(line.split() for line in out.stdout.splitlines() if line.startswith(("shown", "first_step")))
        shown.append(float(marks["shown"]) - t0)
        first.append(float(marks["first_step"]) - t0)
    return statistics.median(shown), statistics.median(first)


def main() -> int:
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help=f"runs trained side by side (default {RUNS})")
    runs = parser.parse_args().runs
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import tempfile

    import torch
    torch.set_num_threads(1)
    from PySide6.QtCore import QSettings

    from gui.app import make_app
    from gui.shell.window import MainWindow

    app = make_app()
    backend = os.environ.get("DESCENT_LAB_BACKEND", "process")
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(settings=QSettings(os.path.join(tmp, "b.ini"), QSettings.IniFormat), backend=backend)
        window.resize(1440, 900)
        window.show()
        while not window.ready:
            app.processEvents()
            time.sleep(0.01)
        ratios, stalls, refresh, rates = [], [], [], []
        for _ in range(ROUNDS):
            headless = headless_rate(runs)
            gui, probe, per_sec = window_rate(app, window, runs)
            ratios.append(gui / headless)
            rates.append((headless, gui))
            stalls += probe
            refresh.append(per_sec)
        window.close()
    shown, first = startup_times()
    stalls.sort()
    pct = lambda p: stalls[min(len(stalls) - 1, int(p * len(stalls)))]
    platform = os.environ.get("QT_QPA_PLATFORM") or "xcb"
    print(f"platform {platform}; training backend {backend}; {runs} runs of {STEPS} steps, {ROUNDS} rounds; "
          f"torch threads 1")
    print("| measure | value |")
    print("|---|---:|")
    print(f"| training with the window open / headless (median of {ROUNDS}) | {statistics.median(ratios):.2f} |")
    print(f"| headless steps/s ({runs} runs) | {statistics.median(h for h, _ in rates):,.0f} |")
    print(f"| window steps/s ({runs} runs, every plot live) | {statistics.median(g for _, g in rates):,.0f} |")
    print(f"| GUI-thread stall p50 / p99 / max | {pct(0.5):.1f} / {pct(0.99):.1f} / {stalls[-1]:.1f} ms |")
    print(f"| full redraws per second while training | {statistics.median(refresh):.1f} |")
    print(f"| process start to window shown | {shown:.2f} s |")
    print(f"| process start to first training step | {first:.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
