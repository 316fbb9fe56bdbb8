"""What a run measures of its network on a tick, without touching its training.

A measurement (evaluation on the full training and validation sets, per-layer histograms of weights and
gradients, per-layer activation statistics) is taken on a :class:`Snapshot`: weights, buffers and the
gradient copied at their tick, then loaded into a :class:`ShadowNetwork`, a copy of the network kept in
eval mode.  So measuring never changes training: no dropout draws, no BatchNorm running-statistic
updates.  Running it on a second thread was measured and did not pay on two cores (``main.py bench``;
see the README).

Evaluation runs in chunks of ``EVAL_CHUNK`` examples; the loss is ``sum CE / n`` in float64, the accuracy
``#(argmax = y) / n``.  Activation statistics ride on the evaluation's own forward pass over the training
set when both fall on one tick (the default), so they cost nothing extra.
"""
from __future__ import annotations

import contextlib
import copy
import math
from dataclasses import dataclass
from typing import Callable, ContextManager

import torch
import torch.nn.functional as F

from engine.data.datasets import DataSplit
from engine.model.models import activation_probes, weight_tensors
from engine.training.events import ActivationStats, EvalEvent, Event, HistogramEvent, LayerHistogram
from engine.training.histograms import histogram

EVAL_CHUNK = 4096     # examples per forward pass when evaluating large sets


@dataclass(frozen=True)
class Snapshot:
    """Copies of what a measurement reads, taken at its tick."""
    step: int
    epoch: float
    params: list[torch.Tensor]
    buffers: list[torch.Tensor]
    grads: torch.Tensor | None      # the flat gradient, None before the first step
    # On a histogram tick after step 0: the weights before the tick's update, and each parameter's effective
    # rate from the optimizer's state after it (engine.optim.rates; None where the optimizer has no entry)
    before: list[torch.Tensor] | None = None
    rates: list[torch.Tensor | None] | None = None


class ActivationRecorder:
    """Forward hooks that accumulate each layer's activation mean and std over every batch seen.

    Per layer it sums ``n``, ``sum a`` and ``sum a^2`` in float64; then ``mean = sum a / n`` and
    ``std = sqrt(max(sum a^2 / n - mean^2, 0))``.
    """

    def __init__(self, probes: list[tuple[str, torch.nn.Module]]):
        self.probes = probes
        self.sums = {name: torch.zeros(3, dtype=torch.float64) for name, _ in probes}  # n, sum, sum of squares
        self.hooks: list[torch.utils.hooks.RemovableHandle] = []

    def __enter__(self):
        def record(name, out):
            out = out.detach().double()
            self.sums[name] += torch.stack([torch.tensor(float(out.numel()), dtype=torch.float64),
                                            out.sum(), (out * out).sum()])
        self.hooks = [module.register_forward_hook(lambda _m, _i, out, name=name: record(name, out))
                      for name, module in self.probes]
        return self

    def __exit__(self, *exc):
        for hook in self.hooks:
            hook.remove()

    def stats(self) -> tuple[ActivationStats, ...]:
        out = []
        for name, _ in self.probes:
            n, total, squares = self.sums[name].tolist()
            mean = total / n
            out.append(ActivationStats(name, mean, math.sqrt(max(squares / n - mean * mean, 0.0))))
        return tuple(out)


