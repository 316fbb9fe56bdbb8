"""One palette: a colour is spelled in gui/style/palette.py and nowhere else in gui/.

The checker reads each module with ``ast``: a hex colour (``#rrggbb`` or ``#aarrggbb``) inside a string
literal, f-strings included, or a ``QColor`` built from number literals, is a colour spelled outside the
palette.  Comments are not code and docstrings are documentation, so neither counts.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
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


# -- the run colours under colour-blind sight ---------------------------------------------------------
# Machado, Oliveira and Fernandes (2009), severity 1.0, on linear RGB.
DICHROMACIES = {
    "normal": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
D65 = np.array([0.95047, 1.0, 1.08883])


def _linear(color: str) -> np.ndarray:
    c = np.array(QColor(color).getRgb()[:3], dtype=float) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of a linear-RGB colour: L* = 116 f(Y) - 16, a* = 500 (f(X) - f(Y)), b* = 200 (f(Y) - f(Z))."""
    xyz = SRGB_TO_XYZ @ np.clip(linear_rgb, 0.0, 1.0) / D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def closest_pair(colors, sight: np.ndarray) -> float:
    labs = [_lab(sight @ _linear(c)) for c in colors]
    return min(float(np.linalg.norm(a - b)) for i, a in enumerate(labs) for b in labs[i + 1:])


@pytest.mark.parametrize("sight", sorted(DICHROMACIES))
def test_every_pair_of_run_colours_stays_apart_under_each_dichromacy(sight):
    assert closest_pair(palette.RUN_COLORS, DICHROMACIES[sight]) >= 15.0


def test_the_distance_check_sees_two_colours_a_dichromat_confuses():
    # the old palette's orange and mustard: apart in normal sight, one colour to a protanope
    assert closest_pair(("#E67700", "#9E8A00"), DICHROMACIES["normal"]) > 15.0
    assert closest_pair(("#E67700", "#9E8A00"), DICHROMACIES["protanopia"]) < 2.0


def test_every_run_colour_has_its_own_marker_and_a_run_knows_it_from_its_colour():
    markers = [palette.run_marker(i) for i in range(60)]
    assert len(palette.RUN_MARKERS) == len(palette.RUN_COLORS)
    assert len({m.symbol for m in palette.RUN_MARKERS}) == len({m.glyph for m in palette.RUN_MARKERS}) == 8
    assert all(markers[i] != markers[i + 1] for i in range(59))
    assert [palette.run_marker_of(palette.run_color(i)) for i in range(60)] == markers
    assert palette.run_marker_of("#123456") == palette.RUN_MARKERS[0]


def test_run_markers_are_filled_shapes_none_the_diverged_mark():
    from pyqtgraph.graphicsItems.ScatterPlotItem import Symbols

    from gui.training.divergence_marks import DIVERGED_SYMBOL
    symbols = {m.symbol for m in palette.RUN_MARKERS}
    assert symbols <= set(Symbols)                     # pyqtgraph draws each
    assert DIVERGED_SYMBOL not in symbols and not symbols & {"+", "x", "|", "_", "crosshair"}
