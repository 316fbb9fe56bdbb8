"""One status vocabulary (engine/status.py): every status word the engine reports or the window shows is one of its members."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from engine.labs import lrfinder, trajectories
from engine.status import FINAL, PathStatus, RunStatus, SweepStatus
from engine.training import events, updates

ROOT = Path(__file__).resolve().parents[2]
WORDS = {str(s) for enum in (RunStatus, PathStatus, SweepStatus) for s in enum}


def test_the_statuses_are_named_only_in_the_vocabulary():
    """No module re-exports a status under a second name: callers import engine.status."""
    for module in (events, updates, trajectories, lrfinder):
        aliases = [name for name, value in vars(module).items()
                   if name.isupper() and isinstance(value, (RunStatus, PathStatus, SweepStatus))]
        assert aliases == [], (module.__name__, aliases)
    assert FINAL == {RunStatus.FINISHED, RunStatus.DIVERGED, RunStatus.STOPPED, RunStatus.ERROR}
    # one spelling: the finder and the trajectories once wrote "non-finite" and "non_finite"
    assert PathStatus.NON_FINITE == SweepStatus.NON_FINITE == "non_finite"
    assert all(s.final == (s in FINAL) for s in RunStatus)


def _status_literals(path: Path) -> list[tuple[int, str]]:
    """String constants equal to a status word where a status is compared, passed, returned or assigned
    (dictionary subscripts such as row["error"] name fields, not statuses, and are not looked at)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        places: list[ast.AST] = []
        if isinstance(node, ast.Compare):
            places = [node.left, *node.comparators]
        elif isinstance(node, ast.Call):
            places = [*node.args, *(k.value for k in node.keywords)]
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.Return)) and node.value is not None:
            places = [node.value]
        elif isinstance(node, ast.Dict):
            places = [k for k in node.keys if k is not None]
        for place in places:
            items = place.elts if isinstance(place, (ast.Tuple, ast.List, ast.Set)) else [place]
            found += [(item.lineno, item.value) for item in items
                      if isinstance(item, ast.Constant) and item.value in WORDS]
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "gui").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_window_spells_no_status_of_its_own(path):
    assert _status_literals(path) == []


def test_the_checker_sees_a_status_literal(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('if run.status in ("finished", "stopped"):\n    show("paused")\n')
    assert [word for _, word in _status_literals(bad)] == ["finished", "stopped", "paused"]


def test_the_run_list_shows_only_vocabulary_words(qtbot):
    from gui.training.runs_list import RunsList
    view = RunsList()
    qtbot.addWidget(view)
    from PySide6.QtGui import QColor
    view.add_run("a", "run a", QColor("#123456"))
    for status in RunStatus:
        view.set_status("a", status)
        assert view.status("a") == status
    with pytest.raises(ValueError):
        view.set_status("a", "non-finite")
