"""Where Descent Lab's files are: its own resources, and the user's data and logs.

Two rules of a double-click app meet here. Its resources (the icon) must be found the same way
from a source checkout and from the PyInstaller bundle, where they are unpacked under
``sys._MEIPASS``. And it must write nothing next to itself (the bundle may sit in a read-only
folder, and an uninstall removes it whole): what it writes goes to the platform's user data folder.

No Qt here, on purpose: the failure log uses these paths when Qt itself failed to load.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "Descent Lab"  # the folder name on Windows and macOS
APP_SLUG = "descent-lab"  # on Linux, where lower-case names are the custom
LOG_NAME = "descent-lab.log"


def bundle_root() -> Path:
    """The folder that holds ``resources/``: the checkout from source, the bundle's data folder when frozen."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    return Path(frozen_root) if frozen_root else Path(__file__).resolve().parents[2]


def resource_path(name: str) -> Path:
    """The path of a bundled resource, e.g. ``resource_path("icons/descent-lab-32.png")``.

    Raises FileNotFoundError naming where it looked, so a file left out of the bundle is a
    clear message in the log rather than a blank icon.
    """
    path = bundle_root() / "resources" / name
    if not path.exists():
        raise FileNotFoundError(f"resource {name!r} is missing: looked for {path}")
    return path


def user_data_dir(platform: str = sys.platform, env: os._Environ | dict = os.environ,
                  home: Path | None = None) -> Path:
    """The user's data folder for Descent Lab, as each platform's guidelines put it.

    * Linux: ``$XDG_DATA_HOME/descent-lab``, or ``~/.local/share/descent-lab`` (the XDG base
      directory spec; a relative ``XDG_DATA_HOME`` is invalid there and ignored);
    * macOS: ``~/Library/Application Support/Descent Lab``;
    * Windows: ``%LOCALAPPDATA%\\Descent Lab`` (per machine, not roaming: logs need not follow a user).

    A pure function of its arguments (no Qt: Qt's QStandardPaths needs a QApplication, and the
    log must work when Qt could not start), so the tests can ask for any platform.
    """
    home = Path(home) if home is not None else Path.home()
    if platform.startswith("win"):
        base = env.get("LOCALAPPDATA") or env.get("APPDATA")
        return Path(base) / APP_NAME if base else home / "AppData" / "Local" / APP_NAME
    if platform == "darwin":
        return home / "Library" / "Application Support" / APP_NAME
    base = env.get("XDG_DATA_HOME", "")
    return (Path(base) if os.path.isabs(base) else home / ".local" / "share") / APP_SLUG


def log_path(platform: str = sys.platform, env: os._Environ | dict = os.environ, home: Path | None = None) -> Path:
    """The failure log: ``logs/descent-lab.log`` in the user data folder."""
    return user_data_dir(platform, env, home) / "logs" / LOG_NAME
