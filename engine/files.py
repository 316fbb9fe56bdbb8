"""Result files, one way: atomic writes, one CSV dialect and float format, strict JSON, read-only arrays.

Every file the app writes goes through here, so a reader meets one format:

* a file is written to a temporary file beside it and renamed over it (:class:`AtomicFile`,
  :func:`write_text_atomic`), so a crash or a full disk never leaves half a file behind; files that
  belong together are renamed by :func:`commit_files`, the last one the commit mark;
* a CSV file has ``"\\n"`` line ends (:data:`CSV_LINE_END`, the csv module's default quoting) and every
  number in it is :func:`float_cell`: ``repr(float(x))``, the shortest text that reads back as the same
  float64, and ``""`` for a missing value;
* JSON is strict (:func:`json_safe`): it has no NaN or infinity, so those become ``null``;
* the arrays of a result handed across a boundary are read-only copies (:func:`frozen_array`), so no
  reader can change what another one sees.

A write that fails (a full disk, a folder that went read-only) raises :class:`WriteError`, one line
naming the file, and leaves the file that was there before as it was.
"""
from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Iterable, Sequence

import numpy as np

CSV_LINE_END = "\n"
CHUNK = 1 << 16          # characters held before they go to the disk in one write


class WriteError(OSError):
    """A result file could not be written: ``cannot write PATH: No space left on device``.

    An ``OSError`` with the cause's ``errno``, so code that catches ``OSError`` still catches it."""

    def __init__(self, path: Path, cause: OSError):
        reason = cause.strerror or str(cause) or type(cause).__name__
        super().__init__(cause.errno, f"cannot write {path}: {reason}")
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.strerror)


def _write_all(fd: int, data: bytes) -> None:
    """``data`` to ``fd``, all of it (``os.write`` may write less than it was given)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs.  On Windows ``os.kill`` would end it, so there the answer is False
    and the unlink decides: Windows refuses to remove a file a live writer holds open."""
    if os.name == "nt":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # alive, someone else's
        return True
    return True


def clean_stale_temps(path: Path) -> list[Path]:
    """Remove the temporary files of ``path`` left by a writer that was killed (SIGKILL, a power cut):
    ``.NAME.PID.TOKEN.tmp`` beside it whose process is gone.  A live writer's are left alone, so two
    processes writing into one folder do not delete each other's.  Returns what was removed."""
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:].split(".")[0]
        if pid.isdigit() and (int(pid) == os.getpid() or _pid_alive(int(pid))):
            continue
        try:
            tmp.unlink()
            removed.append(tmp)
        except OSError:
            pass
    return removed


class AtomicFile:
    """A file being written: a dot-named temporary beside ``path`` (``.NAME.PID.TOKEN.tmp``), renamed over
    ``path`` by :meth:`commit` (or by :func:`commit_files`, with others).  Until then ``path`` is untouched.

    Text goes to the disk in chunks of :data:`CHUNK` characters as it is written, so a long run can stream
    its rows without holding them.  The temporary is created with mode 0o666 and the process's umask
    applies, as for any file the user makes (``tempfile.mkstemp`` would make it 0600).  Opening one cleans
    the stale temporaries of ``path`` (:func:`clean_stale_temps`).  Every ``OSError`` is a
    :class:`WriteError` naming ``path``, and the temporary is removed.  As a context manager, an exception
    inside discards it.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._parts: list[str] = []
        self._held = 0
        self._fd: int | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            clean_stale_temps(self.path)
            self.tmp = self.path.parent / f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
            self._fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except OSError as err:
            raise WriteError(self.path, err) from err

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._held += len(text)
        if self._held >= CHUNK:
            self._flush()
        return len(text)

    def _flush(self) -> None:
        if self._fd is None:
            raise WriteError(self.path, OSError(errno.EBADF, "the file was already closed"))
        data = "".join(self._parts).encode("utf-8")
        self._parts, self._held = [], 0
        try:
            _write_all(self._fd, data)
        except OSError as err:
            self.discard()
            raise WriteError(self.path, err) from err

    def finish(self) -> None:
        """Everything written to the disk (flushed, fsynced) and closed: only the rename is left."""
        if self._fd is None:
            return
        self._flush()
        try:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
        except OSError as err:
            self.discard()
            raise WriteError(self.path, err) from err

    def commit(self) -> Path:
        """Rename it over ``path``; returns ``path``."""
        commit_files([self])
        return self.path

    def discard(self) -> None:
        """Close and remove the temporary (``path`` stays as it was); harmless twice."""
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None
        self._parts, self._held = [], 0
        try:
            os.unlink(self.tmp)
        except OSError:
            pass

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.discard()


def _sync_folder(folder: Path) -> None:
    """Make the renames in ``folder`` durable (where the system can open a folder: not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit_files(files: Sequence[AtomicFile]) -> None:
    """Rename written files into place so that readers never see them from two different writes; the
    last of ``files`` is the commit mark (a run's ``summary.json``).

    One rename is atomic, two are not: a kill between them would leave the new first file beside the
    old mark.  So every file is finished first (a full disk fails here, and every old file stays as it
    was), then the old mark is removed, then the files are renamed in order, the mark last.  Whenever the
    process dies, the folder holds the old files with their mark, or files without a mark (not a result
    yet: never the new ones beside the old mark), or the new files with theirs.

    Why not write a fresh folder and swap it in: the target folder is the user's ``--out`` and holds
    other things (a preset's run folders, a race's contenders, the user's own files), and no portable
    call swaps two non-empty folders; a rename replaces only an empty one.
    """
    try:
        for f in files:
            f.finish()
        if len(files) > 1:
            mark = files[-1]
            try:
                os.unlink(mark.path)
            except FileNotFoundError:
                pass
            _sync_folder(mark.path.parent)
        for f in files:
            try:
                os.replace(f.tmp, f.path)
            except OSError as err:
                raise WriteError(f.path, err) from err
        for folder in {f.path.parent for f in files}:
            _sync_folder(folder)
    finally:
        for f in files:
            f.discard()       # what was not renamed (after a failure): nothing of it stays behind


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file in the same folder, then rename it over ``path``
    (:class:`AtomicFile`).

    A rename within one filesystem is atomic, so a reader sees the old file or
    the new one, never a partial one.
    """
    with AtomicFile(path) as f:
        f.write(text)
        f.commit()


def cannot_write_in(folder: Path) -> str | None:
    """Why no file can be created in ``folder`` (one line), or None: a file is created and removed there,
    the one honest test (permission bits say nothing to root, or on a read-only mount)."""
    reason = _unwritable(folder)
    return f"cannot write in {folder}: {reason}" if reason else None


def _unwritable(folder: Path) -> str | None:
    """The system's reason no file can be created in ``folder`` (the probe of :func:`cannot_write_in`)."""
    import tempfile
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".descent-lab-probe-"):
            pass
    except OSError as err:
        return str(err.strerror or err)
    return None


