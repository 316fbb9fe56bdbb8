"""Optimizer paths: torch.optim's own steps bit for bit, stop reasons, specs, and the headless CSV."""
import csv
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.labs.surfaces import surface
from engine.labs.trajectories import (
    BOX_MARGIN,
    CSV_COLUMNS,
    SpecError,
    compute_trajectories,
    compute_trajectory,
    make_spec,
    parse_spec,
    write_csv,
)
from engine.optim.lamb import Lamb
from engine.optim.optimizers import OPTIMIZERS
from engine.status import PathStatus

ROOT = Path(__file__).resolve().parents[3]


def hand_loop(make_opt, f, start, steps):
    """What a student writes: a 2-element tensor, zero_grad / backward / step, positions recorded."""
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = make_opt([p])
    positions, losses, grads = [p.detach().clone()], [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = f(p)
        loss.backward()
        losses.append(loss.item())
        grads.append(p.grad.clone())
        opt.step()
        positions.append(p.detach().clone())
    return torch.stack(positions).numpy(), np.array(losses), torch.stack(grads).numpy()


@pytest.mark.parametrize("spec, make_opt", [
    ("sgd:lr=0.001", lambda ps: torch.optim.SGD(ps, lr=0.001)),
    ("sgd:lr=0.001,momentum=0.9", lambda ps: torch.optim.SGD(ps, lr=0.001, momentum=0.9)),
    ("sgd:lr=0.001,momentum=0.9,nesterov=true", lambda ps: torch.optim.SGD(ps, lr=0.001, momentum=0.9, nesterov=True)),
    ("adam:lr=0.05", lambda ps: torch.optim.Adam(ps, lr=0.05)),
    ("adam:lr=0.05,betas=0.8/0.99", lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.99))),
    ("rmsprop:lr=0.01,alpha=0.9", lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9)),
    ("adamw:lr=0.05,weight_decay=0.1", lambda ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.1)),
    ("lamb:lr=0.02", lambda ps: Lamb(ps, lr=0.02)),
])
def test_path_is_torch_optim_bit_for_bit(spec, make_opt):
    steps = 150
    f = surface("rosenbrock").function()
    path = compute_trajectory("rosenbrock", (-1.5, 2.0), spec, steps)
    assert path.status == PathStatus.FINISHED and path.steps == steps
    pos, losses, grads = hand_loop(make_opt, f, (-1.5, 2.0), steps)
    assert np.array_equal(path.x, pos[:, 0]) and np.array_equal(path.y, pos[:, 1])
    assert np.array_equal(path.loss[:-1], losses)
    assert np.array_equal(path.grad[:-1], grads)
    assert np.array_equal(path.update[:-1], np.diff(pos, axis=0))
    assert np.isnan(path.update[-1]).all()
    assert path.loss[-1] == f(torch.from_numpy(pos[-1])).item()


def test_momentum_update_differs_from_the_gradient_but_plain_sgd_does_not():
    plain = compute_trajectory("ravine", (-3.5, 1.0), "sgd:lr=0.01", 30)
    assert np.allclose(plain.update[:-1], -0.01 * plain.grad[:-1], rtol=1e-12, atol=1e-15)
    heavy = compute_trajectory("ravine", (-3.5, 1.0), "sgd:lr=0.01,momentum=0.9", 30)
    cos = [np.dot(u, -g) / np.linalg.norm(u) / np.linalg.norm(g) for u, g in zip(heavy.update[10:-1], heavy.grad[10:-1])]
    assert min(cos) < 0.9       # the velocity points elsewhere than the current downhill direction


def test_momentum_and_adam_beat_plain_sgd_in_the_ravine():
    paths = {p.label: p for p in compute_trajectories(
        "ravine", (-3.5, 1.0), ["sgd:lr=0.01", "sgd:lr=0.01,momentum=0.9", "adam:lr=0.1"], 200)}
    final = {label: p.loss[-1] for label, p in paths.items()}
    assert final["sgd:lr=0.01,momentum=0.9"] < final["sgd:lr=0.01"] / 100
    assert final["adam:lr=0.1"] < final["sgd:lr=0.01"] / 100


