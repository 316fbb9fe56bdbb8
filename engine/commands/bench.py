"""``main.py bench``: the engine's speed against a bare PyTorch loop, and K seeds vectorized against K
sequential runs (the README's benchmark tables)."""
from __future__ import annotations

from engine.commands import Command
from engine.commands.common import whole_at_least


def configure(parser) -> None:
    parser.add_argument("--repeats", type=whole_at_least(1), default=15, help="alternating rounds (default 15)")
    parser.add_argument("--steps", type=whole_at_least(1), default=600, help="steps per round (default 600)")
    parser.add_argument("--members-repeats", type=whole_at_least(0), default=3,
                        help="rounds of the K-seeds rows, vectorized vs sequential (default 3; 0: skip them)")
    parser.add_argument("--members-steps", type=whole_at_least(10), default=200,
                        help="steps per round of the K-seeds rows (default 200)")
    parser.add_argument("--precision-repeats", type=whole_at_least(0), default=5,
                        help="rounds of the precision rows, fp32 vs bf16 vs fp16 (default 5; 0: skip them)")


def run(args) -> int:
    from engine.training.bench import main as bench_main
    from engine.training.bench import members_main, precision_main
    code = bench_main(repeats=args.repeats, steps=args.steps)
    if code == 0 and args.members_repeats:
        code = members_main(repeats=args.members_repeats, steps=args.members_steps)
    if code == 0 and args.precision_repeats:
        code = precision_main(repeats=args.precision_repeats, steps=args.steps)
    return code


COMMAND = Command("bench", "engine speed against a bare PyTorch loop; K seeds vectorized vs sequential; "
                  "fp16/bf16 vs fp32", configure, run)
