"""The training loop every screen, command and test stands on.

A :class:`Trainer` is built from one :class:`~engine.config.Experiment` and can
be driven one optimizer step at a time (:meth:`Trainer.step`, which returns the
events that step produced) or run to the end with a callback and a stop flag
(:meth:`Trainer.run`).  It knows nothing of who listens.

Determinism: the data, the initial weights, the batch order and dropout all
come from the experiment's seed, through random generators owned by the
trainer; the global torch generator is borrowed only inside a step and handed
back, so runs interleaved in one process (the GUI's side-by-side runs) do not
disturb each other.  Same seed, same experiment: identical numbers, bit for bit.

Cost: per step the loop does what any honest loop does (forward, backward,
step, read the loss) plus the gradient norm; evaluation and histograms run
only on their ticks, on whole tensors.
"""
from __future__ import annotations

import contextlib
import math
import time
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .config import Experiment, steps_per_epoch
from .datasets import DataSplit, load_data
from .events import (DIVERGED, ERROR, FINISHED, STOPPED, ActivationStats, EvalEvent, Event, FinalEvent,
                     Histogram, HistogramEvent, LayerHistogram, StepEvent)
from .experiment import resolve
from .models import activation_probes, build_model, weight_tensors
from .optimizers import build_optimizer
from .schedules import LRSchedule

HIST_BINS = 40
PROBE_SIZE = 256      # training inputs fed through the net to measure per-layer activations
EVAL_CHUNK = 4096     # examples per forward pass when evaluating large sets


