"""What the vectorized trainer measures of its K members on a tick, without touching their training.

As a single run's shadow network (:mod:`engine.training.measurements`) does, but for every member in one
batched pass: the stacked network runs in eval mode (no dropout draws, BatchNorm's running statistics read,
not updated) under ``torch.no_grad()``, so measuring changes nothing a step reads.  Evaluation goes over the
full training and validation sets in chunks of ``EVAL_CHUNK``: member k's loss is ``sum CE / n`` summed in
float64 per chunk, its accuracy ``#(argmax = y) / n``.  Histograms are each member's own (its weights and
its flat gradient's slices, its effective rates and step sizes), and the activation statistics ride on the evaluation's forward pass over the
training set, per member: ``mean = sum a / n``, ``std = sqrt(max(sum a^2 / n - mean^2, 0))``.
"""
from __future__ import annotations

import math
from typing import Callable, ContextManager

import torch
import torch.nn.functional as F

from engine.data.datasets import DataSplit
from engine.model.models import weight_tensors
from engine.training.events import ActivationStats, EvalEvent, HistogramEvent
from engine.training.measurements import EVAL_CHUNK, layer_histogram
from engine.training.vector_network import ForwardContext, StackedNetwork


def _loss_and_accuracy(net: StackedNetwork, x: torch.Tensor, y: torch.Tensor, ctx: ForwardContext,
                       need_loss: bool = True) -> tuple[list[float], list[float]]:
    K = net.K
    total = torch.zeros(K, dtype=torch.float64)
    correct = torch.zeros(K, dtype=torch.int64)
    for start in range(0, len(y), EVAL_CHUNK):
        xb, yb = x[start:start + EVAL_CHUNK], y[start:start + EVAL_CHUNK]
        logits = net.forward(xb, ctx)
        if need_loss:
            logits = logits.float()
            # per member, as the single run sums: its float32 sum in torch's own order, then float64
            total += torch.stack([F.cross_entropy(z, yb, reduction="sum") for z in logits]).double()
            correct += (logits.argmax(2) == yb).sum(1)
    return (total / len(y)).tolist(), (correct.double() / len(y)).tolist()


@torch.no_grad()
def measure_members(net: StackedNetwork, data: DataSplit, autocast: Callable[[], ContextManager],
                    step: int, epoch: float, grads: list[torch.Tensor] | None, members: list[int],
                    do_eval: bool, do_hist: bool, before: list[torch.Tensor] | None = None,
                    rates: dict[int, list[torch.Tensor | None] | None] | None = None,
                    ) -> tuple[dict[int, EvalEvent], dict[int, HistogramEvent]]:
    """Evaluate and/or histogram the members listed: ``({k: EvalEvent}, {k: HistogramEvent})``.

    ``grads`` are the stacked parameters' gradients (None before the first step); ``before`` the stacked
    parameters before this tick's step and ``rates`` each member's effective rates after it, for the
    layers' step sizes and rates (:func:`~engine.training.measurements.layer_histogram`, as a single run's)."""
    ctx = ForwardContext(False, record=do_hist)
    evals: dict[int, EvalEvent] = {}
    hists: dict[int, HistogramEvent] = {}
    with autocast():
        train_loss, train_acc = _loss_and_accuracy(net, data.x_train, data.y_train, ctx, need_loss=do_eval)
        recorded, ctx.sums = ctx.sums or {}, None     # the activations of the training set's pass only
        if do_eval:
            val_loss, val_acc = _loss_and_accuracy(net, data.x_val, data.y_val, ctx)
            for k in members:
                evals[k] = EvalEvent(step, epoch, train_loss[k], train_acc[k], val_loss[k], val_acc[k])
    if do_hist:
        index = {name: i for i, name in enumerate(net.names)}
        layers = [(name, index[name]) for name, _ in weight_tensors(net.template)]
        sums = {name: value.tolist() for name, value in recorded.items()}
        for k in members:
            own = rates.get(k) if rates is not None else None
            hists[k] = HistogramEvent(step, tuple(
                layer_histogram(name, net.params[i][k], grads[i][k] if grads is not None else None,
                                before[i][k] if before is not None else None,
                                own[i] if own is not None else None)
                for name, i in layers), tuple(_stats(name, sums[name][k]) for name in net.probe_names))
    return evals, hists


def _stats(name: str, sums: list[float]) -> ActivationStats:
    n, total, squares = sums
    mean = total / n
    return ActivationStats(name, mean, math.sqrt(max(squares / n - mean * mean, 0.0)))
