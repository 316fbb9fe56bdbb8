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

Exit codes: 0 done (a diverged run is a result), 2 bad input (one ``error:`` line), 1 an internal error,
130 stopped by Ctrl-C (SIGINT) and 143 by SIGTERM (at a step boundary, files written; before training
starts, Ctrl-C exits 130 with one line and writes nothing).

This file only builds the parser from the command table (``engine/commands/``, one module per command)
and turns what a command raises into its exit code; the commands keep their imports inside, so
``--help`` and ``--version`` answer at once.
"""
from __future__ import annotations

import argparse
import multiprocessing
import sys
import traceback

from engine.commands import BAD_INPUT, COMMANDS, INTERNAL, bad_input_errors

INTERRUPTED = 130


class Parser(argparse.ArgumentParser):
    """argparse, but a wrong option is one ``error:`` line (naming the option) and exit 2, as every other
    bad input is, instead of the usage block."""

    def error(self, message: str):
        self.exit(BAD_INPUT, f"error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from engine import __version__
    parser = Parser(prog="descent-lab", description="Watch deep networks learn.")
    parser.add_argument("--version", action="version", version=f"Descent Lab {__version__}")
    parser.add_argument("--smoke-test", action="store_true",
                        help="open the window, train two runs a few hundred steps, check every plot, exit")
    sub = parser.add_subparsers(dest="command")
    for command in COMMANDS.values():
        command.configure(sub.add_parser(command.name, help=command.help))
    return parser


def run_window(args) -> int:
    """The app itself: the training window (``--smoke-test``: open it, train, check, close)."""
    from gui.app import run_app, smoke_test
    return smoke_test() if args.smoke_test else run_app()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = COMMANDS.get(args.command) if args.command else None
    if command is not None and command.source and bool(args.experiment) == bool(args.preset):
        print(f"error: {args.command} takes an experiment file or --preset NAME (one of them)", file=sys.stderr)
        return BAD_INPUT
    try:
        return command.run(args) if command is not None else run_window(args)
    except KeyboardInterrupt:   # Ctrl-C outside a training run (e.g. while torch imports): nothing to save
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as err:
        if isinstance(err, bad_input_errors()):
            print(f"error: {err}", file=sys.stderr)
            return BAD_INPUT
        from engine.files import WriteError
        if isinstance(err, WriteError):    # a full disk at the end: one line; the older files were kept
            print(f"error: {err}", file=sys.stderr)
            return INTERNAL
        print("internal error (please report it with the lines below):", file=sys.stderr)
        traceback.print_exc()
        return INTERNAL


if __name__ == "__main__":
    multiprocessing.freeze_support()
    try:
        sys.exit(main())
    except KeyboardInterrupt:   # between main()'s own handler and the exit
        print("interrupted", file=sys.stderr)
        sys.exit(INTERRUPTED)
