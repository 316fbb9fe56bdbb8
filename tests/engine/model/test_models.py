"""engine.model.models: shapes, names, the layers a config asks for, and how they behave."""
from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from engine.config import ModelConfig
from engine.model.models import ACTIVATIONS, MODELS, NORMS, activation_probes, build_model, weight_tensors

#: What each activation must compute, written independently of the registry.
ACTIVATION_FUNCTIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "gelu": nn.functional.gelu,
    "linear": lambda x: x,
}
#: The norm layer class expected for (norm, kind).
NORM_CLASSES = {
    ("none", "mlp"): None, ("none", "cnn"): None,
    ("batch", "mlp"): nn.BatchNorm1d, ("batch", "cnn"): nn.BatchNorm2d,
    ("layer", "mlp"): nn.LayerNorm, ("layer", "cnn"): nn.GroupNorm,
}
IMAGE_SHAPES = [(1, 8, 8), (1, 28, 28)]
SHAPES = {"mlp": (2,), "cnn": (1, 8, 8)}




def make(shape=(2,), n_classes=3, seed=0, **changes):
    torch.manual_seed(seed)
    return build_model(ModelConfig(**changes), shape, n_classes)


def test_registries_are_named_described_and_frozen():
    assert set(ACTIVATIONS) == set(ACTIVATION_FUNCTIONS)
    assert set(NORMS) == {"none", "batch", "layer"}
    assert set(MODELS) == {"mlp", "cnn"}
    for registry in (ACTIVATIONS, NORMS, MODELS):
        for key, info in registry.items():
            assert info.name == key
            assert len(info.description) > 40
            with pytest.raises(dataclasses.FrozenInstanceError):
                info.description = ""
    assert {k: m.needs_image for k, m in MODELS.items()} == {"mlp": False, "cnn": True}


@pytest.mark.parametrize("name", ACTIVATION_FUNCTIONS)
def test_activation_computes_its_function(name):
    x = torch.linspace(-4, 4, 33)
    assert torch.allclose(ACTIVATIONS[name].make()(x), ACTIVATION_FUNCTIONS[name](x))


@pytest.mark.parametrize("kind, shape", [("mlp", (2,)), ("mlp", (1, 8, 8)), ("mlp", (1, 28, 28)),
                                         ("cnn", (1, 8, 8)), ("cnn", (1, 28, 28))])
@pytest.mark.parametrize("norm", NORMS)
def test_output_is_one_logit_per_class(kind, shape, norm):
    model = make(shape, n_classes=10, kind=kind, norm=norm, dropout=0.3)
    out = model(torch.randn(5, *shape))
    assert out.shape == (5, 10)
    assert torch.isfinite(out).all()
    model.eval()
    assert model(torch.randn(1, *shape)).shape == (1, 10)


def test_mlp_parameter_names_and_widths():
    model = make((2,), n_classes=3, hidden=(16, 8), norm="batch")
    assert [n for n, _ in model.named_parameters()] == [
        "hidden1.linear.weight", "hidden1.linear.bias", "hidden1.norm.weight", "hidden1.norm.bias",
        "hidden2.linear.weight", "hidden2.linear.bias", "hidden2.norm.weight", "hidden2.norm.bias",
        "out.weight", "out.bias"]
    assert [n for n, _ in model.named_children()] == ["flatten", "hidden1", "hidden2", "out"]
    assert (model.hidden1.linear.in_features, model.hidden1.linear.out_features) == (2, 16)
    assert (model.hidden2.linear.in_features, model.hidden2.linear.out_features) == (16, 8)
    assert (model.out.in_features, model.out.out_features) == (8, 3)


def test_mlp_flattens_images():
    model = make((1, 28, 28), n_classes=10, hidden=(32,))
    assert isinstance(model.flatten, nn.Flatten)
    assert model.hidden1.linear.in_features == 784


def test_mlp_without_hidden_layers_is_a_linear_classifier():
    model = make((2,), n_classes=2, hidden=())
    assert [n for n, _ in model.named_children()] == ["flatten", "out"]
    assert activation_probes(model) == []


