"""A class search through the gRPC proxy, with real processes on 127.0.0.1: ``search-serve`` in front of a
journal file, a ``search-worker`` that joins with ``grpc://127.0.0.1:P``, and a "student" client that sees the
worker's trials as they are told; the search's files, written through the proxy, count them.  Then the
proxy's own promises: the port it bound when asked for 0, a port in use, what it refuses to serve."""
import csv
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import main
from engine.experiment import ExperimentError
from engine.labs.search.launch import join, start
from engine.labs.search.methods import quiet_optuna
from engine.labs.search.proxy import start_proxy
from engine.labs.search.results import method_trials
from engine.labs.search.spec import parse_search
from engine.labs.search.storages import open_storage
from engine.labs.search.studies import create_studies
from engine.status import RunStatus

ROOT = Path(__file__).resolve().parents[4]
RAW = {"base": {"data": {"dataset": "moons", "n_train": 32, "n_val": 32}, "model": {"hidden": [4]},
                "train": {"steps": 5, "batch_size": 16, "eval_every": 5}},
       "space": {"optimizer.lr": {"log": [1e-3, 1.0]}},
       "methods": ["random"], "trials": 3, "seed": 0, "startup": 1}


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_a_node_joins_through_the_proxy_and_a_student_sees_its_trials(tmp_path):
    """In this process (quick): the proxy on a thread, a node that joins through it and trains in one child
    process, a student's client opened before any trial; the teacher's files, written through it, count them."""
    quiet_optuna()
    search = parse_search(RAW)
    journal = tmp_path / "class.journal"
    create_studies(search, open_storage(str(journal), 10), "class")
    proxy = start_proxy(str(journal))
    try:
        student = open_storage(proxy.url, 10)
        assert method_trials(student, "class", "random") == []
        joined = join(proxy.url, "class", 1)
        assert [t.result.status for t in joined.told] == [RunStatus.FINISHED] * 3
        seen = method_trials(student, "class", "random")
        direct = method_trials(open_storage(str(journal), 10), "class", "random")
        assert [(t.number, t.params, t.value) for t in seen] == [(t.number, t.params, t.value) for t in direct]
        assert [t.value for t in seen] == [t.result.value for t in joined.told]
        teacher = start(search, tmp_path / "out", proxy.url, "class", 0)
        assert teacher.told == []
        with open(tmp_path / "out" / "trials.csv", newline="") as f:
            table = list(csv.DictReader(f))
        assert [float(r["value"]) for r in table if r["state"] == "finished"] == [t.value for t in direct]
        assert len(table) == 3
    finally:
        proxy.stop()


@pytest.mark.slow
def test_a_worker_process_joins_through_search_serve_and_a_student_sees_its_trials(tmp_path):
    quiet_optuna()
    search = parse_search(RAW)
    journal = tmp_path / "class.journal"
    create_studies(search, open_storage(str(journal), 10), "class")
    serve = subprocess.Popen([sys.executable, "main.py", "search-serve", "--storage", str(journal), "--port", "0"],
                             cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    worker = None
    try:
        assert serve.stdout.readline() == f"search-serve: serving {journal} (searches: class)\n"
        joined = serve.stdout.readline()
        assert joined.startswith("search-serve: students join with --storage grpc://127.0.0.1:")
        url = joined.split("--storage ")[1].strip()
        student = open_storage(url, 10)                   # opened before any trial: it must see them arrive
        assert method_trials(student, "class", "random") == []
        worker = subprocess.run([sys.executable, "main.py", "search-worker", "--storage", url, "--study", "class",
                                 "--workers", "1"], cwd=ROOT, capture_output=True, text=True, timeout=240)
        assert worker.returncode == 0, worker.stdout + worker.stderr
        assert worker.stdout.splitlines()[-1] == "search-worker class: 3 trials trained here"
        seen = method_trials(student, "class", "random")
        assert [t.user_attrs["status"] for t in seen] == [RunStatus.FINISHED] * 3
        direct = method_trials(open_storage(str(journal), 10), "class", "random")
        assert [t.params for t in seen] == [t.params for t in direct]          # the proxy hides nothing
        # the teacher's search, joined through the proxy with no training process: the files count them all
        (tmp_path / "s.json").write_text(json.dumps(RAW))
        assert main.main(["search", str(tmp_path / "s.json"), "--out", str(tmp_path / "out"), "--storage", url,
                          "--study", "class", "--workers", "0"]) == 0
        with open(tmp_path / "out" / "trials.csv", newline="") as f:
            table = list(csv.DictReader(f))
        assert [r["state"] for r in table] == ["finished"] * 3
        assert [float(r["value"]) for r in table] == [t.value for t in direct]
        serve.send_signal(signal.SIGTERM)
        out, err = serve.communicate(timeout=60)
        assert (serve.returncode, out, err) == (143, "search-serve: stopped\n", "")
    finally:
        _stop(serve)


def test_the_proxy_binds_a_free_port_serves_and_stops(tmp_path):
    proxy = start_proxy(str(tmp_path / "p.journal"))
    try:
        assert proxy.host == "127.0.0.1" and 0 < proxy.port < 65536
        assert proxy.url == f"grpc://127.0.0.1:{proxy.port}"
        client = open_storage(proxy.url, 10)
        import optuna
        optuna.create_study(storage=client, study_name="a")
        assert optuna.get_all_study_names(storage=open_storage(str(tmp_path / "p.journal"), 10)) == ["a"]
        with pytest.raises(ExperimentError) as err:             # gRPC's SO_REUSEPORT would let it bind too
            start_proxy(str(tmp_path / "p.journal"), port=proxy.port)
        assert str(err.value) == (f"--port: port {proxy.port} on 127.0.0.1 is in use; "
                                  "give another --port (or stop what holds it)")
    finally:
        proxy.stop()
    proxy.stop()                                                # twice is harmless


@pytest.mark.parametrize("url, line", [
    ("grpc://127.0.0.1:1", "--storage: a proxy serves a journal file or a database, not another proxy"),
    ("mysql://x/y", "--storage: unknown storage 'mysql'"),
])
def test_what_a_proxy_will_not_serve_is_one_line(url, line):
    with pytest.raises(ExperimentError) as err:
        start_proxy(url)
    assert str(err.value).startswith(line)


def test_search_serve_refuses_a_port_in_use_and_a_corrupt_journal_in_one_line(tmp_path, capsys):
    proxy = start_proxy(str(tmp_path / "p.journal"))
    try:
        code = main.main(["search-serve", "--storage", str(tmp_path / "p.journal"), "--port", str(proxy.port)])
    finally:
        proxy.stop()
    err = capsys.readouterr().err
    assert code == 2 and err == (f"error: --port: port {proxy.port} on 127.0.0.1 is in use; "
                                 "give another --port (or stop what holds it)\n")
    (tmp_path / "bad.journal").write_bytes(b'{"op_code": 0, "study_name": "a"}\nnot json\n{}\n')
    assert main.main(["search-serve", "--storage", str(tmp_path / "bad.journal"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --storage: {tmp_path / 'bad.journal'} is not a journal Optuna can read (")
    assert err.count("\n") == 1
    assert main.main(["search-serve", "--storage", str(tmp_path / "p.journal"), "--port", "70000"]) == 2
    assert capsys.readouterr().err == "error: --port: must be 0 to 65535, got 70000\n"
