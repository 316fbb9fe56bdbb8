"""Where a search's studies live, by URL: one table, URL scheme -> how to open it (Optuna's own storages).

* a plain path, or ``journal:PATH``: a journal file (``JournalStorage`` on ``JournalFileBackend``): one file,
  no server, every process that can reach the file joins (the default: ``DIR/search.journal``);
* ``sqlite:///PATH`` and ``postgresql+psycopg://...``: ``RDBStorage``, with Optuna's heartbeat: a running
  trial whose worker has not beaten for ``grace`` seconds is failed by the next worker that looks
  (``optuna.storages.fail_stale_trials``) and queued again by ``RetryHeartbeatStaleTrialCallback``;
* ``grpc://HOST:PORT``: a class's proxy (``GrpcStorageProxy``) in front of the teacher's storage.

A killed worker never loses a trial silently.  The journal file (and the proxy) has no heartbeat of its own, so
the same lease is kept as data (on a database too, beside its heartbeat: a worker that reaches the database
through a proxy has only the lease, and the two kinds of worker must not fail each other's trials): every ``interval`` seconds the worker writes the time into each of its running
trials as the user attribute ``heartbeat``; :func:`reap` fails a running trial whose newest sign of life (that
attribute, or its start) is older than ``grace = 3 x interval`` and queues a copy with Optuna's
retry callback (:func:`queue_again`: same parameters, same grid point, same budget slot).  Why a user attribute and
not a lease file: it lives where the trial lives, so it works wherever the storage reaches (a proxy, another
machine), and an Optuna dashboard shows it.  Two reapers cannot both re-queue a trial: the journal replays
state changes in order and refuses the second FAIL (``UpdateFinishedTrialError``).  Clocks of the machines
must agree to within the grace (NTP does; the default grace is 30 s).

Faults, by when they are found (issue 10's rule): what is wrong with a storage before any work (a folder, a FIFO,
an unwritable or corrupt journal, a database that refuses, no proxy answering within ``CONNECT_WAIT``) is one
line naming ``--storage`` (``ExperimentError``, exit 2); a storage that stops working once the work has begun
(a proxy killed, a server stopped, a journal deleted, a full disk) is :class:`StorageLost`, one line and exit 1,
every trial told before it kept in the storage.
"""
from __future__ import annotations

import errno
import functools
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import (
    BaseStorage,
    GrpcStorageProxy,
    JournalStorage,
    RDBStorage,
    RetryHeartbeatStaleTrialCallback,
)
from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from engine.experiment import ExperimentError
from engine.files import WriteError, cannot_write_in

GRACE_BEATS = 3
CONNECT_WAIT = 5.0             # seconds a proxy's client waits for the proxy to answer
HEARTBEAT = "heartbeat"        # the user attribute of the lease


@dataclass(frozen=True)
class StorageKind:
    scheme: str                                      # how its URLs begin
    description: str
    open: Callable[[str, float], BaseStorage]        # (url, heartbeat interval) -> storage