def test_a_diverging_path_stops_where_it_leaves_the_box_and_says_so():
    path = compute_trajectory("ravine", (-3.5, 1.0), "sgd:lr=0.1", 100, {"condition": 25})
    # lr * kappa = 2.5 > 2: y is multiplied by (1 - 2.5) = -1.5 each step.
    assert path.status == PathStatus.LEFT_BOX and path.stopped
    k = path.stop_step
    assert k == path.steps and abs(path.y[k]) == pytest.approx(1.5 * abs(path.y[k - 1]))
    assert abs(path.y[k]) > 2.0 + BOX_MARGIN * 4.0      # beyond ymax plus a quarter of the box's height
    assert not surface("ravine").contains(path.x[k], path.y[k], BOX_MARGIN)
    assert all(surface("ravine").contains(x, y, BOX_MARGIN) for x, y in zip(path.x[:-1], path.y[:-1]))
    assert f"left the box at step {k}" in path.message
    assert np.isfinite(path.x).all() and np.isfinite(path.loss).all()


def test_an_overflowing_path_stops_as_non_finite_and_keeps_only_finite_rows():
    path = compute_trajectory("saddle", (-1.0, 0.5), "sgd:lr=1e308", 10)
    assert path.status == PathStatus.NON_FINITE and path.stop_step == 1 and path.steps == 0
    assert "diverged at step 1" in path.message and "not finite" in path.message
    assert np.isfinite(path.x).all() and np.isnan(path.update[-1]).all()


def test_saddle_path_slides_off_the_ridge():
    path = compute_trajectory("saddle", (-1.8, 0.02), "sgd:lr=0.05,momentum=0.9", 500)
    assert path.status == PathStatus.LEFT_BOX and path.loss[-1] < path.loss[0] - 3
    assert abs(path.y[-1]) > 2 and abs(path.x[-1]) < abs(path.x[0])     # y slid away, x went toward the ridge


def test_specs_parse_to_checked_settings_and_back():
    spec = parse_spec("adam:lr=0.05,betas=(0.8,0.99)")
    assert spec.name == "adam" and dict(spec.settings) == {"lr": 0.05, "betas": (0.8, 0.99)}
    assert spec.kwargs() == {"lr": 0.05, "betas": (0.8, 0.99)}
    assert parse_spec(spec.text) == spec and spec.text == "adam:lr=0.05,betas=0.8/0.99"
    assert parse_spec(" SGD : momentum=0.9 , lr=1e-3 ").text == "sgd:lr=0.001,momentum=0.9"
    assert parse_spec("rmsprop").kwargs()["lr"] == 0.01      # lr left out: the experiment file's default
    assert make_spec("sgd", {"lr": "0.5", "momentum": ""}) == parse_spec("sgd:lr=0.5")
    for name in OPTIMIZERS:                                  # every optimizer of the engine can walk a surface
        assert compute_trajectory("himmelblau", (0.0, 0.0), name, 3).steps == 3


@pytest.mark.parametrize("text, message", [
    ("momentum:lr=1", r"unknown optimizer 'momentum' \(choose from sgd, "),
    ("sgd:lr=-1", "lr: must be > 0, got -1"),
    ("sgd:lr=fast", "lr: must be a number, got 'fast'"),
    ("sgd:momentum=1.5", r"momentum: must be in \[0, 1\), got 1.5"),
    ("adam:momentum=0.9", "adam takes no 'momentum' \\(it takes: lr, betas, eps, weight_decay\\)"),
    ("sgd:speed=3", "unknown setting 'speed'"),
    ("sgd:lr", "settings are key=value pairs"),
    ("adam:betas=0.9", "betas: must be two numbers like 0.9/0.999"),
    ("sgd:nesterov=true", "nesterov: needs momentum > 0"),
    ("sgd:lr=0.1,lr=0.2", "lr: given twice"),
])
def test_bad_specs_are_rejected_in_one_line(text, message):
    with pytest.raises(SpecError, match=message) as err:
        parse_spec(text)
    assert "\n" not in str(err.value)


