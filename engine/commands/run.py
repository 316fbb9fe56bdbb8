"""``main.py run``: train one experiment file, or each run of a preset, headless: metrics.csv, summary.json
(and members.csv for a run of ``train.seeds`` K > 1, whose numbers are then the members' mean)."""
from __future__ import annotations

import sys

from engine.commands import INTERNAL, OK, Command
from engine.commands.common import (
    add_out,
    add_source,
    add_threads,
    check_out_folder,
    num,
    preset_runs,
    set_threads,
    slug,
)


def configure(parser) -> None:
    add_source(parser)
    add_out(parser, "out", "folder for metrics.csv and summary.json (and members.csv with train.seeds > 1)")
    parser.add_argument("--seed", help="run with this seed instead of the file's or the preset's own "
                                       "(every run of a preset gets it: they stay comparable)")
    add_threads(parser, ": the lab's small networks run fastest on one")


def with_seed(runs, text: str | None):
    """``runs`` with their seed replaced by ``--seed``, checked by the experiment validator (its bounds,
    its message naming ``seed``)."""
    if text is None:
        return tuple(runs)
    from engine.experiment import experiment_to_dict, parse_experiment
    try:
        seed: object = int(text.strip())
    except ValueError:
        seed = text           # not a whole number: the validator names it
    return tuple(parse_experiment({**experiment_to_dict(exp), "seed": seed}) for exp in runs)


def run(args) -> int:
    set_threads(args.threads)
    from engine.experiment import load_experiment, notes
    from engine.status import RunStatus
    from engine.training.runner import StopSignals, run_experiment

    runs = with_seed(preset_runs(args.preset) if args.preset else (load_experiment(args.experiment),), args.seed)
    out = check_out_folder(args.out)
    code = OK
    # From here on SIGINT/SIGTERM stop the current run at a step boundary (its files are written).
    with StopSignals() as stop:
        for exp in runs:
            for note in notes(exp):
                print(f"note: {note}", file=sys.stderr)
            where = out / slug(exp.name) if len(runs) > 1 else out
            summary = run_experiment(exp, where, label=f"{exp.name} " if len(runs) > 1 else "", should_stop=stop)
            mean = f" (mean of {summary['final_members']} members)" if "members" in summary else ""
            print(f"{exp.name}: {summary['message']}; val loss {num(summary['final_val_loss'])}, "
                  f"val acc {num(summary['final_val_acc'])}{mean}, {summary['steps_per_sec']:,.0f} steps/s "
                  f"-> {where}", flush=True)
            if summary["status"] == RunStatus.ERROR:
                print(f"error: {exp.name}: {summary['message']}", file=sys.stderr)
                code = INTERNAL
            elif summary["status"] == RunStatus.STOPPED:
                return stop.exit_code
    return code


COMMAND = Command("run", "train one experiment file or preset headless", configure, run, source=True)
