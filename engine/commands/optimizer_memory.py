"""``main.py optimizer-memory``: each optimizer's state bytes against the weights, on the experiment's network
and on a network of large square matrices, as CSV (the form's memory line and its table, headless)."""
from __future__ import annotations

from engine.commands import OK, Command, CommandError
from engine.commands.common import add_out, check_out_file, whole_at_least

#: One example's shape per dataset kind; the digits are 8x8 (engine.data.datasets), the IDX sets 28x28.
#: Known from the config, so the network is built without loading its data.
EXAMPLE_SHAPES = {"plane": (2,), "image": (1, 28, 28)}
DATASET_SHAPES = {"digits": (1, 8, 8)}


def configure(parser) -> None:
    parser.add_argument("experiment", nargs="?", help="experiment JSON file (default: the default experiment)")
    parser.add_argument("--width", type=whole_at_least(1), default=1024,
                        help="width of the square network's layers (default 1024)")
    parser.add_argument("--depth", type=whole_at_least(1), default=2,
                        help="how many width x width layers it has (default 2)")
    add_out(parser, "optimizer_memory.csv", "CSV file to write")


def experiment_network(exp):
    """The experiment's network as the trainer builds it (seeded, the global generator untouched), and its name
    (``"mlp 2-16-16-2"``).  Built from the config alone: no data is loaded."""
    import torch

    from engine.data.datasets import DATASETS
    from engine.model.models import build_model

    dataset = DATASETS[exp.data.dataset]
    shape = DATASET_SHAPES.get(dataset.name, EXAMPLE_SHAPES[str(dataset.kind)])
    classes = exp.data.classes or dataset.default_classes
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(exp.seed)
        model = build_model(exp.model, shape, classes)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if any(isinstance(m, torch.nn.Conv2d) for m in model.modules()) or not linears:
        name = f"{exp.model.kind} {sum(p.numel() for p in model.parameters()):,} weights"
    else:
        name = f"{exp.model.kind} " + "-".join(map(str, [linears[0].in_features] + [m.out_features for m in linears]))
    return model, name


def run(args) -> int:
    from engine.config import Experiment
    from engine.experiment import load_experiment
    from engine.optim.memory import (
        adafactor_note,
        format_bytes,
        format_ratio,
        measure_network,
        square_name,
        square_network,
        table_configs,
        write_memory_csv,
    )

    if args.width * args.width * args.depth > 64 * 1024 * 1024:
        raise CommandError(f"--width/--depth: {args.depth} layers of {args.width}x{args.width} are over "
                           f"64M weights (256 MB each copy); choose a smaller square network")
    exp = load_experiment(args.experiment) if args.experiment else Experiment()
    out = check_out_file(args.out)
    model, name = experiment_network(exp)
    configs = table_configs(exp.optimizer)
    memories = [measure_network(name, list(model.parameters()), configs),
                measure_network(square_name(args.width, args.depth),
                                list(square_network(args.width, args.depth).parameters()), configs)]
    for memory in memories:
        print(f"{memory.network}: weights {format_bytes(memory.weights_bytes)}")
        for row in memory.rows:
            settings = f" ({row.settings})" if row.settings else ""
            print(f"  {row.optimizer + settings:<44} {format_ratio(row.per_weights):>7}  "
                  f"{format_bytes(row.state_bytes):>8}  {memory.per_adam(row):7.1%} of Adam's")
    print(adafactor_note(memories))
    print(f"-> {write_memory_csv(memories, out)}")
    return OK


COMMAND = Command("optimizer-memory", "each optimizer's state memory against the weights, as CSV",
                  configure, run)