def test_bad_requests_are_rejected():
    with pytest.raises(SpecError, match="outside the rosenbrock box"):
        compute_trajectory("rosenbrock", (5.0, 0.0), "sgd", 3)
    with pytest.raises(SpecError, match="steps: must be an integer"):
        compute_trajectory("rosenbrock", (0.0, 0.0), "sgd", -1)


def test_labels_are_unique():
    labels = [p.label for p in compute_trajectories("himmelblau", (0, 0), ["adam", "adam", "sgd"], 2)]
    assert labels == ["adam", "adam #2", "sgd"]


def test_csv_rows_and_columns(tmp_path):
    paths = compute_trajectories("ravine", (-3.5, 1.0), ["sgd:lr=0.01", "sgd:lr=0.1"], 20)
    write_csv(paths, tmp_path / "t.csv")
    rows = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert tuple(rows[0]) == CSV_COLUMNS
    first = [r for r in rows if r["optimizer"] == "sgd:lr=0.01"]
    assert len(first) == 21 and [int(r["step"]) for r in first] == list(range(21))
    assert [float(r["x"]) for r in first] == list(paths[0].x)            # exact round trip
    assert b"\r" not in (tmp_path / "t.csv").read_bytes()               # the app's one line end
    assert first[3]["loss"] == repr(float(paths[0].loss[3]))              # engine.files.float_cell
    assert [r["status"] for r in first] == [""] * 20 + ["finished"]
    assert first[-1]["update_x"] == "" and float(first[0]["update_x"]) == paths[0].update[0, 0]
    second = [r for r in rows if r["optimizer"] == "sgd:lr=0.1"]
    assert second[-1]["status"] == "left_box" and len(second) == paths[1].steps + 1


def run_cli(capsys, *args):
    """``main.py trajectories ARGS`` in this process (a subprocess would spend seconds importing torch)."""
    import main
    code = main.main(["trajectories", *args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def test_cli_writes_the_documented_columns(tmp_path, capsys):
    out = tmp_path / "traj.csv"
    done = run_cli(capsys, "--surface", "rosenbrock", "--start", "-1.5,2", "--steps", "40", "--optimizer", "sgd:lr=0.001",
                   "--optimizer", "sgd:lr=0.001,momentum=0.9", "--optimizer", "adam:lr=0.05", "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0])[:5] == ["optimizer", "step", "x", "y", "loss"]
    assert [r["optimizer"] for r in rows[::41]] == ["sgd:lr=0.001", "sgd:lr=0.001,momentum=0.9", "adam:lr=0.05"]
    adam = compute_trajectory("rosenbrock", (-1.5, 2.0), "adam:lr=0.05", 40)
    assert [float(r["loss"]) for r in rows[82:]] == list(adam.loss)
    assert "adam:lr=0.05: ran all 40 steps" in done.stdout


@pytest.mark.parametrize("args, message", [
    (("--optimizer", "sgd:lr=-1"), "error: lr: must be > 0, got -1"),
    (("--optimizer", "warp:lr=1"), "error: unknown optimizer 'warp'"),
    (("--surface", "banana", "--optimizer", "sgd"), "error: unknown surface 'banana'"),
    (("--start", "9,9", "--optimizer", "sgd"), "error: start: (9, 9) is outside the rosenbrock box"),
])
def test_cli_rejects_bad_input_with_one_line_and_exit_2(tmp_path, capsys, args, message):
    done = run_cli(capsys, *args, "--out", str(tmp_path / "x.csv"))
    assert done.returncode == 2
    assert done.stderr.strip().startswith(message) and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.csv").exists()
