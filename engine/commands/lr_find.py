"""``main.py lr-find``: the learning-rate range test on an experiment file or preset (the Finder tab, headless):
DIR/lr_find.csv and DIR/suggestions.json; with ``--check``, the tab's Challenge too: short full runs at rates
across the sweep (DIR/check.csv) and whether the best of them agrees with the finder's pick (DIR/verdict.json)."""
from __future__ import annotations

import sys

from engine.commands import OK, Command
from engine.commands.common import (
    add_source,
    add_threads,
    check_out_folder,
    preset_runs,
    set_threads,
    slug,
    stop_state,
    whole_at_least,
)

OPTIONS = {"start_lr": "--start-lr", "end_lr": "--end-lr", "steps": "--steps"}
"""The option of each sweep setting, to name it in a refusal (``FinderSettings.check`` names the field)."""


def configure(parser) -> None:
    add_source(parser, preset_help="a built-in experiment instead of a file (see: presets; also finder-fails)")
    parser.add_argument("--start-lr", default="1e-7", help="first rate of the sweep (default 1e-7)")
    parser.add_argument("--end-lr", default="10", help="last rate of the sweep (default 10)")
    parser.add_argument("--steps", default="100", help="mini-batches in the sweep (default 100)")
    parser.add_argument("--check", action="store_true",
                        help="after the sweep, train short runs at rates across it and say whether the best "
                             "agrees with the valley pick (check.csv, verdict.json)")
    parser.add_argument("--check-steps", type=whole_at_least(1), default=None,
                        help="training steps of each check run (default: the finder preset's, else 300)")
    parser.add_argument("--out", default="out", help="folder for lr_find.csv and suggestions.json (default ./out)")
    add_threads(parser)


def run(args) -> int:
    set_threads(args.threads)
    from engine.experiment import ExperimentError, load_experiment
    from engine.labs.lrfinder import (
        CHECK_STEPS,
        FinderSettings,
        SettingsError,
        check_finder,
        check_lrs,
        find_lr,
        verdict_of,
        write_check_files,
        write_finder_files,
    )
    from engine.lessons.presets import FINDER_PRESETS
    from engine.training.runner import StopSignals
    from engine.training.trainer import Trainer

    check_steps = CHECK_STEPS
    if args.preset in FINDER_PRESETS:
        runs = (FINDER_PRESETS[args.preset].experiment,)
        check_steps = FINDER_PRESETS[args.preset].check_steps
    elif args.preset:
        runs = preset_runs(args.preset)
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
    except SettingsError as err:     # the command and the option that gave the refused value
        raise ExperimentError(f"lr-find {OPTIONS[err.key]}" if err.key in OPTIONS else "lr-find", str(err)) from None
    check_steps = args.check_steps if args.check_steps is not None else check_steps
    out = check_out_folder(args.out)
    # Ctrl-C/SIGTERM: the sweep stops where it is, its files are written, the other runs are skipped.
    with StopSignals() as stop:
        for exp in runs:
            if exp.train.seeds > 1:      # the sweep trains one network: a Trainer is member 0
                print(f"note: {exp.name}: the finder sweeps member 0 (seed {exp.seed}) of its "
                      f"{exp.train.seeds} seeds", file=sys.stderr)
            print(f"{exp.name}: sweeping {settings.steps:,} steps from lr {settings.start_lr:.3g} to "
                  f"{settings.end_lr:.3g}", flush=True)
            result = find_lr(Trainer(exp), settings, stop_state(stop))
            where = out / slug(exp.name) if len(runs) > 1 else out
            write_finder_files(result, where)
            picks = ", ".join(f"{s.name} {s.lr:.3g}" for s in result.suggestions) or "none (too few points)"
            last = f" at lr {result.lrs[-1]:.3g}" if result.steps else ""
            print(f"{exp.name}: {result.stop_reason} after {result.steps} steps{last}; {picks} -> {where}", flush=True)
            if args.check and not stop():
                lrs = check_lrs(result)     # around the valley pick; without one, the sweep's middle
                print(f"{exp.name}: checking {len(lrs)} runs of {check_steps:,} steps, lr {lrs[0]:.3g} to "
                      f"{lrs[-1]:.3g}", flush=True)
                check = check_finder(stop_state(stop), exp, lrs, check_steps)
                verdict = verdict_of(result, check)
                write_check_files(check, verdict, where)
                print(f"{exp.name}: {verdict.sentence} -> {where}", flush=True)
            if stop():
                return stop.exit_code
    return OK


COMMAND = Command("lr-find", "learning-rate range test on an experiment file or preset "
                  "(writes lr_find.csv and suggestions.json; --check: check.csv and verdict.json)",
                  configure, run, source=True)