class Trainer:
    """One run of one experiment.

    ``data`` may be passed in when several trainers share a dataset (it is
    read-only); otherwise it is loaded from the experiment.
    """

    def __init__(self, experiment: Experiment, data: DataSplit | None = None):
        self.experiment = resolve(experiment)
        exp = self.experiment
        self.data = data if data is not None else load_data(exp.data, exp.seed)
        n_train = len(self.data.y_train)
        self.total_steps = exp.total_steps(n_train)
        self.steps_per_epoch = steps_per_epoch(n_train, exp.train.batch_size)

        # The initial weights and dropout draw from the global generator, which we borrow with our seed.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(exp.seed)
            self.model = build_model(exp.model, self.data.input_shape, self.data.n_classes)
            self._rng_state = torch.get_rng_state()
        self._stochastic = any(isinstance(m, torch.nn.Dropout) and m.p > 0 for m in self.model.modules())
        self._params = [p for p in self.model.parameters() if p.requires_grad]
        self._grads = torch.zeros(sum(p.numel() for p in self._params))
        self.optimizer = build_optimizer(self._params, exp.optimizer)
        self.schedule = LRSchedule(self.optimizer, exp.schedule, self.total_steps)
        self._batches = torch.Generator().manual_seed(exp.seed)
        self._order = torch.empty(0, dtype=torch.long)
        self._cursor = 0
        self._autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) \
            if exp.train.precision == "bf16" else contextlib.nullcontext
        self._weights = weight_tensors(self.model)
        self._probes = activation_probes(self.model)
        self._probe_x = self.data.x_train[:PROBE_SIZE]

        self.step_count = 0
        self.status: str | None = None       # set when the run has ended
        self.elapsed = 0.0
        self.last_eval: EvalEvent | None = None
        self.final: FinalEvent | None = None
        self._loss_ceiling = math.inf        # set from the starting loss on the first step
        self._diverged_what = ""

    # -- driving ------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.status is not None

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    @property
    def epoch(self) -> float:
        return self.step_count / self.steps_per_epoch

    def step(self) -> list[Event]:
        """Take one optimizer step; return the events it produced (none once the run is over).

        The first call also reports the untrained network (evaluation and
        histograms at step 0), which is what the initialization lesson is about.
        """
        if self.done:
            return []
        start = time.perf_counter()
        events: list[Event] = []
        if self.step_count == 0:
            events.append(self.evaluate())
            factor = self.experiment.train.divergence_factor
            start = max(self.last_eval.train_loss, math.log(self.data.n_classes))
            self._loss_ceiling = factor * start if factor and math.isfinite(start) else math.inf
            if self.experiment.train.histogram_every:
                events.append(self.histograms())
        events.extend(self._train_step())
        self.elapsed += time.perf_counter() - start
        if self.done and self.final is None:
            self.final = self._final(self.status, self._end_message())
            events.append(self.final)
        return events

    def run(self, on_event: Callable[[Event], None] | None = None,
            should_stop: Callable[[], bool] = lambda: False) -> FinalEvent:
        """Train to the end, or until ``should_stop()`` is true; exceptions end the run as ``error``."""
        emit = on_event or (lambda e: None)
        try:
            while not self.done:
                if should_stop():
                    emit(self.stop())
                    break
                for event in self.step():
                    emit(event)
        except Exception as err:  # reported, never raised: the caller gets an error status
            emit(self.fail(err))
        return self.final

    def stop(self) -> FinalEvent:
        """End the run early at the user's request."""
        return self._end(STOPPED, f"stopped by the user at step {self.step_count}")

    def fail(self, err: BaseException) -> FinalEvent:
        """End the run because something raised; the message is one line for the user."""
        return self._end(ERROR, f"{type(err).__name__}: {err}".splitlines()[0])

    def _end(self, status: str, message: str) -> FinalEvent:
        if self.final is None:
            self.status = status
            self.final = self._final(status, message)
        return self.final

    # -- one step -----------------------------------------------------------------------------

    def _next_batch(self) -> torch.Tensor:
        """Indices of the next mini-batch: a fresh seeded permutation each epoch, last batch partial."""
        if self._cursor >= len(self._order):
            self._order = torch.randperm(len(self.data.y_train), generator=self._batches)
            self._cursor = 0
        idx = self._order[self._cursor:self._cursor + self.experiment.train.batch_size]
        self._cursor += len(idx)
        return idx

    def _train_step(self) -> list[Event]:
        train = self.experiment.train
        idx = self._next_batch()
        x, y = self.data.x_train[idx], self.data.y_train[idx]
        lr = self.lr
        if self._stochastic:
            outer = torch.get_rng_state()
            torch.set_rng_state(self._rng_state)
        with self._autocast():
            loss = F.cross_entropy(self.model(x), y)
        if self._stochastic:
            self._rng_state = torch.get_rng_state()
            torch.set_rng_state(outer)
        self.step_count += 1
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            return self._diverge(lr, loss_value, math.nan, False, "the loss became non-finite")
        if loss_value > self._loss_ceiling:
            return self._diverge(lr, loss_value, math.nan, False,
                                 f"the loss {loss_value:.3g} exceeded {train.divergence_factor:g}x its start")
        self._zero_grad()
        loss.backward()
        norm = torch.linalg.vector_norm(self._grads).item()
        if not math.isfinite(norm):
            return self._diverge(lr, loss_value, norm, False, "the gradient became non-finite")
        clipped = train.grad_clip is not None and norm > train.grad_clip
        if clipped:
            # torch's own scaling, g <- g * min(1, c / (||g|| + 1e-6)), given the norm we measured
            torch.nn.utils.clip_grads_with_norm_(self._params, train.grad_clip, torch.tensor(norm))
        self.optimizer.step()
        if self.schedule.active:
            self.schedule.step()

        events: list[Event] = [StepEvent(self.step_count, self.epoch, lr, loss_value, norm, clipped)]
        last = self.step_count >= self.total_steps
        if last or self.step_count % train.eval_every == 0:
            events.append(self.evaluate())
        if train.histogram_every and (last or self.step_count % train.histogram_every == 0):
            events.append(self.histograms())
        if last and not self.done:
            self.status = FINISHED
        return events

    def _zero_grad(self) -> None:
        """Zero the gradients, which live as views in one flat buffer.

        Autograd accumulates into an existing ``.grad`` in place, so after
        backward the whole gradient is one tensor: its norm, the value plotted
        every step, is one reduction instead of one per layer plus a stack.
        """
        self._grads.zero_()
        if self._params[0].grad is None or self._params[0].grad.data_ptr() != self._grads.data_ptr():
            offset = 0
            for p in self._params:
                p.grad = self._grads[offset:offset + p.numel()].view_as(p)
                offset += p.numel()

    def _diverge(self, lr, loss, norm, clipped, what) -> list[Event]:
        """Stop before a non-finite value reaches the weights; the weights stay the last finite ones."""
        self.status = DIVERGED
        self._diverged_what = what
        return [StepEvent(self.step_count, self.epoch, lr, loss, norm, clipped)]

    def _end_message(self) -> str:
        if self.status == DIVERGED:
            return f"diverged at step {self.step_count} (lr {self.lr:.3g}): {self._diverged_what}"
        return f"finished {self.step_count} steps"

    def _final(self, status: str, message: str) -> FinalEvent:
        rate = self.step_count / self.elapsed if self.elapsed > 0 else 0.0
        return FinalEvent(status, self.step_count, self.epoch, self.lr, message, self.elapsed, rate)

    # -- measurements -------------------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self) -> EvalEvent:
        """Loss and accuracy on the full train and val sets, in eval mode (running BN statistics)."""
        self.model.eval()
        train_loss, train_acc = self._loss_and_accuracy(self.data.x_train, self.data.y_train)
        val_loss, val_acc = self._loss_and_accuracy(self.data.x_val, self.data.y_val)
        self.model.train()
        event = EvalEvent(self.step_count, self.epoch, train_loss, train_acc, val_loss, val_acc)
        self.last_eval = event
        if not (math.isfinite(train_loss) and math.isfinite(val_loss)) and not self.done:
            # Weights became non-finite at the step just taken.
            self.status = DIVERGED
            self._diverged_what = "the weights became non-finite"
        return event

    def _loss_and_accuracy(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        total_loss = torch.zeros((), dtype=torch.float64)
        correct = 0
        for start in range(0, len(y), EVAL_CHUNK):
            xb, yb = x[start:start + EVAL_CHUNK], y[start:start + EVAL_CHUNK]
            with self._autocast():
                logits = self.model(xb)
            total_loss += F.cross_entropy(logits.float(), yb, reduction="sum").double()
            correct += int((logits.argmax(1) == yb).sum())
        return total_loss.item() / len(y), correct / len(y)

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> np.ndarray:
        """Class probabilities for ``x`` in eval mode: the decision-boundary view draws these."""
        was_training = self.model.training
        self.model.eval()
        with self._autocast():
            probs = torch.softmax(self.model(x).float(), dim=1)
        self.model.train(was_training)
        return probs.numpy()

    @torch.no_grad()
    def histograms(self) -> HistogramEvent:
        """Per layer: histograms of weights and of the gradients just applied; per-layer activation stats.

        Activations are measured on a fixed batch of training inputs in eval
        mode, so measuring never changes training (no dropout draws, no
        BatchNorm running-statistic updates).
        """
        layers = tuple(LayerHistogram(name, histogram(p), histogram(p.grad) if p.grad is not None else None)
                       for name, p in self._weights)
        stats: dict[str, ActivationStats] = {}
        hooks = [module.register_forward_hook(
            lambda _m, _i, out, name=name: stats.__setitem__(name, ActivationStats(
                name, out.float().mean().item(), out.float().std(unbiased=False).item())))
            for name, module in self._probes]
        self.model.eval()
        try:
            with self._autocast():
                self.model(self._probe_x)
        finally:
            for hook in hooks:
                hook.remove()
            self.model.train()
        return HistogramEvent(self.step_count, layers, tuple(stats[name] for name, _ in self._probes))


def histogram(tensor: torch.Tensor, bins: int = HIST_BINS) -> Histogram:
    """Counts over the tensor's own range; non-finite values are left out of the counts.

    One synchronisation for the four statistics, then one ``histc``: this runs
    on every histogram tick for every layer.
    """
    t = tensor.detach().float().reshape(-1)
    lo, hi, mean, std = torch.stack([t.min(), t.max(), t.mean(), t.std(correction=0)]).tolist()
    if not (math.isfinite(lo) and math.isfinite(hi)):
        t = t[torch.isfinite(t)]
        if t.numel() == 0:
            return Histogram(np.zeros(bins, dtype=np.int64), np.linspace(-1.0, 1.0, bins + 1), math.nan, math.nan)
        lo, hi, mean, std = torch.stack([t.min(), t.max(), t.mean(), t.std(correction=0)]).tolist()
    if lo == hi:  # e.g. the zeros init: centre one-unit-wide bins on the value
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.histc(t, bins=bins, min=lo, max=hi).to(torch.int64).numpy()
    return Histogram(counts, np.linspace(lo, hi, bins + 1), mean, std)


def warm_up() -> None:
    """Build and step one tiny optimizer so torch's lazy imports (its compiler stack, ~3 s) happen now.

    The GUI calls this in the background at start, so the first real run starts at once.
    """
    param = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.Adam([param])
    (param ** 2).sum().backward()
    opt.step()
