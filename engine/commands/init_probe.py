"""``main.py init-probe``: per-layer activation and gradient stds of a deep MLP at initialization, per scheme
(the Initialization tab, headless), and with ``--train-steps`` each scheme trained."""
from __future__ import annotations

from engine.commands import OK, Command, CommandError
from engine.commands.common import check_out_folder, num, set_threads, stop_state


def configure(parser) -> None:
    parser.add_argument("--depth", default="20", help="hidden layers, 2 to 50 (default 20)")
    parser.add_argument("--width", default="256", help="units per layer, 2 to 1024 (default 256)")
    parser.add_argument("--activation", default="relu", help="relu, tanh, sigmoid, gelu or linear (default relu)")
    parser.add_argument("--schemes", help="comma-separated init schemes (default all: default, xavier_uniform, "
                                          "xavier_normal, he_uniform, he_normal, orthogonal, normal, zeros)")
    parser.add_argument("--std", default="0.01", help="standard deviation of the normal scheme (default 0.01)")
    parser.add_argument("--seed", default="0", help="seed of the weights, inputs and loss (default 0)")
    parser.add_argument("--batch", default="128", help="standardized input vectors, 2 to 4096 (default 128)")
    parser.add_argument("--train-steps", default="0",
                        help="also train each scheme this many SGD steps on the spiral, "
                             "writing init_train.csv (default 0: no training)")
    parser.add_argument("--out", default="out", help="folder for init_probe.csv (default ./out)")


def _whole(name: str, text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise CommandError(f"{name}: must be a whole number, got {text!r}") from None


def run(args) -> int:
    set_threads(1)
    from engine.labs.initprobe import (
        CSV_COLUMNS,
        ProbeConfig,
        TrainEachConfig,
        check_probe_config,
        check_train_config,
        probe_inits,
        probe_summary,
        train_schemes,
        write_probe_csv,
        write_train_csv,
    )
    from engine.training.runner import StopSignals

    try:
        std = float(args.std)
    except ValueError:
        raise CommandError(f"std: must be a number, got {args.std!r}") from None
    schemes = tuple(s.strip() for s in args.schemes.split(",") if s.strip()) if args.schemes else None
    cfg = ProbeConfig(depth=_whole("depth", args.depth), width=_whole("width", args.width),
                      activation=args.activation.strip(), init_std=std, seed=_whole("seed", args.seed),
                      batch=_whole("batch", args.batch), **({"schemes": schemes} if schemes else {}))
    try:      # the probe's own checks name the key
        check_probe_config(cfg)
        train_steps = _whole("train-steps", args.train_steps)
        train = TrainEachConfig(steps=train_steps) if train_steps else None
        if train is not None:
            check_train_config(train)
    except CommandError:
        raise
    except ValueError as err:
        raise CommandError(str(err)) from None
    out = check_out_folder(args.out)
    result = probe_inits(cfg)
    path = write_probe_csv(result, out / "init_probe.csv")
    for line in probe_summary(result):
        print(line)
    print(f"-> {path} ({', '.join(CSV_COLUMNS)})")
    if train is not None:
        # Ctrl-C/SIGTERM: every scheme stops where it is, and the curves so far are written.
        with StopSignals() as stop:
            print(f"training {len(cfg.schemes)} schemes {train.steps:,} steps each", flush=True)
            progress = train_schemes(stop_state(stop), cfg, train)
        path = write_train_csv(progress, out / "init_train.csv")
        for curve in progress.curves:
            if not len(curve.train_loss):      # stopped before its first evaluation
                print(f"{curve.scheme:<15} not trained; {curve.message}")
                continue
            print(f"{curve.scheme:<15} trained: loss {num(float(curve.train_loss[0]))} -> "
                  f"{num(float(curve.train_loss[-1]))}, train acc {num(float(curve.train_acc[-1]))}; {curve.message}")
        print(f"-> {path}")
        if stop():
            return stop.exit_code
    return OK


COMMAND = Command("init-probe", "per-layer activation and gradient stds at initialization, as CSV", configure, run)
