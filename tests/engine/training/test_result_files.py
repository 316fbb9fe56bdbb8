"""Result files under faults: a kill at any point of the final write, a full disk, the user's umask.

``engine.files.commit_files`` renames a run's files with ``summary.json`` last as the commit mark, so a
folder never holds a ``metrics.csv`` and a ``summary.json`` of two different runs.
"""
import errno
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine import files
from engine.files import AtomicFile, WriteError, clean_stale_temps, commit_files, write_text_atomic

ROOT = Path(__file__).resolve().parents[3]


def write_pair(folder: Path, run: int, rows: int = 3) -> None:
    """A run's two files as the runner writes them: metrics first, the summary (the mark) last."""
    metrics, summary = AtomicFile(folder / "metrics.csv"), AtomicFile(folder / "summary.json")
    metrics.write("run,row\n" + "".join(f"{run},{i}\n" for i in range(rows)))
    summary.write(json.dumps({"run": run, "rows": rows}))
    commit_files([metrics, summary])


def pair_state(folder: Path):
    """(run of summary.json or None, run of metrics.csv or None, whether they agree in full)."""
    summary = json.loads((folder / "summary.json").read_text()) if (folder / "summary.json").exists() else None
    lines = (folder / "metrics.csv").read_text().splitlines() if (folder / "metrics.csv").exists() else None
    runs = {line.split(",")[0] for line in lines[1:]} if lines else set()
    metrics_run = int(runs.pop()) if len(runs) == 1 else None
    agree = summary is not None and metrics_run == summary["run"] and len(lines) - 1 == summary["rows"]
    return (summary["run"] if summary else None), metrics_run, agree


def temps(folder: Path):
    return sorted(p.name for p in folder.glob(".*.tmp"))


def test_a_failed_rename_between_the_two_files_never_pairs_two_runs(tmp_path, monkeypatch):
    write_pair(tmp_path, 1)
    real, calls = os.replace, []

    def second_fails(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.EIO, "Input/output error")
        real(src, dst)
    monkeypatch.setattr(files.os, "replace", second_fails)
    with pytest.raises(WriteError, match=r"cannot write .*summary\.json: Input/output error"):
        write_pair(tmp_path, 2)
    summary_run, metrics_run, _ = pair_state(tmp_path)
    assert (summary_run, metrics_run) == (None, 2)      # new metrics, no mark: not a result, not a mixed one
    assert temps(tmp_path) == []
    monkeypatch.setattr(files.os, "replace", real)
    write_pair(tmp_path, 3)
    assert pair_state(tmp_path) == (3, 3, True)


