"""Retake the README's screenshots of the window and every lab, on a real (virtual) display.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/take_screenshots.py [NAME ...]
        [--size 1024x768] [--presenter] [--dark] [--out DIR]

NAME is one of the shots below (default: all).  Each is the whole window at
1440x900 (or ``--size``) after doing what a teacher would do first in that place, with
throw-away settings so nobody's saved runs are touched.  ``--presenter`` and ``--dark`` take the
same shots in presenter mode (a projector) and the dark theme, for review; the README's are the
defaults, written to docs/screenshots/.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"


def main(names: list[str], size: tuple[int, int] = (1440, 900), presenter: bool = False, dark: bool = False,
         out: Path = OUT) -> int:
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QSettings

    from engine.status import FINAL
    from gui.app import make_app
    from gui.shell.window import MainWindow

    app = make_app()
    with tempfile.TemporaryDirectory() as tmp:
        w = MainWindow(settings=QSettings(os.path.join(tmp, "s.ini"), QSettings.IniFormat))
        w.resize(*size)
        w.show()
        if presenter:
            w.presenter_action.trigger()
        if dark:
            w.set_dark(True)

        def pump(done=None, timeout: float = 300.0) -> None:
            """Process events until ``done()`` (a shot whose work has not ended by ``timeout`` seconds is
            an error, not a picture of half a result), or for ``timeout`` seconds of redraws without it."""
            start = time.time()
            while not (done is not None and done()) and time.time() - start < timeout:
                app.processEvents()
                time.sleep(0.01)
            if done is not None and not done():
                raise TimeoutError(f"the shot's work did not end within {timeout:.0f} s")
            for _ in range(30):          # the last redraws
                app.processEvents()
                time.sleep(0.01)

        def save(name: str) -> None:
            out.mkdir(parents=True, exist_ok=True)
            w.grab().save(str(out / f"{name}.png"))
            print(f"saved {out / name}.png")

        # The shots replace the runs on purpose (a lesson, then the comparison): answer the window's
        # "Replace the runs?" with Yes, as a teacher who has saved what mattered would.
        from PySide6.QtWidgets import QMessageBox
        QMessageBox.question = staticmethod(lambda *args, **kwargs: QMessageBox.Yes)

        def training() -> None:
            w.load_preset("optimizers")
            w.toggle_start()
            pump(lambda: all(r.status in FINAL for r in w.runs.values()))
            save("training-window")

        def bands() -> None:
            """The optimizers lesson at 16 seeds a run: SGD, momentum and Adam as bands (issue 13)."""
            w.preset_seeds.spin.setValue(16)
            w.load_preset("optimizers")
            w.toggle_start()
            pump(lambda: all(r.status in FINAL for r in w.runs.values()), timeout=900)
            save("bands")
            w.preset_seeds.spin.setValue(1)

        def weights() -> None:
            w.tabs.setCurrentWidget(w.histograms)
            pump(timeout=1)
            save("weights-tab")

        def weights_rates() -> None:
            """The Weights tab's effective rates of the last run's first layer, and every run's step sizes."""
            w.tabs.setCurrentWidget(w.histograms)
            w.histograms.set_kind("rate")
            pump(timeout=1)
            save("weights-rates")
            w.histograms.set_kind("weight")

        def step_sizes() -> None:
            """The step-sizes lesson in the Weights tab: Adam's effective rates and every run's step sizes."""
            w.load_preset("step-sizes")
            w.toggle_start()
            pump(lambda: all(r.status in FINAL for r in w.runs.values()))
            w.tabs.setCurrentWidget(w.histograms)
            view = w.histograms
            view.select_run(view._run_combo.itemData(view._run_combo.findText("adam")))
            view.select_layer("hidden2.linear.weight")     # 16 x 16 weights: the claim's spread within a layer
            view.set_kind("rate")
            pump(timeout=1)
            save("weights-step-sizes")
            view.set_kind("weight")

        def fp16() -> None:
            """The mixed-precision lesson in the Weights tab, stopped half-way: fp16 without loss scaling, the
            first layer's gradients (exactly zero: underflowed) while fp32 and fp16 with scaling train."""
            w.load_preset("mixed-precision")
            w.toggle_start()
            pump(lambda: all(r.step >= 400 for r in w.runs.values()))
            w.stop_runs()
            pump(lambda: all(r.status in FINAL for r in w.runs.values()))
            w.tabs.setCurrentWidget(w.histograms)
            view = w.histograms
            view.select_run(view._run_combo.itemData(view._run_combo.findText("fp16 no scaling")))
            view.select_layer("hidden1.linear.weight")
            view.set_kind("grad")
            pump(timeout=1)
            save("weights-fp16")
            view.set_kind("weight")

        def results() -> None:
            w.tabs.setCurrentWidget(w.training_tab.results)
            pump(timeout=1)
            save("results-tab")

        def trajectories() -> None:
            lab = w.show_lab("trajectories")
            pump(lambda: not lab.busy() and lab.trajectory(0) is not None)
            lab.set_step(min(120, lab.max_step()))
            lab.set_arrows(True)
            pump(timeout=1)
            save("lab-trajectories")

        def noise() -> None:
            """Lessons > In the labs > Gradient noise: the exact and the noisy path on the double well."""
            from gui.shell.lesson_panel import LAB_LESSONS, open_lab_lesson
            open_lab_lesson(w, LAB_LESSONS[0])
            lab = w.lab("trajectories")
            pump(lambda: not lab.busy() and lab.trajectory(1) is not None)
            lab.set_step(lab.max_step())
            pump(timeout=1)
            save("lab-noise")

        def finder() -> None:
            lab = w.show_lab("finder")
            lab.run_finder()
            pump(lambda: lab.result is not None and not lab.busy())
            lab.check_steps_spin.setValue(150)
            lab.check_finder()
            pump(lambda: not lab.busy())
            save("lab-finder")

        def init() -> None:
            lab = w.show_lab("init")
            pump(lambda: lab.probe_result() is not None and not lab._probe_runner.busy())
            lab.start_training(steps=150)
            pump(lambda: not lab.training())
            save("lab-init")

        def schedules() -> None:
            w.show_lab("schedules")
            pump(timeout=1)
            save("lab-schedules")

        def regularization() -> None:
            lab = w.show_lab("regularization")
            lab.compare_button.click()
            pump(lambda: all(r.status in FINAL for r in w.runs.values()))
            w.show_lab("regularization")
            pump(timeout=1)
            save("lab-regularization")

        def search_lesson(title: str):
            """The Search tab with a Lessons-menu search lesson's preset, raced to its end."""
            from gui.shell.lesson_panel import SEARCH_LESSONS, open_search_lesson
            open_search_lesson(w, next(lesson for lesson in SEARCH_LESSONS if lesson.title == title))
            tab = w.lab("search")
            tab.start()
            pump(lambda: not tab.busy(), timeout=900)
            return tab

        def search() -> None:
            search_lesson("Random beats grid")
            save("search-race")

        def search_pbt() -> None:
            tab = search_lesson("Population-based training")
            if tab.pbt_view is not None:
                tab.views.setCurrentWidget(tab.pbt_view)     # the lineage: who copied whom, round by round
            pump(timeout=1)
            save("search-pbt")

        def large_batch() -> None:
            """The large-batch lab's own set-up: SGD, LARS and LAMB at 32, 512, 2048 and 8192, 10 epochs."""
            lab = w.show_lab("large-batch")
            lab.start()
            pump(lambda: not lab.busy() and lab.result() is not None and bool(lab.result().rows), timeout=900)
            save("lab-large-batch")

        shots = {f.__name__: f for f in (training, bands, weights, weights_rates, step_sizes, fp16, results, trajectories,
                                         noise, finder, init, schedules, regularization, search, search_pbt, large_batch)}
        unknown = [n for n in names if n not in shots]
        if unknown:
            print(f"unknown shot(s) {unknown}; choose from {', '.join(shots)}", file=sys.stderr)
            return 2
        pump(lambda: w.ready)
        for name in names or shots:
            shots[name]()
        w.close()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Retake the README's screenshots (or review ones).")
    parser.add_argument("names", nargs="*")
    parser.add_argument("--size", default="1440x900", help="window size WxH (default 1440x900)")
    parser.add_argument("--presenter", action="store_true", help="presenter mode (F5)")
    parser.add_argument("--dark", action="store_true", help="the dark theme")
    parser.add_argument("--out", default=str(OUT), help="folder for the PNGs (default docs/screenshots)")
    args = parser.parse_args()
    width, _, height = args.size.partition("x")
    sys.exit(main(args.names, (int(width), int(height)), args.presenter, args.dark, Path(args.out)))
