"""Gradient noise in the Trajectories lab: a path's ``noise=sigma`` adds seeded Gaussian noise to each gradient,
exactly ``g + sigma * z`` before torch.optim's step; the double well's shallow valley holds the exact gradient
and not the noisy one."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.labs.surfaces import SURFACES, evaluate, gradient
from engine.labs.trajectories import SpecError, compute_trajectory, parse_spec

ROOT = Path(__file__).resolve().parents[3]


def test_noise_is_a_path_setting_that_round_trips_its_text():
    spec = parse_spec("sgd:lr=0.05,noise=3")
    assert (spec.noise, dict(spec.settings)) == (3.0, {"lr": 0.05})
    assert parse_spec(spec.text) == spec and spec.text == "sgd:lr=0.05,noise=3"
    assert parse_spec("adam:noise=0.5").kwargs() == parse_spec("adam").kwargs()    # not an optimizer key
    for bad, line in (("sgd:noise=-1", "noise: must be a number in [0, 1000], got -1.0"),
                      ("sgd:noise=abc", "noise: must be a number, got 'abc'"),
                      ("sgd:noise=inf", "noise: must be a number in [0, 1000], got inf")):
        with pytest.raises(SpecError) as err:
            parse_spec(bad)
        assert str(err.value) == line


def test_a_noisy_path_is_the_hand_written_loop_with_the_seeded_draws():
    steps, sigma, seed = 40, 2.0, 7
    path = compute_trajectory("double-well", (1.3, 0.8), f"sgd:lr=0.05,momentum=0.9,noise={sigma}", steps,
                              noise_seed=seed)
    p = torch.tensor([1.3, 0.8], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.05, momentum=0.9)
    draws = torch.Generator().manual_seed(seed)
    f = SURFACES["double-well"].function()
    want = [p.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        f(p).backward()
        p.grad.add_(sigma * torch.randn(2, generator=draws, dtype=torch.float64))
        opt.step()
        want.append(p.detach().clone())
    np.testing.assert_array_equal(np.stack([path.x, path.y], 1), torch.stack(want).numpy())
    k = 10             # the recorded gradient is the surface's own, not the noisy one
    np.testing.assert_allclose(path.grad[k], gradient("double-well", path.x[k], path.y[k]), rtol=1e-12)


def test_no_noise_is_the_exact_path_and_the_seed_changes_only_noisy_paths():
    exact = compute_trajectory("double-well", (1.3, 0.8), "sgd:lr=0.05", 200)
    again = compute_trajectory("double-well", (1.3, 0.8), "sgd:lr=0.05", 200, noise_seed=5)
    np.testing.assert_array_equal(exact.x, again.x)
    a, b = (compute_trajectory("double-well", (1.3, 0.8), "sgd:lr=0.05,noise=1", 200, noise_seed=s) for s in (0, 1))
    assert not np.array_equal(a.x, b.x)


def test_the_double_wells_minima_and_ridge():
    (deep, _), (shallow, _) = SURFACES["double-well"].minima
    assert deep < 0 < shallow
    assert evaluate("double-well", deep, 0) < evaluate("double-well", shallow, 0)
    for x in (deep, shallow):
        np.testing.assert_allclose(gradient("double-well", x, 0.0), [0.0, 0.0], atol=1e-12)


def test_the_command_takes_noisy_specs_and_their_seed(tmp_path):
    def run(*extra):
        return subprocess.run([sys.executable, str(ROOT / "main.py"), "trajectories", "--surface", "double-well",
                               "--steps", "1000", "--optimizer", "sgd:lr=0.05", "--optimizer",
                               "sgd:lr=0.05,noise=3", *extra], cwd=tmp_path, capture_output=True, text=True)
    done = run("--noise-seed", "4", "--out", "t.csv")
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "t.csv", newline="") as f:
        last = {r["optimizer"]: float(r["x"]) for r in csv.DictReader(f) if r["status"] == "finished"}
    assert last["sgd:lr=0.05"] > 0.5 and last["sgd:lr=0.05,noise=3"] < 0     # stuck, and escaped
    bad = run("--noise-seed", "x", "--out", "u.csv")
    assert (bad.returncode, bad.stderr) == (2, "error: noise-seed: must be a whole number >= 0, got 'x'\n")
    assert not (tmp_path / "u.csv").exists()
