"""The last ``make claims`` table, shipped with the app: what the window says beside each lesson.

The table stays at ``engine/lessons/claims_measured.json`` (the frozen bundle's spec,
packaging/descent-lab.spec, packs it from there).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MEASURED = Path(__file__).resolve().parent.parent / "claims_measured.json"


@dataclass(frozen=True)
class Measured:
    held: int
    of: int
    measured: str           # the date of the ``make claims`` run

    @property
    def text(self) -> str:
        return f"holds at {self.held} of {self.of} seeds (measured {self.measured})"


def measured(key: str, path: Path = MEASURED) -> Measured | None:
    """The shipped verdict of claim ``key`` ("preset NAME"), or None when the table has none for it
    (or the file is missing or damaged: the window then says nothing rather than something wrong)."""
    from engine.inputs import InputError, read_json
    try:
        table = read_json(path, what="claims table")
        entry = table["claims"][key]
        # a claim re-measured alone (main.py claims --only KEY) carries its own date
        return Measured(int(entry["held"]), int(entry["of"]), str(entry.get("measured", table["measured"])))
    except (InputError, OSError, ValueError, KeyError, TypeError):
        return None
