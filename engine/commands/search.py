"""``main.py search``: race hyperparameter-search methods on one experiment (grid, random, TPE, GP on Optuna,
population-based training on this node's own processes): DIR/trials.csv and DIR/summary.json (and
DIR/pbt_lineage.json); ``main.py search-worker`` joins a running search from another process or
machine through its storage (``engine.labs.search``)."""
from __future__ import annotations

import argparse
import os
import sys

from engine.commands import OK, Command, CommandError
from engine.commands.common import add_source, check_out_folder, whole_at_least


def _workers(parser) -> None:
    parser.add_argument("--workers", type=whole_at_least(0), default=os.cpu_count() or 1,
                        help="training processes of this node, torch at one thread each (default: the cores; "
                             "0: train nothing, only coordinate and wait)")
    parser.add_argument("--study", type=study_name, default="search",
                        help="name of the search in the storage (default search)")


MAX_STUDY_NAME = 200
"""Characters of ``--study``: its studies are named ``NAME.METHOD`` and a database holds at most 512."""


def study_name(text: str) -> str:
    """An argparse ``type``: a search's name, printed on every line of the command and stored as the studies'
    names: not empty, no control characters (a newline would split the one-line messages), not too long."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    if not text.isprintable():
        raise argparse.ArgumentTypeError(f"must be printable (no tabs, newlines or control characters), got {text!r}")
    if len(text) > MAX_STUDY_NAME:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_STUDY_NAME} characters, got {len(text)}")
    return text


def configure(parser) -> None:
    add_source(parser, what="search JSON file", preset_help="a built-in search instead of a file "
               "(random-beats-grid, population-based-training)")      # not a Command.source: the file is a search file, not an experiment
    parser.add_argument("--out", default="out", help="folder for trials.csv and summary.json (default ./out)")
    parser.add_argument("--storage", default=None,
                        help="where the studies live: a journal file PATH (or journal:PATH), sqlite:///PATH, "
                             "postgresql+psycopg://..., grpc://HOST:PORT (default DIR/search.journal)")
    _workers(parser)


def configure_worker(parser) -> None:
    parser.add_argument("--storage", required=True, help="the storage URL the search was started with")
    _workers(parser)


def _values(values) -> str:
    return ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items())


def _print_pbt(event) -> bool:
    """One line per member's round and per exploit of population-based training; False for other events."""
    from engine.labs.search.pbt import Exploit, MemberRound
    if isinstance(event, MemberRound):
        why = f" ({event.message})" if event.status != "finished" and event.message else ""
        print(f"pbt member {event.member} round {event.generation}: {event.status} {event.value:.4g} at step "
              f"{event.step}, {_values(event.params)}{why}", flush=True)
        return True
    if isinstance(event, Exploit):
        fresh = f", resampled {', '.join(event.resampled)}" if event.resampled else ""
        why = "" if event.reason == "bottom" else f" ({event.reason})"
        print(f"pbt member {event.member} copies member {event.parent} at step {event.step}{why}: "
              f"{_values(event.params_after)}{fresh}", flush=True)
        return True
    return False


def _print_trial(event) -> None:
    """One line when a trial starts training and one when it ends."""
    from engine.labs.search.work import Asked
    if _print_pbt(event):
        return
    if isinstance(event, Asked):
        values = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in event.values.items())
        print(f"{event.method} #{event.number}: training {values}", flush=True)
        return
    told = event
    r = told.result
    value = "" if r.value is None else f" {r.value:.4g}"
    why = f" ({r.message})" if r.status not in ("finished",) and r.message else ""
    print(f"{told.method} #{told.number}: {r.status}{value} after {r.steps} steps, {r.seconds:.2f} s{why}",
          flush=True)


def _load(args):
    from engine.experiment import ExperimentError
    from engine.labs.search.presets import SEARCH_PRESETS
    from engine.labs.search.spec import load_search, parse_search
    from engine.lessons.presets import PRESETS

    def experiment_preset(name: str):
        if name not in PRESETS:
            raise ExperimentError("preset", f"unknown preset {name!r} (see: main.py presets)")
        runs = PRESETS[name].runs
        if len(runs) != 1:
            raise ExperimentError("preset", f"{name} holds {len(runs)} runs; a search needs a preset of one run")
        return runs[0]

    if bool(args.experiment) == bool(args.preset):
        raise CommandError("search takes a search file or --preset NAME (one of them)")
    if args.preset:
        if args.preset not in SEARCH_PRESETS:
            raise CommandError(f"--preset: unknown search {args.preset!r} (known: {', '.join(SEARCH_PRESETS)})")
        return parse_search(SEARCH_PRESETS[args.preset], experiment_preset)
    return load_search(args.experiment, experiment_preset)


def run(args) -> int:
    """Everything that can be refused is, before the first line is printed or anything trained: the search file,
    ``--workers``, ``--out``, then the storage (opened, its studies made or found again: ``open_search``)."""
    search = _load(args)
    from engine.labs.search.launch import check_workers, open_search, run_search
    from engine.labs.search.methods import grid_budget
    from engine.training.runner import StopSignals
    check_workers(args.workers)
    out = check_out_folder(args.out)
    methods = ", ".join(search.methods)
    with StopSignals() as stop:
        storage = open_search(search, out, args.storage, args.study)
        if stop():          # a signal while the storage was opened (a database waits up to 10 s): no work done
            return _interrupted(stop)
        print(f"search {args.study}: {methods}, {search.trials} trials each, {args.workers} training processes",
              flush=True)
        if "grid" in search.methods and grid_budget(search) != search.trials:
            print(f"search {args.study}: the grid the budget buys has {grid_budget(search)} points "
                  f"(every choice, then k points per range: see README)", flush=True)
        finished = run_search(search, storage, out, args.study, args.workers, stop, _print_trial)
        print(f"search {args.study}: {len(finished.told)} trials trained here -> {out}", flush=True)
        if finished.pbt is not None and finished.pbt.best_member >= 0:
            print(f"search {args.study}: pbt's best is member {finished.pbt.best_member}, "
                  f"{finished.pbt.best_value:.4g} ({len(finished.pbt.events)} exploits)", flush=True)
        elif "pbt" in search.methods and args.workers == 0:
            print(f"search {args.study}: pbt not run (it trains on this node's own processes; --workers 0)",
                  flush=True)
        if stop():
            return stop.exit_code
    return OK


def _interrupted(stop) -> int:
    """Stopped before any work: main.py's line for a Ctrl-C before training, and the signal's exit code."""
    print("interrupted", file=sys.stderr)
    return stop.exit_code


def run_worker(args) -> int:
    from engine.labs.search.launch import check_workers, join
    from engine.labs.search.storages import storage_kind
    from engine.training.runner import StopSignals
    check_workers(args.workers)
    storage_kind(args.storage)
    with StopSignals() as stop:
        finished = join(args.storage, args.study, args.workers, stop, _print_trial)
        print(f"search-worker {args.study}: {len(finished.told)} trials trained here", flush=True)
        if stop():
            return stop.exit_code
    return OK


COMMAND = Command("search", "race hyperparameter-search methods (grid, random, tpe, gp, pbt) on a search file or "
                  "--preset (writes trials.csv and summary.json)", configure, run)
WORKER_COMMAND = Command("search-worker", "join a running search through its --storage and train its trials "
                         "until the budget is done", configure_worker, run_worker)
