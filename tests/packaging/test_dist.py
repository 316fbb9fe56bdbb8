"""The frozen app, tested as carefully as the source (slow: `make dist` runs these; `make test` does not).

The module fixture builds the bundle with packaging/descent-lab.spec, exactly as a release is
built, then the tests run the frozen executable: ``--version``; the window's ``--smoke-test``
offscreen (training in the spawned child process, frozen too); a short headless run of every
optimizer, schedule, initialization, model kind and generated dataset, the proof that what the
spec leaves out is not needed; a missing Qt platform plugin, which must land in the log; and
the Linux installer with the real bundle, whose installed copy must pass the smoke test too.

DESCENT_LAB_USE_BUILT=1 tests dist/descent-lab as it is, without building again.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist" / "descent-lab"
EXE = DIST / "descent-lab"
SPEC = ROOT / "packaging" / "descent-lab.spec"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the frozen build is tested on Linux")]


def _tree(root: Path) -> dict[str, tuple[int, float]]:
    return {str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime) for p in root.rglob("*")}


def _env(tmp_path: Path, **extra) -> dict:
    """No display (offscreen), and a private HOME so nothing touches the real user's files."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "PYTHONPATH")}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update({"HOME": str(home), "QT_QPA_PLATFORM": "offscreen", **extra})
    return env


@pytest.fixture(scope="module")
def bundle() -> Path:
    if os.environ.get("DESCENT_LAB_USE_BUILT") != "1":
        start = time.monotonic()
        subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                        "--distpath", str(ROOT / "dist"), "--workpath", str(ROOT / "build" / "pyinstaller"),
                        str(SPEC)], cwd=ROOT, check=True, timeout=3600)
        seconds = time.monotonic() - start
        size = sum(p.lstat().st_size for p in DIST.rglob("*") if p.is_file() and not p.is_symlink())
        report = {"build_seconds": round(seconds), "bundle_bytes": size, "bundle_mib": round(size / 2**20)}
        (ROOT / "dist" / "build-report.json").write_text(json.dumps(report, indent=1) + "\n")
        print(f"\nbuilt {DIST} in {seconds:.0f} s: {size / 2**20:.0f} MiB", file=sys.stderr)
    assert os.access(EXE, os.X_OK), f"no frozen app at {EXE}"
    return DIST


def test_version(bundle, tmp_path):
    from engine import __version__
    proc = subprocess.run([str(EXE), "--version"], env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == f"Descent Lab {__version__}"


def test_frozen_smoke_test_passes_and_writes_nothing_next_to_itself(bundle, tmp_path):
    before = _tree(bundle)
    proc = subprocess.run([str(EXE), "--smoke-test"], env=_env(tmp_path), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0 and "smoke test passed" in proc.stdout, proc.stdout + proc.stderr
    assert _tree(bundle) == before


def _registry_experiments() -> list[dict]:
    """Short experiments that together use every optimizer, schedule, init, model kind and generated dataset."""
    from engine.data.datasets import DATASETS
    from engine.model.inits import INITS
    from engine.model.models import MODELS
    from engine.optim.optimizers import OPTIMIZERS
    from engine.optim.schedules import SCHEDULES
    planes = [name for name, info in DATASETS.items() if not info.needs_path and info.kind == "plane"]
    schedules, inits = list(SCHEDULES), list(INITS)
    n = max(len(OPTIMIZERS), len(schedules), len(inits), len(planes))
    optimizers = list(OPTIMIZERS)
    runs = []
    for i in range(n):
        runs.append({"name": f"run{i}", "data": {"dataset": planes[i % len(planes)], "n_train": 64, "n_val": 64},
                     "model": {"kind": "mlp", "init": inits[i % len(inits)], "norm": ("none", "batch", "layer")[i % 3],
                               "dropout": 0.1 if i % 2 else 0.0},
                     "optimizer": {"name": optimizers[i % len(optimizers)], "lr": 0.01},
                     "schedule": {"name": schedules[i % len(schedules)]},
                     "train": {"steps": 20, "batch_size": 16, "eval_every": 10, "histogram_every": 10,
                               "precision": "bf16" if i == 1 else "fp32"}})
    for kind in MODELS:  # the image path too: digits (shipped inside scikit-learn), every model kind
        runs.append({"name": f"digits-{kind}", "data": {"dataset": "digits"}, "model": {"kind": kind},
                     "train": {"steps": 10, "eval_every": 5, "histogram_every": 5}})
    return runs


def test_every_optimizer_schedule_init_and_dataset_trains_frozen(bundle, tmp_path):
    """What the spec leaves out is not needed: each registry entry trains in the frozen app."""
    for exp in _registry_experiments():
        path = tmp_path / f"{exp['name']}.json"
        path.write_text(json.dumps(exp))
        out = tmp_path / "out" / exp["name"]
        proc = subprocess.run([str(EXE), "run", str(path), "--out", str(out)], env=_env(tmp_path),
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{exp}:\n{proc.stdout}{proc.stderr}"
        summary = json.loads((out / "summary.json").read_text())
        assert summary["status"] in ("finished", "diverged") and summary["steps"] > 0, (exp, summary)


def test_a_missing_qt_platform_plugin_is_logged_by_the_frozen_app(bundle, tmp_path):
    env = _env(tmp_path, QT_QPA_PLATFORM="no-such-platform")
    proc = subprocess.run([str(EXE)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    log = Path(env["HOME"]) / ".local" / "share" / "descent-lab" / "logs" / "descent-lab.log"
    text = log.read_text()
    assert "(frozen)" in text and "no Qt platform plugin could be initialized" in text


def test_startup_to_window_shown(bundle, tmp_path):
    """The frozen app's time from process start to the window on screen (offscreen here; README has Xvfb's)."""
    start = time.time()
    proc = subprocess.run([str(EXE)], env=_env(tmp_path, DESCENT_LAB_STARTUP_PROBE="1"), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shown = float(next(line.split()[1] for line in proc.stdout.splitlines() if line.startswith("shown ")))
    print(f"\nfrozen start to window shown: {shown - start:.2f} s", file=sys.stderr)
    assert shown - start < 60


def test_installed_from_the_archive_the_app_starts_from_its_menu_entry(bundle, tmp_path):
    import importlib.util
    import shlex
    spec = importlib.util.spec_from_file_location("make_archive", ROOT / "packaging" / "linux" / "make_archive.py")
    make_archive = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_archive)
    unpacked = make_archive.stage(bundle, tmp_path / "unpacked", link_bundle=True)
    env = _env(tmp_path)
    assert subprocess.run(["sh", str(unpacked / "install.sh")], env=env, capture_output=True, timeout=300).returncode == 0
    desktop = Path(env["HOME"]) / ".local" / "share" / "applications" / "descent-lab.desktop"
    exec_line = next(line for line in desktop.read_text().splitlines() if line.startswith("Exec="))
    argv = shlex.split(exec_line[len("Exec="):])
    assert argv == [str(Path(env["HOME"]) / ".local" / "lib" / "descent-lab" / "descent-lab")]
    proc = subprocess.run([*argv, "--smoke-test"], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "smoke test passed" in proc.stdout, proc.stdout + proc.stderr
    uninstall = Path(argv[0]).parent / "uninstall.sh"
    assert subprocess.run(["sh", str(uninstall)], env=env, capture_output=True, timeout=120).returncode == 0
    assert not Path(argv[0]).exists() and not desktop.exists()
