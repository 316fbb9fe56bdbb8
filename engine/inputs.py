"""Reading JSON the user hands the app, one way: every experiment file, run list and search file.

Python's ``json`` reads any text, at any cost, in any shape.  The app reads only what a person writes:

* a **regular file** (``os.stat`` before opening: a FIFO would block the read forever, ``/dev/zero``
  would fill memory), opened with ``O_NONBLOCK`` so a FIFO swapped in after the check cannot hang it;
* at most :data:`MAX_BYTES` of it (an experiment is a few hundred bytes);
* UTF-8 text (an optional byte-order mark is skipped); a bad byte is reported at its line and column;
* nested at most :data:`MAX_DEPTH` levels, counted with one pass over the brackets outside strings,
  without recursion (``json`` itself recurses, and 10,000 ``[`` end in ``RecursionError``);
* integers of at most :data:`MAX_INT_DIGITS` digits (Python refuses more than 4,300 with a
  ``ValueError`` of its own, and converting them costs time quadratic in the digits);
* every key of an object once: ``{"lr": 0.1, "lr": 10}`` is a mistake, and last-wins would hide it.

Every failure is an :class:`InputError`, a ``ValueError`` whose text is one line: the file, then what is
wrong with it (``runs.json: duplicate key "lr"``).  :func:`parse_json` applies the same checks to text
that is already in memory (e.g. a setting), naming where it came from.
"""
from __future__ import annotations

import json
import os
import re
import stat
from itertools import accumulate
from pathlib import Path
from typing import Any

MAX_BYTES = 5_000_000
MAX_DEPTH = 64
MAX_INT_DIGITS = 100


class InputError(ValueError):
    """A file (or text) the app will not read: ``str(err)`` is ``"<source>: <problem>"``, one line."""

    def __init__(self, source: str, problem: str):
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def read_json(path: str | Path, what: str = "experiment file") -> Any:
    """The decoded JSON of one regular file at ``path``, checked as the module doc says.

    ``what`` names the kind of file in the messages ("an experiment file must be a regular file").
    """
    source = str(path)
    data = _read_bytes(Path(path), source, what)
    return parse_json(_decode(data, source), source, what)


def parse_json(text: str, source: str, what: str = "experiment file") -> Any:
    """``text`` decoded as JSON under the same rules as a file; ``source`` names it in the messages."""
    if len(text) > MAX_BYTES:
        raise InputError(source, f"{len(text):,} characters, more than the {MAX_BYTES:,} bytes "
                                 f"a{_n(what)} {what} may hold")
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise InputError(source, f"nested {depth:,} levels deep; a{_n(what)} {what} may nest at most {MAX_DEPTH}")
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_int=_bounded_int)
    except json.JSONDecodeError as err:
        raise InputError(source, f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except _Refused as err:
        raise InputError(source, str(err)) from None
    except (ValueError, RecursionError) as err:     # a safety net: the checks above should catch these first
        raise InputError(source, f"not readable JSON: {str(err).splitlines()[0] if str(err) else type(err).__name__}") from None


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def nesting_depth(text: str) -> int:
    """How deep the brackets of ``text`` nest, strings skipped: ``max`` of the running sum of
    ``+1`` per ``[``/``{`` and ``-1`` per ``]``/``}``.  Linear and without recursion; on text that is
    not JSON it is only an estimate, and the parser then says what is wrong."""
    brackets = _BRACKET.findall(_STRING.sub('""', text))
    return max(accumulate(1 if b in "[{" else -1 for b in brackets), default=0)


class _Refused(Exception):
    """Raised inside the parser's hooks; :func:`parse_json` turns it into an :class:`InputError`."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"duplicate key {json.dumps(key)} (each key may appear once in an object)")
        out[key] = value
    return out


def _bounded_int(digits: str) -> int:
    count = len(digits.lstrip("-"))
    if count > MAX_INT_DIGITS:
        raise _Refused(f"an integer of {count:,} digits; at most {MAX_INT_DIGITS} are read")
    return int(digits)


def _read_bytes(path: Path, source: str, what: str) -> bytes:
    try:
        kind = _not_regular(os.stat(path).st_mode)
        if kind:
            raise InputError(source, f"{kind}, not a regular file; a{_n(what)} {what} must be a regular file")
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InputError(source, "no such file") from None
    except OSError as err:
        raise InputError(source, f"cannot read: {err.strerror or err}") from None
    try:
        info = os.fstat(fd)
        kind = _not_regular(info.st_mode)      # swapped for something else between the stat and the open
        if kind:
            raise InputError(source, f"{kind}, not a regular file; a{_n(what)} {what} must be a regular file")
        if info.st_size > MAX_BYTES:
            raise InputError(source, _too_big(info.st_size, what))
        chunks, size = [], 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, MAX_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_BYTES:                   # grew while being read
            raise InputError(source, _too_big(size, what))
        return b"".join(chunks)
    except OSError as err:
        raise InputError(source, f"cannot read: {err.strerror or err}") from None
    finally:
        os.close(fd)


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def _too_big(size: int, what: str) -> str:
    return f"{size:,} bytes, more than the {MAX_BYTES:,} a{_n(what)} {what} may hold"


def _decode(data: bytes, source: str) -> str:
    bom = b"\xef\xbb\xbf"
    try:
        return data.decode("utf-8")[1:] if data.startswith(bom) else data.decode("utf-8")
    except UnicodeDecodeError as err:
        start = err.start
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1) + 1
        raise InputError(source, f"cannot read: not UTF-8 text (byte 0x{data[start]:02x} at line {line} "
                                 f"column {column})") from None


def _n(word: str) -> str:
    """``"n"`` before a vowel: "an experiment file", "a run list"."""
    return "n" if word[:1].lower() in "aeiou" else ""
