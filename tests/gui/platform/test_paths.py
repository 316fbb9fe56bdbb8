"""gui.platform.paths: resources found from source and from a frozen bundle; the user data folder per platform."""
import sys
from pathlib import Path

import pytest

from gui.platform import paths

REPO = Path(__file__).resolve().parents[3]


def test_resources_are_found_in_the_checkout_from_source(monkeypatch):
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    assert paths.bundle_root() == REPO
    assert paths.resource_path("descent-lab.svg") == REPO / "resources" / "descent-lab.svg"
    assert paths.resource_path("icons/descent-lab-32.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_resources_are_found_under_meipass_when_frozen(monkeypatch, tmp_path):
    (tmp_path / "resources" / "icons").mkdir(parents=True)
    (tmp_path / "resources" / "icons" / "descent-lab-16.png").write_bytes(b"png")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.bundle_root() == tmp_path
    assert paths.resource_path("icons/descent-lab-16.png") == tmp_path / "resources" / "icons" / "descent-lab-16.png"
    # ...and only there: the checkout's copy is not used by a frozen app
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "resources" / "descent-lab.svg")):
        paths.resource_path("descent-lab.svg")


def test_user_data_dir_follows_each_platform(tmp_path):
    home = tmp_path
    assert paths.user_data_dir("linux", {}, home) == home / ".local" / "share" / "descent-lab"
    assert paths.user_data_dir("linux", {"XDG_DATA_HOME": "/xdg/data"}, home) == Path("/xdg/data/descent-lab")
    # the XDG spec: a relative path is invalid and must be ignored
    assert paths.user_data_dir("linux", {"XDG_DATA_HOME": "rel"}, home) == home / ".local" / "share" / "descent-lab"
    assert paths.user_data_dir("darwin", {}, home) == home / "Library" / "Application Support" / "Descent Lab"
    assert paths.user_data_dir("win32", {"LOCALAPPDATA": "/C/Users/t/AppData/Local"}, home) == \
        Path("/C/Users/t/AppData/Local/Descent Lab")
    assert paths.user_data_dir("win32", {}, home) == home / "AppData" / "Local" / "Descent Lab"


def test_the_log_lives_in_the_user_data_dir_never_in_the_bundle(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)
    log = paths.log_path("linux", {"XDG_DATA_HOME": str(tmp_path / "data")}, tmp_path)
    assert log == tmp_path / "data" / "descent-lab" / "logs" / "descent-lab.log"
    assert paths.bundle_root() not in log.parents


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_DATA_HOME is the Linux user data folder")
def test_the_suite_writes_its_user_data_into_a_throw_away_folder_not_the_home_folder():
    import tempfile

    folder = paths.user_data_dir()          # what the window's spill files and failure log use, unpatched
    assert folder.is_relative_to(Path(tempfile.gettempdir()))
    assert not folder.is_relative_to(Path.home() / ".local")
