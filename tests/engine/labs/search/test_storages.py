"""Storage URLs, and the sampler seeds of several workers (grid: the same; random, TPE, GP: different)."""
import pytest
from optuna.samplers import GPSampler, GridSampler, RandomSampler, TPESampler
from optuna.storages import JournalStorage, RDBStorage

from engine.experiment import ExperimentError
from engine.labs.search.methods import METHODS, worker_seed
from engine.labs.search.spec import parse_search
from engine.labs.search.storages import grpc_address, open_storage, storage_kind

SEARCH = parse_search({"base": {"data": {"dataset": "moons", "n_train": 32, "n_val": 32}, "train": {"steps": 5}},
                       "space": {"optimizer.lr": {"log": [1e-3, 1.0]}, "model.dropout": {"uniform": [0.0, 0.5]}},
                       "methods": ["grid", "random", "tpe", "gp"], "trials": 9, "seed": 7, "startup": 3})


@pytest.mark.parametrize("url, scheme", [
    ("out/search.journal", "journal:"), ("journal:out/x.log", "journal:"), ("/abs/path", "journal:"),
    ("sqlite:///out/s.db", "sqlite:///"), ("postgresql+psycopg://me@db.school/search", "postgresql+psycopg://"),
    ("grpc://teacher.local:13000", "grpc://"),
])
def test_a_url_names_its_kind_of_storage(url, scheme):
    assert storage_kind(url).scheme == scheme


@pytest.mark.parametrize("url, line", [
    ("mysql://x/y", "--storage: unknown storage 'mysql'"),
    ("", "--storage: must not be empty"),
])
def test_an_unknown_storage_is_refused_naming_the_option(url, line):
    with pytest.raises(ExperimentError) as err:
        storage_kind(url)
    assert str(err.value).startswith(line)


def test_a_proxy_url_is_host_and_port():
    assert grpc_address("grpc://10.0.0.2:13000") == ("10.0.0.2", 13000)
    for bad in ("grpc://host", "grpc://:80", "grpc://h:99999", "grpc://h:port"):
        with pytest.raises(ExperimentError, match="grpc://HOST:PORT"):
            grpc_address(bad)


def test_a_proxy_that_is_not_there_is_one_line_after_a_bounded_wait(monkeypatch):
    """Nothing listens on the port: the client gives up after CONNECT_WAIT seconds (shortened here), naming
    --storage and the command that starts a proxy, instead of hanging on the first call."""
    import socket

    from engine.labs.search import storages
    monkeypatch.setattr(storages, "CONNECT_WAIT", 0.2)
    with socket.socket() as sock:           # a port that was free a moment ago and is not listened on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ExperimentError) as err:
        open_storage(f"grpc://127.0.0.1:{port}", 10)
    assert str(err.value) == (f"--storage: no search proxy answers at 127.0.0.1:{port} (waited 0.2 s; "
                              "is main.py search-serve running there?)")


def test_journal_and_sqlite_open(tmp_path):
    assert isinstance(open_storage(str(tmp_path / "a" / "s.journal"), 10), JournalStorage)
    assert (tmp_path / "a").is_dir()
    assert isinstance(open_storage(f"journal:{tmp_path / 'b.journal'}", 10), JournalStorage)
    with pytest.raises(ExperimentError, match="is a folder"):
        open_storage(str(tmp_path), 10)
    rdb = open_storage(f"sqlite:///{tmp_path / 's.db'}", 4.0)
    assert isinstance(rdb, RDBStorage)
    assert rdb.get_heartbeat_interval() == 4 and rdb.grace_period == 12


def test_grid_has_the_same_seed_on_every_worker_the_others_different():
    samplers = [{m: METHODS[m].sampler(SEARCH, w, 0) for m in METHODS} for w in range(3)]
    assert all(isinstance(s["grid"], GridSampler) for s in samplers)
    assert isinstance(samplers[0]["random"], RandomSampler) and isinstance(samplers[0]["tpe"], TPESampler)
    assert isinstance(samplers[0]["gp"], GPSampler)
    # grid: one shuffled list of points on every worker (trial n gets its n-th point: none twice, none skipped)
    assert samplers[0]["grid"]._all_grids == samplers[1]["grid"]._all_grids == samplers[2]["grid"]._all_grids
    assert len(samplers[0]["grid"]._all_grids) == 9
    # random: worker 0 is the seed's own sequence; the others draw other sequences
    draws = [s["random"]._rng.rng.random() for s in samplers]
    assert draws[0] == RandomSampler(seed=7)._rng.rng.random()
    assert len(set(draws)) == 3
    assert worker_seed(7, 0) == 7 and len({worker_seed(7, w) for w in range(100)}) == 100
    # a search resumed on worker 0 does not repeat the sequence it already drew
    assert worker_seed(7, 0, restart=5) != 7


def test_a_joining_worker_does_not_make_a_storage_that_is_not_there(tmp_path):
    for url in (str(tmp_path / "typo.journal"), f"journal:{tmp_path / 'typo.journal'}", f"sqlite:///{tmp_path / 't.db'}"):
        with pytest.raises(ExperimentError, match="^--storage: .*: no such file \\(start the search first"):
            open_storage(url, 10, create=False)
    assert list(tmp_path.iterdir()) == []
    open_storage(str(tmp_path / "s.journal"), 10)                      # the starting command makes it
    assert isinstance(open_storage(str(tmp_path / "s.journal"), 10, create=False), JournalStorage)