def _journal(url: str, interval: float) -> BaseStorage:
    """The journal file, checked before any work: a regular file (a FIFO or a device would hang the replay or
    never end), one this process can append to in a folder where Optuna's lock (a symlink beside it) can be
    made, and one Optuna can replay (a corrupt file is said here, not as a traceback in the middle)."""
    path = Path(url.removeprefix("journal:"))
    if path.is_dir():
        raise ExperimentError("--storage", f"{path} is a folder; give the journal file's name")
    if path.exists() and not path.is_file():
        raise ExperimentError("--storage", f"{path} is not a regular file (a journal is a file)")
    above = next((p for p in path.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise ExperimentError("--storage", f"{above} is a file, not a folder (in {path})")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab"):
            pass
    except OSError as err:
        raise ExperimentError("--storage", f"cannot write the journal {path}: {err.strerror or err}") from None
    problem = cannot_write_in(path.parent)
    if problem:
        raise ExperimentError("--storage", f"{problem} (the journal's lock is made beside it)")
    try:
        return JournalStorage(JournalFileBackend(str(path)))
    except Exception as err:
        raise ExperimentError("--storage", f"{path} is not a journal Optuna can read ({_reason(err)})") from None


def _reason(err: BaseException) -> str:
    """An exception as a short reason: its first line (a database's messages run over several); a gRPC call's
    status and details (its text is a multi-line dump)."""
    if callable(getattr(err, "code", None)) and callable(getattr(err, "details", None)):
        err_code, details = err.code(), err.details()          # type: ignore[attr-defined]
        return f"{getattr(err_code, 'name', err_code)}: {details}"
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def shown(url: str) -> str:
    """``url`` fit to print: a database URL without its password."""
    if "://" not in url or url.startswith("grpc://"):
        return url
    try:
        from sqlalchemy.engine import make_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("://")[0] + "://..."


def retry() -> RetryHeartbeatStaleTrialCallback:
    """Optuna's retry callback, its experimental-API warning silenced (it is the API Optuna 5 keeps)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return RetryHeartbeatStaleTrialCallback()


def queue_again(study: optuna.Study, trial: FrozenTrial) -> None:
    """Queue a copy of the failed ``trial`` (same parameters, user attributes and so budget slot), marked as a
    copy by Optuna's ``failed_trial`` attribute: ``RetryHeartbeatStaleTrialCallback``, which is
    Optuna 5's name for the retry (``RetryFailedTrialCallback`` is deprecated), experimental since 2.8."""
    retry()(study, trial)


def _rdb(url: str, interval: float) -> BaseStorage:
    """A database, opened (and its tables made) now: a server that does not answer, a wrong password or a
    corrupt SQLite file is one line naming ``--storage``.  On PostgreSQL the connection waits at most
    ``CONNECT_WAIT`` x 2 seconds, and a pooled connection is tested before use (a server restarted under a
    long search)."""
    beat = max(1, round(interval))
    engine: dict = {}
    if url.startswith("postgresql"):
        engine = {"pool_pre_ping": True, "connect_args": {"connect_timeout": round(2 * CONNECT_WAIT)}}
    try:
        with warnings.catch_warnings():     # the heartbeat arguments are "experimental" since Optuna 2.9
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(url, engine_kwargs=engine, heartbeat_interval=beat, grace_period=GRACE_BEATS * beat,
                              heartbeat_stale_trial_callback=retry())
    except ImportError as err:
        raise ExperimentError("--storage", f"{shown(url)} needs a driver that is not installed ({err})") from None
    except Exception as err:
        raise ExperimentError("--storage", f"cannot open {shown(url)}: {_reason(err)}") from None


def grpc_address(url: str) -> tuple[str, int]:
    """``grpc://HOST:PORT`` -> (HOST, PORT), or the one line naming ``--storage``."""
    host, _, port = url.removeprefix("grpc://").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ExperimentError("--storage", f"a proxy URL is grpc://HOST:PORT, got {url!r}")
    return host, int(port)


def quiet_grpc() -> None:
    """gRPC's C core logs its own lines to stderr (a port in use, a proxy that went away) beside the one line
    the app says; read once, when grpc is first imported, so this runs before that (a user's own
    ``GRPC_VERBOSITY`` wins)."""
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")


def _grpc(url: str, interval: float) -> BaseStorage:
    """A proxy's client, once the proxy answers: waited for ``CONNECT_WAIT`` seconds at most, so a wrong
    address or a proxy not started is said at once, where it was given, instead of on the first call."""
    host, port = grpc_address(url)
    quiet_grpc()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            proxy = GrpcStorageProxy(host=host, port=port)
            proxy.wait_server_ready(timeout=CONNECT_WAIT)
    except ImportError as err:
        raise ExperimentError("--storage", f"a gRPC proxy needs grpcio and protobuf ({err})") from None
    except ConnectionError:
        proxy.close()
        raise ExperimentError("--storage", f"no search proxy answers at {host}:{port} (waited {CONNECT_WAIT:g} s; "
                              f"is main.py search-serve running there?)") from None
    return proxy


STORAGES: dict[str, StorageKind] = {kind.scheme: kind for kind in (
    StorageKind("journal:", "a journal file (one file, no server)", _journal),
    StorageKind("sqlite:///", "an SQLite database (one machine)", _rdb),
    StorageKind("postgresql+psycopg://", "a PostgreSQL server (many machines)", _rdb),
    StorageKind("grpc://", "a class's gRPC proxy (main.py search-serve)", _grpc),
)}


def storage_kind(url: str) -> StorageKind:
    """The kind of storage ``url`` names (nothing is opened); anything without a known scheme is a journal
    file's path, and ``scheme://`` of no known kind is refused naming ``--storage``."""
    if not url.strip():
        raise ExperimentError("--storage", "must not be empty")
    kind = next((k for scheme, k in STORAGES.items() if url.startswith(scheme)), None)
    if kind is None and "://" in url:
        raise ExperimentError("--storage", f"unknown storage {url.split('://')[0]!r} (use a file path, "
                              f"{', '.join(STORAGES)})")
    return kind or STORAGES["journal:"]


def open_storage(url: str, interval: float, create: bool = True) -> BaseStorage:
    """The storage ``url`` names, opened (``interval``: the heartbeat's seconds, for RDB storages), and
    guarded (:func:`guard`): a fault once the work has begun is :class:`StorageLost`, one line.

    ``create=False`` (a worker joining a search that must exist): a journal file or SQLite database that is
    not there is refused, naming ``--storage``, instead of being made empty (a mistyped path would leave an
    empty file behind and then say no search is in it)."""
    kind = storage_kind(url)
    if kind.scheme == "grpc://":
        grpc_address(url)
    path = storage_file(url)
    if not create and path is not None and not path.exists():
        raise ExperimentError("--storage", f"{path}: no such file (start the search first, or check the path)")
    return guard(kind.open(url, interval), url)


def storage_file(url: str) -> Path | None:
    """The file on this machine that a journal or SQLite URL names (None for a server or a proxy): a database
    URL's query (``?timeout=5``) is no part of it."""
    kind = storage_kind(url)
    if kind.scheme == "sqlite:///":
        return Path(url.removeprefix(kind.scheme).partition("?")[0])
    if kind.scheme == "journal:":
        return Path(url.removeprefix("journal:"))
    return None


class StorageLost(WriteError):
    """The storage stopped answering after the work began (a proxy killed, a database server stopped, a
    journal file deleted or corrupted under the search): ``main.py`` prints the line and exits 1.  Nothing told
    before is lost: it is in the storage; the trials that were running are failed and queued again by the
    next worker's reaper, and starting the command again goes on."""

    def __init__(self, url: str, cause: BaseException):
        OSError.__init__(self, errno.EIO, f"the search's storage {shown(url)} stopped working: {_reason(cause)} "
                                          f"(every trial told before is kept there; start again to go on)")
        self.path = Path(url)


def _faults(storage: BaseStorage) -> tuple[type[BaseException], ...]:
    """What a storage raises when it, not the caller, is wrong: the file system, the network, the database.
    A journal that no longer parses raises ``ValueError`` (Optuna's "Invalid log format", JSON's errors),
    which on the other storages means a wrong call and is left alone."""
    kinds: list[type[BaseException]] = [OSError, optuna.exceptions.StorageInternalError]
    if isinstance(storage, JournalStorage):
        kinds.append(ValueError)
    try:
        from sqlalchemy.exc import DBAPIError
        kinds.append(DBAPIError)
    except ImportError:
        pass
    if isinstance(storage, GrpcStorageProxy):
        import grpc
        kinds.append(grpc.RpcError)
    return tuple(kinds)


def guard(storage: BaseStorage, url: str) -> BaseStorage:
    """``storage`` with every public method turned to raise :class:`StorageLost` on a fault (:func:`_faults`).

    On the instance, not a wrapper class: Optuna tests a storage's class (``RDBStorage``'s cache, the heartbeat's
    ``BaseHeartbeat``), and one place catches what every caller of the storage (studies, work, results,
    the window) would otherwise each have to."""
    faults = _faults(storage)

    def guarded(method: Callable) -> Callable:
        @functools.wraps(method)
        def call(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except StorageLost:
                raise
            except faults as err:
                raise StorageLost(url, err) from err
        return call

    for name in dir(type(storage)):
        if not name.startswith("_") and callable(getattr(type(storage), name, None)):
            setattr(storage, name, guarded(getattr(storage, name)))
    return storage


def native_heartbeat(storage: BaseStorage) -> bool:
    return isinstance(storage, BaseHeartbeat) and is_heartbeat_enabled(storage)


def beat(storage: BaseStorage, trial_id: int) -> None:
    """One sign of life for a running trial: the lease attribute, and the storage's own heartbeat if it has one.
    Both on a database: a worker that joins it through a proxy (no native heartbeat) reaps by the lease, and
    would otherwise fail the trials of the workers that reach the database directly."""
    storage.set_trial_user_attr(trial_id, HEARTBEAT, time.time())
    if native_heartbeat(storage):
        storage.record_heartbeat(trial_id)           # type: ignore[attr-defined]


def reap(study: optuna.Study, interval: float, now: float | None = None) -> list[int]:
    """Fail every running trial of ``study`` whose worker has gone silent and queue it again; returns the
    numbers of the trials failed here (see the module doc).  A failed trial keeps the ``status`` its worker
    wrote when it took it (``running``): a finished trial never says ``running``, so that is the mark of a
    worker lost (a finished trial cannot be changed any more, so nothing else could be written here)."""
    storage = study._storage
    reaped: list[int] = []
    if native_heartbeat(storage):        # the database's own heartbeat first (its callback queues the copy)
        before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        reaped = sorted({t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))} - before)
    # then the lease, on every storage: the only sign of life of a worker that reached a database via a proxy
    now = time.time() if now is None else now
    grace = GRACE_BEATS * interval
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        started = trial.datetime_start.timestamp() if trial.datetime_start else 0.0
        alive = max(float(trial.user_attrs.get(HEARTBEAT, 0.0)), started)
        if now - alive <= grace:
            continue
        try:
            if not storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                continue
        except UpdateFinishedTrialError:        # it finished, or another reaper was first
            continue
        queue_again(study, storage.get_trial(trial._trial_id))
        reaped.append(trial.number)
    return reaped
