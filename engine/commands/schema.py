"""``main.py schema``: every key of the experiment file, its type, bounds and default."""
from __future__ import annotations

from engine.commands import OK, Command


def run(args) -> int:
    from engine.experiment import format_schema
    print(format_schema())
    return OK


COMMAND = Command("schema", "every key of the experiment file", lambda parser: None, run)