@pytest.mark.parametrize("shape, pools, features", [
    ((1, 8, 8), [True, True, False], 4 * 2 * 2),      # 8 -> 4 -> 2, a third pool would give 1
    ((1, 28, 28), [True, True, True], 4 * 3 * 3),    # 28 -> 14 -> 7 -> 3
])
def test_cnn_layout_pools_and_flattened_size(shape, pools, features):
    model = make(shape, n_classes=10, kind="cnn", channels=(6, 5, 4), hidden=(12,))
    assert [n for n, _ in model.named_children()] == [
        "conv1", "conv2", "conv3", "flatten", "hidden1", "out"]
    convs = [model.conv1, model.conv2, model.conv3]
    assert [hasattr(block, "pool") for block in convs] == pools
    assert [(b.conv.in_channels, b.conv.out_channels) for b in convs] == [(1, 6), (6, 5), (5, 4)]
    for block in convs:
        assert block.conv.kernel_size == (3, 3) and block.conv.padding == (1, 1)
        assert list(dict(block.named_children())) == ["conv", "act"] + (["pool"] if hasattr(block, "pool") else [])
    assert model.hidden1.linear.in_features == features
    assert [n for n, _ in model.named_parameters()] == [
        "conv1.conv.weight", "conv1.conv.bias", "conv2.conv.weight", "conv2.conv.bias",
        "conv3.conv.weight", "conv3.conv.bias", "hidden1.linear.weight", "hidden1.linear.bias",
        "out.weight", "out.bias"]


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dropout", [0.0, 0.25])
def test_blocks_hold_the_configured_layers(kind, norm, activation, dropout):
    model = make(SHAPES[kind], kind=kind, norm=norm, activation=activation, dropout=dropout,
                 hidden=(7, 9), channels=(3,))
    x = torch.linspace(-3, 3, 12)
    dense = [model.hidden1, model.hidden2]
    conv = [model.conv1] if kind == "cnn" else []
    for block in dense + conv:
        is_conv = any(block is c for c in conv)
        norm_class = NORM_CLASSES[(norm, "cnn" if is_conv else "mlp")]  # a cnn's dense blocks are mlp's
        children = dict(block.named_children())
        expected = ["conv" if is_conv else "linear"]
        expected += ["norm"] if norm_class else []
        expected += ["act"]
        expected += ["pool"] if is_conv else (["dropout"] if dropout else [])
        assert list(children) == expected
        assert torch.allclose(block.act(x), ACTIVATION_FUNCTIONS[activation](x))
        if norm_class:
            assert type(block.norm) is norm_class
        if "dropout" in children:
            assert block.dropout.p == dropout
    if norm == "batch":
        assert model.hidden2.norm.num_features == 9
    if norm == "layer":
        assert model.hidden2.norm.normalized_shape == (9,)
        if kind == "cnn":  # GroupNorm(1, C): one group, normalized over C, H, W
            assert (model.conv1.norm.num_groups, model.conv1.norm.num_channels) == (1, 3)
    assert any(isinstance(m, nn.Dropout) for m in model.modules()) == (dropout > 0)


def test_dropout_is_active_only_in_train_mode():
    model = make((2,), hidden=(256,), dropout=0.5)
    x = torch.randn(64, 2)
    seen = []
    model.hidden1.dropout.register_forward_hook(lambda m, i, o: seen.append((i[0], o)))

    model.train()
    torch.manual_seed(1)
    a = model(x)
    torch.manual_seed(2)
    b = model(x)
    assert not torch.allclose(a, b)
    before, after = seen[0]
    dropped = (after == 0) & (before != 0)
    assert 0.4 < dropped.float().sum() / (before != 0).float().sum() < 0.6
    kept = after != 0
    # inverted dropout: survivors are scaled by 1/(1-p) while training
    assert torch.allclose(after[kept], before[kept] * 2)

    model.eval()
    seen.clear()
    torch.manual_seed(1)
    c = model(x)
    torch.manual_seed(2)
    assert torch.equal(c, model(x))
    before, after = seen[0]
    assert torch.equal(before, after)


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_batchnorm_depends_on_the_batch_in_training_not_in_eval(kind):
    shape = SHAPES[kind]
    model = make(shape, kind=kind, norm="batch", channels=(4,), hidden=(8,))
    torch.manual_seed(10)
    x0 = torch.randn(1, *shape)
    rest_a, rest_b = torch.randn(7, *shape), 3 * torch.randn(7, *shape) + 1

    model.train()
    train_a = model(torch.cat([x0, rest_a]))[0]
    train_b = model(torch.cat([x0, rest_b]))[0]
    assert not torch.allclose(train_a, train_b, atol=1e-4)

    model.eval()
    eval_a = model(torch.cat([x0, rest_a]))[0]
    eval_b = model(torch.cat([x0, rest_b]))[0]
    alone = model(x0)[0]
    assert torch.allclose(eval_a, eval_b, atol=1e-6)
    assert torch.allclose(eval_a, alone, atol=1e-6)


