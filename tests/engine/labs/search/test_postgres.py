"""The search on a real PostgreSQL 15 server that the test starts itself (``initdb`` into a temporary folder,
as ``nobody`` when the tests run as root, listening on 127.0.0.1 only, its socket in that folder): two real
``search-worker`` processes complete every trial of the budget exactly once, also when one is killed with
SIGKILL in the middle of a trial (the database's heartbeat, or the lease, fails it and it is trained again);
and a server that goes away under a worker is one line, exit 1, every trial told before kept."""
import csv
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pytest

import main
from engine.labs.search.methods import quiet_optuna
from engine.labs.search.results import method_trials
from engine.labs.search.space import grid_points
from engine.labs.search.spec import parse_search
from engine.labs.search.storages import beat, open_storage, reap
from engine.labs.search.studies import create_studies, slot_of
from engine.status import RunStatus

ROOT = Path(__file__).resolve().parents[4]
BIN = Path("/usr/lib/postgresql/15/bin")
RAW = {"base": {"data": {"dataset": "moons", "n_train": 32, "n_val": 32}, "model": {"hidden": [4]},
                "train": {"steps": 10, "batch_size": 16, "eval_every": 10}},
       "space": {"optimizer.lr": {"log": [1e-3, 1.0]}, "model.dropout": {"uniform": [0.0, 0.5]}},
       "methods": ["grid", "random"], "trials": 4, "seed": 0, "startup": 2, "heartbeat": 2.0}


class Server:
    """One PostgreSQL server in ``base``, run by ``user`` (a command prefix: ``runuser -u nobody --`` as root)."""

    def __init__(self, base: Path, user: list[str]):
        self.base, self.user, self.data = base, user, base / "data"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"postgresql+psycopg://lab@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.user, str(BIN / "pg_ctl"), "-D", str(self.data), *args],
                              capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        subprocess.run([*self.user, str(BIN / "initdb"), "-D", str(self.data), "-U", "lab", "--auth=trust",
                        "-E", "UTF8", "--no-sync", "--no-instructions"], check=True, capture_output=True, timeout=120)
        options = (f"-h 127.0.0.1 -p {self.port} -k {self.base} -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off")
        started = self.ctl("-o", options, "-l", str(self.base / "server.log"), "-w", "-t", "60", "start")
        assert started.returncode == 0, started.stdout + started.stderr + self.log()

    def stop(self) -> None:
        """Immediate stop; if pg_ctl cannot, the postmaster is killed by the pid it wrote."""
        if self.ctl("-m", "immediate", "-w", "stop").returncode != 0 and (self.data / "postmaster.pid").exists():
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def log(self) -> str:
        path = self.base / "server.log"
        return path.read_text() if path.exists() else ""