def test_a_full_disk_keeps_the_old_files_and_says_which_file(tmp_path, monkeypatch):
    write_pair(tmp_path, 1)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(files, "_write_all", full)
    with pytest.raises(WriteError) as caught:
        write_pair(tmp_path, 2)
    assert str(caught.value) == f"cannot write {tmp_path / 'metrics.csv'}: No space left on device"
    assert caught.value.errno == errno.ENOSPC and isinstance(caught.value, OSError)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before     # no temporary, old files as they were
    with pytest.raises(WriteError, match="No space left on device"):
        write_text_atomic(tmp_path / "summary.json", "{}")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_result_files_get_the_users_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        write_text_atomic(tmp_path / "one.json", "{}")
        write_pair(tmp_path, 1)
    finally:
        os.umask(old)
    for name in ("one.json", "metrics.csv", "summary.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name


def test_stale_temporaries_of_a_dead_writer_are_cleaned_and_a_live_ones_kept(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(done.stdout)
    target = tmp_path / "metrics.csv"
    stale = tmp_path / f".metrics.csv.{dead}.0badc0de.tmp"
    live = tmp_path / f".metrics.csv.{os.getppid()}.0badc0de.tmp"
    other = tmp_path / f".summary.json.{dead}.0badc0de.tmp"
    for p in (stale, live, other):
        p.write_text("")
    assert clean_stale_temps(target) == [stale]
    write_text_atomic(tmp_path / "summary.json", "{}")     # the next write of a file cleans its own
    assert temps(tmp_path) == [live.name]


# A writer that kills itself with SIGKILL just before its K-th file operation of the second write
# (K = 0: never), so every point of the final write is tried, each in a real process.
KILL_AT = """
import os, signal, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from engine import files
from tests.engine.training.test_result_files import write_pair
folder, kill_at = Path(sys.argv[1]), int(sys.argv[2])
write_pair(folder, 1)
count = 0

def counted(name, real):
    def op(*args, **kwargs):
        global count
        count += 1
        if count == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return op
for name in ("open", "close", "fsync", "replace", "unlink"):
    setattr(files.os, name, counted(name, getattr(os, name)))
files._write_all = counted("write", files._write_all)
write_pair(folder, 2)
print(count, flush=True)
"""


@pytest.mark.slow      # every point is ~100 real processes; the quick suite kills at random points below
def test_sigkill_at_every_point_of_the_final_write_never_pairs_two_runs(tmp_path):
    script = tmp_path / "kill_at.py"
    script.write_text(KILL_AT.format(root=str(ROOT)))

    def write(folder, kill_at):
        return subprocess.run([sys.executable, str(script), str(folder), str(kill_at)], capture_output=True,
                              text=True)
    done = write(tmp_path / "whole", 0)
    assert done.returncode == 0, done.stderr
    operations = int(done.stdout)
    assert operations >= 8
    seen = set()
    for kill_at in range(1, operations + 1):
        folder = tmp_path / f"k{kill_at}"
        done = write(folder, kill_at)
        assert done.returncode == -signal.SIGKILL, done.stderr
        summary_run, metrics_run, agree = pair_state(folder)
        assert agree or summary_run is None, (kill_at, summary_run, metrics_run)
        seen.add(summary_run if agree else "unmarked")
        write_pair(folder, 3)                   # the next write cleans what the killed one left
        assert pair_state(folder) == (3, 3, True) and temps(folder) == []
    assert seen == {1, 2, "unmarked"}           # killed before, inside and after the commit


CHILD = """
import json, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from tests.engine.training.test_result_files import write_pair
folder, first = Path(sys.argv[1]), int(sys.argv[2])
run = first
while True:
    write_pair(folder, run, rows=2000 + run % 7)
    print(run, flush=True)
    run += 1
"""


def test_sigkill_at_random_points_of_the_final_write_never_pairs_two_runs(tmp_path):
    """A real process writes run after run into one folder and is killed at a random moment, 6 times:
    each time the folder holds a pair that agrees, or metrics without a mark; the next writer cleans
    what the killed one left."""
    rng = random.Random(10)
    folder = tmp_path / "out"
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(root=str(ROOT)))
    first = 0
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, str(script), str(folder), str(first)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for _ in range(rng.randint(1, 4)):        # let it commit a few runs, then kill it mid-write
            line = proc.stdout.readline()
            assert line, "the writer died by itself"
            first = int(line) + 1
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        summary_run, metrics_run, agree = pair_state(folder)
        assert agree or summary_run is None, (summary_run, metrics_run)
        first += 1                               # the killed run's number is never reused
    write_pair(folder, first)
    assert pair_state(folder) == (first, first, True)
    assert temps(folder) == []


def test_a_csv_streams_row_by_row_to_the_same_text(tmp_path, monkeypatch):
    from engine.files import csv_text, write_csv_atomic
    monkeypatch.setattr(files, "CHUNK", 10)             # many chunks
    rows = [[i, repr(i / 3), "a,b" if i % 2 else ""] for i in range(50)]
    write_csv_atomic(tmp_path / "x.csv", ["n", "third", "text"], iter(rows))
    assert (tmp_path / "x.csv").read_text() == csv_text(["n", "third", "text"], rows)

    def broken():
        yield [1, 2, 3]
        raise RuntimeError("a row that cannot be made")
    with pytest.raises(RuntimeError):
        write_csv_atomic(tmp_path / "x.csv", ["n", "third", "text"], broken())
    assert (tmp_path / "x.csv").read_text() == csv_text(["n", "third", "text"], rows) and temps(tmp_path) == []
