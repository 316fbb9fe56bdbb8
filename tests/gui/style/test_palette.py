"""One palette: a colour is spelled in gui/style/palette.py and nowhere else in gui/.

The checker reads each module with ``ast``: a hex colour (``#rrggbb`` or ``#aarrggbb``) inside a string
literal, f-strings included, or a ``QColor`` built from number literals, is a colour spelled outside the
palette.  Comments are not code and docstrings are documentation, so neither counts.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from PySide6.QtGui import QColor

from engine.status import RunStatus
from gui.style import palette

ROOT = Path(__file__).resolve().parents[3]
GUI = ROOT / "gui"
PALETTE = GUI / "style" / "palette.py"
HEX = re.compile(r"#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{6})\b")

STILL_SPELLING_COLOURS: frozenset[str] = frozenset()   # none: every colour is the palette's


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the Constant nodes that are docstrings (of the module, a class or a function)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def colour_literals(path: Path) -> list[tuple[int, str]]:
    """(line, literal) of every colour the module spells: hex in a string, or QColor(<numbers>)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            for match in HEX.finditer(node.value):
                found.append((node.lineno + node.value[:match.start()].count("\n"), match.group()))
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name == "QColor" and len(node.args) >= 3 and all(_is_number(a) for a in node.args):
                found.append((node.lineno, ast.unparse(node)))
    return sorted(found)


def checked_files() -> list[Path]:
    files = sorted(GUI.rglob("*.py"))
    return [f for f in files if f != PALETTE and f.relative_to(ROOT).as_posix() not in STILL_SPELLING_COLOURS]


def test_no_module_of_gui_spells_a_colour_outside_the_palette():
    files = checked_files()
    assert ROOT / "gui" / "training" / "metric_plots.py" in files and ROOT / "gui" / "style" / "theme.py" in files
    spelled = [f"{f.relative_to(ROOT).as_posix()}:{line}: {text}" for f in files for line, text in colour_literals(f)]
    assert not spelled, "colours spelled outside gui/style/palette.py (name them there):\n" + "\n".join(spelled)


def test_the_checker_sees_colours_in_code_and_not_in_comments_or_docstrings(tmp_path):
    source = tmp_path / "view.py"
    source.write_text('"""A view drawn in #123456, as the docstring says."""\n'
                      "from PySide6.QtGui import QColor\n"
                      "# the old grey was #888888\n"
                      "PEN = '#AbCdEf'\n"
                      "FADED = '#80ff0000'\n"
                      "def draw(name):\n"
                      '    """Draws in #654321."""\n'
                      "    html = f\"<span style='color:#00ff00'>{name}</span>\"\n"
                      "    return html, QColor(0, 0, 0, 70), QColor(name), '#12345'\n")
    assert colour_literals(source) == [(4, "#AbCdEf"), (5, "#80ff0000"), (8, "#00ff00"),
                                       (9, "QColor(0, 0, 0, 70)")]


def test_the_palette_spells_valid_colours_and_a_status_colour_per_final_status():
    literals = colour_literals(PALETTE)
    assert len(literals) > 40                         # the looks, the runs, the classes, the marks
    for _line, text in literals:
        assert QColor(text).isValid(), text
    assert set(palette.STATUS_COLORS) <= set(RunStatus)
    assert {RunStatus.DIVERGED, RunStatus.ERROR, RunStatus.FINISHED} <= set(palette.STATUS_COLORS)
    with pytest.raises(TypeError):
        palette.STATUS_COLORS[RunStatus.RUNNING] = "#000000"   # read-only: a colour is changed here, in the source