@pytest.fixture
def postgres():
    if not (BIN / "postgres").exists() or not (BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL 15 server binary in {BIN}")
    base = Path(tempfile.mkdtemp(prefix="descent-lab-pg-"))
    user: list[str] = []
    if os.geteuid() == 0:            # initdb and postgres refuse to run as root
        nobody = pwd.getpwnam("nobody")
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
        user = ["runuser", "-u", "nobody", "--"]
    server = Server(base, user)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def _worker(url: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "main.py", "search-worker", "--storage", url, "--study", "race",
                             "--workers", "1"], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_the_database_heartbeat_fails_a_silent_trial_and_queues_it_again(postgres):
    """Quick, in this process: the storage is RDBStorage with Optuna's heartbeat and retry callback; a trial whose
    heartbeat row in the database is an hour old is failed by ``reap`` (through ``fail_stale_trials``: its lease
    attribute is kept fresh, so only the database's heartbeat can have said it) and a copy is queued."""
    import optuna
    import psycopg
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
    quiet_optuna()
    search = parse_search(RAW)
    storage = open_storage(postgres.url, search.settings.heartbeat)
    assert isinstance(storage, RDBStorage)
    assert (storage.get_heartbeat_interval(), storage.grace_period) == (2, 6)
    assert isinstance(storage.get_heartbeat_stale_trial_callback(), RetryHeartbeatStaleTrialCallback)
    create_studies(search, storage, "race")
    study = optuna.load_study(study_name="race.random", storage=storage)
    with warnings.catch_warnings():        # the node beats itself, as work.Node does
        warnings.filterwarnings("ignore", "Heartbeat of storage is supposed to be used with Study.optimize")
        trial = study.ask({p.path: p.distribution() for p in search.space})
    trial.set_user_attr("slot", 0)
    trial.set_user_attr("status", RunStatus.RUNNING)
    beat(study._storage, trial._trial_id)
    assert reap(study, 2.0) == []
    with psycopg.connect(host="127.0.0.1", port=postgres.port, user="lab", dbname="postgres") as conn:
        aged = conn.execute("UPDATE trial_heartbeats SET heartbeat = heartbeat - interval '1 hour'").rowcount
    assert aged == 1
    trial.set_user_attr("heartbeat", time.time())
    assert reap(study, 2.0) == [0]
    failed, copy = study.get_trials()
    assert (failed.state.name, copy.state.name) == ("FAIL", "WAITING")
    assert copy.params == failed.params and copy.user_attrs["slot"] == 0
    assert copy.system_attrs["failed_trial"] == failed.number
    assert reap(study, 2.0) == []


def test_through_a_proxy_in_front_of_postgresql_the_lease_keeps_both_kinds_of_worker(postgres):
    """A student reaches the database through the class's proxy (no native heartbeat: only the lease); a
    worker on the database directly reaps by both.  A fresh lease keeps the student's trial alive even though
    it has no heartbeat row; an hour later with no new beat it is failed and queued again by the direct worker."""
    import optuna
    from optuna.storages import GrpcStorageProxy

    from engine.labs.search.proxy import start_proxy
    from engine.labs.search.storages import native_heartbeat
    quiet_optuna()
    search = parse_search(RAW)
    direct = open_storage(postgres.url, search.settings.heartbeat)
    create_studies(search, direct, "race")
    proxy = start_proxy(postgres.url)
    try:
        student = open_storage(proxy.url, search.settings.heartbeat)
        assert isinstance(student, GrpcStorageProxy) and not native_heartbeat(student)
        theirs = optuna.load_study(study_name="race.random", storage=student)
        trial = theirs.ask({p.path: p.distribution() for p in search.space})
        trial.set_user_attr("slot", 0)
        trial.set_user_attr("status", RunStatus.RUNNING)
        beat(student, trial._trial_id)
        ours = optuna.load_study(study_name="race.random", storage=direct)
        assert reap(ours, 2.0) == []                     # alive by its lease, though the database never saw a beat
        assert reap(ours, 2.0, now=time.time() + 3600) == [0]      # an hour without a beat
        failed, copy = theirs.get_trials()
        assert (failed.state.name, copy.state.name) == ("FAIL", "WAITING")
        assert copy.params == failed.params and copy.user_attrs["slot"] == 0
    finally:
        proxy.stop()


@pytest.mark.slow       # 28 s here (126 s on a loaded machine): two processes and a 6 s grace
def test_two_workers_on_postgresql_one_killed_mid_trial_complete_the_budget_once(postgres, tmp_path):
    quiet_optuna()
    search = parse_search(RAW)
    storage = open_storage(postgres.url, search.settings.heartbeat)
    create_studies(search, storage, "race")
    doomed, survivor = _worker(postgres.url), _worker(postgres.url)
    try:
        lines = []                   # its first trial told, its second running: kill it now
        while sum(": training " in line for line in lines) < 2:
            lines.append(doomed.stdout.readline())
            assert lines[-1], lines                                  # it ended before that: the test is void
        assert ": finished " in "".join(lines), lines
        doomed.kill()
        doomed.wait()
        out, err = survivor.communicate(timeout=300)
    finally:
        _end(doomed)
        _end(survivor)
    assert survivor.returncode == 0, out + err
    lost = []
    for method in ("grid", "random"):
        trials = method_trials(storage, "race", method)
        finished = [t for t in trials if t.user_attrs["status"] == RunStatus.FINISHED]
        assert sorted(slot_of(t, trials) for t in finished) == [0, 1, 2, 3]          # every slot, once
        if method == "grid":
            grid = grid_points(search.space, search.trials)
            assert {(t.params["optimizer.lr"], t.params["model.dropout"]) for t in finished} == {
                (lr, d) for lr in grid["optimizer.lr"] for d in grid["model.dropout"]}
        lost += [t for t in trials if t.state.name == "FAIL"]
    assert len(lost) == 1 and lost[0].user_attrs["status"] == RunStatus.RUNNING     # the killed worker's
    (tmp_path / "s.json").write_text(json.dumps(RAW))
    assert main.main(["search", str(tmp_path / "s.json"), "--out", str(tmp_path / "out"), "--storage", postgres.url,
                      "--study", "race", "--workers", "0"]) == 0
    with open(tmp_path / "out" / "trials.csv", newline="") as f:
        states = sorted(r["state"] for r in csv.DictReader(f))
    assert states == ["error"] + ["finished"] * 8


def test_a_server_that_goes_away_under_a_worker_is_one_line_and_exit_1(postgres):
    quiet_optuna()
    long = {**RAW, "base": {**RAW["base"], "train": {"steps": 100000, "eval_every": 50000}}, "methods": ["random"]}
    search = parse_search(long)
    create_studies(search, open_storage(postgres.url, 2.0), "race")
    worker = _worker(postgres.url)
    try:
        assert ": training " in worker.stdout.readline()
        postgres.stop()
        out, err = worker.communicate(timeout=120)
    finally:
        _end(worker)
    assert worker.returncode == 1, out + err
    assert err.startswith(f"error: the search's storage {postgres.url} stopped working: "), err
    assert err.count("\n") == 1 and err.endswith("(every trial told before is kept there; start again to go on)\n")
