"""``main.py race``: the schedule race: every contender's learning-rate curve (DIR/lr_curves.csv), and with
``--train`` each one trained (DIR/race.csv and DIR/SCHEDULE/metrics.csv)."""
from __future__ import annotations

from engine.commands import OK, Command, CommandError
from engine.commands.common import add_source, add_threads, check_out_folder, num, preset_runs, set_threads, slug


def configure(parser) -> None:
    add_source(parser, what="experiment JSON file (its schedule is replaced)",
               preset_help="a built-in experiment instead of a file (its first run)")
    parser.add_argument("--schedules", help="comma-separated contenders (default all: constant, step, "
                        "exponential, cosine, warmup+cosine, one-cycle)")
    parser.add_argument("--train", action="store_true", help="also train each contender (DIR/race.csv)")
    parser.add_argument("--out", default="out", help="folder for the files (default ./out)")
    add_threads(parser)


def run(args) -> int:
    set_threads(args.threads)
    from engine.experiment import ExperimentError, load_experiment
    from engine.labs.race import race_curves, race_experiments, race_row, write_curves_csv, write_race_csv
    from engine.status import RunStatus
    from engine.training.runner import StopSignals, run_experiment

    base = preset_runs(args.preset)[0] if args.preset else load_experiment(args.experiment)
    labels = None
    if args.schedules is not None:
        labels = [label.strip() for label in args.schedules.split(",") if label.strip()]
        if not labels:
            raise CommandError(f"--schedules: give at least one schedule, got {args.schedules!r}")
    try:
        runs = race_experiments(base, labels=labels)
    except ValueError as err:
        if isinstance(err, ExperimentError):
            raise
        raise ExperimentError("--schedules", str(err)) from None
    out = check_out_folder(args.out)
    path = write_curves_csv(race_curves(runs), out / "lr_curves.csv")
    print(f"{len(runs)} schedules over {base.total_steps():,} steps -> {path}")
    if not args.train:
        return OK
    rows = []
    with StopSignals() as stop:   # Ctrl-C/SIGTERM: stop this contender, skip the rest, still write race.csv
        for exp in runs:
            summary = run_experiment(exp, out / slug(exp.name), label=f"{exp.name} ", should_stop=stop)
            rows.append(race_row(exp.name, summary))
            print(f"{exp.name}: {summary['message']}; val loss {num(summary['final_val_loss'])}, "
                  f"val acc {num(summary['final_val_acc'])}")
            if summary["status"] == RunStatus.STOPPED:
                break
    print(f"-> {write_race_csv(rows, out / 'race.csv')}")
    return stop.exit_code if stop() else OK


COMMAND = Command("race", "the schedule race: learning-rate curves, and with --train each trained",
                  configure, run, source=True)
