"""The Linux installer archive: the frozen bundle with install.sh, uninstall.sh, the menu entry and icons.

    .venv/bin/python packaging/linux/make_archive.py      (after the bundle is built; `make dist` does both)

writes ``dist/descent-lab-VERSION-linux-x86_64.tar.gz``, which unpacks to one folder::

    descent-lab-VERSION-linux-x86_64/
        install.sh  uninstall.sh  descent-lab.desktop.in  icons/  descent-lab/ (the bundle)

A teacher unpacks it (double-click in the file manager, or ``tar xzf``) and runs ``./install.sh``.
"""
from __future__ import annotations

import platform
import re
import shutil
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def version() -> str:
    return re.search(r'__version__ = "([^"]+)"', (ROOT / "engine" / "__init__.py").read_text()).group(1)


def archive_name() -> str:
    return f"descent-lab-{version()}-linux-{platform.machine() or 'x86_64'}"


def stage(bundle: Path, dest: Path, link_bundle: bool = False) -> Path:
    """Lay out the archive's folder in ``dest``: scripts, menu entry, icons and the bundle.

    ``link_bundle`` puts a symlink to the bundle instead of a copy (for the tests, which
    install from the staged folder and need not copy 500 MB twice).
    """
    if not (bundle / "descent-lab").is_file():
        raise FileNotFoundError(f"no frozen app at {bundle / 'descent-lab'}: build it first (make dist)")
    dest.mkdir(parents=True)
    for script in ("install.sh", "uninstall.sh"):
        shutil.copy2(HERE / script, dest / script)
        (dest / script).chmod(0o755)
    shutil.copy2(HERE / "descent-lab.desktop.in", dest / "descent-lab.desktop.in")
    (dest / "icons").mkdir()
    for size in ICON_SIZES:
        shutil.copy2(ROOT / "resources" / "icons" / f"descent-lab-{size}.png", dest / "icons")
    shutil.copy2(ROOT / "resources" / "descent-lab.svg", dest / "icons")
    if link_bundle:
        (dest / "descent-lab").symlink_to(bundle.resolve(), target_is_directory=True)
    else:
        shutil.copytree(bundle, dest / "descent-lab", symlinks=True)
    return dest


def make_archive(bundle: Path, out_dir: Path) -> Path:
    """The .tar.gz of the staged folder; the bundle goes in with its symlinks and permissions."""
    name = archive_name()
    staging = out_dir / "linux-archive"
    shutil.rmtree(staging, ignore_errors=True)
    stage(bundle, staging / name, link_bundle=True)
    target = out_dir / f"{name}.tar.gz"
    with tarfile.open(target, "w:gz", compresslevel=6) as tar:
        for entry in sorted((staging / name).iterdir()):
            # the linked bundle is followed once, at its top, so the archive holds the real files
            tar.add(entry.resolve() if entry.is_symlink() else entry, arcname=f"{name}/{entry.name}")
    shutil.rmtree(staging)
    return target


def main() -> int:
    bundle = ROOT / "dist" / "descent-lab"
    target = make_archive(bundle, ROOT / "dist")
    print(f"{target} ({target.stat().st_size / 2**20:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
