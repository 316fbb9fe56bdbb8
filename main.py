"""Descent Lab: watch deep networks learn.

    python main.py                          the app: the training window
    python main.py --smoke-test             open the window, train, check every plot, close (exit 0 if fine)
    python main.py run EXPERIMENT.json --out DIR
    python main.py run --preset NAME --out DIR
    python main.py presets                  list the built-in experiments
    python main.py schema                   every key of the experiment file
    python main.py bench                    engine speed against a bare PyTorch loop
    python main.py trajectories --surface rosenbrock --start -1.5,2 --steps 500 \
        --optimizer sgd:lr=0.001,momentum=0.9 --optimizer adam:lr=0.05 --out traj.csv
                                            optimizer paths on a 2-D surface (CSV: optimizer,step,x,y,loss,...)
    python main.py init-probe --depth 20 --width 256 --activation relu --out DIR
                                            per-layer activation/gradient stds at init, per scheme (DIR/init_probe.csv)
    python main.py lr-find EXPERIMENT.json --out DIR    (or --preset NAME; --start-lr 1e-7 --end-lr 10 --steps 100)
                                            learning-rate range test: DIR/lr_find.csv (step,lr,loss,smoothed_loss)
                                            and DIR/suggestions.json (valley, slide, minimum, steep, stop reason, range)
    python main.py race EXPERIMENT.json --out DIR [--train] (or --preset NAME; --schedules cosine,one-cycle)
                                            the schedule race: DIR/lr_curves.csv (step, one column per schedule);
                                            --train also trains each: DIR/race.csv and DIR/SCHEDULE/metrics.csv
    python main.py compare --preset regularization-lab --out DIR   (or a run-list JSON file)
                                            train each run, then final train vs val accuracy: DIR/comparison.csv

Exit codes of ``run``: 0 finished or diverged, 2 a bad experiment file, 1 an internal error,
130 stopped by Ctrl-C (SIGINT) and 143 by SIGTERM (at a step boundary, files written; before training
starts, Ctrl-C exits 130 with one line and writes nothing).
Imports are kept inside the commands so ``--help`` and ``--version`` answer at once.
"""
from __future__ import annotations

import argparse
import multiprocessing
import re
import sys
import traceback
from pathlib import Path

BAD_INPUT, INTERNAL = 2, 1


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "run"


