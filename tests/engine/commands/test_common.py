"""engine/commands/common.py: ``--out`` naming one file is checked by the one file-target check
(engine.files.target_problem) in ``--out``'s own words, and its missing folders are created."""
from __future__ import annotations

import os

import pytest

import main
from engine.commands import BAD_INPUT, CommandError
from engine.commands.common import check_out_file


def refusal(path) -> str:
    with pytest.raises(CommandError) as err:
        check_out_file(path)
    return str(err.value)


def test_out_file_words_for_each_problem(tmp_path):
    (tmp_path / "afile").write_text("keep")
    assert refusal(tmp_path) == f"--out: {tmp_path} is a folder; give a file name, e.g. {tmp_path / 'trajectories.csv'}"
    assert refusal(tmp_path / "afile" / "x.csv") == f"--out: {tmp_path / 'afile'} is a file, not a folder"
    assert refusal(tmp_path / "afile" / "deeper" / "x.csv") == f"--out: {tmp_path / 'afile'} is a file, not a folder"
    assert refusal(tmp_path / ("n" * 300 + ".csv")) == "--out: the name is too long (at most 255 bytes)"
    assert (tmp_path / "afile").read_text() == "keep"


def test_out_file_in_missing_folders_is_accepted_and_nothing_is_created_by_the_check(tmp_path):
    out = tmp_path / "new" / "deeper" / "paths.csv"
    assert check_out_file(out) == out and not (tmp_path / "new").exists()
    assert check_out_file("paths.csv").name == "paths.csv"            # a bare name: the working folder


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="/proc refuses new files, even to root")
def test_out_file_in_a_folder_the_system_refuses(tmp_path):
    assert refusal("/proc/paths.csv").startswith("--out: cannot write in /proc: ")


def test_trajectories_creates_the_missing_folders_of_its_out_file(tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "paths.csv"
    assert main.main(["trajectories", "--optimizer", "sgd:lr=0.01", "--steps", "3", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("optimizer,step,x,y") and lines[1].startswith("sgd:lr=0.01,0,")
    (tmp_path / "afile").write_text("keep")
    assert main.main(["trajectories", "--optimizer", "sgd:lr=0.01", "--out", str(tmp_path / "afile" / "x.csv")]) \
        == BAD_INPUT
    assert capsys.readouterr().err.strip().splitlines() == [f"error: --out: {tmp_path / 'afile'} is a file, not a folder"]