@dataclass(frozen=True)
class TargetProblem:
    """Why a path cannot become a file: ``kind`` (a key of :data:`TARGET_WORDS`), the ``place`` it is
    about (the file, or the folder at fault) and the system's ``reason`` for an unwritable folder.  Each
    caller words it: the window's dialogs by :func:`file_target_problem`, ``--out`` by its own table
    (``engine.commands.common.check_out_file``)."""
    kind: str
    place: Path
    reason: str = ""


#: The window's words for each kind of :class:`TargetProblem` (``str.format`` of ``place``, ``name``,
#: ``reason``).
TARGET_WORDS: dict[str, str] = {
    "nul": "the name holds a NUL character",
    "too_long": "the name is too long (at most 255 bytes)",
    "is_folder": "{place} is a folder: give a file name",
    "no_folder": "the folder {place} does not exist",
    "not_folder": "{place} is a file, not a folder",
    "read_only": "{name} cannot be overwritten (read-only)",
    "unwritable": "cannot write in {place}: {reason}",
}


def target_problem(path: Path, new_folders: bool = False) -> TargetProblem | None:
    """The one check of a file target, before any work: why ``path`` cannot become a file, or None.

    Not a folder; its folder exists (or, with ``new_folders``, its nearest existing parent does, and the
    missing ones will be created) and is a folder a file can be created in (:func:`cannot_write_in`'s
    probe); an existing file there can be overwritten; a name the file system refuses (a NUL byte, more
    than 255 bytes) is refused by name."""
    path = Path(path)
    if "\x00" in str(path):
        return TargetProblem("nul", path)
    if len(path.name.encode()) > 255:
        return TargetProblem("too_long", path)
    if path.is_dir():
        return TargetProblem("is_folder", path)
    folder = path.parent
    if not folder.exists():
        if not new_folders:
            return TargetProblem("no_folder", folder)
        folder = next((p for p in folder.parents if p.exists()), Path("."))
    if not folder.is_dir():
        return TargetProblem("not_folder", folder)
    if path.exists() and not os.access(path, os.W_OK):
        return TargetProblem("read_only", path)
    reason = _unwritable(folder)
    return TargetProblem("unwritable", folder, reason) if reason else None


def file_target_problem(path: Path) -> str | None:
    """Why ``path`` cannot become a file (one line, in the window's words), or None if it can: the
    window's saves, which create no folder (:func:`target_problem`)."""
    problem = target_problem(path)
    if problem is None:
        return None
    return TARGET_WORDS[problem.kind].format(place=problem.place, name=problem.place.name, reason=problem.reason)


def float_cell(x: Any) -> str:
    """A number as a CSV cell: ``repr(float(x))``, every digit float64 needs to read back exactly.

    ``None`` (no value: an evaluation column between evaluations) is the empty cell.  Non-finite
    numbers are written as Python writes them, ``nan``, ``inf`` and ``-inf``, which ``float()``
    reads back (what every file the app wrote before held for them, whatever its float format).
    """
    return "" if x is None else repr(float(x))


FORMULA_LEADS = ("=", "+", "-", "@")
"""First characters a spreadsheet reads as a formula (OWASP's CSV-injection list, tab and CR aside)."""


def text_cell(text: Any) -> str:
    """A text cell (a run's name, a label) that no spreadsheet runs as a formula.

    A cell beginning with ``=``, ``+``, ``-`` or ``@`` gets a single quote in front (the OWASP
    rule: ``=1+1`` is written ``'=1+1``), which a spreadsheet shows as text; any other text is
    written as it is, so ordinary names are unchanged.
    """
    text = str(text)
    return "'" + text if text.startswith(FORMULA_LEADS) else text


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
    with AtomicFile(path) as f:         # row by row: a long file is never one string in memory
        writer = csv.writer(f, lineterminator=lineterminator)
        writer.writerow(header)
        writer.writerows(rows)
        f.commit()
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