def cmd_run(args) -> int:
    import torch
    torch.set_num_threads(args.threads)
    from engine.data.datasets import DataError
    from engine.experiment import ExperimentError, load_experiment, notes
    from engine.training.events import ERROR, STOPPED
    from engine.training.runner import StopSignals, run_experiment

    try:
        runs = _preset_runs(args.preset) if args.preset else (load_experiment(args.experiment),)
        out = Path(args.out)
        code = 0
        # From here on SIGINT/SIGTERM stop the current run at a step boundary (its files are written).
        with StopSignals() as stop:
            for exp in runs:
                for note in notes(exp):
                    print(f"note: {note}", file=sys.stderr)
                where = out / _slug(exp.name) if len(runs) > 1 else out
                summary = run_experiment(exp, where, label=f"{exp.name} " if len(runs) > 1 else "",
                                         should_stop=stop)
                print(f"{exp.name}: {summary['message']}; val loss {_num(summary['final_val_loss'])}, "
                      f"val acc {_num(summary['final_val_acc'])}, {summary['steps_per_sec']:,.0f} steps/s "
                      f"-> {where}", flush=True)
                if summary["status"] == ERROR:
                    print(f"error: {exp.name}: {summary['message']}", file=sys.stderr)
                    code = INTERNAL
                elif summary["status"] == STOPPED:
                    return stop.exit_code
    except (ExperimentError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return BAD_INPUT
    return code


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def cmd_presets(args) -> int:
    from engine.lessons.presets import PRESETS
    for preset in PRESETS.values():
        runs = ", ".join(exp.name for exp in preset.runs)
        print(f"{preset.name:<16} {preset.title}  [{runs}]")
    return 0


def cmd_schema(args) -> int:
    from engine.experiment import format_schema
    print(format_schema())
    return 0


def cmd_bench(args) -> int:
    from engine.training.bench import main as bench_main
    return bench_main(repeats=args.repeats, steps=args.steps)


def cmd_trajectories(args) -> int:
    """Optimizer paths on a 2-D loss surface, written as CSV (the Trajectories tab, headless)."""
    import torch
    torch.set_num_threads(1)
    from engine.labs.surfaces import SurfaceError, distance_to_minimum, surface
    from engine.labs.trajectories import SpecError, compute_trajectories, parse_spec, parse_start, write_csv

    try:
        info = surface(args.surface)
        params = {}
        for item in args.param:
            key, eq, value = item.partition("=")
            if not eq:
                raise SurfaceError(f"--param takes KEY=VALUE, got {item!r}")
            params[key.strip()] = value
        info.resolve(params)
        start = parse_start(args.start) if args.start else info.start
        if not args.optimizer:
            raise SpecError("give at least one --optimizer SPEC, e.g. --optimizer adam:lr=0.05")
        specs = [parse_spec(text) for text in args.optimizer]
        steps = args.steps.strip()
        if not steps.isdigit():
            raise SpecError(f"steps: must be a whole number >= 0, got {args.steps!r}")
        paths = compute_trajectories(info.name, start, specs, int(steps), params)
    except (SurfaceError, SpecError) as err:
        print(f"error: {err}", file=sys.stderr)
        return BAD_INPUT
    write_csv(paths, args.out)
    for path in paths:
        dist = distance_to_minimum(info.name, path.x[-1], path.y[-1])
        print(f"{path.label}: {path.message}; loss {_num(float(path.loss[-1]))}, "
              f"distance to the nearest minimum {'n/a' if dist != dist else _num(float(dist))}")
    print(f"-> {args.out}")
    return 0


def cmd_init_probe(args) -> int:
    """Per-layer activation and gradient stds of a deep MLP at initialization, per init scheme (CSV)."""
    import torch
    torch.set_num_threads(1)
    from engine.labs.initprobe import (
        CSV_COLUMNS,
        ProbeConfig,
        TrainEachConfig,
        check_probe_config,
        check_train_config,
        probe_inits,
        probe_summary,
        train_schemes,
        write_probe_csv,
        write_train_csv,
    )
    from engine.training.jobs import TaskState

    def whole(name: str, text: str) -> int:
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError(f"{name}: must be a whole number, got {text!r}") from None

    try:
        try:
            std = float(args.std)
        except ValueError:
            raise ValueError(f"std: must be a number, got {args.std!r}") from None
        schemes = tuple(s.strip() for s in args.schemes.split(",") if s.strip()) if args.schemes else None
        cfg = ProbeConfig(depth=whole("depth", args.depth), width=whole("width", args.width),
                          activation=args.activation.strip(), init_std=std, seed=whole("seed", args.seed),
                          batch=whole("batch", args.batch), **({"schemes": schemes} if schemes else {}))
        check_probe_config(cfg)
        train_steps = whole("train-steps", args.train_steps)
        train = TrainEachConfig(steps=train_steps) if train_steps else None
        if train is not None:
            check_train_config(train)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return BAD_INPUT
    out = Path(args.out)
    result = probe_inits(cfg)
    path = write_probe_csv(result, out / "init_probe.csv")
    for line in probe_summary(result):
        print(line)
    print(f"-> {path} ({', '.join(CSV_COLUMNS)})")
    if train is not None:
        progress = train_schemes(TaskState(), cfg, train)
        path = write_train_csv(progress, out / "init_train.csv")
        for curve in progress.curves:
            print(f"{curve.scheme:<15} trained: loss {_num(float(curve.train_loss[0]))} -> "
                  f"{_num(float(curve.train_loss[-1]))}, train acc {_num(float(curve.train_acc[-1]))}; {curve.message}")
        print(f"-> {path}")
    return 0


def cmd_lr_find(args) -> int:
    """The learning-rate range test on an experiment file or preset (the Finder tab, headless)."""
    import torch
    torch.set_num_threads(args.threads)
    from engine.data.datasets import DataError
    from engine.experiment import ExperimentError, load_experiment
    from engine.labs.lrfinder import FinderSettings, find_lr, write_finder_files
    from engine.lessons.presets import FINDER_PRESETS
    from engine.training.trainer import Trainer

    try:
        if args.preset in FINDER_PRESETS:
            runs = (FINDER_PRESETS[args.preset].experiment,)
        elif args.preset:
            runs = _preset_runs(args.preset)
        else:
            runs = (load_experiment(args.experiment),)
        def number(option: str, text: str, kind=float):
            try:
                return kind(text.strip())
            except ValueError:
                what = "a whole number" if kind is int else "a number"
                raise ExperimentError(option, f"must be {what}, got {text!r}") from None

        settings = FinderSettings(number("--start-lr", args.start_lr), number("--end-lr", args.end_lr),
                                  number("--steps", args.steps, int))
        try:
            settings.check()
        except ValueError as err:
            raise ExperimentError("lr-find", str(err)) from None
        out = Path(args.out)
        for exp in runs:
            result = find_lr(Trainer(exp), settings)
            where = out / _slug(exp.name) if len(runs) > 1 else out
            write_finder_files(result, where)
            picks = ", ".join(f"{s.name} {s.lr:.3g}" for s in result.suggestions) or "none (too few points)"
            print(f"{exp.name}: {result.stop_reason} after {result.steps} steps at lr {result.lrs[-1]:.3g}; "
                  f"{picks} -> {where}")
    except (ExperimentError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return BAD_INPUT
    return 0


def _preset_runs(name: str):
    """The runs of a built-in preset, or the one-line error naming ``--preset``."""
    from engine.experiment import ExperimentError
    from engine.lessons.presets import PRESETS
    if name not in PRESETS:
        raise ExperimentError("--preset", f"unknown preset {name!r} (see: main.py presets)")
    return PRESETS[name].runs


def cmd_race(args) -> int:
    """The schedule race: every contender's learning-rate curve, and with --train each one trained."""
    import torch
    torch.set_num_threads(args.threads)
    from engine.data.datasets import DataError
    from engine.experiment import ExperimentError, load_experiment
    from engine.files import write_csv_atomic
    from engine.labs.race import race_curves, race_experiments, write_curves_csv
    from engine.training.events import STOPPED
    from engine.training.runner import StopSignals, run_experiment

    try:
        base = _preset_runs(args.preset)[0] if args.preset else load_experiment(args.experiment)
        labels = [label.strip() for label in args.schedules.split(",") if label.strip()] if args.schedules else None
        try:
            runs = race_experiments(base, labels=labels)
        except ValueError as err:
            if isinstance(err, ExperimentError):
                raise
            raise ExperimentError("--schedules", str(err)) from None
        out = Path(args.out)
        path = write_curves_csv(race_curves(runs), out / "lr_curves.csv")
        print(f"{len(runs)} schedules over {base.total_steps():,} steps -> {path}")
        if not args.train:
            return 0
        rows = []
        with StopSignals() as stop:   # Ctrl-C/SIGTERM: stop this contender, skip the rest, still write race.csv
            for exp in runs:
                summary = run_experiment(exp, out / _slug(exp.name), label=f"{exp.name} ", should_stop=stop)
                rows.append([exp.name, summary["status"], summary["steps"],
                             *(_cell(summary[k]) for k in RACE_FINALS)])
                print(f"{exp.name}: {summary['message']}; val loss {_num(summary['final_val_loss'])}, "
                      f"val acc {_num(summary['final_val_acc'])}")
                if summary["status"] == STOPPED:
                    break
        print(f"-> {write_csv_atomic(out / 'race.csv', ['schedule', 'status', 'steps', *RACE_FINALS], rows)}")
        if stop():
            return stop.exit_code
    except (ExperimentError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return BAD_INPUT
    return 0


RACE_FINALS = ("final_train_loss", "final_val_loss", "final_val_acc")


def _cell(value) -> str:
    return "" if value is None else repr(float(value))


def cmd_compare(args) -> int:
    """Train every run of a preset or run list, then compare final train and validation accuracy."""
    import torch
    torch.set_num_threads(args.threads)
    from engine.data.datasets import DataError
    from engine.experiment import ExperimentError, load_run_list
    from engine.files import write_csv_atomic
    from engine.labs.regularization import run_comparison

    try:
        runs = list(_preset_runs(args.preset)) if args.preset else load_run_list(args.experiment)

        def say(row) -> None:
            print(f"{row.name}: train acc {row.train_acc:.3f}, val acc {row.val_acc:.3f}, gap {row.gap:+.3f}")

        rows = run_comparison(runs, on_row=say)
        path = write_csv_atomic(Path(args.out) / "comparison.csv", ["name", "train_acc", "val_acc", "gap"],
                                ([row.name, repr(row.train_acc), repr(row.val_acc), repr(row.gap)] for row in rows))
        print(f"-> {path}")
    except (ExperimentError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return BAD_INPUT
    return 0


def cmd_default(args) -> int:
    """The app itself: the training window (``--smoke-test``: open it, train, check, close)."""
    from gui.app import run_app, smoke_test
    return smoke_test() if args.smoke_test else run_app()


def build_parser() -> argparse.ArgumentParser:
    from engine import __version__
    parser = argparse.ArgumentParser(prog="descent-lab", description="Watch deep networks learn.")
    parser.add_argument("--version", action="version", version=f"Descent Lab {__version__}")
    parser.add_argument("--smoke-test", action="store_true",
                        help="open the window, train two runs a few hundred steps, check every plot, exit")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="train one experiment file or preset headless")
    run.add_argument("experiment", nargs="?", help="experiment JSON file")
    run.add_argument("--preset", help="a built-in experiment instead of a file (see: presets)")
    run.add_argument("--out", default="out", help="folder for metrics.csv and summary.json (default ./out)")
    run.add_argument("--threads", type=int, default=1,
                     help="torch threads (default 1: the lab's small networks run fastest on one)")
    run.set_defaults(func=cmd_run)
    sub.add_parser("presets", help="list the built-in experiments").set_defaults(func=cmd_presets)
    sub.add_parser("schema", help="every key of the experiment file").set_defaults(func=cmd_schema)
    bench = sub.add_parser("bench", help="engine speed against a bare PyTorch loop")
    bench.add_argument("--repeats", type=int, default=15, help="alternating rounds (default 15)")
    bench.add_argument("--steps", type=int, default=600, help="steps per round (default 600)")
    bench.set_defaults(func=cmd_bench)
    traj = sub.add_parser("trajectories", help="optimizer paths on a 2-D loss surface, as CSV")
    traj.add_argument("--surface", default="rosenbrock",
                      help="rosenbrock, beale, himmelblau, saddle, ravine or rastrigin (default rosenbrock)")
    traj.add_argument("--start", help="common start point x,y (default: the surface's own)")
    # So that "--start -1.5,2" reads as a value, not as an unknown option (argparse only knows "-1.5").
    traj._negative_number_matcher = re.compile(r"^-\d*\.?\d+([,\s]+-?\d*\.?\d+)*$")
    traj.add_argument("--steps", default="500", help="optimizer steps per path (default 500)")
    traj.add_argument("--optimizer", action="append", default=[], metavar="SPEC",
                      help="NAME:key=value,... e.g. sgd:lr=0.001,momentum=0.9 or adam:lr=0.05,betas=0.9/0.99 "
                           "(repeat for several paths)")
    traj.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                      help="a surface parameter, e.g. condition=100 for the ravine")
    traj.add_argument("--out", default="trajectories.csv", help="CSV file to write (default trajectories.csv)")
    traj.set_defaults(func=cmd_trajectories)
    probe = sub.add_parser("init-probe", help="per-layer activation and gradient stds at initialization, as CSV")
    probe.add_argument("--depth", default="20", help="hidden layers, 2 to 50 (default 20)")
    probe.add_argument("--width", default="256", help="units per layer, 2 to 1024 (default 256)")
    probe.add_argument("--activation", default="relu", help="relu, tanh, sigmoid, gelu or linear (default relu)")
    probe.add_argument("--schemes", help="comma-separated init schemes (default all: default, xavier_uniform, "
                                         "xavier_normal, he_uniform, he_normal, orthogonal, normal, zeros)")
    probe.add_argument("--std", default="0.01", help="standard deviation of the normal scheme (default 0.01)")
    probe.add_argument("--seed", default="0", help="seed of the weights, inputs and loss (default 0)")
    probe.add_argument("--batch", default="128", help="standardized input vectors, 2 to 4096 (default 128)")
    probe.add_argument("--train-steps", default="0",
                       help="also train each scheme this many SGD steps on the spiral, "
                            "writing init_train.csv (default 0: no training)")
    probe.add_argument("--out", default="out", help="folder for init_probe.csv (default ./out)")
    probe.set_defaults(func=cmd_init_probe)
    lrf = sub.add_parser("lr-find", help="learning-rate range test on an experiment file or preset "
                                         "(writes lr_find.csv and suggestions.json)")
    lrf.add_argument("experiment", nargs="?", help="experiment JSON file")
    lrf.add_argument("--preset", help="a built-in experiment instead of a file (see: presets; also finder-fails)")
    lrf.add_argument("--start-lr", default="1e-7", help="first rate of the sweep (default 1e-7)")
    lrf.add_argument("--end-lr", default="10", help="last rate of the sweep (default 10)")
    lrf.add_argument("--steps", default="100", help="mini-batches in the sweep (default 100)")
    lrf.add_argument("--out", default="out", help="folder for lr_find.csv and suggestions.json (default ./out)")
    lrf.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    lrf.set_defaults(func=cmd_lr_find)
    race = sub.add_parser("race", help="the schedule race: learning-rate curves, and with --train each trained")
    race.add_argument("experiment", nargs="?", help="experiment JSON file (its schedule is replaced)")
    race.add_argument("--preset", help="a built-in experiment instead of a file (its first run)")
    race.add_argument("--schedules", help="comma-separated contenders (default all: constant, step, "
                      "exponential, cosine, warmup+cosine, one-cycle)")
    race.add_argument("--train", action="store_true", help="also train each contender (DIR/race.csv)")
    race.add_argument("--out", default="out", help="folder for the files (default ./out)")
    race.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    race.set_defaults(func=cmd_race)
    compare = sub.add_parser("compare", help="train each run, then compare final train vs val accuracy")
    compare.add_argument("experiment", nargs="?", help="run-list JSON file (or one experiment)")
    compare.add_argument("--preset", help="a built-in set of runs, e.g. regularization-lab")
    compare.add_argument("--out", default="out", help="folder for comparison.csv (default ./out)")
    compare.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    compare.set_defaults(func=cmd_compare)
    parser.set_defaults(func=cmd_default)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if hasattr(args, "preset") and bool(args.experiment) == bool(args.preset):   # run, lr-find, race, compare
        print(f"error: {args.command} takes an experiment file or --preset NAME (one of them)", file=sys.stderr)
        return BAD_INPUT
    try:
        return args.func(args)
    except KeyboardInterrupt:   # Ctrl-C outside a training run (e.g. while torch imports): nothing to save
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        print("internal error (please report it with the lines below):", file=sys.stderr)
        traceback.print_exc()
        return INTERNAL


if __name__ == "__main__":
    multiprocessing.freeze_support()
    try:
        sys.exit(main())
    except KeyboardInterrupt:   # between main()'s own handler and the exit
        print("interrupted", file=sys.stderr)
        sys.exit(130)
