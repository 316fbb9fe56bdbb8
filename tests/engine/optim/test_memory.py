"""engine.optim.memory: every figure is the sum of the state tensors' bytes, and the lesson's rules of thumb hold
or are corrected with numbers (Adam 2x the weights; torch's Adafactor 1.6% of Adam's state, not ~50%)."""
from __future__ import annotations

import csv

import pytest
import torch

from engine.config import OptimizerConfig
from engine.optim.memory import (
    CSV_COLUMNS,
    adafactor_note,
    adafactor_share,
    format_bytes,
    format_ratio,
    measure,
    measure_network,
    square_name,
    square_network,
    table_configs,
    write_memory_csv,
)
from engine.optim.optimizers import OPTIMIZERS, build_optimizer


def mlp(*sizes):
    return torch.nn.Sequential(*(torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])))


DIGITS_MLP = mlp(64, 128, 128, 10)      # the 64-128-128-10 (the digits are 8x8)


def shapes_bytes(params):
    return sum(p.numel() * 4 for p in params)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_the_figure_is_the_sum_of_the_state_tensors_bytes(name):
    params = list(mlp(3, 5, 2).parameters())
    cfg = OptimizerConfig(name=name, momentum=0.9 if "momentum" in OPTIMIZERS[name].takes else None)
    got = measure(params, cfg)
    # the same by hand: an optimizer of our own on fresh tensors, one step, every tensor of its state
    copies = [torch.randn(p.shape).requires_grad_(True) for p in params]
    for c in copies:
        c.grad = torch.randn(c.shape)
    opt = build_optimizer(copies, cfg)
    opt.step()
    expected = sum(t.numel() * t.element_size() for s in opt.state.values() for t in s.values()
                   if isinstance(t, torch.Tensor))
    assert got.state_bytes == expected
    assert got.weights_bytes == shapes_bytes(params) == (3 * 5 + 5 + 5 * 2 + 2) * 4


def test_adam_keeps_twice_the_weights_and_a_step_counter_per_tensor():
    params = list(DIGITS_MLP.parameters())
    row = measure(params, OptimizerConfig(name="adam"))
    weights = shapes_bytes(params)
    assert row.state_bytes == 2 * weights + 4 * len(params)       # exp_avg, exp_avg_sq; step: 0-dim float32
    assert row.state_keys == ("exp_avg", "exp_avg_sq", "step") and row.state_tensors == 3 * len(params)
    assert row.summary == f"2.0x the weights, {format_bytes(row.state_bytes)}"


def test_sgd_keeps_nothing_without_momentum_and_one_velocity_with_it_lars_one_velocity():
    params = list(DIGITS_MLP.parameters())
    weights = shapes_bytes(params)
    assert measure(params, OptimizerConfig(name="sgd")).state_bytes == 0
    assert measure(params, OptimizerConfig(name="sgd")).summary == "none kept (0 B)"
    assert measure(params, OptimizerConfig(name="sgd", momentum=0.9)).state_bytes == weights
    assert measure(params, OptimizerConfig(name="lars")).state_bytes == weights   # momentum_buffer; local_lr a float
    assert measure(params, OptimizerConfig(name="lars", momentum=0.0)).state_bytes == 0
    lamb = measure(params, OptimizerConfig(name="lamb"))
    assert lamb.state_bytes == 2 * weights + 4 * len(params)      # trust_ratio is a Python float: not counted


def test_adafactor_keeps_a_row_and_a_column_per_matrix():
    params = list(DIGITS_MLP.parameters())
    row = measure(params, OptimizerConfig(name="adafactor"))
    by_hand = sum((p.shape[0] + p.shape[1]) * 4 if p.ndim == 2 else p.numel() * 4 for p in params)
    assert row.state_bytes == by_hand + 4 * len(params)          # + a step counter per tensor
    assert row.state_bytes == 3432


def test_adafactor_against_adam_measured_three_ways():
    digits = measure_network("64-128-128-10", list(DIGITS_MLP.parameters()))
    share = adafactor_share(digits)
    assert share.state == pytest.approx(3432 / 209000)           # 1.6%: nothing like the lesson's ~50%
    assert 0.015 < share.state < 0.017
    assert 0.51 < share.with_first_moment < 0.52                 # + a first moment: the lesson's ~50%
    assert 0.50 < share.with_weights_and_grads < 0.51            # counting weights and gradients: ~50% too
    square = measure_network(square_name(1024, 2), list(square_network(1024, 2).parameters()),
                             [OptimizerConfig(name="adam"), OptimizerConfig(name="adafactor")])
    big = adafactor_share(square)
    assert 0.001 < big.state < 0.002                             # ~0.15% on 1024x1024 layers
    assert big.with_first_moment == pytest.approx(0.5, abs=0.002)
    note = adafactor_note([digits, square])
    assert "1.6% of Adam's state on 64-128-128-10" in note and "0.1% on 2 layers of 1024x1024" in note
    assert "~50%" in note and "first moment" in note and "gradients" in note


def test_the_callers_network_is_untouched_and_the_table_has_every_optimizer():
    model = mlp(2, 4, 2)
    before = [p.detach().clone() for p in model.parameters()]
    memory = measure_network("tiny", list(model.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert [r.optimizer for r in memory.rows] == list(OPTIMIZERS)
    assert memory.per_adam(memory.row("adam")) == 1.0
    chosen = OptimizerConfig(name="sgd", momentum=0.9)
    configs = table_configs(chosen)
    assert configs[0] == chosen and configs[1] == OptimizerConfig(name="adagrad")
    assert measure_network("tiny", list(model.parameters()), configs).row("sgd").settings == "momentum=0.9"


def test_the_csv(tmp_path):
    memory = measure_network("tiny", list(mlp(2, 4, 2).parameters()))
    path = write_memory_csv([memory], tmp_path / "m.csv")
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == len(OPTIMIZERS)
    adam = next(r for r in rows if r["optimizer"] == "adam")
    assert int(adam["state_bytes"]) == 2 * int(adam["weights_bytes"]) + 4 * 4
    assert float(adam["state_per_adam"]) == 1.0 and adam["state_keys"] == "exp_avg exp_avg_sq step"


@pytest.mark.parametrize("n, text", [(0, "0 B"), (999, "999 B"), (1416, "1.4 KB"), (35_000, "35 KB"),
                                     (16_793_616, "17 MB"), (8_396_800, "8.4 MB"), (3 * 10**12, "3000 GB")])
def test_bytes_read_in_decimal_units(n, text):
    assert format_bytes(n) == text


def test_ratios_keep_small_ones_visible():
    assert format_ratio(2.0169) == "2.0x" and format_ratio(0.3) == "0.3x" and format_ratio(0.0029) == "0.0029x"
    with pytest.raises(ValueError):
        square_network(0, 2)
