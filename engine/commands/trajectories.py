"""``main.py trajectories``: optimizer paths on a 2-D loss surface, as CSV (the Trajectories tab, headless)."""
from __future__ import annotations

import re

from engine.commands import OK, Command
from engine.commands.common import check_out_file, num, set_threads


def configure(parser) -> None:
    parser.add_argument("--surface", default="rosenbrock",
                        help="rosenbrock, beale, himmelblau, saddle, ravine, rastrigin or double-well "
                             "(default rosenbrock)")
    parser.add_argument("--start", help="common start point x,y (default: the surface's own)")
    # So that "--start -1.5,2" reads as a value, not as an unknown option (argparse only knows "-1.5").
    parser._negative_number_matcher = re.compile(r"^-\d*\.?\d+([,\s]+-?\d*\.?\d+)*$")
    parser.add_argument("--steps", default="500", help="optimizer steps per path (default 500)")
    parser.add_argument("--optimizer", action="append", default=[], metavar="SPEC",
                        help="NAME:key=value,... e.g. sgd:lr=0.001,momentum=0.9 or adam:lr=0.05,betas=0.9/0.99 "
                             "or sgd:lr=0.05,noise=3 (noisy gradients; repeat for several paths)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="a surface parameter, e.g. condition=100 for the ravine")
    parser.add_argument("--noise-seed", default="0", metavar="N",
                        help="seed of the gradient noise of the paths that have some (a spec's noise=SIGMA: "
                             "Gaussian noise of that standard deviation added to every gradient; default 0)")
    parser.add_argument("--out", default="trajectories.csv", help="CSV file to write (default trajectories.csv)")


def run(args) -> int:
    set_threads(1)
    from engine.labs.surfaces import SurfaceError, distance_to_minimum, surface
    from engine.labs.trajectories import (
        SpecError,
        compute_trajectories,
        parse_spec,
        parse_start,
        write_csv,
    )

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
    if not (steps.isascii() and steps.isdigit()):
        raise SpecError(f"steps: must be a whole number >= 0, got {args.steps!r}")
    seed = args.noise_seed.strip()
    if not (seed.isascii() and seed.isdigit()):
        raise SpecError(f"noise-seed: must be a whole number >= 0, got {args.noise_seed!r}", "noise_seed")
    out = check_out_file(args.out)
    paths = compute_trajectories(info.name, start, specs, int(steps), params, int(seed))
    write_csv(paths, out)
    for path in paths:
        dist = distance_to_minimum(info.name, path.x[-1], path.y[-1])
        print(f"{path.label}: {path.message}; loss {num(float(path.loss[-1]))}, "
              f"distance to the nearest minimum {'n/a' if dist != dist else num(float(dist))}")
    print(f"-> {out}")
    return OK


COMMAND = Command("trajectories", "optimizer paths on a 2-D loss surface, as CSV", configure, run)
