"""The optimizers a student can pick, one table entry each (timm's OptimInfo shape).

Every entry is a real torch.optim class (or our reference LAMB or LARS) built with the
hyperparameters the experiment gives and, for the ones it leaves out, the
class's own defaults, read from its signature so they can never drift from
torch's.  Adding an optimizer is adding one entry: the validator, the schema,
the GUI form and the tests loop over this table.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, replace
from typing import Any

import torch

from engine.config import OptimizerConfig
from engine.optim.lamb import Lamb
from engine.optim.lars import Lars

# Experiment keys that an optimizer may take; each maps to the torch keyword of the same name.
HYPERPARAMETERS = ("lr", "momentum", "nesterov", "betas", "eps", "weight_decay", "alpha", "trust_coefficient")


@dataclass(frozen=True)
class OptimizerInfo:
    name: str
    cls: type[torch.optim.Optimizer]
    description: str
    takes: tuple[str, ...]          # experiment keys this optimizer uses, in form order
    formula: str = ""               # the update rule, for tooltips and the lesson panel

    @property
    def defaults(self) -> dict[str, Any]:
        """The class's own default for each key it takes (tuples stay tuples)."""
        sig = inspect.signature(self.cls.__init__).parameters
        return {k: sig[k].default for k in self.takes if k in sig}

    @property
    def has_momentum(self) -> bool:
        """Whether OneCycleLR can cycle a momentum (``momentum`` or ``betas``) of this optimizer."""
        return "momentum" in self.takes or "betas" in self.takes


def _info(name, cls, description, takes, formula=""):
    return OptimizerInfo(name, cls, description, tuple(takes), formula)


OPTIMIZERS: dict[str, OptimizerInfo] = {info.name: info for info in (
    _info("sgd", torch.optim.SGD,
          "Plain stochastic gradient descent; with momentum it becomes a heavy ball that keeps "
          "rolling in consistent directions and damps oscillations.",
          ("lr", "momentum", "nesterov", "weight_decay"),
          "v <- mu*v + g ;  theta <- theta - lr*v"),
    _info("adagrad", torch.optim.Adagrad,
          "Gives every parameter its own rate: parameters with large past gradients take smaller "
          "steps. The rates only ever shrink, which can stall training.",
          ("lr", "eps", "weight_decay"),
          "s <- s + g^2 ;  theta <- theta - lr*g/(sqrt(s)+eps)"),
    _info("rmsprop", torch.optim.RMSprop,
          "AdaGrad with a moving average of squared gradients instead of a sum, so the rates "
          "stop shrinking to zero.",
          ("lr", "alpha", "eps", "momentum", "weight_decay"),
          "s <- alpha*s + (1-alpha)*g^2 ;  theta <- theta - lr*g/(sqrt(s)+eps)"),
    _info("adam", torch.optim.Adam,
          "Momentum for direction plus per-parameter rates for scale, with bias correction for "
          "the zero-initialized moments. Weight decay here is L2 added to the gradient, so it is "
          "scaled down by the adaptive rate.",
          ("lr", "betas", "eps", "weight_decay"),
          "m <- b1*m+(1-b1)*g ; v <- b2*v+(1-b2)*g^2 ; theta <- theta - lr*m_hat/(sqrt(v_hat)+eps)"),
    _info("adamw", torch.optim.AdamW,
          "Adam with weight decay decoupled from the gradient: the weights shrink by lr*wd each "
          "step whatever their gradient history. The default choice in modern practice.",
          ("lr", "betas", "eps", "weight_decay"),
          "theta <- theta - lr*wd*theta - lr*m_hat/(sqrt(v_hat)+eps)"),
    _info("nadam", torch.optim.NAdam,
          "Adam with Nesterov momentum: the step looks ahead along the momentum direction.",
          ("lr", "betas", "eps", "weight_decay")),
    _info("radam", torch.optim.RAdam,
          "Rectified Adam: damps the adaptive rate in the first steps, when the variance "
          "estimate is still unreliable, acting as a built-in warm-up.",
          ("lr", "betas", "eps", "weight_decay")),
    _info("adafactor", torch.optim.Adafactor,
          "Keeps the second moment of a weight matrix as a row and a column factor instead of a "
          "full matrix, saving optimizer memory.",
          ("lr", "weight_decay")),
    _info("lamb", Lamb,
          "Adam's step rescaled per layer by a trust ratio ||w||/||update||, so every layer moves "
          "by a similar fraction of its size; built for very large batches.",
          ("lr", "betas", "eps", "weight_decay"),
          "u = m_hat/(sqrt(v_hat)+eps) + wd*theta ; theta <- theta - lr*clamp(||theta||,0,10)/||u||*u"),
    _info("lars", Lars,
          "SGD with momentum whose step is scaled per layer by a local rate trust*||w||/||g||, so "
          "every layer moves by a similar fraction of its size; biases and normalization parameters "
          "take the plain momentum step. Built for very large batches; it wants a large lr (~1).",
          ("lr", "momentum", "eps", "weight_decay", "trust_coefficient"),
          "local = eta*||theta||/(||g||+wd*||theta||+eps) ; v <- mu*v + lr*local*(g+wd*theta) ; "
          "theta <- theta - v"),
)}


def optimizer_kwargs(cfg: OptimizerConfig) -> dict[str, Any]:
    """The keyword arguments passed to the optimizer class: only keys it takes and the experiment set."""
    info = OPTIMIZERS[cfg.name]
    kwargs = {k: getattr(cfg, k) for k in info.takes if getattr(cfg, k) is not None}
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    return kwargs


def build_optimizer(params, cfg: OptimizerConfig) -> torch.optim.Optimizer:
    return OPTIMIZERS[cfg.name].cls(params, **optimizer_kwargs(cfg))


def resolve_optimizer(cfg: OptimizerConfig) -> OptimizerConfig:
    """The same config with every key the optimizer takes filled with its real default."""
    info = OPTIMIZERS[cfg.name]
    filled = {k: v for k, v in info.defaults.items() if getattr(cfg, k) is None}
    if "betas" in filled:
        filled["betas"] = tuple(filled["betas"])
    return replace(cfg, **filled)


def unused_keys(cfg: OptimizerConfig) -> list[str]:
    """Keys set in the experiment that the chosen optimizer does not use (reported as notes)."""
    info = OPTIMIZERS[cfg.name]
    return [k for k in HYPERPARAMETERS if k not in info.takes and getattr(cfg, k) not in (None, 0, 0.0, False)]
