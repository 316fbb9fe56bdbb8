"""A lab's own marks never wear a run's colour (issue 11): the regularization lab's gap bars were the
crimson of its sixth run's gap line, so a student read the bars as that run.

Every module of gui/labs is read for its module-level colours: names ending in ``_COLOR`` (one colour)
or ``_COLORS`` (a dict or tuple of them).  The colours of a lab's runs are not marks and are left out
(``RUNS_OF_A_LAB``); a module whose marks still reuse run colours is named in ``STILL_REUSING``, with why.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from PySide6.QtGui import QColor

from gui.style import palette

LABS = Path(__file__).resolve().parents[3] / "gui" / "labs"
RUNS_OF_A_LAB = {"SCHEME_COLORS"}      # the init lab's schemes are its runs: a scheme is drawn as a run is
STILL_REUSING = {
    # Its tab draws no runs beside its marks, so the reuse misleads nobody there; its module is not
    # this change's (reported to the lead).
    "gui.labs.finder.plot",
}


def lab_modules() -> list[str]:
    names = []
    for path in sorted(p for p in LABS.rglob("*.py") if p.name != "__main__.py"):   # a __main__ runs an app
        parts = path.relative_to(LABS.parents[1]).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def defined_names(module) -> set[str]:
    """The names a module assigns at its top level (an imported colour is checked where it is defined)."""
    tree = ast.parse(Path(module.__file__).read_text())
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def named_colours(module) -> dict[str, str]:
    """``NAME`` or ``NAME[key]`` -> colour name (#rrggbb, lower case) of the module's own colours."""
    found: dict[str, str] = {}
    own = defined_names(module)
    for name, value in vars(module).items():
        if name in RUNS_OF_A_LAB or name not in own:
            continue
        if name.endswith("_COLOR"):
            found[name] = QColor(value).name()
        elif name.endswith("_COLORS"):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            found.update({f"{name}[{key}]": QColor(c).name() for key, c in items})
    return found


def test_the_checker_reads_the_labs_and_their_colours():
    modules = lab_modules()
    assert "gui.labs.regularization" in modules and "gui.labs.finder.plot" in modules
    colours = named_colours(importlib.import_module("gui.labs.regularization"))
    assert set(colours) >= {"TRAIN_COLOR", "VAL_COLOR", "GAP_COLOR"}
    assert named_colours(importlib.import_module("gui.labs.finder.plot"))["CHECK_COLOR"] == \
        QColor(palette.RUN_COLORS[1]).name()      # it would be caught


@pytest.mark.parametrize("module_name", [m for m in lab_modules() if m not in STILL_REUSING])
def test_no_lab_mark_is_a_run_colour(module_name):
    runs = {QColor(c).name() for c in palette.RUN_COLORS}
    colours = named_colours(importlib.import_module(module_name))
    assert {name: c for name, c in colours.items() if c in runs} == {}


def test_the_regularization_gap_stays_apart_from_every_run_colour_in_every_sight():
    import numpy as np

    from tests.gui.style.test_palette import DICHROMACIES, _lab, _linear
    for sight in DICHROMACIES.values():
        gap = _lab(sight @ _linear(palette.GAP_BAR))
        nearest = min(float(np.linalg.norm(gap - _lab(sight @ _linear(c)))) for c in palette.RUN_COLORS)
        assert nearest >= 15.0