def test_batchnorm_eval_uses_the_running_statistics():
    model = make((2,), norm="batch", hidden=(8,))
    bn = model.hidden1.norm
    assert torch.equal(bn.running_mean, torch.zeros(8))
    model.train()
    for _ in range(20):
        model(torch.randn(32, 2) * 2 + 5)
    assert bn.num_batches_tracked == 20
    assert bn.running_mean.abs().max() > 0.1  # it has learned something about the data

    model.eval()
    x = torch.randn(4, 2)
    z = model.hidden1.linear(x)
    expected = (z - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    assert torch.allclose(bn(z), expected, atol=1e-6)
    # and eval does not update them
    mean = bn.running_mean.clone()
    model(torch.randn(32, 2))
    assert torch.equal(bn.running_mean, mean)


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_layernorm_never_depends_on_the_batch(kind):
    shape = SHAPES[kind]
    model = make(shape, kind=kind, norm="layer", channels=(4,), hidden=(8,))
    model.train()
    x0 = torch.randn(1, *shape)
    a = model(torch.cat([x0, torch.randn(7, *shape)]))[0]
    b = model(torch.cat([x0, 5 * torch.randn(7, *shape)]))[0]
    assert torch.allclose(a, b, atol=1e-6)
    # each conv example is normalized over its whole C x H x W map
    with torch.no_grad():
        h = model.conv1.norm(model.conv1.conv(x0)) if kind == "cnn" else model.hidden1.norm(
            model.hidden1.linear(x0))
    assert abs(h.mean().item()) < 1e-5
    assert h.var(unbiased=False).item() == pytest.approx(1, abs=1e-3)


def test_cnn_on_points_names_the_image_datasets():
    with pytest.raises(ValueError) as err:
        build_model(ModelConfig(kind="cnn"), (2,), 3)
    assert str(err.value) == "model.kind: cnn needs image data (digits, mnist, fashion-mnist)"


@pytest.mark.parametrize("field, value, message", [
    ("kind", "rnn", "model.kind: unknown model 'rnn' (choose from mlp, cnn)"),
    ("activation", "swish",
     "model.activation: unknown activation 'swish' (choose from relu, tanh, sigmoid, gelu, linear)"),
    ("norm", "group", "model.norm: unknown norm 'group' (choose from none, batch, layer)"),
])
def test_unknown_names_say_what_to_choose(field, value, message):
    with pytest.raises(ValueError) as err:
        build_model(ModelConfig(**{field: value}), (2,), 3)
    assert str(err.value) == message


def test_activation_probes_see_each_layers_post_activation_signal():
    model = make((1, 8, 8), kind="cnn", channels=(4, 6), hidden=(10, 5), dropout=0.5,
                 norm="batch", activation="tanh")
    probes = activation_probes(model)
    assert [name for name, _ in probes] == ["conv1", "conv2", "hidden1", "hidden2"]
    recorded = {}
    for name, module in probes:
        module.register_forward_hook(lambda m, i, o, name=name: recorded.setdefault(name, o))
    model.train()
    x = torch.randn(16, 1, 8, 8)
    model(x)
    assert recorded["conv1"].shape == (16, 4, 8, 8)      # before the pool
    assert recorded["conv2"].shape == (16, 6, 4, 4)
    assert recorded["hidden2"].shape == (16, 5)
    # post-activation (tanh range), and before dropout (no exact zeros, no 1/(1-p) scaling)
    for out in recorded.values():
        assert out.abs().max() < 1
        assert torch.count_nonzero(out) == out.numel()
    expected = torch.tanh(model.hidden1.norm(model.hidden1.linear(model.flatten(
        model.conv2(model.conv1(x))))))
    assert torch.allclose(recorded["hidden1"], expected, atol=1e-6)


def test_probes_exist_for_the_linear_activation():
    model = make((2,), hidden=(4, 4), activation="linear")
    assert [name for name, _ in activation_probes(model)] == ["hidden1", "hidden2"]
    assert all(isinstance(m, nn.Identity) for _, m in activation_probes(model))


def test_weight_tensors_are_the_weights_in_forward_order():
    model = make((1, 8, 8), kind="cnn", channels=(4, 6), hidden=(10,), norm="batch")
    weights = weight_tensors(model)
    assert [name for name, _ in weights] == [
        "conv1.conv.weight", "conv2.conv.weight", "hidden1.linear.weight", "out.weight"]
    params = dict(model.named_parameters())
    for name, weight in weights:
        assert weight is params[name]
        assert isinstance(weight, nn.Parameter)
    assert [tuple(w.shape) for _, w in weights] == [(4, 1, 3, 3), (6, 4, 3, 3), (10, 24), (3, 10)]


# A value unlike its default for every model key a family may read (init and init_std are the init's).
CHANGED_MODEL_KEYS = {"hidden": (5,), "channels": (3,), "activation": "tanh", "dropout": 0.5, "norm": "batch"}


@pytest.mark.parametrize("kind", MODELS)
def test_takes_names_exactly_the_keys_that_change_the_network(kind):
    """A key a family takes changes the layers; one it does not take leaves every weight as it was."""
    info = MODELS[kind]
    order = [f.name for f in dataclasses.fields(ModelConfig)]
    assert set(CHANGED_MODEL_KEYS) == set(order) - {"kind", "init", "init_std"}
    assert list(info.takes) == [k for k in order if k in info.takes], "takes is in file order"
    base = make((1, 8, 8), kind=kind)
    for key, value in CHANGED_MODEL_KEYS.items():
        changed = make((1, 8, 8), kind=kind, **{key: value})
        if key in info.takes:
            assert str(changed) != str(base), key
        else:
            assert str(changed) == str(base), key
            assert all(torch.equal(a, b) for a, b in zip(changed.state_dict().values(),
                                                         base.state_dict().values())), key
    assert ("channels" in info.takes) == (kind == "cnn")
