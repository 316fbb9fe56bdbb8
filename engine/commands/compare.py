"""``main.py compare``: train every run of a preset or run-list file, then compare final train and
validation accuracy (the Regularization tab, headless): DIR/comparison.csv (the final rows) and
DIR/gap_curves.csv (each run's train and validation accuracy, and their gap, at every evaluation)."""
from __future__ import annotations

from engine.commands import OK, Command, CommandError
from engine.commands.common import add_source, add_threads, check_out_folder, preset_runs, set_threads


def configure(parser) -> None:
    add_source(parser, what="run-list JSON file (or one experiment)",
               preset_help="a built-in set of runs, e.g. regularization-lab")
    parser.add_argument("--out", default="out", help="folder for comparison.csv (default ./out)")
    add_threads(parser)


def run(args) -> int:
    set_threads(args.threads)
    from engine.experiment import load_run_list
    from engine.labs.regularization import run_gap_curves, write_comparison_csv, write_gap_csv
    from engine.status import RunStatus
    from engine.training.runner import StopSignals

    runs = list(preset_runs(args.preset)) if args.preset else load_run_list(args.experiment)
    many = next((exp for exp in runs if exp.train.seeds > 1), None)
    if many is not None:     # the gap curves are one network's: a band of them is not built (yet)
        raise CommandError(f"compare trains one seed per run: {many.name!r} has train.seeds "
                           f"{many.train.seeds} (set it to 1, or use 'run' for its members' mean)")

    out = check_out_folder(args.out)

    def say(curve) -> None:
        row = curve.row
        ended = "" if row.status == RunStatus.FINISHED else f" ({row.status})"
        print(f"{row.name}: train acc {row.train_acc:.3f}, val acc {row.val_acc:.3f}, gap {row.gap:+.3f}{ended}")

    # Ctrl-C/SIGTERM: the current run stops (it has no final row), the rest are skipped, the finished
    # rows are still written.
    with StopSignals() as stop:
        print(f"training {len(runs)} runs", flush=True)
        curves = run_gap_curves(runs, should_stop=stop, on_curve=say)
    path = write_comparison_csv([curve.row for curve in curves], out / "comparison.csv")
    print(f"-> {path}, {write_gap_csv(curves, out / 'gap_curves.csv')}")
    return stop.exit_code if stop() else OK


COMMAND = Command("compare", "train each run, then compare final train vs val accuracy", configure, run,
                  source=True)
