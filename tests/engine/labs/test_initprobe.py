"""The initialization explorer's engine: the physics of the lesson, the histograms, the training race, the CLI."""
import csv
import math

import numpy as np
import pytest
import torch

import main
from engine.data.datasets import load_data
from engine.labs.initprobe import (
    CSV_COLUMNS,
    TRAIN_CSV_COLUMNS,
    ProbeConfig,
    TrainEachConfig,
    check_probe_config,
    layer_histograms,
    probe_inits,
    probe_inputs,
    probe_network,
    scheme_experiment,
    train_schemes,
)
from engine.model.inits import INITS
from engine.training.events import EvalEvent
from engine.training.jobs import TaskState
from engine.training.trainer import Trainer


@pytest.fixture(scope="module")
def relu20():
    """The issue's network: 20 ReLU layers of 256."""
    return probe_inits(ProbeConfig(depth=20, width=256, activation="relu",
                                   schemes=("he_normal", "he_uniform", "xavier_normal", "xavier_uniform", "zeros")))


@pytest.fixture(scope="module")
def tanh20():
    return probe_inits(ProbeConfig(depth=20, width=256, activation="tanh",
                                   schemes=("xavier_normal", "xavier_uniform", "normal"), init_std=0.01))


def test_he_keeps_a_deep_relu_signal_and_xavier_lets_it_fade(relu20):
    for scheme in ("he_normal", "he_uniform"):
        a = relu20.get(scheme).activation_std
        assert 0.5 < a[-1] / a[0] < 2, (scheme, a[0], a[-1])
        assert np.all((a > 0.25 * a[0]) & (a < 4 * a[0]))          # level all the way, not only at the end
        g = relu20.get(scheme).gradient_std
        assert 0.5 < g[0] / g[-1] < 2                              # and the gradient comes back as strong
    for scheme in ("xavier_normal", "xavier_uniform"):
        a = relu20.get(scheme).activation_std
        assert a[-1] / a[0] < 1 / 10, (scheme, a[0], a[-1])
        # the theory: ReLU halves the second moment at each of the 19 layers after the first
        assert a[-1] / a[0] == pytest.approx(2 ** -9.5, rel=0.5)
        g = relu20.get(scheme).gradient_std
        assert g[0] / g[-1] < 1 / 10                               # vanishing on the way back too
    # ReLU zeroes about half of every layer, whatever the scheme
    assert np.all(np.abs(relu20.get("he_normal").zero_fraction - 0.5) < 0.1)


def test_xavier_keeps_a_deep_tanh_network_healthy(tanh20):
    """Healthy means: the last layer's activation std and the first layer's gradient std are both within
    a factor 10 of their counterparts at the other end (not 1000x off like Xavier on ReLU), the
    activations are not saturated (std below 0.8 of tanh's ±1) and not collapsed (above 0.1)."""
    for scheme in ("xavier_normal", "xavier_uniform"):
        p = tanh20.get(scheme)
        a, g = p.activation_std, p.gradient_std
        assert a[-1] / a[0] > 1 / 10 and g[0] / g[-1] > 1 / 10, (scheme, a[0], a[-1], g[0], g[-1])
        assert np.all((a > 0.1) & (a < 0.8))
    # a size-blind small normal is not healthy on the same network: its signal is gone
    a = tanh20.get("normal").activation_std
    assert a[-1] / a[0] < 1e-6


def test_zeros_makes_every_activation_and_gradient_identical():
    for activation in ("relu", "tanh", "sigmoid", "linear"):
        p = probe_inits(ProbeConfig(depth=5, width=16, activation=activation, schemes=("zeros",))).get("zeros")
        assert np.all(p.activation_std == 0) and np.all(p.gradient_std == 0)
        assert np.all(p.preactivation_std == 0)
        expected = 0.5 if activation == "sigmoid" else 0.0
        assert np.all(p.samples == expected)
        assert np.all(p.zero_fraction == (0.0 if activation == "sigmoid" else 1.0))


