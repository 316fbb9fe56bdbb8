"""``main.py bench``: the engine's speed against a bare PyTorch loop (the README's benchmark table)."""
from __future__ import annotations

from engine.commands import Command
from engine.commands.common import whole_at_least


def configure(parser) -> None:
    parser.add_argument("--repeats", type=whole_at_least(1), default=15, help="alternating rounds (default 15)")
    parser.add_argument("--steps", type=whole_at_least(1), default=600, help="steps per round (default 600)")


def run(args) -> int:
    from engine.training.bench import main as bench_main
    return bench_main(repeats=args.repeats, steps=args.steps)


COMMAND = Command("bench", "engine speed against a bare PyTorch loop", configure, run)
