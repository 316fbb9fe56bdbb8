"""``main.py claims``: every claim the lessons make, checked at each seed: a table of claim, numbers and
"held at k of n seeds" (DIR/claims.csv, DIR/claims.json)."""
from __future__ import annotations

import json

from engine.commands import OK, Command, CommandError
from engine.commands.common import add_threads, check_out_folder, set_threads


def parse_seeds(text: str) -> list[int]:
    """``0-9``, ``3`` or ``0,2,5-7``: whole numbers >= 0, in the order given, each once."""
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        low, dash, high = part.partition("-")
        try:
            first, last = int(low), int(high) if dash else int(low)
        except ValueError:
            raise CommandError(f"--seeds: give seeds as 0-9 or 0,2,5, got {text!r}") from None
        if first < 0 or last < first:
            raise CommandError(f"--seeds: give seeds as 0-9 or 0,2,5, got {text!r}")
        seeds += [s for s in range(first, last + 1) if s not in seeds]
    return seeds


def configure(parser) -> None:
    parser.add_argument("--seeds", default="0-9", help="seeds to check each claim at (default 0-9)")
    parser.add_argument("--only", action="append", default=[], metavar="CLAIM",
                        help="check only this claim, e.g. 'preset optimizers' (repeatable; default all)")
    parser.add_argument("--members", type=int, default=1, metavar="K",
                        help="check each preset claim that reads only its runs' results at the K members of one "
                             "multi-seed run a seed (member k: seed + k on the seed's data; default 1: each seed alone)")
    parser.add_argument("--out", default="claims", help="folder for claims.csv and claims.json (default ./claims)")
    add_threads(parser)


def run(args) -> int:
    seeds = parse_seeds(args.seeds)
    from engine.config import MAX_SEEDS
    if not 1 <= args.members <= MAX_SEEDS:
        raise CommandError(f"--members: give 1 to {MAX_SEEDS} members a seed, got {args.members}")
    from engine.lessons.claims import CLAIMS, CLAIMS_BY_KEY, claims_table, write_claims_csv
    unknown = [key for key in args.only if key not in CLAIMS_BY_KEY]
    if unknown:
        raise CommandError(f"--only: unknown claim {unknown[0]!r} (choose from {', '.join(CLAIMS_BY_KEY)})")
    out = check_out_folder(args.out)
    set_threads(args.threads)
    from engine.files import write_text_atomic
    from engine.lessons.claims.live import member_checks
    from engine.training.runner import StopSignals

    claims = [CLAIMS_BY_KEY[key] for key in args.only] if args.only else list(CLAIMS)

    def say(check) -> None:
        data = "" if check.data_seed is None else f" (data seed {check.data_seed})"
        print(f"{check.key} @ seed {check.seed}{data}: {'holds' if check.holds else 'FAILS: ' + '; '.join(check.failed)}",
              flush=True)

    with StopSignals() as stop:   # Ctrl-C/SIGTERM: stop after the current check, write what was checked
        how = "" if args.members == 1 else f" (the preset claims at {args.members} members of one run a seed)"
        print(f"checking {len(claims)} claims at {len(seeds)} seeds{how}", flush=True)
        rows = claims_table(claims, seeds, on_check=say, should_stop=stop, check=member_checks(args.members))
    write_claims_csv(rows, out / "claims.csv")
    summary = {"seeds": seeds, "members": args.members, "claims": [{"claim": row.claim.key, "held": row.held, "of": len(row.checks),
                                           "says": row.claim.says} for row in rows]}
    write_text_atomic(out / "claims.json", json.dumps(summary, indent=2) + "\n")
    print("\n| claim | held |\n|---|---:|")
    for row in rows:
        print(f"| {row.claim.key} | {row.held} of {len(row.checks)} |")
    print(f"-> {out / 'claims.csv'}")
    return stop.exit_code if stop() else OK


COMMAND = Command("claims", "check every lesson claim at each seed: held at k of n", configure, run)
