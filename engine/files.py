"""Result files, one way: atomic writes, one CSV dialect and float format, strict JSON, read-only arrays.

Every file the app writes goes through here, so a reader meets one format:

* a file is written to a temporary file beside it and renamed over it (:func:`write_text_atomic`), so a
  crash or a full disk never leaves half a file behind;
* a CSV file has ``"\\n"`` line ends (:data:`CSV_LINE_END`, the csv module's default quoting) and every
  number in it is :func:`float_cell`: ``repr(float(x))``, the shortest text that reads back as the same
  float64, and ``""`` for a missing value;
* JSON is strict (:func:`json_safe`): it has no NaN or infinity, so those become ``null``;
* the arrays of a result handed across a boundary are read-only copies (:func:`frozen_array`), so no
  reader can change what another one sees.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

CSV_LINE_END = "\n"


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, then rename it over ``path``.

    A rename within one filesystem is atomic, so a reader sees the old file or
    the new one, never a partial one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def float_cell(x: Any) -> str:
    """A number as a CSV cell: ``repr(float(x))``, every digit float64 needs to read back exactly.

    ``None`` (no value: an evaluation column between evaluations) is the empty cell.  Non-finite
    numbers are written as Python writes them, ``nan``, ``inf`` and ``-inf``, which ``float()``
    reads back (what every file the app wrote before held for them, whatever its float format).
    """
    return "" if x is None else repr(float(x))


def csv_text(header: Sequence, rows: Iterable[Sequence], lineterminator: str = CSV_LINE_END) -> str:
    """``header`` then ``rows`` as CSV text in the app's one dialect (cells already formatted)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=lineterminator)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def write_csv_atomic(path: Path, header: Sequence, rows: Iterable[Sequence],
                     lineterminator: str = CSV_LINE_END) -> Path:
    """A CSV file (``header`` then ``rows``, cells already formatted, numbers by :func:`float_cell`),
    written atomically as :func:`write_text_atomic` does; returns ``path``.

    ``lineterminator`` is kept for old callers; the app's own files all use :data:`CSV_LINE_END`.
    """
    write_text_atomic(Path(path), csv_text(header, rows, lineterminator))
    return Path(path)


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float (nested in dicts, lists and tuples) replaced by ``None``.

    Strict JSON has no NaN or infinity; a diverged run's losses become ``null`` and its status says why.
    Tuples come back as lists, as ``json`` writes them anyway.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json_atomic(path: Path, value: Any) -> Path:
    """``value`` as strict JSON (:func:`json_safe`), indented by 2 and ending in a newline, written
    atomically; returns ``path``."""
    write_text_atomic(Path(path), json.dumps(json_safe(value), indent=2) + "\n")
    return Path(path)


def frozen_array(values: Any) -> np.ndarray:
    """A read-only float64 copy of ``values``: what a frozen result dataclass holds as an array."""
    a = np.array(values, dtype=np.float64)
    a.setflags(write=False)
    return a