def test_probe_measures_the_engine_network_by_hand():
    """Per-layer numbers equal a hand-written forward/backward pass over the same initialized network."""
    cfg = ProbeConfig(depth=4, width=32, activation="tanh", schemes=("xavier_uniform", "normal"), init_std=0.3)
    result = probe_inits(cfg)
    x, r = probe_inputs(cfg)
    assert torch.allclose(x.mean(0), torch.zeros(32), atol=1e-5) and torch.allclose(x.std(0, unbiased=False),
                                                                                   torch.ones(32), atol=1e-5)
    for scheme in cfg.schemes:
        model = probe_network(cfg, scheme)
        hs, h = [], x
        for i in range(1, 5):
            block = getattr(model, f"hidden{i}")
            h = torch.tanh(block.linear(h))
            h.retain_grad()
            hs.append(h)
        (r * model.out(h)).sum().backward()
        p = result.get(scheme)
        np.testing.assert_allclose(p.activation_std, [t.double().std(unbiased=False).item() for t in hs], rtol=1e-5)
        np.testing.assert_allclose(p.gradient_std, [t.grad.double().std(unbiased=False).item() for t in hs], rtol=1e-5)
        weights = [getattr(model, f"hidden{i}").linear.weight.grad for i in range(1, 5)]
        np.testing.assert_allclose(p.weight_gradient_std, [w.double().std(unbiased=False).item() for w in weights],
                                   rtol=1e-5)
    # the normal scheme reads init_std
    w = probe_network(cfg, "normal").hidden2.linear.weight
    assert w.std().item() == pytest.approx(0.3, rel=0.05)


def test_same_seed_same_numbers_and_stop_between_schemes():
    cfg = ProbeConfig(depth=3, width=8, schemes=("he_normal", "orthogonal", "default"), seed=5)
    a, b = probe_inits(cfg), probe_inits(cfg)
    for p, q in zip(a.schemes, b.schemes):
        assert np.array_equal(p.activation_std, q.activation_std) and np.array_equal(p.samples, q.samples)
    state = TaskState()
    reported = []

    def on_report(partial):
        reported.append(partial)
        state.request_stop()
    state._on_report = on_report
    stopped = probe_inits(cfg, state)
    assert [p.scheme for p in stopped.schemes] == ["he_normal"] and len(reported) == 1


def test_overflow_is_reported_not_hidden():
    p = probe_inits(ProbeConfig(depth=50, width=64, schemes=("normal",), init_std=3.0, batch=16)).get("normal")
    assert not np.all(np.isfinite(p.activation_std))


