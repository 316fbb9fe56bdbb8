"""The search commands under hostile input and faults (issue 10's classes, for ``search``, ``search-worker`` and
``search-serve``): a bad argument, a wrong study name, a storage that is not there, corrupt or unwritable, a port
in use give one line naming what is wrong and exit 2 before any work, and leave nothing behind; a storage that
goes away once the work has begun (a proxy killed, a journal deleted) is one line and exit 1, and every trial told
before it is kept: starting again goes on where it stopped."""
import json
import os
import signal
import socket

import optuna
import pytest

import main
from engine.commands import search as search_command
from engine.config import between, search_workers
from engine.experiment import ExperimentError
from engine.files import WriteError
from engine.labs.search import launch, storages
from engine.labs.search.launch import join, start
from engine.labs.search.methods import quiet_optuna
from engine.labs.search.proxy import start_proxy
from engine.labs.search.results import method_trials
from engine.labs.search.spec import parse_search
from engine.labs.search.storages import StorageLost, open_storage
from engine.labs.search.studies import create_studies
from engine.labs.search.work import Told
from engine.status import RunStatus

RAW = {"base": {"data": {"dataset": "moons", "n_train": 32, "n_val": 32}, "model": {"hidden": [4]},
                "train": {"steps": 5, "batch_size": 16, "eval_every": 5}},
       "space": {"optimizer.lr": {"log": [1e-3, 1.0]}},
       "methods": ["random"], "trials": 3, "seed": 0, "startup": 1}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _storages(tmp_path):
    """Storage URLs that must be refused before any work, with the start of the line that says why."""
    (tmp_path / "afile").write_text("hi")
    os.mkfifo(tmp_path / "fifo.journal")
    (tmp_path / "corrupt.journal").write_text('garbage\n{"op_code": 0}\n')
    (tmp_path / "random.journal").write_bytes(bytes(range(256)) * 8)
    port = _free_port()
    return [
        (str(tmp_path), f"--storage: {tmp_path} is a folder; give the journal file's name"),
        (str(tmp_path / "fifo.journal"), f"--storage: {tmp_path / 'fifo.journal'} is not a regular file"),
        (str(tmp_path / "afile" / "s.journal"), f"--storage: {tmp_path / 'afile'} is a file, not a folder"),
        ("/proc/descent-lab.journal", "--storage: cannot write the journal /proc/descent-lab.journal: "),
        (str(tmp_path / "corrupt.journal"), f"--storage: {tmp_path / 'corrupt.journal'} is not a journal Optuna "
                                            "can read ("),
        (str(tmp_path / "random.journal"), f"--storage: {tmp_path / 'random.journal'} is not a journal Optuna "
                                           "can read ("),
        ("mysql://me@db/x", "--storage: unknown storage 'mysql'"),
        (f"sqlite:///{tmp_path / 'afile'}", f"--storage: cannot open sqlite:///{tmp_path / 'afile'}: "
                                            "(sqlite3.DatabaseError) file is not a database"),
        (f"postgresql+psycopg://lab:secret@127.0.0.1:{port}/x",
         f"--storage: cannot open postgresql+psycopg://lab:***@127.0.0.1:{port}/x: (psycopg.OperationalError) "),
        (f"grpc://127.0.0.1:{port}", f"--storage: no search proxy answers at 127.0.0.1:{port} (waited 0.2 s; "),
        ("grpc://127.0.0.1", "--storage: a proxy URL is grpc://HOST:PORT"),
    ]


@pytest.fixture
def short_wait(monkeypatch):
    monkeypatch.setattr(storages, "CONNECT_WAIT", 0.2)


def test_every_command_refuses_a_bad_storage_in_one_line_before_any_work(tmp_path, capsys, short_wait):
    quiet_optuna()
    (tmp_path / "s.json").write_text(json.dumps(RAW))
    for url, line in _storages(tmp_path):
        for argv in (["search", str(tmp_path / "s.json"), "--out", str(tmp_path / "out"), "--storage", url],
                     ["search-worker", "--storage", url],
                     ["search-serve", "--storage", url, "--port", "0"]):
            expected = line
            if argv[0] == "search-serve" and url.startswith("grpc://"):
                expected = "--storage: a proxy serves a journal file or a database, not another proxy"
            if argv[0] == "search-worker" and "://" not in url and not os.path.lexists(url):
                expected = f"--storage: {url}: no such file (start the search first, or check the path)"
            code = main.main(argv)
            out, err = capsys.readouterr()
            assert (code, err.count("\n")) == (2, 1), (argv, err)
            assert err.startswith(f"error: {expected}"), (argv, err)
            assert out == "", (argv, out)                        # refused before the command's first line
            assert "secret" not in err
    assert not (tmp_path / "out").exists()                        # refused before anything was made
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "corrupt.journal", "fifo.journal",
                                                          "random.journal", "s.json"]


