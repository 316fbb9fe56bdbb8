"""Every headless command still writes the files, columns and values it wrote before the house was rebuilt.

The cases and how the committed ``golden/`` copy was made are in ``golden_cases.py``. Files are compared
parsed, not byte for byte: the CSV dialect and the float format are one now (one line ending, one float
format), and the numbers agree to a relative 1e-4; timings are left out.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from tests.engine.commands.golden_cases import CASES, TIMING, write_cases

GOLDEN = Path(__file__).resolve().parent / "golden"


def _same(a, b, where: str) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{where}: keys {list(b)} != {list(a)}"
        for key in a:
            if key not in TIMING:
                _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{where}: {b!r} != {a!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, str) and isinstance(b, str):
        fa, fb = _float(a), _float(b)
        if fa is not None and fb is not None:
            _same(fa, fb, where)
        else:
            assert a == b, f"{where}: {b!r} != {a!r}"
    elif isinstance(a, float) or isinstance(b, float):
        assert isinstance(b, (int, float)) and (math.isnan(a) and math.isnan(b)
                                                or math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-7)), \
            f"{where}: {b!r} != {a!r}"
    else:
        assert a == b, f"{where}: {b!r} != {a!r}"


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _read(path: Path):
    if path.suffix == ".json":
        return json.loads(path.read_text())
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    keep = [i for i, col in enumerate(header) if col not in TIMING]
    return [[header[i] for i in keep]] + [[row[i] for i in keep] for row in body]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("now")
    write_cases(where)
    return where


@pytest.mark.parametrize("case", sorted(CASES))
def test_command_writes_the_same_files(written, case):
    before = sorted(p.relative_to(GOLDEN / case) for p in (GOLDEN / case).rglob("*") if p.is_file())
    now = sorted(p.relative_to(written / case) for p in (written / case).rglob("*") if p.is_file())
    assert now == before
    for rel in before:
        _same(_read(GOLDEN / case / rel), _read(written / case / rel), f"{case}/{rel}")
