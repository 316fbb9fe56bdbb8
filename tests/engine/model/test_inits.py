"""engine.model.inits: each scheme is torch's own, bit for bit, and shows what it claims."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn

from engine.config import ModelConfig
from engine.model.inits import INITS, apply_init
from engine.model.models import build_model

STD = 0.05

#: What each scheme must equal, written out with torch.nn.init (not read from the registry).
REFERENCE = {
    "xavier_uniform": lambda w: nn.init.xavier_uniform_(w),
    "xavier_normal": lambda w: nn.init.xavier_normal_(w),
    "he_uniform": lambda w: nn.init.kaiming_uniform_(w, mode="fan_in", nonlinearity="relu"),
    "he_normal": lambda w: nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu"),
    "orthogonal": lambda w: nn.init.orthogonal_(w),
    "normal": lambda w: nn.init.normal_(w, 0.0, STD),
    "zeros": lambda w: nn.init.zeros_(w),
}

SHAPES = {"mlp": (2,), "cnn": (1, 8, 8)}




def test_registry_entries_are_named_described_and_frozen():
    assert set(INITS) == set(REFERENCE) | {"default"}
    for key, info in INITS.items():
        assert info.name == key
        assert len(info.description) > 40 and info.variance
        with pytest.raises(dataclasses.FrozenInstanceError):
            info.name = "other"
    assert [k for k, info in INITS.items() if info.uses_std] == ["normal"]


@pytest.mark.parametrize("kind", SHAPES)
@pytest.mark.parametrize("name", REFERENCE)
def test_init_equals_torch_init_bit_for_bit(name, kind):
    cfg = ModelConfig(kind=kind, hidden=(12, 7), channels=(3, 5), norm="batch", init=name,
                      init_std=STD)
    torch.manual_seed(3)
    ours = build_model(cfg, SHAPES[kind], 4)

    torch.manual_seed(3)
    theirs = build_model(dataclasses.replace(cfg, init="default"), SHAPES[kind], 4)
    layers = [m for m in theirs.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert len(layers) == {"mlp": 3, "cnn": 5}[kind]
    for layer in layers:
        REFERENCE[name](layer.weight)
        nn.init.zeros_(layer.bias)

    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key in ours_state:
        assert torch.equal(ours_state[key], theirs_state[key]), key
    for key, value in ours_state.items():
        if key.endswith(".bias") and ".norm." not in key:
            assert torch.count_nonzero(value) == 0, key
        if key.endswith("norm.weight"):
            assert torch.equal(value, torch.ones_like(value)), key
        if key.endswith("norm.bias"):
            assert torch.equal(value, torch.zeros_like(value)), key


def test_apply_init_on_a_hand_built_network_matches_torch():
    def net():
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))

    torch.manual_seed(0)
    ours = apply_init(net(), "xavier_normal")
    torch.manual_seed(0)
    theirs = net()
    for layer in (theirs[0], theirs[3]):
        nn.init.xavier_normal_(layer.weight)
        nn.init.zeros_(layer.bias)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.equal(a, b)


def test_default_leaves_pytorch_init_untouched():
    cfg = ModelConfig(hidden=(8,), init="default")
    torch.manual_seed(1)
    model = build_model(cfg, (2,), 3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    apply_init(model, "default")
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])
    # torch's own bias init is U(±1/sqrt(fan_in)), not zero
    bias = model.hidden1.linear.bias
    assert torch.count_nonzero(bias) == bias.numel()
    assert bias.abs().max() <= 1 / math.sqrt(2)


def test_same_seed_same_weights_other_seed_other_weights():
    cfg = ModelConfig(kind="cnn", hidden=(8,), channels=(4,))
    torch.manual_seed(5)
    a = build_model(cfg, (1, 8, 8), 10)
    torch.manual_seed(5)
    b = build_model(cfg, (1, 8, 8), 10)
    torch.manual_seed(6)
    c = build_model(cfg, (1, 8, 8), 10)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.conv1.conv.weight, c.conv1.conv.weight)


def _std_of(name: str, fan_in: int, fan_out: int, std: float = 0.01) -> float:
    torch.manual_seed(0)
    layer = nn.Linear(fan_in, fan_out)
    apply_init(layer, name, std)
    return layer.weight.std().item()


@pytest.mark.parametrize("name", ["he_normal", "he_uniform"])
def test_he_variance_is_two_over_fan_in(name):
    assert _std_of(name, 512, 512) == pytest.approx(math.sqrt(2 / 512), rel=0.05)
    # fan_out does not enter
    assert _std_of(name, 512, 128) == pytest.approx(math.sqrt(2 / 512), rel=0.05)


@pytest.mark.parametrize("name", ["xavier_normal", "xavier_uniform"])
def test_xavier_variance_is_two_over_fan_in_plus_fan_out(name):
    assert _std_of(name, 512, 512) == pytest.approx(math.sqrt(2 / 1024), rel=0.05)
    assert _std_of(name, 512, 128) == pytest.approx(math.sqrt(2 / 640), rel=0.05)


def test_he_on_conv_counts_the_kernel_in_fan_in():
    torch.manual_seed(0)
    conv = nn.Conv2d(32, 64, 3)
    apply_init(conv, "he_normal")
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (32 * 9)), rel=0.05)


@pytest.mark.parametrize("std", [0.01, 1.0])
def test_normal_honours_init_std_whatever_the_size(std):
    assert _std_of("normal", 512, 512, std) == pytest.approx(std, rel=0.05)
    assert _std_of("normal", 64, 512, std) == pytest.approx(std, rel=0.05)
    layer = nn.Linear(4, 4)
    apply_init(layer, "normal", std)
    assert torch.count_nonzero(layer.bias) == 0


def test_orthogonal_preserves_lengths():
    torch.manual_seed(0)
    layer = nn.Linear(64, 64)
    apply_init(layer, "orthogonal")
    w = layer.weight.detach()
    assert torch.allclose(w @ w.T, torch.eye(64), atol=1e-5)
    x = torch.randn(10, 64)
    assert torch.allclose((x @ w.T).norm(dim=1), x.norm(dim=1), rtol=1e-4)


def test_signal_explodes_or_vanishes_with_normal_but_not_with_he():
    """The lesson's claim: too small vanishes, too large explodes, He keeps the scale."""
    x = torch.randn(256, 64)

    def last_std(init, std=0.01):
        torch.manual_seed(0)
        model = build_model(ModelConfig(hidden=(64,) * 8, init=init, init_std=std), (64,), 2)
        with torch.no_grad():
            return model[:-1](x).std().item()

    assert last_std("normal", 0.01) < 1e-6
    assert last_std("normal", 1.0) > 1e4
    assert 0.1 < last_std("he_normal") < 10


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu", "linear"])
def test_zeros_symmetry_never_breaks(activation):
    torch.manual_seed(0)
    cfg = ModelConfig(hidden=(6, 5), activation=activation, init="zeros")
    model = build_model(cfg, (3,), 4)
    assert all(torch.count_nonzero(p) == 0 for p in model.parameters())
    x, y = torch.randn(32, 3), torch.randint(0, 4, (32,))
    for _ in range(5):
        # plain SGD, theta <- theta - lr * grad, written out: building a torch.optim optimizer
        # imports torch._dynamo, seconds of this file's budget
        model.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad

    for block in ("hidden1", "hidden2"):
        linear = getattr(model, block).linear
        w, b = linear.weight.detach(), linear.bias.detach()
        # every unit (row) of the layer is still the same unit
        assert torch.allclose(w, w[:1].expand_as(w), atol=1e-7, rtol=0), block
        assert torch.allclose(b, b[:1].expand_as(b), atol=1e-7, rtol=0), block
        with torch.no_grad():
            h = model[: ["flatten", "hidden1", "hidden2"].index(block) + 1](x)
        assert torch.allclose(h, h[:, :1].expand_as(h), atol=1e-6), block
    # and the network did train: the output bias moved
    assert model.out.bias.abs().max() > 1e-3
    if activation == "sigmoid":
        # sigmoid(0) = 1/2, so the hidden weights do move, yet all together
        assert model.hidden2.linear.weight.abs().max() > 1e-4


def test_unknown_init_names_the_choices():
    with pytest.raises(ValueError) as err:
        apply_init(nn.Linear(2, 2), "lecun")
    assert str(err.value) == ("model.init: unknown init 'lecun' (choose from default, "
                              "xavier_uniform, xavier_normal, he_uniform, he_normal, orthogonal, "
                              "normal, zeros)")
    with pytest.raises(ValueError, match="model.init: unknown init 'x'"):
        build_model(ModelConfig(init="x"), (2,), 2)
