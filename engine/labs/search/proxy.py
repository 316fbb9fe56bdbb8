"""A class's search proxy: Optuna's gRPC storage proxy in front of the teacher's storage, on a thread.

Every student's app and worker joins with ``grpc://HOST:PORT`` (:class:`optuna.storages.GrpcStorageProxy`) and
needs no database credentials and no shared folder: the proxy alone opens the storage
(:func:`engine.labs.search.storages.open_storage`).  Optuna's ``run_grpc_proxy_server`` blocks until the server
ends and cannot report the port it bound when asked for port 0, so this module builds the same server from
Optuna's own servicer (``optuna.storages._grpc.servicer``: the one ``run_grpc_proxy_server`` uses) and starts it
without waiting: gRPC serves on its own threads, and :meth:`Proxy.stop` ends it.

Two settings differ from gRPC's defaults, on purpose:

* ``grpc.so_reuseport`` off: with it on (gRPC's default on Linux) a second proxy on a port already in use binds
  as well and the two share the students' calls at random, so "the port is in use" would never be said;
* an RDB storage behind the proxy is wrapped in Optuna's ``_CachedStorage`` (``optuna.storages.get_storage``),
  which Optuna's documentation asks for: without the cache every student's look at the trials is a query.

The proxy's clients have no native heartbeat (``GrpcStorageProxy`` is no ``BaseHeartbeat``), so they keep the
lease attribute of :mod:`engine.labs.search.storages` whatever storage the proxy is in front of.
"""
from __future__ import annotations

import errno
import socket
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import optuna

from engine.experiment import ExperimentError
from engine.labs.search.storages import open_storage, quiet_grpc, storage_kind

THREADS = 16
"""Calls the proxy answers at once (a class of 30 workers beats and asks in turn; each call is short)."""


@dataclass(frozen=True)
class Proxy:
    """A running proxy: where students join (:attr:`url`), and how to end it (:meth:`stop`)."""
    host: str
    port: int
    storage_url: str
    _server: Any = field(repr=False, compare=False)
    _pool: ThreadPoolExecutor = field(repr=False, compare=False)

    @property
    def url(self) -> str:
        """What students give as ``--storage`` (and the window's "Join a class search")."""
        return f"grpc://{self.host}:{self.port}"

    def stop(self, grace: float = 1.0) -> None:
        """End the proxy: calls under way get ``grace`` seconds to finish; idempotent.  Returns once every thread
        the proxy started has ended (gRPC's own grace timer included), so nothing of it outlives the call."""
        self._server.stop(grace).wait()
        self._pool.shutdown(wait=True)
        for thread in threading.enumerate():
            if "cancel_all_calls_after_grace" in thread.name and thread is not threading.current_thread():
                thread.join(grace + 1.0)


def start_proxy(storage_url: str, host: str = "127.0.0.1", port: int = 0, heartbeat: float = 10.0) -> Proxy:
    """Open ``storage_url`` and serve it on ``host:port`` (``port`` 0: a free port, see :attr:`Proxy.port`).

    Bad input raises the one line (``ExperimentError``) naming ``--storage`` (a proxy in front of a proxy, a
    storage that does not open) or ``--port`` (in use, not allowed)."""
    if storage_kind(storage_url).scheme == "grpc://":
        raise ExperimentError("--storage", "a proxy serves a journal file or a database, not another proxy")
    if not 0 <= port < 65536:
        raise ExperimentError("--port", f"must be 0 (any free port) to 65535, got {port}")
    quiet_grpc()
    import grpc
    from optuna.storages import RDBStorage, get_storage
    from optuna.storages._grpc.auto_generated import api_pb2_grpc
    from optuna.storages._grpc.servicer import OptunaStorageProxyService

    check_address(host, port)
    storage = open_storage(storage_url, heartbeat)
    if isinstance(storage, RDBStorage):
        storage = get_storage(storage)
    check_readable(storage, storage_url)
    pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="search-proxy")
    server = grpc.server(pool, options=[("grpc.so_reuseport", 0)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        api_pb2_grpc.add_StorageServiceServicer_to_server(OptunaStorageProxyService(storage), server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        bound = 0
    if not bound:
        server.stop(None)
        pool.shutdown(wait=False)
        raise ExperimentError("--port", f"port {port} on {host} is in use (or not allowed); give another --port "
                                        f"(or stop what holds it)")
    server.start()
    return Proxy(host, bound, storage_url, server, pool)


def check_address(host: str, port: int) -> None:
    """Bind ``host:port`` once with a plain socket, to name what is wrong before gRPC (whose own error says only
    that no address was added): a host that is no address of this machine, a port in use or not allowed."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as err:
        raise ExperimentError("--host", f"{host!r} is not a name or address this machine knows ({err})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        try:
            probe.bind(address)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise ExperimentError("--port", f"port {port} on {host} is in use; give another --port "
                                                f"(or stop what holds it)") from None
            if err.errno == errno.EADDRNOTAVAIL:
                raise ExperimentError("--host", f"{host} is not an address of this machine") from None
            raise ExperimentError("--port", f"cannot listen on {host}:{port}: {err.strerror or err}") from None


def check_readable(storage: optuna.storages.BaseStorage, url: str) -> None:
    """Read the storage once before serving it, so a corrupt journal or a database that does not answer is
    said at the start (naming ``--storage``), not to the first student who joins."""
    try:
        optuna.get_all_study_names(storage=storage)
    except ExperimentError:
        raise
    except Exception as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ExperimentError("--storage", f"{url} cannot be read: {reason}") from None