def test_bad_arguments_and_a_wrong_study_are_one_line(tmp_path, capsys, monkeypatch):
    quiet_optuna()
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    journal = tmp_path / "s.journal"
    create_studies(parse_search(RAW), open_storage(str(journal), 10), "class")
    (tmp_path / "s.json").write_text(json.dumps(RAW))
    other = {**RAW, "trials": 4}
    (tmp_path / "other.json").write_text(json.dumps(other))
    cases = [
        (["search-worker", "--storage", str(journal), "--study", "klass"],
         "error: --study: no search named 'klass' in this storage (known: class)"),
        (["search", str(tmp_path / "other.json"), "--out", str(tmp_path / "o"), "--storage", str(journal),
          "--study", "class"], "error: --study: class.random in this storage holds another search"),
        (["search", str(tmp_path / "s.json"), "--workers", "-1"],
         "error: argument --workers: must be a whole number >= 0, got '-1'"),
        (["search-worker", "--storage", str(journal), "--workers", "-3"],
         "error: argument --workers: must be a whole number >= 0, got '-3'"),
        (["search", str(tmp_path / "s.json"), "--out", str(tmp_path / "o"), "--workers", "99999999999"],
         "error: --workers: must be in [0, 8], got 99999999999 (at most 4 training processes per core; this "
         "machine has 2)"),
        (["search-worker", "--storage", str(journal), "--study", "class", "--workers", "9"],
         "error: --workers: must be in [0, 8], got 9 (at most 4 training processes per core; this machine has 2)"),
        (["search", str(tmp_path / "s.json"), "--study", ""], "error: argument --study: must not be empty"),
        (["search-worker", "--storage", str(journal), "--study", "a\nb"],
         "error: argument --study: must be printable (no tabs, newlines or control characters), got 'a\\nb'"),
        (["search", str(tmp_path / "s.json"), "--study", "s" * 201],
         "error: argument --study: must be at most 200 characters, got 201"),
        (["search-serve", "--storage", str(journal), "--port", "0", "--host", ""],
         "error: --host: must not be empty (127.0.0.1: this machine only; 0.0.0.0: the class)"),
        (["search-serve", "--storage", str(journal)], "error: the following arguments are required: --port"),
        (["search-serve", "--storage", str(journal), "--port", "-1"],
         "error: argument --port: must be a whole number >= 0, got '-1'"),
        (["search-serve", "--storage", str(journal), "--port", "65536"], "error: --port: must be 0 to 65535, got 65536"),
        (["search-serve", "--storage", str(journal), "--port", "0", "--host", "no-such-host.invalid"],
         "error: --host: 'no-such-host.invalid' is not a name or address this machine knows"),
        (["search-serve", "--storage", str(journal), "--port", "0", "--host", "192.0.2.1"],
         "error: --host: 192.0.2.1 is not an address of this machine"),
    ]
    for argv, line in cases:
        code = _run(argv)
        out, err = capsys.readouterr()
        assert (code, err.count("\n")) == (2, 1), (argv, err)
        assert err.startswith(line), (argv, err)
        assert out == "", (argv, out)
    # the refused search left the held study as it was, and nothing else was made
    assert [t.state for t in method_trials(open_storage(str(journal), 10), "class", "random")] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.json", "s.journal", "s.json"]


def _run(argv: list[str]) -> int:
    """main.main's exit code, also where argparse refuses the option (it exits: see main.Parser)."""
    try:
        return main.main(argv)
    except SystemExit as exit_:
        return int(exit_.code)


