"""``main.py large-batch``: one experiment trained at several batch sizes by SGD + linear scaling, LARS and
LAMB at equal epochs (``engine.labs.large_batch``): DIR/large_batch.csv, one row per method and batch, and
the table printed."""
from __future__ import annotations

from engine.commands import OK, Command, CommandError
from engine.commands.common import add_source, add_threads, check_out_folder, preset_runs, set_threads, stop_state


def configure(parser) -> None:
    add_source(parser, what="experiment JSON file (its data, model and seed; default: the lab's spiral of 32,768)",
               preset_help="a built-in experiment instead of a file (its first run's data, model and seed)")
    parser.add_argument("--batches", default=None,
                        help="comma-separated batch sizes, each one of 32, 64, ..., 8192 (default: the runs the "
                        "lab's claim reads, 32 and 512, 2048, 8192)")
    parser.add_argument("--methods", default="sgd,lars,lamb", help="comma-separated methods (default sgd,lars,lamb)")
    parser.add_argument("--epochs", default="10", help="epochs of every run (default 10): equal epochs, "
                        "so a batch k times larger takes k times fewer steps")
    parser.add_argument("--out", default="out", help="folder for large_batch.csv (default ./out)")
    add_threads(parser)


def _whole_list(option: str, text: str) -> tuple[int, ...]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items or not all(t.isascii() and t.isdigit() for t in items):
        raise CommandError(f"{option}: give comma-separated whole numbers, got {text!r}")
    return tuple(int(t) for t in items)


def settings_from(args):
    """The lab's settings from the options; raises the one-line error naming the option."""
    from engine.labs.large_batch import DEFAULT_BATCHES, LargeBatchSettings
    methods = tuple(t.strip() for t in args.methods.split(",") if t.strip())
    epochs = args.epochs.strip()
    if not (epochs.isascii() and epochs.isdigit()):
        raise CommandError(f"--epochs: must be a whole number, got {args.epochs!r}")
    batches = DEFAULT_BATCHES if args.batches is None else _whole_list("--batches", args.batches)
    settings = LargeBatchSettings(batches, methods, int(epochs))
    settings.check()
    return settings


def run(args) -> int:
    if args.experiment and args.preset:
        raise CommandError("large-batch takes an experiment file or --preset NAME, not both")
    set_threads(args.threads)
    from engine.experiment import load_experiment
    from engine.labs.large_batch import LAB_EXPERIMENT, plan, run_large_batch, table_lines, write_large_batch_csv
    from engine.training.runner import StopSignals

    base = (preset_runs(args.preset)[0] if args.preset else load_experiment(args.experiment) if args.experiment
            else LAB_EXPERIMENT)
    settings = settings_from(args)
    runs = plan(base, settings)                 # every run checked before any trains
    out = check_out_folder(args.out)
    with StopSignals() as stop:   # Ctrl-C/SIGTERM: the running run stops at a step, the rest are skipped
        print(f"training {len(runs)} runs of {base.name!r} at {settings.epochs} epochs on "
              f"{base.data.n_train:,} examples", flush=True)
        result = run_large_batch(stop_state(stop), base, settings, threads=None,
                                 announce=lambda line: print(line, flush=True))
    print("\n".join(table_lines(result.rows)))
    print(f"-> {write_large_batch_csv(result.rows, out / 'large_batch.csv')}")
    return stop.exit_code if stop() else OK


COMMAND = Command("large-batch", "batch sizes 32 to 8192 at equal epochs: SGD + linear scaling, LARS, LAMB",
                  configure, run)
