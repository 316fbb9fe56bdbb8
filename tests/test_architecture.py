"""The engine imports no Qt: the GUI is a view over it, never the other way round."""
import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_engine_sources_do_not_import_qt_or_gui():
    for path in (ROOT / "engine").rglob("*.py"):   # subpackages too
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(("PySide6", "PyQt", "pyqtgraph", "gui")), f"{path.relative_to(ROOT)} imports {name}"


def test_importing_and_running_the_engine_loads_no_qt():
    code = ("import sys, engine.training.trainer, engine.training.runner, engine.lessons.presets, engine.experiment;"
            "from engine.config import Experiment; engine.training.trainer.Trainer(Experiment()).step();"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_import_contracts_hold():
    """The contracts of pyproject.toml's [tool.importlinter]: engine Qt-free, engine layers downward only,
    the training core's layers, the lesson tabs independent. `make test` runs lint-imports too; this
    keeps a bare pytest honest, and checks that every contract was analysed and kept."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert len(contracts) >= 4
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:]
    assert out.stdout.count("KEPT") == len(contracts)
    assert f"Contracts: {len(contracts)} kept, 0 broken." in out.stdout


MODULE_LINES, CLASS_LINES = 600, 400
# Grown past the limit by this session's last fixes, to be split next (issue 9's note says how); nothing else may.
OVER_LIMIT: set[str] = set()


def test_no_module_over_600_lines_and_no_class_over_400():
    """Short modules named for what they hold (CONTRIBUTING.md): a file that outgrows this holds two things."""
    too_long = []
    for path in sorted([*(ROOT / "engine").rglob("*.py"), *(ROOT / "gui").rglob("*.py")]):
        text = path.read_text()
        name = path.relative_to(ROOT).as_posix()
        if name in OVER_LIMIT:
            continue
        if text.count("\n") > MODULE_LINES:
            too_long.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > CLASS_LINES:
                too_long.append(f"{name}: class {node.name} {node.end_lineno - node.lineno + 1} lines")
    assert not too_long, too_long