@pytest.mark.parametrize("changes, message", [
    (dict(depth=1), "depth: must be an integer in [2, 50], got 1"),
    (dict(depth=51), "depth: must be"),
    (dict(width=0), "width: must be"),
    (dict(activation="swish"), "activation: must be one of"),
    (dict(schemes=()), "schemes: choose at least one"),
    (dict(schemes=("he",)), "schemes: must be names from"),
    (dict(schemes=("zeros", "zeros")), "schemes: each scheme once"),
    (dict(init_std=0.0), "std: must be a finite number > 0"),
    (dict(init_std=math.nan), "std: must be"),
    (dict(batch=1), "batch: must be"),
])
def test_bad_configs_name_their_field(changes, message):
    with pytest.raises(ValueError, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        check_probe_config(ProbeConfig(**changes))


def test_layer_histograms_share_bins_and_leave_zeros_out(relu20):
    hist = layer_histograms(relu20, 10, ["he_normal", "xavier_normal", "zeros"])
    assert hist.layer == 10 and hist.counts.shape == (3, len(hist.edges) - 1)
    assert hist.edges[0] >= 0                                   # ReLU: nothing negative
    he, xavier, zeros = hist.counts
    # what is not exactly 0 is in the bins
    assert he.sum() + hist.zero_fraction[0] == pytest.approx(1.0)
    assert zeros.sum() == 0 and hist.zero_fraction[2] == 1.0
    # Xavier's signal at layer 10 is ~20x smaller: all of it in the first bins of He's range
    width = hist.edges[1] - hist.edges[0]
    assert np.sum(xavier[:3]) == pytest.approx(xavier.sum())
    assert width > 0
    other = layer_histograms(relu20, 1, ["he_normal"])
    assert not np.array_equal(other.counts, he)
    with pytest.raises(ValueError, match="layer: must be in"):
        layer_histograms(relu20, 21)


# -- training -----------------------------------------------------------------------------------

DEEP = ProbeConfig(depth=12, width=32, activation="relu", schemes=("he_normal", "xavier_normal", "zeros"))
SHORT = TrainEachConfig(steps=80, eval_every=10)


@pytest.fixture(scope="module")
def race():
    reports = []
    result = train_schemes(TaskState(reports.append), DEEP, SHORT, report_interval=0.0)
    return result, reports


def test_only_the_scheme_whose_signal_survives_learns(race):
    result, reports = race
    he, xavier, zeros = (result.get(s) for s in DEEP.schemes)
    assert all(c.status == "finished" for c in result.curves) and result.done
    assert list(he.steps) == list(range(0, 81, 10))
    assert he.train_loss[-1] < xavier.train_loss[-1] - 0.05
    assert he.train_loss[-1] < he.train_loss[0] - 0.05
    assert abs(zeros.train_loss[-1] - math.log(2)) < 0.01 and abs(xavier.train_loss[-1] - math.log(2)) < 0.02
    # progress arrived along the way, curves growing
    assert len(reports) > 2 and len(reports[0].get("he_normal").steps) < len(he.steps)


def test_interleaved_training_equals_one_trainer_alone(race):
    """The race trains with the engine's own Trainer: a scheme's curve is that of its experiment run alone."""
    result, _ = race
    exp = scheme_experiment(DEEP, "xavier_normal", SHORT)
    trainer = Trainer(exp, load_data(exp.data, exp.seed))
    losses = [e.train_loss for e in _events(trainer) if isinstance(e, EvalEvent)]
    np.testing.assert_array_equal(result.get("xavier_normal").train_loss, losses)


def _events(trainer):
    while not trainer.done:
        yield from trainer.step()


def test_training_stops_when_asked():
    state = TaskState()
    state._on_report = lambda partial: state.request_stop()
    result = train_schemes(state, DEEP, TrainEachConfig(steps=5000), report_interval=0.0)
    assert all(c.status == "stopped" for c in result.curves) and result.step < 5000


# -- the command ------------------------------------------------------------------------------

def test_cli_writes_documented_columns(tmp_path, capsys):
    code = main.main(["init-probe", "--depth", "6", "--width", "32", "--activation", "tanh",
                      "--schemes", "xavier_normal,zeros", "--seed", "3", "--batch", "64", "--out", str(tmp_path)])
    assert code == 0
    with (tmp_path / "init_probe.csv").open() as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r[0], int(r[1])) for r in rows[1:]] == [(s, layer) for s in ("xavier_normal", "zeros")
                                                    for layer in range(1, 7)]
    expected = probe_inits(ProbeConfig(depth=6, width=32, activation="tanh", schemes=("xavier_normal", "zeros"),
                                       seed=3, batch=64))
    assert float(rows[3][3]) == expected.get("xavier_normal").activation_std[2]     # every digit (float_cell)
    assert b"\r" not in (tmp_path / "init_probe.csv").read_bytes()                  # the app's one line end
    assert all(float(r[3]) == 0 and float(r[5]) == 0 for r in rows[7:])
    assert "xavier_normal" in capsys.readouterr().out


def test_cli_trains_when_asked(tmp_path):
    code = main.main(["init-probe", "--depth", "3", "--width", "8", "--schemes", "he_normal",
                      "--train-steps", "20", "--out", str(tmp_path)])
    assert code == 0
    with (tmp_path / "init_train.csv").open() as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == TRAIN_CSV_COLUMNS and rows[-1][0] == "he_normal" and rows[-1][-1] == "finished"
    assert all(r[2] == repr(float(r[2])) for r in rows[1:])                         # every digit (float_cell)


@pytest.mark.parametrize("args, message", [
    (["--depth", "1"], "error: depth: must be an integer in [2, 50], got 1"),
    (["--depth", "many"], "error: depth: must be a whole number, got 'many'"),
    (["--schemes", "he,zeros"], "error: schemes: must be names from"),
    (["--std", "-1"], "error: std: must be a finite number > 0, got -1.0"),
    (["--activation", "swish"], "error: activation: must be one of"),
    (["--train-steps", "-3"], "error: steps: must be an integer in"),
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    code = main.main(["init-probe", *args, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(message) and err.count("\n") == 1, err
    assert not (tmp_path / "init_probe.csv").exists()


def test_every_registered_init_can_be_probed():
    result = probe_inits(ProbeConfig(depth=2, width=4, batch=8))
    assert [p.scheme for p in result.schemes] == list(INITS)
