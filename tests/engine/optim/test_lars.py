"""engine.optim.lars: the LARS step (You, Gitman and Ginsburg 2017, Algorithm 1) against steps computed by hand.

The numbers are chosen so the hand computation is short: w = (3, 4) has norm 5 and g = (0.6, 0.8) norm 1.
"""
from __future__ import annotations

import csv
import math

import pytest
import torch

import main
from engine.config import Experiment, OptimizerConfig
from engine.labs.trajectories import SpecError, compute_trajectory, parse_spec
from engine.optim.lars import Lars
from engine.optim.optimizers import OPTIMIZERS, build_optimizer
from engine.training.trainer import Trainer

TIGHT = dict(rtol=1e-12, atol=1e-15)
EPS = 1e-8


def step(opt, params, grads):
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g, dtype=torch.float64)
    opt.step()


def vec(*values):
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def test_two_steps_with_momentum_equal_the_hand_computation():
    w = vec(3.0, 4.0)
    opt = Lars([w], lr=1.0)                 # momentum 0.9, wd 0, trust 0.001, eps 1e-8
    step(opt, [w], [[0.6, 0.8]])
    local1 = 0.001 * 5 / (1 + EPS)          # ||w|| = 5, ||g|| = 1
    v1 = [local1 * 0.6, local1 * 0.8]       # v0 = 0: the first velocity is the first step
    torch.testing.assert_close(w.detach(), torch.tensor([3 - v1[0], 4 - v1[1]], dtype=torch.float64), **TIGHT)
    assert opt.state[w]["local_lr"] == pytest.approx(local1, rel=1e-12)
    assert v1 == pytest.approx([0.003, 0.004], rel=1e-7)

    step(opt, [w], [[0.6, 0.8]])
    norm1 = math.hypot(3 - v1[0], 4 - v1[1])          # 4.995
    local2 = 0.001 * norm1 / (1 + EPS)
    v2 = [0.9 * v1[0] + local2 * 0.6, 0.9 * v1[1] + local2 * 0.8]
    expected = [3 - v1[0] - v2[0], 4 - v1[1] - v2[1]]
    torch.testing.assert_close(w.detach(), torch.tensor(expected, dtype=torch.float64), **TIGHT)
    assert expected == pytest.approx([2.991303, 3.988404], rel=1e-7)
    torch.testing.assert_close(opt.state[w]["momentum_buffer"], torch.tensor(v2, dtype=torch.float64), **TIGHT)


def test_weight_decay_enters_the_local_rate_and_the_step():
    w = vec(3.0, 4.0)
    opt = Lars([w], lr=2.0, momentum=0.0, weight_decay=0.1)
    step(opt, [w], [[0.6, 0.8]])
    local = 0.001 * 5 / (1 + 0.1 * 5 + EPS)           # 0.00333...
    d = [0.6 + 0.1 * 3, 0.8 + 0.1 * 4]                # g + wd * w = (0.9, 1.2)
    expected = [3 - 2 * local * d[0], 4 - 2 * local * d[1]]
    torch.testing.assert_close(w.detach(), torch.tensor(expected, dtype=torch.float64), **TIGHT)
    assert expected == pytest.approx([2.994, 3.992], rel=1e-7)
    assert "momentum_buffer" not in opt.state[w]      # momentum 0 keeps no buffer


def test_the_step_is_a_fixed_fraction_of_the_weight_norm_whatever_the_gradient_scale():
    for scale in (1e-2, 1.0, 1e4):          # (eps is 1e-6 of the smallest gradient norm)
        w = vec(3.0, 4.0)
        opt = Lars([w], lr=1.0, momentum=0.0)
        step(opt, [w], [[0.6 * scale, 0.8 * scale]])
        moved = torch.linalg.vector_norm(w.detach() - torch.tensor([3.0, 4.0], dtype=torch.float64)).item()
        assert moved == pytest.approx(0.001 * 5, rel=1e-5)


def test_zero_norms_give_a_local_rate_of_one():
    w = vec(0.0, 0.0)                                 # no size to be relative to: the plain step lr * g
    opt = Lars([w], lr=0.5, momentum=0.0)
    step(opt, [w], [[0.6, 0.8]])
    torch.testing.assert_close(w.detach(), torch.tensor([-0.3, -0.4], dtype=torch.float64), **TIGHT)
    assert opt.state[w]["local_lr"] == 1.0

    w = vec(3.0, 4.0)                                 # a zero gradient: only the weight decay moves it
    opt = Lars([w], lr=0.5, momentum=0.0, weight_decay=0.1)
    step(opt, [w], [[0.0, 0.0]])
    torch.testing.assert_close(w.detach(), torch.tensor([3 - 0.5 * 0.3, 4 - 0.5 * 0.4], dtype=torch.float64),
                               **TIGHT)
    assert opt.state[w]["local_lr"] == 1.0
    assert all(math.isfinite(x) for x in w.detach().tolist())


