"""engine/files.py directly: an atomic write leaves the new file or the old one and never a temporary, whatever
fails and wherever; files written together are renamed with the mark last; the one CSV and JSON format."""
import errno
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from engine import files
from engine.files import (
    CHUNK,
    AtomicFile,
    WriteError,
    commit_files,
    csv_text,
    float_cell,
    frozen_array,
    json_safe,
    write_csv_atomic,
    write_json_atomic,
    write_text_atomic,
)


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "deep" / "er" / "out.txt"      # the folders are made
    write_text_atomic(path, "old\n")
    write_text_atomic(path, "new é\n")
    assert path.read_text(encoding="utf-8") == "new é\n"
    assert leftovers(path.parent) == []
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.txt"]


def test_an_exception_mid_write_keeps_the_old_content_and_removes_the_temporary(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old\n")
    with pytest.raises(RuntimeError, match="the run broke"):
        with AtomicFile(path) as f:
            f.write("x" * (CHUNK + 10))           # past one chunk: some of it is already on the disk
            assert os.path.getsize(f.tmp) == CHUNK + 10
            raise RuntimeError("the run broke")
    assert path.read_text() == "old\n"
    assert leftovers(tmp_path) == []


def test_the_target_is_untouched_until_commit(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old\n")
    f = AtomicFile(path)
    f.write("new\n")
    f.finish()
    assert path.read_text() == "old\n" and len(leftovers(tmp_path)) == 1
    assert f.commit() == path
    assert path.read_text() == "new\n" and leftovers(tmp_path) == []


def _full_disk(fd, data):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_mid_write_is_one_line_naming_the_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "metrics.csv"
    path.write_text("old\n")
    monkeypatch.setattr(files.os, "write", _full_disk)
    with pytest.raises(WriteError) as caught:
        with AtomicFile(path) as f:
            f.write("y" * (CHUNK + 1))             # the chunk goes to the disk here, and fails
    assert str(caught.value) == f"cannot write {path}: No space left on device"
    assert caught.value.errno == errno.ENOSPC and isinstance(caught.value, OSError)
    assert path.read_text() == "old\n"
    assert leftovers(tmp_path) == []


def test_a_failure_in_the_final_flush_or_the_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "out.txt"
    path.write_text("old\n")
    with monkeypatch.context() as m:
        m.setattr(files.os, "fsync", lambda fd: _full_disk(fd, b""))
        with pytest.raises(WriteError, match="cannot write .*out.txt: No space left on device"):
            write_text_atomic(path, "new\n")
    assert path.read_text() == "old\n" and leftovers(tmp_path) == []

    def no_rename(src, dst):
        raise OSError(errno.EACCES, "Permission denied")

    with monkeypatch.context() as m:
        m.setattr(files.os, "replace", no_rename)
        with pytest.raises(WriteError, match="cannot write .*out.txt: Permission denied"):
            write_text_atomic(path, "new\n")
    assert path.read_text() == "old\n" and leftovers(tmp_path) == []


def test_files_written_together_are_renamed_in_order_the_old_mark_removed_first(tmp_path, monkeypatch):
    data, mark = tmp_path / "metrics.csv", tmp_path / "summary.json"
    data.write_text("old rows\n")
    mark.write_text("old mark\n")
    calls = []
    real_unlink, real_replace = os.unlink, os.replace
    monkeypatch.setattr(files.os, "unlink", lambda p: (calls.append(("unlink", os.path.basename(p))), real_unlink(p)))
    monkeypatch.setattr(files.os, "replace",
                        lambda s, d: (calls.append(("replace", os.path.basename(d))), real_replace(s, d)))
    a, b = AtomicFile(data), AtomicFile(mark)
    a.write("new rows\n")
    b.write("new mark\n")
    commit_files([a, b])
    assert calls[:3] == [("unlink", "summary.json"), ("replace", "metrics.csv"), ("replace", "summary.json")]
    assert data.read_text() == "new rows\n" and mark.read_text() == "new mark\n"
    assert leftovers(tmp_path) == []


def test_a_failed_rename_of_the_second_file_leaves_no_mark_and_no_temporary(tmp_path, monkeypatch):
    data, mark = tmp_path / "metrics.csv", tmp_path / "summary.json"
    data.write_text("old rows\n")
    mark.write_text("old mark\n")
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith("summary.json"):
            raise OSError(errno.EIO, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", replace)
    a, b = AtomicFile(data), AtomicFile(mark)
    a.write("new rows\n")
    b.write("new mark\n")
    with pytest.raises(WriteError, match="summary.json: Input/output error"):
        commit_files([a, b])
    assert not mark.exists()                       # new rows without a mark: not a result, never a mixed pair
    assert leftovers(tmp_path) == []


def test_discard_is_harmless_twice_and_a_closed_file_refuses_writes(tmp_path):
    f = AtomicFile(tmp_path / "out.txt")
    f.discard()
    f.discard()
    assert leftovers(tmp_path) == [] and not (tmp_path / "out.txt").exists()
    with pytest.raises(WriteError, match="out.txt: the file was already closed"):
        f.write("z" * CHUNK)
    assert leftovers(tmp_path) == []               # the refused write left nothing either


def test_one_csv_dialect_and_float_cells_that_read_back_exactly(tmp_path):
    x = 0.1 + 0.2
    assert float(float_cell(x)) == x and float_cell(x) == "0.30000000000000004"
    assert float_cell(None) == "" and float_cell(3) == "3.0"
    assert [float_cell(v) for v in (math.nan, math.inf, -math.inf)] == ["nan", "inf", "-inf"]
    assert csv_text(["a", "b"], [["1.0", ""], ["x,y", "2.0"]]) == 'a,b\n1.0,\n"x,y",2.0\n'
    path = write_csv_atomic(tmp_path / "t.csv", ["a"], [["1.0"]])
    assert path.read_bytes() == b"a\n1.0\n"


def test_json_is_strict_non_finite_numbers_become_null(tmp_path):
    value = {"loss": math.nan, "curve": [1.0, math.inf, (2.0, -math.inf)], "n": 3, "ok": "yes"}
    assert json_safe(value) == {"loss": None, "curve": [1.0, None, [2.0, None]], "n": 3, "ok": "yes"}
    path = write_json_atomic(tmp_path / "s.json", value)
    text = path.read_text()
    assert text.endswith("}\n") and "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["curve"] == [1.0, None, [2.0, None]]


def test_frozen_arrays_are_read_only_float_copies():
    source = [1, 2, 3]
    a = frozen_array(source)
    assert a.dtype == np.float64 and not a.flags.writeable
    with pytest.raises(ValueError):
        a[0] = 5.0
    b = np.arange(3.0)
    c = frozen_array(b)
    b[0] = 9.0
    assert c[0] == 0.0                              # a copy: the writer's array can change, this one cannot


def _places(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "afile").write_text("keep")
    return {"free": tmp_path / "new.csv", "folder": tmp_path / "folder.csv", "missing": tmp_path / "a" / "b" / "x.csv",
            "under a file": tmp_path / "afile" / "x.csv", "long": tmp_path / ("n" * 300 + ".csv"),
            "nul": tmp_path / "bad\x00.csv"}


def test_one_check_of_a_file_target_names_the_kind_and_the_place_at_fault(tmp_path):
    """engine.files.target_problem: the window's saves and --out read this one check (issue 11 review)."""
    place = _places(tmp_path)
    kinds = {name: (p.kind, p.place) if (p := files.target_problem(path)) else None for name, path in place.items()}
    assert kinds == {"free": None, "folder": ("is_folder", place["folder"]),
                     "missing": ("no_folder", tmp_path / "a" / "b"), "under a file": ("not_folder", tmp_path / "afile"),
                     "long": ("too_long", place["long"]), "nul": ("nul", place["nul"])}
    # a folder to be created: fine when its nearest existing parent can hold it, not under a file
    assert files.target_problem(place["missing"], new_folders=True) is None
    assert files.target_problem(tmp_path / "afile" / "sub" / "x.csv", new_folders=True).kind == "not_folder"
    assert not (tmp_path / "a").exists()                                  # the check creates nothing


def test_the_windows_words_for_a_file_target(tmp_path):
    place = _places(tmp_path)
    words = {name: files.file_target_problem(path) for name, path in place.items()}
    assert words == {"free": None, "folder": f"{place['folder']} is a folder: give a file name",
                     "missing": f"the folder {tmp_path / 'a' / 'b'} does not exist",
                     "under a file": f"{tmp_path / 'afile'} is a file, not a folder",
                     "long": "the name is too long (at most 255 bytes)", "nul": "the name holds a NUL character"}


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="/proc refuses new files, even to root")
def test_a_folder_the_system_refuses_is_unwritable_with_its_reason():
    problem = files.target_problem(Path("/proc/descent-lab.csv"))
    assert problem.kind == "unwritable" and str(problem.place) == "/proc" and problem.reason
    assert files.file_target_problem(Path("/proc/x.csv")) == f"cannot write in /proc: {problem.reason}"
