"""Writing result files so that a crash or a full disk never leaves half a file behind."""
from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from typing import Iterable, Sequence


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


def write_csv_atomic(path: Path, header: Sequence, rows: Iterable[Sequence], lineterminator: str = "\n") -> Path:
    """A CSV file (``header`` then ``rows``, cells already formatted as the file wants them), written
    atomically as :func:`write_text_atomic` does; returns ``path``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=lineterminator)
    writer.writerow(header)
    writer.writerows(rows)
    write_text_atomic(Path(path), buf.getvalue())
    return Path(path)
