"""``main.py optimizer-memory``: the experiment's network and the square one, every optimizer, as CSV."""
from __future__ import annotations

import csv
import json

import pytest

import main
from engine.commands import BAD_INPUT, COMMANDS
from engine.commands.optimizer_memory import experiment_network
from engine.config import Experiment
from engine.experiment import parse_experiment
from engine.optim.memory import CSV_COLUMNS
from engine.optim.optimizers import OPTIMIZERS
from engine.training.trainer import Trainer


def read(path):
    with path.open() as f:
        return list(csv.DictReader(f))


def test_every_optimizer_on_both_networks(tmp_path, capsys):
    exp = tmp_path / "exp.json"
    exp.write_text(json.dumps({"data": {"dataset": "digits"}, "model": {"hidden": [128, 128]},
                               "optimizer": {"name": "sgd", "momentum": 0.9}}))
    out = tmp_path / "deep" / "memory.csv"
    assert main.main(["optimizer-memory", str(exp), "--width", "256", "--depth", "3", "--out", str(out)]) == 0
    rows = read(out)
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 2 * len(OPTIMIZERS)
    assert {r["network"] for r in rows} == {"mlp 64-128-128-10", "3 layers of 256x256"}
    here = {r["optimizer"]: r for r in rows if r["network"] == "mlp 64-128-128-10"}
    weights = (64 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10) * 4
    assert int(here["adam"]["weights_bytes"]) == weights
    assert int(here["adam"]["state_bytes"]) == 2 * weights + 4 * 6
    assert here["sgd"]["settings"] == "momentum=0.9" and int(here["sgd"]["state_bytes"]) == weights
    assert float(here["adafactor"]["state_per_adam"]) == pytest.approx(3432 / 209000)
    square = {r["optimizer"]: r for r in rows if r["network"] == "3 layers of 256x256"}
    assert int(square["adam"]["weights_bytes"]) == 3 * (256 * 256 + 256) * 4
    printed = capsys.readouterr().out
    assert "1.6% of Adam's state on mlp 64-128-128-10" in printed and "~50%" in printed and "-> " in printed


def test_without_a_file_it_measures_the_default_experiment(tmp_path):
    out = tmp_path / "m.csv"
    assert main.main(["optimizer-memory", "--width", "32", "--depth", "1", "--out", str(out)]) == 0
    assert {r["network"] for r in read(out)} == {"mlp 2-16-16-2", "1 layer of 32x32"}
    assert "optimizer-memory" in COMMANDS and not COMMANDS["optimizer-memory"].source


@pytest.mark.parametrize("dataset", ["spiral", "digits", "gaussians"])
def test_the_network_is_the_trainers_without_loading_data(dataset):
    exp = parse_experiment({"data": {"dataset": dataset, "n_train": 64, "n_val": 32}, "model": {"hidden": [8]}})
    model, _name = experiment_network(exp)
    trainer = Trainer(exp)
    assert [p.shape for p in model.parameters()] == [p.shape for p in trainer.model.parameters()]
    cnn = parse_experiment({"data": {"dataset": "digits"}, "model": {"kind": "cnn", "channels": [4]}})
    model, name = experiment_network(cnn)
    assert name == f"cnn {sum(p.numel() for p in model.parameters()):,} weights"
    assert [p.shape for p in model.parameters()] == [p.shape for p in Trainer(cnn).model.parameters()]


@pytest.mark.parametrize("argv, says", [
    (["missing.json"], "missing.json"),
    (["--width", "9000", "--depth", "1"], "--width/--depth"),
])
def test_bad_input_is_one_line_and_exit_2(argv, says, tmp_path, capsys):
    out = tmp_path / "m.csv"
    assert main.main(["optimizer-memory", *argv, "--out", str(out)]) == BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and says in err[0], err
    assert not out.exists()


def test_a_folder_as_out_and_a_bad_width_are_one_line(tmp_path, capsys):
    assert main.main(["optimizer-memory", "--width", "8", "--out", str(tmp_path)]) == BAD_INPUT
    assert capsys.readouterr().err.startswith("error: --out:")
    with pytest.raises(SystemExit) as exit_:
        main.main(["optimizer-memory", "--depth", "0"])
    assert exit_.value.code == BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--depth" in err[0]


def test_the_default_experiment_is_what_it_measures():
    model, name = experiment_network(Experiment())
    assert name == "mlp 2-16-16-2" and sum(p.numel() for p in model.parameters()) == 354
