"""``main.py presets``: the built-in experiments, one line each."""
from __future__ import annotations

from engine.commands import OK, Command


def run(args) -> int:
    from engine.lessons.presets import PRESETS
    for preset in PRESETS.values():
        runs = ", ".join(exp.name for exp in preset.runs)
        print(f"{preset.name:<16} {preset.title}  [{runs}]")
    return OK


COMMAND = Command("presets", "list the built-in experiments", lambda parser: None, run)
