"""``main.py search-serve``: host a class search.  Optuna's gRPC storage proxy in front of the teacher's storage
(``engine.labs.search.proxy``): every student's app or ``search-worker`` joins with ``grpc://HOST:PORT`` and
needs neither the database's password nor the shared folder.  Runs until Ctrl-C (exit 130) or SIGTERM (143)."""
from __future__ import annotations

import socket
import threading

from engine.commands import Command, CommandError
from engine.commands.common import whole_at_least

POLL = 0.2
"""Seconds between looks at the stop flag (the proxy answers on its own threads meanwhile)."""

ANY = ("0.0.0.0", "::", "")


def configure(parser) -> None:
    parser.add_argument("--storage", required=True,
                        help="the storage to serve: a journal file PATH (or journal:PATH), sqlite:///PATH or "
                             "postgresql+psycopg://... (the one the search was, or will be, started with)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: the class)")
    parser.add_argument("--port", type=whole_at_least(0), required=True,
                        help="port to listen on (0: any free port, printed)")


def join_url(host: str, port: int) -> str:
    """The URL students give: this machine's name when the proxy listens on every address."""
    return f"grpc://{socket.gethostname() if host in ANY else host}:{port}"


def _searches(proxy) -> str:
    """The searches the storage holds, asked through the proxy itself (so its first answer is checked)."""
    import warnings

    import optuna
    from optuna.storages import GrpcStorageProxy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        client = GrpcStorageProxy(host="127.0.0.1" if proxy.host in ANY else proxy.host, port=proxy.port)
    try:
        names = sorted({n.rsplit(".", 1)[0] for n in optuna.get_all_study_names(storage=client)
                        if not n.endswith(".workers")})
    finally:
        client.close()
    return ", ".join(names) or "none yet"


def run(args) -> int:
    if args.port > 65535:
        raise CommandError(f"--port: must be 0 to 65535, got {args.port}")
    if not args.host.strip():       # gRPC would take "" for every address, and its refusal would name the port
        raise CommandError("--host: must not be empty (127.0.0.1: this machine only; 0.0.0.0: the class)")
    from engine.labs.search.methods import quiet_optuna
    from engine.labs.search.proxy import start_proxy
    from engine.labs.search.storages import shown
    from engine.training.runner import StopSignals
    quiet_optuna()
    with StopSignals() as stop:
        proxy = start_proxy(args.storage, args.host, args.port)
        try:
            url = join_url(proxy.host, proxy.port)
            print(f"search-serve: serving {shown(args.storage)} (searches: {_searches(proxy)})", flush=True)
            print(f"search-serve: students join with --storage {url}", flush=True)
            wake = threading.Event()
            while not stop():
                wake.wait(POLL)
        finally:
            proxy.stop()
        print("search-serve: stopped", flush=True)
    return stop.exit_code


COMMAND = Command("search-serve", "host a class search: serve a search's --storage to every student's app "
                  "through a gRPC proxy (grpc://HOST:PORT) until Ctrl-C", configure, run)
