"""The one JSON reader: what a hostile file gets back, from the reader itself and from ``main.py run FILE``."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import main as app
from engine.inputs import MAX_BYTES, MAX_DEPTH, MAX_INT_DIGITS, InputError, nesting_depth, parse_json, read_json

ROOT = Path(__file__).resolve().parents[2]
SAFETY_NET = 300   # seconds: only so that a regression fails instead of hanging the suite; never reached


def one_error_line(capsys, argv):
    code = app.main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("content, problem", [
    ("[" * 10_000 + "]" * 10_000, f"nested 10,000 levels deep; an experiment file may nest at most {MAX_DEPTH}"),
    ('{"seed": 1' + "0" * 5_000 + "}", f"an integer of 5,001 digits; at most {MAX_INT_DIGITS} are read"),
    ('{"optimizer": {"lr": 0.1, "lr": 10}}', 'duplicate key "lr"'),
    ('{"train": {"steps": 10}, "train": {"steps": 20}}', 'duplicate key "train"'),
    ('{"optimizer": {"lr": 0.1,}}', "not valid JSON: Expecting property name enclosed in double quotes "
                                    "at line 1 column 26"),
])
def test_a_hostile_experiment_file_is_one_line_naming_the_file(tmp_path, capsys, content, problem):
    path = tmp_path / "exp.json"
    path.write_text(content)
    err = one_error_line(capsys, ["run", str(path), "--out", str(tmp_path / "out")])
    assert err.startswith(f"error: {path}: {problem}"), err
    assert not (tmp_path / "out").exists()


def test_bad_utf8_is_named_at_its_line_and_column(tmp_path, capsys):
    path = tmp_path / "exp.json"
    path.write_bytes(b'{"name":\n  "caf\xe9"}')
    err = one_error_line(capsys, ["run", str(path)])
    assert err == f"error: {path}: cannot read: not UTF-8 text (byte 0xe9 at line 2 column 7)\n"


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(tmp_path, capsys):
    path = tmp_path / "big.json"
    path.write_bytes(b"[" + b" " * MAX_BYTES + b"]")
    err = one_error_line(capsys, ["run", str(path)])
    assert err == (f"error: {path}: {MAX_BYTES + 2:,} bytes, more than the {MAX_BYTES:,} "
                   f"an experiment file may hold\n")


@pytest.mark.parametrize("kind", ["device", "folder", "missing"])
def test_only_a_regular_file_is_read(tmp_path, capsys, kind):
    path = {"device": Path("/dev/zero"), "folder": tmp_path, "missing": tmp_path / "nope.json"}[kind]
    if kind == "device" and not path.exists():
        pytest.skip("no /dev/zero here")
    err = one_error_line(capsys, ["run", str(path)])
    expected = {"device": "a device, not a regular file; an experiment file must be a regular file",
                "folder": "a folder, not a regular file; an experiment file must be a regular file",
                "missing": "no such file"}[kind]
    assert err == f"error: {path}: {expected}\n"


def test_a_run_list_goes_through_the_same_reader(tmp_path, capsys):
    path = tmp_path / "runs.json"
    path.write_text('[{"name": "a", "name": "b"}]')
    err = one_error_line(capsys, ["compare", str(path), "--out", str(tmp_path / "out")])
    assert err.startswith(f'error: {path}: duplicate key "name"'), err


needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")


@needs_fifo
def test_a_fifo_as_the_experiment_file_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "exp.json"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "main.py", "run", str(fifo), "--out", str(tmp_path / "out")],
                          cwd=ROOT, capture_output=True, text=True, timeout=SAFETY_NET)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (f"error: {fifo}: a FIFO (named pipe), not a regular file; "
                           f"an experiment file must be a regular file\n")


@needs_fifo
def test_a_fifo_swapped_in_after_the_check_does_not_hang_the_open(tmp_path):
    """The stat said "regular file" (faked here), then the open met a FIFO: O_NONBLOCK returns at once,
    and the check of the opened file refuses it."""
    fifo = tmp_path / "exp.json"
    os.mkfifo(fifo)
    script = (
        "import os, stat, sys\n"
        "from engine import inputs\n"
        "real = os.stat\n"
        "class Regular:\n"
        "    st_mode = stat.S_IFREG | 0o644\n"
        "inputs.os.stat = lambda p: Regular()\n"
        "try:\n"
        "    inputs.read_json(sys.argv[1])\n"
        "except inputs.InputError as err:\n"
        "    print(err)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(fifo)], cwd=ROOT, capture_output=True,
                          text=True, timeout=SAFETY_NET)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{fifo}: a FIFO (named pipe), not a regular file; an experiment file must be a regular file\n"


def test_the_reader_accepts_what_a_person_writes(tmp_path):
    path = tmp_path / "exp.json"
    deep = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)     # inside the top object: MAX_DEPTH in all
    path.write_text(json.dumps({"name": "[[[{{{ not brackets \\\" }}}", "deep": json.loads(deep),
                                "big": 10 ** (MAX_INT_DIGITS - 1), "x": 1e300}))
    raw = read_json(path)
    assert raw["name"] == "[[[{{{ not brackets \\\" }}}"
    assert raw["big"] == 10 ** (MAX_INT_DIGITS - 1) and raw["x"] == 1e300
    path.write_bytes(b"\xef\xbb\xbf" + b'{"a": 1}')     # a byte-order mark, as some Windows editors write
    assert read_json(path) == {"a": 1}


def test_nesting_depth_counts_brackets_outside_strings_only():
    assert nesting_depth('{"a": [1, {"b": []}]}') == 4
    assert nesting_depth('{"a": "[[[[[[[[\\"[[[["}') == 1
    assert nesting_depth("12") == 0
    assert nesting_depth("[" * 100_000) == 100_000       # linear, no recursion


def test_text_already_in_memory_is_read_by_the_same_rules():
    with pytest.raises(InputError, match=r'^settings last/runs: duplicate key "a"'):
        parse_json('{"a": 1, "a": 2}', "settings last/runs", "setting")
    with pytest.raises(InputError, match=r"^s: nested 65 levels deep; a setting may nest at most 64$"):
        parse_json("[" * 65 + "]" * 65, "s", "setting")
    err = pytest.raises(InputError, parse_json, "-" + "9" * 5_000, "s")
    assert isinstance(err.value, ValueError) and err.value.source == "s"