def layer_histogram(name: str, weight: torch.Tensor, grad: torch.Tensor | None,
                    before: torch.Tensor | None = None, rates: torch.Tensor | None = None) -> LayerHistogram:
    """One weight tensor's histograms, and what the tick's step did to it when ``before`` holds the
    tensor from before that step (``weight`` is after it):

    * ``update_ratio = ||theta_t - theta_{t-1}|| / ||theta_{t-1}||``, the layer's step relative to its size
      (what LARS and LAMB set per layer, and the "~1e-3" rule of thumb reads);
    * ``rate``, the histogram of ``log10`` of each weight's effective rate: the optimizer's own
      (``rates``, :mod:`engine.optim.rates`), or where it has no closed form (Adafactor, ``rates`` None)
      what its update gave, ``|dtheta_i| / |g_i|`` over the weights whose gradient is not 0;
    * ``zero_grad``, the fraction of the gradient's entries that are exactly 0 (dead ReLUs, or fp16's
      underflow without loss scaling).

    A single run and each member of a multi-seed run (:mod:`engine.training.vector_measure`) both call
    this, so the two measure alike.
    """
    zero = float((grad == 0).float().mean()) if grad is not None and grad.numel() else None
    if before is None or grad is None:
        return LayerHistogram(name, histogram(weight), histogram(grad) if grad is not None else None,
                              zero_grad=zero)
    before = before.reshape(-1)
    delta = weight.reshape(-1) - before
    size = float(before.norm())
    ratio = float(delta.norm()) / size if size > 0 else None
    if rates is not None:
        values = rates.reshape(-1)
    else:
        flat = grad.reshape(-1)
        moved = flat != 0
        values = delta[moved].abs() / flat[moved].abs()
    values = values[values > 0]
    rate = histogram(values.log10()) if values.numel() else None
    return LayerHistogram(name, histogram(weight), histogram(grad), rate, ratio, zero)


class ShadowNetwork:
    """A copy of ``model`` in eval mode, without gradients, that snapshots are loaded into and measured on.

    ``model``'s parameters, in order, are the slices of the run's flat gradient buffer: the weight
    tensors' histograms read their gradients from there.
    """

    def __init__(self, model: torch.nn.Module):
        self.net = copy.deepcopy(model).eval().requires_grad_(False)
        self.params: list[torch.Tensor] = list(self.net.parameters())
        offsets, offset = {}, 0
        for p in model.parameters():
            offsets[id(p)] = offset
            offset += p.numel()
        shadow = dict(self.net.named_parameters())
        index = {id(p): i for i, p in enumerate(model.parameters())}
        # (name, shadow weight, offset in the flat gradient, size, index in the parameter order)
        self.hist_slices = [(name, shadow[name], offsets[id(p)], p.numel(), index[id(p)])
                            for name, p in weight_tensors(model)]
        self.probes = activation_probes(self.net)

    @torch.no_grad()
    def measure(self, snap: Snapshot, data: DataSplit, autocast: Callable[[], ContextManager],
                do_eval: bool, do_hist: bool) -> list[Event]:
        """Load ``snap``, then evaluate it on ``data`` and/or histogram it: ``[EvalEvent][, HistogramEvent]``."""
        torch._foreach_copy_(self.params, snap.params)
        for buf, value in zip(self.net.buffers(), snap.buffers):
            buf.copy_(value)
        events: list[Event] = []
        recorder = ActivationRecorder(self.probes) if do_hist else None
        with autocast():
            with recorder if recorder is not None else contextlib.nullcontext():
                train_loss, train_acc = self.loss_and_accuracy(data.x_train, data.y_train, need_loss=do_eval)
            if do_eval:
                val_loss, val_acc = self.loss_and_accuracy(data.x_val, data.y_val)
                events.append(EvalEvent(snap.step, snap.epoch, train_loss, train_acc, val_loss, val_acc))
        if recorder is not None:   # do_hist
            grads = snap.grads
            layers = tuple(layer_histogram(name, snap.params[i], grads[offset:offset + n] if grads is not None else None,
                                           snap.before[i] if snap.before is not None else None,
                                           snap.rates[i] if snap.rates is not None else None)
                           for name, _w, offset, n, i in self.hist_slices)
            events.append(HistogramEvent(snap.step, layers, recorder.stats()))
        return events

    def loss_and_accuracy(self, x: torch.Tensor, y: torch.Tensor, need_loss: bool = True) -> tuple[float, float]:
        """Mean cross-entropy and accuracy over ``(x, y)``; with ``need_loss`` off only the forward passes
        run (for the activation statistics) and both come back 0."""
        total_loss = torch.zeros((), dtype=torch.float64)
        correct = torch.zeros((), dtype=torch.int64)
        for start in range(0, len(y), EVAL_CHUNK):
            xb, yb = x[start:start + EVAL_CHUNK], y[start:start + EVAL_CHUNK]
            logits = self.net(xb)
            if need_loss:
                logits = logits.float()
                total_loss += F.cross_entropy(logits, yb, reduction="sum").double()
                correct += (logits.argmax(1) == yb).sum()
        return total_loss.item() / len(y), correct.item() / len(y)