def test_the_workers_bound_is_data_and_the_window_path_hears_it_too(tmp_path, monkeypatch):
    """``--workers`` is bounded by ``engine.config.search_workers`` (4 per core): a count that would not even
    fit the process pool's semaphore (a traceback before) is one line naming ``--workers``, from the command and
    from the engine call the Search tab makes, before the storage is touched."""
    assert search_workers(cores=2) == between(0, 8) and search_workers(cores=1).check(5) == "must be in [0, 4]"
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with pytest.raises(ExperimentError, match=r"^--workers: must be in \[0, 8\], got 99999999999 "):
        start(parse_search(RAW), tmp_path / "out", None, "search", 99999999999)
    with pytest.raises(ExperimentError, match=r"^--workers: must be in \[0, 8\], got 9 "):
        join(str(tmp_path / "s.journal"), "search", 9)
    assert list(tmp_path.iterdir()) == []


def test_a_joining_worker_refuses_a_storage_that_is_not_there_and_makes_none(tmp_path, capsys):
    """A mistyped journal (or SQLite) path given to ``search-worker`` used to become an empty journal, and the
    worker then said no search was in it (or waited): joining opens an existing storage only."""
    quiet_optuna()
    for url, shown in ((str(tmp_path / "typo.journal"), tmp_path / "typo.journal"),
                       (f"journal:{tmp_path / 'typo.journal'}", tmp_path / "typo.journal"),
                       (f"sqlite:///{tmp_path / 'typo.db'}", tmp_path / "typo.db"),
                       (f"sqlite:///{tmp_path / 'typo.db'}?timeout=5", tmp_path / "typo.db")):
        assert main.main(["search-worker", "--storage", url, "--workers", "1"]) == 2
        out, err = capsys.readouterr()
        assert (out, err) == ("", f"error: --storage: {shown}: no such file (start the search first, or check "
                                  "the path)\n"), url
    assert list(tmp_path.iterdir()) == []
    # the search itself still makes its storage, and then a worker joins it
    create_studies(parse_search(RAW), open_storage(f"sqlite:///{tmp_path / 'typo.db'}", 10), "search")
    with pytest.raises(ExperimentError, match="^--study: no search named 'other'"):
        join(f"sqlite:///{tmp_path / 'typo.db'}?timeout=5", "other", 1)


def test_a_storage_that_is_one_of_the_result_files_is_refused_before_it_is_written_over(tmp_path, capsys):
    """``--storage DIR/trials.csv --out DIR`` trained every trial into the journal and then wrote the results
    over it: every trial lost, exit 0.  Any of the result files, as a journal or an SQLite file, however the path
    is spelled, is refused naming ``--storage`` before anything is made; another name in the folder is fine."""
    quiet_optuna()
    (tmp_path / "s.json").write_text(json.dumps(RAW))
    out = tmp_path / "out"
    for url, name in ((str(out / "trials.csv"), "trials.csv"),
                      (f"sqlite:///{out / 'summary.json'}?timeout=5", "summary.json"),
                      (f"journal:{out / '..' / 'out' / 'pbt_lineage.json'}", "pbt_lineage.json")):
        assert main.main(["search", str(tmp_path / "s.json"), "--out", str(out), "--storage", url]) == 2
        text, err = capsys.readouterr()
        assert text == "" and err.startswith("error: --storage: ") and err.count("\n") == 1, err
        assert err.endswith(f" is the {name} the search writes into --out {out}; give the storage another name "
                            f"(the default is {out / 'search.journal'})\n"), err
    assert not out.exists()
    with pytest.raises(ExperimentError, match="^--storage: .* is the trials.csv the search writes into --out"):
        start(parse_search(RAW), out, str(out / "trials.csv"), "search", 1)       # the Search tab's path too
    assert not out.exists()


def test_a_signal_while_the_storage_opens_is_exit_143_and_no_work(tmp_path, capsys, monkeypatch):
    """Opening a storage may wait (a database up to 10 s): a SIGTERM (or Ctrl-C) meanwhile is heard once it is
    open, and the command ends with main.py's line for a stop before training, its exit code, and no header,
    no trial and no files (the search's studies are made: starting it again resumes them)."""
    opened = launch.open_search

    def open_then_signal(*args):
        storage = opened(*args)
        signal.raise_signal(signal.SIGTERM)              # caught by the command's StopSignals
        return storage
    monkeypatch.setattr(launch, "open_search", open_then_signal)
    (tmp_path / "s.json").write_text(json.dumps(RAW))
    assert main.main(["search", str(tmp_path / "s.json"), "--out", str(tmp_path / "out"), "--workers", "1"]) == 143
    assert capsys.readouterr() == ("", "interrupted\n")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["search.journal"]
    assert method_trials(open_storage(str(tmp_path / "out" / "search.journal"), 10), "search", "random") == []


