"""The networks a student trains: registries of activations, norms and model families.

Every model is a ``torch.nn.Sequential`` of named blocks so the app can point
at a layer by name.  A dense block is

    hidden{i} = Sequential(linear, [norm], act, [dropout])    h = drop(act(norm(W x + b)))

and a conv block

    conv{i}   = Sequential(conv, [norm], act, [pool])          3x3 conv, padding 1, 2x2 max-pool

so parameters are named ``hidden1.linear.weight``, ``conv2.norm.bias``,
``out.weight``.  The last layer, ``out``, gives logits: the loss applies the
softmax.

The trainer reads two views of a model: ``activation_probes`` (where to hook
the post-activation signal of each layer, to watch it vanish or explode) and
``weight_tensors`` (the weight matrices and kernels whose histograms it draws).
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from engine.config import ModelConfig
from engine.model.inits import INIT_LAYERS, apply_init, init_info

IMAGE_ERROR = "model.kind: cnn needs image data (digits, mnist, fashion-mnist)"


@dataclass(frozen=True)
class ActivationInfo:
    """A nonlinearity; ``make()`` returns a fresh module (one per layer, so hooks stay apart)."""

    name: str
    description: str
    make: Callable[[], nn.Module]


ACTIVATIONS: dict[str, ActivationInfo] = {info.name: info for info in (
    ActivationInfo(
        "relu",
        "max(0, x): passes positive signals with gradient 1 and zeroes the rest. It kills about "
        "half the signal, which is why He init doubles the weight variance for it.",
        nn.ReLU),
    ActivationInfo(
        "tanh",
        "Squashes to (-1, 1), centred on 0. Where it saturates its gradient is nearly 0, so "
        "weights that start too large make gradients vanish; pairs with Xavier init.",
        nn.Tanh),
    ActivationInfo(
        "sigmoid",
        "Squashes to (0, 1); its gradient is at most 1/4 and nearly 0 where it saturates, so deep "
        "sigmoid stacks learn slowly. Pairs with Xavier init.",
        nn.Sigmoid),
    ActivationInfo(
        "gelu",
        "x·Φ(x): a smooth ReLU, as used in transformers. Large positive inputs pass, negative ones "
        "fade to 0 with a soft bend in between.",
        nn.GELU),
    ActivationInfo(
        "linear",
        "No nonlinearity: however many layers you stack, the network stays one linear map and can "
        "only draw straight decision boundaries.",
        nn.Identity),
)}


@dataclass(frozen=True)
class NormInfo:
    """A normalization layer; ``dense(width)`` / ``conv(channels)`` build it, ``None`` for no layer."""

    name: str
    description: str
    dense: Callable[[int], nn.Module] | None
    conv: Callable[[int], nn.Module] | None


NORMS: dict[str, NormInfo] = {info.name: info for info in (
    NormInfo(
        "none",
        "Layers feed each other raw: the scale of each layer's signal depends only on the "
        "initialization and on the weights learned so far.",
        None, None),
    NormInfo(
        "batch",
        "Normalizes each unit over the mini-batch, (x − μ_B)/√(σ_B² + ε), then scales by a learned "
        "γ and shifts by β: a smoother loss surface, less sensitivity to initialization. At test "
        "time it uses running averages of μ_B and σ_B², so one example's output no longer depends "
        "on the others.",
        nn.BatchNorm1d, nn.BatchNorm2d),
    NormInfo(
        "layer",
        "Normalizes each example over its own features (in a cnn, its whole channels × height × "
        "width map), so it never depends on the rest of the batch and behaves the same in training "
        "and testing.",
        nn.LayerNorm, lambda channels: nn.GroupNorm(1, channels)),
)}


@dataclass(frozen=True)
class ModelInfo:
    """A network family.  ``build(cfg, input_shape, n_classes)`` returns the uninitialized
    Sequential; ``build_model`` checks the input and applies the init.

    ``takes`` names the ``model`` keys ``build`` reads, in file order, as
    ``OptimizerInfo.takes`` does for an optimizer: the form shows only those,
    and a key left out does not change the network (an mlp has no conv
    channels).  ``init`` and ``init_std`` are the init's, which every family applies.
    """

    name: str
    description: str
    needs_image: bool
    takes: tuple[str, ...]
    build: Callable[[ModelConfig, tuple[int, ...], int], nn.Sequential]


def _dense_blocks(cfg: ModelConfig, in_features: int) -> tuple[list[tuple[str, nn.Module]], int]:
    """``hidden1``, ``hidden2``, ...: Linear -> norm -> act -> dropout; returns them and the last width."""
    blocks: list[tuple[str, nn.Module]] = []
    for i, width in enumerate(cfg.hidden, start=1):
        layers: OrderedDict[str, nn.Module] = OrderedDict(linear=nn.Linear(in_features, width))
        norm = NORMS[cfg.norm].dense
        if norm is not None:
            layers["norm"] = norm(width)
        layers["act"] = ACTIVATIONS[cfg.activation].make()
        if cfg.dropout > 0:
            # torch's inverted dropout: survivors are scaled by 1/(1-p) while training, so
            # nothing needs rescaling at test time.
            layers["dropout"] = nn.Dropout(cfg.dropout)
        blocks.append((f"hidden{i}", nn.Sequential(layers)))
        in_features = width
    return blocks, in_features


def build_mlp(cfg: ModelConfig, input_shape: tuple[int, ...], n_classes: int) -> nn.Sequential:
    """flatten -> hidden blocks -> out.  An image becomes a vector of H*W pixels."""
    blocks, width = _dense_blocks(cfg, math.prod(input_shape))
    return nn.Sequential(OrderedDict([("flatten", nn.Flatten()), *blocks,
                                      ("out", nn.Linear(width, n_classes))]))


def build_cnn(cfg: ModelConfig, input_shape: tuple[int, ...], n_classes: int) -> nn.Sequential:
    """conv blocks -> flatten -> hidden blocks -> out.

    Each conv block keeps the size (3x3, padding 1) and then halves it with a
    2x2 max-pool, unless that would leave less than 2x2 (an 8x8 digit allows
    two pools: 8 -> 4 -> 2).
    """
    channels, height, width = input_shape
    blocks = []
    for i, out_channels in enumerate(cfg.channels, start=1):
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            conv=nn.Conv2d(channels, out_channels, kernel_size=3, padding=1))
        norm = NORMS[cfg.norm].conv
        if norm is not None:
            layers["norm"] = norm(out_channels)
        layers["act"] = ACTIVATIONS[cfg.activation].make()
        if min(height, width) // 2 >= 2:
            layers["pool"] = nn.MaxPool2d(2)
            height, width = height // 2, width // 2
        blocks.append((f"conv{i}", nn.Sequential(layers)))
        channels = out_channels
    dense, features = _dense_blocks(cfg, channels * height * width)
    return nn.Sequential(OrderedDict([*blocks, ("flatten", nn.Flatten()), *dense,
                                      ("out", nn.Linear(features, n_classes))]))


# The ``model`` keys of the dense blocks (``_dense_blocks``), which every family ends with.
DENSE_KEYS = ("hidden", "activation", "dropout", "norm")

MODELS: dict[str, ModelInfo] = {info.name: info for info in (
    ModelInfo(
        "mlp",
        "A multilayer perceptron: the input is flattened to one vector and passed through fully "
        "connected layers, so an image loses any notion of which pixels are neighbours.",
        needs_image=False, takes=DENSE_KEYS, build=build_mlp),
    ModelInfo(
        "cnn",
        "A convolutional network: 3×3 filters slide over the image so neighbouring pixels are "
        "combined first, max-pooling halves the size, then dense layers classify. Needs image data.",
        needs_image=True, takes=("hidden", "channels", "activation", "dropout", "norm"), build=build_cnn),
)}


def _entry(registry: dict, name: str, field: str, what: str):
    try:
        return registry[name]
    except (KeyError, TypeError):
        raise ValueError(f"model.{field}: unknown {what} {name!r} "
                         f"(choose from {', '.join(registry)})") from None


def is_image_shape(input_shape: tuple[int, ...]) -> bool:
    """Images arrive as (channels, height, width); 2-D points as (2,)."""
    return len(input_shape) == 3


def build_model(cfg: ModelConfig, input_shape: tuple[int, ...], n_classes: int) -> nn.Sequential:
    """The network ``cfg`` describes, initialized with ``cfg.init``.

    ``input_shape`` is one example's shape without the batch: ``(2,)`` for
    points, ``(1, H, W)`` for images.  The init is applied here, so the same
    ``torch.manual_seed`` gives the same starting weights.
    """
    info = _entry(MODELS, cfg.kind, "kind", "model")
    _entry(ACTIVATIONS, cfg.activation, "activation", "activation")
    _entry(NORMS, cfg.norm, "norm", "norm")
    init_info(cfg.init)  # fail before drawing any random numbers
    input_shape = tuple(input_shape)
    if info.needs_image and not is_image_shape(input_shape):
        raise ValueError(IMAGE_ERROR)
    model = info.build(cfg, input_shape, n_classes)
    apply_init(model, cfg.init, cfg.init_std)
    return model


def activation_probes(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(block name, act module)`` for each conv and hidden block, in forward order.

    The ``act`` module's forward output is the layer's post-activation signal,
    before dropout and pooling; a forward hook there sees it even for the
    ``linear`` activation (an ``nn.Identity``).
    """
    probes: list[tuple[str, nn.Module]] = []
    for name, block in model.named_children():
        act = getattr(block, "act", None) if isinstance(block, nn.Sequential) else None
        if isinstance(act, nn.Module):
            probes.append((name, act))
    return probes


def weight_tensors(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """``(parameter name, weight)`` of every Linear and Conv2d, in forward order.

    Names match ``model.named_parameters()`` (``hidden1.linear.weight``,
    ``out.weight``).  Biases and norm parameters are left out: the histograms
    show what the init set and what the optimizer moves.
    """
    return [(f"{name}.weight", module.weight) for name, module in model.named_modules()
            if isinstance(module, INIT_LAYERS)]