def test_biases_and_norm_parameters_take_the_plain_momentum_step():
    weight = torch.tensor([[3.0, 0.0], [0.0, 4.0]], dtype=torch.float64, requires_grad=True)   # norm 5
    bias = vec(1.0, 2.0)
    opt = Lars([weight, bias], lr=0.5, momentum=0.9, weight_decay=0.1)
    gw, gb = [[0.6, 0.0], [0.0, 0.8]], [0.3, -0.4]
    step(opt, [weight, bias], [gw, gb])
    # the bias: v = lr * g (no local rate, no weight decay)
    torch.testing.assert_close(bias.detach(), torch.tensor([1 - 0.15, 2 + 0.2], dtype=torch.float64), **TIGHT)
    assert opt.state[bias]["local_lr"] == 1.0
    # the weight: the layer-wise step
    local = 0.001 * 5 / (1 + 0.1 * 5 + EPS)
    expected = [[3 - 0.5 * local * (0.6 + 0.3), 0.0], [0.0, 4 - 0.5 * local * (0.8 + 0.4)]]
    torch.testing.assert_close(weight.detach(), torch.tensor(expected, dtype=torch.float64), **TIGHT)

    step(opt, [weight, bias], [gw, gb])               # second step: v = 0.9 * v + lr * g
    v2 = [0.9 * 0.15 + 0.15, 0.9 * -0.2 - 0.2]
    torch.testing.assert_close(bias.detach(), torch.tensor([0.85 - v2[0], 2.2 - v2[1]], dtype=torch.float64),
                               **TIGHT)


def test_a_group_may_say_whether_it_is_adapted():
    weight = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
    bias = vec(3.0, 4.0)
    opt = Lars([{"params": [weight]}, {"params": [bias], "layer_adaptation": True}], lr=1.0, momentum=0.0)
    step(opt, [weight, bias], [[[1.0, 0.0], [0.0, 1.0]], [0.6, 0.8]])
    assert opt.state[bias]["local_lr"] == pytest.approx(0.005, rel=1e-6)


def test_networks_biases_and_batchnorm_are_excluded_in_a_trainer_run():
    exp = Experiment(optimizer=OptimizerConfig(name="lars", lr=1.0))
    exp = exp.replace(model={"hidden": [8, 8], "norm": "batch"},
                      train={"steps": 3, "batch_size": 16, "eval_every": 1000, "histogram_every": 0})
    trainer = Trainer(exp)
    for _ in range(3):
        list(trainer.step())
    opt = trainer.optimizer
    assert isinstance(opt, Lars)
    for p in trainer.model.parameters():
        local = opt.state[p]["local_lr"]
        if p.ndim >= 2:                                # the last step: w_before = w + v, its gradient p.grad
            before = p.detach() + opt.state[p]["momentum_buffer"]
            assert p.grad is not None
            norm, grad_norm = torch.linalg.vector_norm(before), torch.linalg.vector_norm(p.grad)
            assert local == pytest.approx((0.001 * norm / (grad_norm + EPS)).item(), rel=1e-4)
            assert local != 1.0
        else:
            assert local == 1.0                        # biases and BatchNorm's scale and shift


def test_registered_like_lamb_with_the_papers_defaults():
    info = OPTIMIZERS["lars"]
    assert info.cls is Lars
    assert info.defaults == {"lr": 1.0, "momentum": 0.9, "eps": 1e-8, "weight_decay": 0.0, "trust_coefficient": 0.001}
    opt = build_optimizer([torch.nn.Parameter(torch.zeros(2, 2))], OptimizerConfig(name="lars", momentum=0.5))
    assert isinstance(opt, Lars)
    assert opt.param_groups[0]["momentum"] == 0.5 and opt.param_groups[0]["trust_coefficient"] == 0.001
    with pytest.raises(ValueError, match="momentum"):
        Lars([torch.zeros(2, requires_grad=True)], momentum=1.0)


def test_it_is_deterministic():
    def run():
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
        opt = Lars(model.parameters(), lr=1.0, weight_decay=1e-3)
        x = torch.randn(32, 4)
        for _ in range(5):
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
        return [p.detach().clone() for p in model.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(run(), run()))


def test_the_trajectories_lab_treats_its_point_as_a_weight():
    path = compute_trajectory("rosenbrock", (-1.5, 2.0), "lars:lr=1,momentum=0", 2)
    g = path.grad[0]
    p0 = (path.x[0], path.y[0])
    local = 0.001 * math.hypot(*p0) / (math.hypot(*g) + EPS)
    assert path.x[1] == pytest.approx(p0[0] - local * g[0], rel=1e-12)
    assert path.y[1] == pytest.approx(p0[1] - local * g[1], rel=1e-12)
    bigger = compute_trajectory("rosenbrock", (-1.5, 2.0), "lars:lr=1,momentum=0,trust_coefficient=0.004", 2)
    assert bigger.x[1] == pytest.approx(p0[0] - 4 * local * g[0], rel=1e-9)   # local_lr scales with eta
    with pytest.raises(SpecError, match="trust_coefficient"):
        parse_spec("lars:trust_coefficient=0")        # must be > 0: a one-line error


def test_the_trajectories_command_runs_lars(tmp_path, capsys):
    out = tmp_path / "paths.csv"
    code = main.main(["trajectories", "--surface", "rosenbrock", "--start", "-1.5,2", "--steps", "3",
                      "--optimizer", "lars:lr=2,momentum=0.9", "--out", str(out)])
    assert code == 0
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and "lars" in capsys.readouterr().out
    reference = compute_trajectory("rosenbrock", (-1.5, 2.0), "lars:lr=2,momentum=0.9", 3)
    assert [float(r["x"]) for r in rows] == pytest.approx(list(reference.x), rel=1e-9)
    # the first step by hand: lr * trust * ||p|| / ||g|| * g (v0 = 0)
    g = reference.grad[0]
    local = 0.001 * math.hypot(-1.5, 2.0) / (math.hypot(*g) + EPS)
    assert float(rows[1]["x"]) == pytest.approx(-1.5 - 2 * local * g[0], rel=1e-9)
