"""Every optimizer of the registry is the torch one: same defaults, same trajectory."""
import inspect

import pytest
import torch
import torch.nn.functional as F

from engine.config import Experiment, OptimizerConfig
from engine.optim.lamb import Lamb
from engine.optim.optimizers import OPTIMIZERS, build_optimizer, optimizer_kwargs, resolve_optimizer
from engine.training.trainer import Trainer

# Non-default settings per optimizer, so the comparison exercises every key it takes.
SETTINGS = {
    "sgd": dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adagrad": dict(lr=0.05, eps=1e-9, weight_decay=1e-3),
    "rmsprop": dict(lr=0.005, alpha=0.9, eps=1e-7, momentum=0.5, weight_decay=1e-3),
    "adam": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=1e-3),
    "adamw": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.05),
    "nadam": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=1e-3),
    "radam": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=1e-3),
    "adafactor": dict(lr=0.02, weight_decay=1e-3),
    "lamb": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.01),
    "lars": dict(lr=2.0, momentum=0.8, eps=1e-7, weight_decay=1e-3),
}


def test_every_entry_has_settings_here():
    assert set(SETTINGS) == set(OPTIMIZERS)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_defaults_are_read_from_the_class_itself(name):
    info = OPTIMIZERS[name]
    sig = inspect.signature(info.cls.__init__).parameters
    for key in info.takes:
        assert key in sig, f"{name} does not take {key}"
        assert info.defaults[key] == sig[key].default
    resolved = resolve_optimizer(OptimizerConfig(name=name))
    for key in info.takes:
        if key != "lr":  # lr is the experiment's own (0.01), never None
            assert getattr(resolved, key) == (tuple(sig[key].default) if key == "betas" else sig[key].default)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_trainer_follows_the_torch_optimizer_trajectory(name):
    """The engine's training run equals a hand-written loop with torch.optim built directly."""
    exp = Experiment(optimizer=OptimizerConfig(name=name, **SETTINGS[name]))
    exp = exp.replace(train={"steps": 25, "batch_size": 16, "eval_every": 1000, "histogram_every": 0})
    trainer = Trainer(exp)
    engine_losses = [e.loss for _ in range(25) for e in trainer.step() if type(e).__name__ == "StepEvent"]

    # The same model, data and batch order, stepped by torch.optim directly.
    reference = Trainer(exp)
    model, data = reference.model, reference.data
    kwargs = dict(SETTINGS[name])
    opt = (Lamb if name == "lamb" else OPTIMIZERS[name].cls)(model.parameters(), **kwargs)
    gen = torch.Generator().manual_seed(exp.seed)
    order, losses = torch.randperm(len(data.y_train), generator=gen), []
    for step in range(25):
        start = (step * 16) % len(order)
        idx = order[start:start + 16]
        loss = F.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert engine_losses == losses  # bit for bit
    for p, q in zip(trainer.model.parameters(), model.parameters()):
        assert torch.equal(p, q)


def test_kwargs_pass_only_what_the_optimizer_takes():
    cfg = OptimizerConfig(name="adam", momentum=0.9, nesterov=True, betas=(0.8, 0.9))
    assert optimizer_kwargs(cfg) == {"lr": 0.01, "betas": (0.8, 0.9)}
    assert isinstance(build_optimizer([torch.nn.Parameter(torch.zeros(2))], cfg), torch.optim.Adam)
