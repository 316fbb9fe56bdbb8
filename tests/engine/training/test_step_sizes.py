"""What a histogram tick measures of the optimizer's step, per layer (engine/training/measurements.py):
the effective rate of every weight, ||dtheta|| / ||theta||, and the fraction of exactly-zero gradients."""
import math

import numpy as np
import pytest
import torch

from engine.config import Experiment
from engine.model.models import weight_tensors
from engine.training.events import HistogramEvent
from engine.training.trainer import Trainer


def _run(optimizer: dict, steps: int = 6, every: int = 3):
    """The run's histogram ticks, its weight tensors after every step, and each tick's flat gradient."""
    exp = Experiment(seed=3).replace(optimizer=optimizer, train={"steps": steps, "histogram_every": every},
                                     data={"n_train": 128, "n_val": 64})
    trainer = Trainer(exp)
    ticks: list[HistogramEvent] = []
    history = {0: [w.detach().clone() for _, w in weight_tensors(trainer.model)]}
    grads: dict[int, torch.Tensor] = {}
    while not trainer.done:
        events = trainer.step()
        history[trainer.step_count] = [w.detach().clone() for _, w in weight_tensors(trainer.model)]
        grads[trainer.step_count] = trainer._grads.flat.clone()
        ticks += [e for e in events if isinstance(e, HistogramEvent)]
    return trainer, ticks, history, grads


def _layer_grads(trainer, flat):
    starts, at = {}, 0
    for p in trainer.model.parameters():
        starts[id(p)] = at
        at += p.numel()
    return [flat[starts[id(w)]:starts[id(w)] + w.numel()] for _, w in weight_tensors(trainer.model)]


def test_the_update_ratio_is_the_steps_norm_over_the_weights_norm_from_before_it():
    _, ticks, history, _ = _run({"name": "adam", "lr": 0.01})
    assert [t.step for t in ticks] == [0, 3, 6]
    assert all(layer.update_ratio is None and layer.rate is None for layer in ticks[0].layers)   # no step yet
    for tick in ticks[1:]:
        for k, layer in enumerate(tick.layers):
            before, after = history[tick.step - 1][k], history[tick.step][k]
            assert layer.update_ratio == pytest.approx(float((after - before).norm() / before.norm()), rel=1e-5)


def test_sgds_rate_is_lr_for_every_weight_and_adams_spreads_over_orders_of_magnitude():
    _, sgd, _, _ = _run({"name": "sgd", "lr": 0.05, "momentum": 0.9})
    for layer in sgd[-1].layers:
        assert layer.rate.mean == pytest.approx(math.log10(0.05), abs=1e-6) and layer.rate.std < 1e-6
        low, high = layer.rate.value_range()       # one value: not the one-unit-wide bins drawn around it
        assert low == high == pytest.approx(math.log10(0.05), abs=1e-6)
    _, adam, _, _ = _run({"name": "adam", "lr": 0.01}, steps=30, every=30)
    spread = [float(layer.rate.edges[-1] - layer.rate.edges[0]) for layer in adam[-1].layers]
    assert max(spread) > 2.0          # a factor of more than 100 between two weights' rates in one layer


def test_a_rate_without_a_closed_form_is_what_the_update_gave():
    """Adafactor's rate (no entry in RATES) is |dtheta_i| / |g_i| of the tick's step, over g_i != 0."""
    trainer, ticks, history, grads = _run({"name": "adafactor", "lr": 0.01}, steps=3, every=3)
    for k, (layer, g) in enumerate(zip(ticks[-1].layers, _layer_grads(trainer, grads[3]))):
        delta = (history[3][k] - history[2][k]).reshape(-1)
        moved = g != 0
        expected = torch.log10(delta[moved].abs() / g[moved].abs())
        expected = expected[torch.isfinite(expected)]
        assert layer.rate.mean == pytest.approx(float(expected.double().mean()), rel=1e-4, abs=1e-4)
        assert int(np.sum(layer.rate.counts)) == expected.numel()


def test_lamb_steps_every_layer_by_the_same_fraction_of_its_weights():
    _, ticks, _, _ = _run({"name": "lamb", "lr": 0.01, "weight_decay": 0.0}, steps=20, every=10)
    ratios = [layer.update_ratio for layer in ticks[-1].layers]
    assert ratios == pytest.approx([0.01] * len(ratios), rel=1e-3)       # ||dx|| = lr * ||x|| per layer


def test_zero_grad_is_the_fraction_of_the_layers_gradient_that_is_exactly_zero():
    trainer, ticks, _, grads = _run({"name": "sgd", "lr": 0.1}, steps=4, every=2)
    for tick in ticks[1:]:
        for layer, g in zip(tick.layers, _layer_grads(trainer, grads[tick.step])):
            assert layer.zero_grad == pytest.approx(float((g == 0).float().mean()))
    assert any(layer.zero_grad > 0 for layer in ticks[-1].layers)       # dead ReLUs: some entries are exactly 0


def test_the_runner_writes_every_ticks_layers_to_layers_csv(tmp_path):
    import csv

    from engine.experiment import parse_experiment
    from engine.training.metrics_files import LAYER_COLUMNS
    from engine.training.runner import run_experiment
    ticks: list[HistogramEvent] = []
    exp = parse_experiment({"seed": 1, "optimizer": {"name": "adam"}, "train": {"steps": 8, "histogram_every": 4}})
    run_experiment(exp, tmp_path, on_event=lambda e: ticks.append(e) if isinstance(e, HistogramEvent) else None,
                   should_stop=lambda: False)
    with open(tmp_path / "layers.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == LAYER_COLUMNS
    expected = [(t.step, layer) for t in ticks for layer in t.layers]
    assert [(int(r["step"]), r["layer"]) for r in rows] == [(step, layer.name) for step, layer in expected]
    for row, (step, layer) in zip(rows, expected):
        if step == 0:
            assert row["update_ratio"] == row["rate_min"] == row["grad_std"] == ""
            continue
        assert float(row["update_ratio"]) == layer.update_ratio and float(row["zero_grad"]) == layer.zero_grad
        assert float(row["rate_log10_mean"]) == layer.rate.mean
        low, high = layer.rate.value_range()
        assert float(row["rate_min"]) == pytest.approx(10 ** low, rel=1e-12)
        assert float(row["rate_max"]) == pytest.approx(10 ** high, rel=1e-12)
