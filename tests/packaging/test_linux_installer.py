"""packaging/linux: install.sh and uninstall.sh, run into a temporary HOME with a tiny fake bundle.

The real bundle is installed and started by tests/packaging/test_dist.py (slow); here the scripts' own
behaviour is checked in a second: where files go, that the menu entry is valid and starts the
installed program, and that uninstall leaves nothing behind.
"""
import importlib.util
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGING = Path(__file__).resolve().parents[2] / "packaging" / "linux"
pytestmark = pytest.mark.skipif(os.name != "posix", reason="the Linux installer is a POSIX shell script")


@pytest.fixture(scope="module")
def make_archive():
    spec = importlib.util.spec_from_file_location("make_archive", PACKAGING / "make_archive.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def unpacked(tmp_path, make_archive):
    """The archive's folder, around a fake bundle whose program prints its arguments."""
    bundle = tmp_path / "build" / "descent-lab"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "_internal" / "lib.so").write_bytes(b"\0" * 100)
    (bundle / "descent-lab").write_text('#!/bin/sh\necho "fake descent-lab $*"\n')
    (bundle / "descent-lab").chmod(0o755)
    return make_archive.stage(bundle, tmp_path / "unpacked" / make_archive.archive_name())


def _run(script: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    return subprocess.run(["sh", str(script), *args], env=env, capture_output=True, text=True, timeout=60)


DESKTOP_CACHES = {"mimeinfo.cache", "icon-theme.cache"}  # the desktop's own indexes, rebuilt by its tools


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if (not p.is_dir() or p.is_symlink()) and p.name not in DESKTOP_CACHES}


def _desktop_exec(desktop: Path) -> list[str]:
    line = next(line for line in desktop.read_text().splitlines() if line.startswith("Exec="))
    return shlex.split(line[len("Exec="):])


def test_install_puts_app_command_icons_and_a_valid_menu_entry_in_place(unpacked, tmp_path):
    home = tmp_path / "home with space"
    home.mkdir()
    proc = _run(unpacked / "install.sh", home)
    assert proc.returncode == 0, proc.stderr
    app = home / ".local" / "lib" / "descent-lab" / "descent-lab"
    assert os.access(app, os.X_OK)
    assert (home / ".local" / "bin" / "descent-lab").resolve() == app
    share = home / ".local" / "share"
    for size in (16, 32, 48, 128, 256, 512):
        icon = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "descent-lab.png"
        assert icon.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "descent-lab.svg").is_file()

    desktop = share / "applications" / "descent-lab.desktop"
    text = desktop.read_text()
    assert "Icon=descent-lab\n" in text and "Terminal=false" in text and f"TryExec={app}\n" in text
    argv = _desktop_exec(desktop)
    assert argv == [str(app)]  # quoted: the home folder has a space
    assert subprocess.run(argv, capture_output=True, text=True).stdout == "fake descent-lab \n"
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
        assert check.returncode == 0 and check.stdout.strip() == "", check.stdout + check.stderr


def test_install_again_upgrades_in_place(unpacked, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    assert _run(unpacked / "install.sh", home).returncode == 0
    (unpacked / "descent-lab" / "descent-lab").write_text('#!/bin/sh\necho "version two"\n')
    assert _run(unpacked / "install.sh", home).returncode == 0
    out = subprocess.run([str(home / ".local" / "bin" / "descent-lab")], capture_output=True, text=True).stdout
    assert out == "version two\n"
    assert not (home / ".local" / "lib" / "descent-lab.new").exists()


def test_uninstall_removes_everything_install_added_and_keeps_user_data(unpacked, tmp_path):
    home = tmp_path / "home"
    (home / ".local" / "share" / "applications").mkdir(parents=True)
    (home / ".local" / "share" / "applications" / "other.desktop").write_text("[Desktop Entry]\n")
    logs = home / ".local" / "share" / "descent-lab" / "logs" / "descent-lab.log"
    logs.parent.mkdir(parents=True)
    logs.write_text("a log\n")
    before = _files(home)
    assert _run(unpacked / "install.sh", home).returncode == 0
    assert len(_files(home)) > len(before) + 10

    proc = _run(home / ".local" / "lib" / "descent-lab" / "uninstall.sh", home)
    assert proc.returncode == 0, proc.stderr
    assert _files(home) == before  # the other app's entry and the user's log untouched
    assert not (home / ".local" / "lib" / "descent-lab").exists()
    assert not (home / ".local" / "share" / "icons" / "hicolor" / "16x16").exists()

    assert _run(unpacked / "install.sh", home).returncode == 0
    assert _run(unpacked / "uninstall.sh", home, "--purge").returncode == 0  # the archive's copy works too
    assert not logs.exists()
    assert _run(unpacked / "uninstall.sh", home).returncode == 1  # nothing left to remove: says so


def test_install_refuses_an_archive_without_the_bundle(unpacked, tmp_path):
    shutil.rmtree(unpacked / "descent-lab")
    home = tmp_path / "home"
    home.mkdir()
    proc = _run(unpacked / "install.sh", home)
    assert proc.returncode == 1 and "descent-lab/descent-lab is missing" in proc.stderr
    assert not (home / ".local").exists()