def test_a_port_in_use_is_one_line(tmp_path, capsys):
    held = start_proxy(str(tmp_path / "a.journal"))
    try:
        assert main.main(["search-serve", "--storage", str(tmp_path / "b.journal"), "--port", str(held.port)]) == 2
    finally:
        held.stop()
    assert capsys.readouterr().err == (f"error: --port: port {held.port} on 127.0.0.1 is in use; give another "
                                       "--port (or stop what holds it)\n")
    assert not (tmp_path / "b.journal").exists() or (tmp_path / "b.journal").stat().st_size == 0


def _stop_after_first(monkeypatch, act):
    """The command's own trial printer, and ``act()`` once the first trial is told."""
    printed = search_command._print_trial

    def print_then_act(event):
        printed(event)
        if isinstance(event, Told) and not getattr(print_then_act, "done", False):
            print_then_act.done = True
            act()
    monkeypatch.setattr(search_command, "_print_trial", print_then_act)


# quick suite: 14.6 s on an idle 2-core machine (two nodes in turn, each with its training process)
def test_a_proxy_killed_mid_search_is_one_line_exit_1_and_a_restart_goes_on(tmp_path, capsys, monkeypatch):
    quiet_optuna()
    journal = tmp_path / "class.journal"
    create_studies(parse_search(RAW), open_storage(str(journal), 10), "class")
    proxy = start_proxy(str(journal))
    _stop_after_first(monkeypatch, proxy.stop)
    code = main.main(["search-worker", "--storage", proxy.url, "--study", "class", "--workers", "1"])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert err.startswith(f"error: the search's storage {proxy.url} stopped working: UNAVAILABLE: "), err
    assert err.endswith("(every trial told before is kept there; start again to go on)\n") and err.count("\n") == 1
    kept = method_trials(open_storage(str(journal), 10), "class", "random")
    assert [t.user_attrs["status"] for t in kept] == [RunStatus.FINISHED]          # the told trial is kept
    again = start_proxy(str(journal))                                            # the teacher starts it again
    try:
        rest = join(again.url, "class", 1)
    finally:
        again.stop()
    assert [t.result.status for t in rest.told] == [RunStatus.FINISHED] * 2
    trials = method_trials(open_storage(str(journal), 10), "class", "random")
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 3


def test_a_journal_deleted_mid_search_is_one_line_and_exit_1(tmp_path, capsys, monkeypatch):
    quiet_optuna()
    journal = tmp_path / "class.journal"
    create_studies(parse_search(RAW), open_storage(str(journal), 10), "class")
    _stop_after_first(monkeypatch, journal.unlink)
    code = main.main(["search-worker", "--storage", str(journal), "--study", "class", "--workers", "1"])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert err.startswith(f"error: the search's storage {journal} stopped working: "), err
    assert "No such file or directory" in err and err.count("\n") == 1


def test_a_storage_fault_is_a_write_error_and_a_wrong_call_is_not(tmp_path):
    """The guard turns the storage's faults into StorageLost (main.py: one line, exit 1) and leaves Optuna's
    answers to wrong calls (an unknown study: KeyError) as they were."""
    storage = open_storage(str(tmp_path / "s.journal"), 10)
    with pytest.raises(KeyError):
        storage.get_study_id_from_name("nothing")
    (tmp_path / "s.journal").unlink()
    with pytest.raises(StorageLost) as lost:
        storage.get_all_studies()
    assert isinstance(lost.value, WriteError) and isinstance(lost.value.__cause__, FileNotFoundError)
    proxy = start_proxy(str(tmp_path / "p.journal"))
    client = open_storage(proxy.url, 10)
    optuna.create_study(storage=client, study_name="a")
    proxy.stop()                                                 # the teacher's proxy is gone
    with pytest.raises(StorageLost) as lost:
        optuna.load_study(study_name="a", storage=client)
    assert str(lost.value).startswith(f"the search's storage {proxy.url} stopped working: UNAVAILABLE: ")
