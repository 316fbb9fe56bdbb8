"""The training loop every screen, command and test stands on.

A :class:`Trainer` is built from one :class:`~engine.config.Experiment` and can
be driven one optimizer step at a time (:meth:`Trainer.step`, which returns the
events that step produced) or run to the end with a callback and a stop flag
(:meth:`Trainer.run`).  It knows nothing of who listens.  Inside a step,
:meth:`Trainer.train_step` is the bare mini-batch update (batch, forward, loss,
backward, clip, optimizer step): the one the LR finder trains with too.

Determinism: the data, the initial weights, the batch order, augmentation and dropout all
come from the experiment's seed, through random generators owned by the
trainer; the global torch generator is borrowed only inside a step and handed
back, so runs interleaved in one process (the GUI's side-by-side runs) do not
disturb each other.  Same seed, same experiment: identical numbers, bit for bit.

Augmentation (``engine.data.augment``) touches only the training batches; evaluation
reads the data as it is, against the true labels.

Cost: per step the loop does what any honest loop does (forward, backward,
step, read the loss) plus the gradient norm; evaluation and histograms run
only on their ticks, on whole tensors.
"""
from __future__ import annotations

import contextlib
import copy
import math
import re
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from engine.config import Experiment, steps_per_epoch
from engine.data.augment import Augmenter
from engine.data.datasets import DataSplit, load_data
from engine.experiment import ExperimentError, resolve
from engine.model.models import activation_probes, build_model, weight_tensors
from engine.optim.optimizers import build_optimizer
from engine.optim.schedules import LRSchedule
from engine.status import RunStatus
from engine.training.events import (
    ActivationStats,
    EvalEvent,
    Event,
    FinalEvent,
    Histogram,
    HistogramEvent,
    LayerHistogram,
    StepEvent,
)

HIST_BINS = 40
EVAL_CHUNK = 4096     # examples per forward pass when evaluating large sets

_NUMERIC_WORDS = re.compile(r"\b(overflow|underflow|non-finite|not finite|nan|inf|infinity)\b", re.IGNORECASE)


def numeric_failure(err: BaseException) -> str | None:
    """Why ``err`` came from the numbers (an overflow, a non-finite value), or ``None`` for any other error.

    Such an exception inside a training step means the run diverged (Adam at ``lr`` 1e300 makes torch
    raise "value cannot be converted to type float without overflow" in its update), not that the
    program is wrong: :meth:`Trainer.step` ends the run as ``diverged`` with this reason.  Every other
    exception (a ``ZeroDivisionError`` in Python code included) is a true bug and still ends the run
    as ``error``.
    """
    if isinstance(err, (OverflowError, FloatingPointError)):
        return f"the arithmetic failed ({type(err).__name__}: {err})".splitlines()[0]
    text = str(err).splitlines()[0] if str(err) else ""
    if isinstance(err, RuntimeError) and _NUMERIC_WORDS.search(text):
        return f"the arithmetic failed ({text})"
    return None


def has_batch_norm(model: torch.nn.Module) -> bool:
    """Whether ``model`` normalizes by batch statistics, which need two or more examples in a batch."""
    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())


def merges_last_batch(n_train: int, batch_size: int) -> bool:
    """Whether an epoch of ``n_train`` examples in batches of ``batch_size`` ends in a batch of one.

    With BatchNorm such a batch cannot be trained on (a variance over one example is undefined; torch
    raises), so the trainer merges it into the batch before: an epoch is then ``n_train // batch_size``
    batches, the last of ``batch_size + 1`` examples.
    """
    return n_train > batch_size and n_train % batch_size == 1


@dataclass(frozen=True)
class TrainStep:
    """What one :meth:`Trainer.train_step` did."""
    lr: float               # the rate it stepped with (param group 0's)
    loss: float             # the mini-batch loss, before the update
    grad_norm: float        # ||g|| before clipping; NaN when no backward ran
    clipped: bool
    updated: bool           # the optimizer stepped: False when the loss (or gradient) was non-finite or refused


@dataclass(frozen=True)
class TrainerState:
    """What :meth:`Trainer.save_state` copies (tensors and state dicts, owned by the copy)."""
    weights: dict
    grads: tuple
    flat_grads: torch.Tensor
    optimizer: dict
    schedule: dict
    batches: torch.Tensor
    order: torch.Tensor
    cursor: int
    dropout_rng: torch.Tensor
    training: bool
    augment: tuple | None


class Trainer:
    """One run of one experiment.

    ``data`` may be passed in when several trainers share a dataset (it is
    read-only); otherwise it is loaded from the experiment.

    Measurements (evaluation on the full sets, histograms, activation
    statistics) are taken on a *snapshot*: weights, buffers and gradients are
    copied at their tick into a shadow copy of the network kept in eval mode,
    so measuring never changes training (no dropout draws, no BatchNorm
    running-statistic updates).  Running them on a second thread was measured
    and did not pay on two cores (``main.py bench``; see the README).
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
        self._merge_last = False
        if has_batch_norm(self.model):
            self._check_batch_norm(n_train)
            self._merge_last = merges_last_batch(n_train, exp.train.batch_size)
            if self._merge_last:
                self.steps_per_epoch = n_train // exp.train.batch_size
                if exp.train.epochs is not None:
                    self.total_steps = exp.train.epochs * self.steps_per_epoch
        self._stochastic = any(isinstance(m, torch.nn.Dropout) and m.p > 0 for m in self.model.modules())
        self._params = list(self.model.parameters())
        self._grads = torch.zeros(sum(p.numel() for p in self._params))
        self.optimizer = build_optimizer(self._params, exp.optimizer)
        self.schedule = LRSchedule(self.optimizer, exp.schedule, self.total_steps)
        self._batches = torch.Generator().manual_seed(exp.seed)
        # Training batches only; its own seeded generators, so the batch order is the same with or without.
        self.augmenter = Augmenter(exp.augment, self.data.kind, exp.seed) if exp.augment.active else None
        self._order = torch.empty(0, dtype=torch.long)
        self._cursor = 0
        self.autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) \
            if exp.train.precision == "bf16" else contextlib.nullcontext

        # Measurements run on a shadow copy of the network, loaded from a snapshot of the weights.
        self._shadow = copy.deepcopy(self.model).eval().requires_grad_(False)
        self._shadow_params: list[torch.Tensor] = list(self._shadow.parameters())
        offsets, offset = {}, 0
        for p in self._params:
            offsets[id(p)] = offset
            offset += p.numel()
        shadow = dict(self._shadow.named_parameters())
        self._hist_slices = [(name, shadow[name], offsets[id(p)], p.numel())
                             for name, p in weight_tensors(self.model)]
        self._probes = activation_probes(self._shadow)

        self.step_count = 0
        self.status: str | None = None       # set when the run has ended
        self.elapsed = 0.0
        self.last_eval: EvalEvent | None = None
        self.final: FinalEvent | None = None
        self._loss_ceiling = math.inf        # set from the starting loss on the first step
        self._diverged_what = ""

    def _check_batch_norm(self, n_train: int) -> None:
        """Refuse, naming the key, a BatchNorm run whose every batch would hold one example."""
        if n_train < 2:
            raise ExperimentError("data.n_train", f"BatchNorm needs two or more training examples in a batch; "
                                  f"there are {n_train} (use 2 or more, or model.norm 'none' or 'layer')")
        if self.experiment.train.batch_size < 2:
            raise ExperimentError("train.batch_size", "BatchNorm needs two or more examples in a batch "
                                  "(use 2 or more, or model.norm 'none' or 'layer')")

    @property
    def notes(self) -> tuple[str, ...]:
        """What the trainer changed of the experiment as given, one line each (empty when nothing)."""
        if self._merge_last:
            return ("each epoch's last batch of one example is merged into the batch before "
                    "(BatchNorm cannot train on one)",)
        return ()

    # -- driving ------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.final is not None

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
        When the run ends, the events end with its :class:`FinalEvent`.
        """
        if self.done:
            return []
        started = time.perf_counter()
        events: list[Event] = []
        if self.step_count == 0:
            events += self._measure(self._snapshot(), True, self.experiment.train.histogram_every > 0)
            assert self.last_eval is not None   # the step-0 measurement evaluates
            factor = self.experiment.train.divergence_factor
            chance = math.log(self.data.n_classes)
            start_loss = max(self.last_eval.train_loss, chance)
            self._loss_ceiling = factor * start_loss if factor and math.isfinite(start_loss) else math.inf
            broken = self._broken_start(self.last_eval.train_loss, chance)
            if broken:
                self.status, self._diverged_what = RunStatus.DIVERGED, broken
                self.elapsed += time.perf_counter() - started
                events.append(self._finish(self.status, self._end_message()))
                return events
        try:
            events += self._train_step()
        except Exception as err:  # from the numbers: the run diverged; anything else is a bug, raised
            why = numeric_failure(err)
            if why is None:
                raise
            self.step_count += 1
            events += self._diverge(self.lr, math.nan, math.nan, why)
        if self.status == RunStatus.FINISHED and self.last_eval is not None and not math.isfinite(self.last_eval.train_loss):
            self.status, self._diverged_what = RunStatus.DIVERGED, "the weights became non-finite"
        self.elapsed += time.perf_counter() - started
        if self.status is not None:
            events.append(self._finish(self.status, self._end_message()))
        return events

    def run(self, on_event: Callable[[Event], None] | None = None,
            should_stop: Callable[[], bool] = lambda: False) -> FinalEvent:
        """Train to the end, or until ``should_stop()`` is true; exceptions end the run as ``error``."""
        emit = on_event or (lambda e: None)
        try:
            while not self.done:
                events = self.stop() if should_stop() else self.step()
                for event in events:
                    emit(event)
        except Exception as err:  # reported, never raised: the caller gets an error status
            for event in self.fail(err):
                emit(event)
        assert self.final is not None   # the loop ends only once the run has ended
        return self.final

    def stop(self) -> list[Event]:
        """End the run early at the user's request; returns ``[FinalEvent]`` (an empty list if already ended)."""
        if self.done:
            return []
        return [self._finish(RunStatus.STOPPED, f"stopped by the user at step {self.step_count}")]

    def fail(self, err: BaseException) -> list[Event]:
        """End the run because something raised; the message is one line for the user."""
        if self.done:
            return []
        return [self._finish(RunStatus.ERROR, f"{type(err).__name__}: {err}".splitlines()[0])]

    def _finish(self, status: str, message: str) -> FinalEvent:
        self.status = status
        rate = self.step_count / self.elapsed if self.elapsed > 0 else 0.0
        self.final = FinalEvent(status, self.step_count, self.epoch, self.lr, message, self.elapsed, rate)
        return self.final

    # -- saving and restoring ---------------------------------------------------------------------

    def save_state(self) -> "TrainerState":
        """A copy of everything a training step changes (augmentation draws too), so a detour (the LR
        finder's sweep on this very network) can be undone bit for bit with :meth:`load_state`."""
        return TrainerState(
            weights=copy.deepcopy(self.model.state_dict()),
            grads=tuple(p.grad for p in self._params),
            flat_grads=self._grads.clone(),
            optimizer=copy.deepcopy(self.optimizer.state_dict()),
            schedule=copy.deepcopy(self.schedule.state_dict()),
            batches=self._batches.get_state(),
            order=self._order.clone(),
            cursor=self._cursor,
            dropout_rng=self._rng_state.clone(),
            training=self.model.training,
            augment=self.augmenter.get_state() if self.augmenter is not None else None)

    def load_state(self, state: "TrainerState") -> None:
        """Back to ``state``: weights and buffers in place (the optimizer keeps its parameters), the
        gradients as views of the flat buffer again, optimizer, schedule, batch order, dropout draws."""
        with torch.no_grad():
            self.model.load_state_dict(state.weights)
            self._grads.copy_(state.flat_grads)
        for p, g in zip(self._params, state.grads):
            p.grad = g
        self.optimizer.load_state_dict(state.optimizer)
        self.schedule.load_state_dict(state.schedule)
        self._batches.set_state(state.batches)
        self._order, self._cursor = state.order.clone(), state.cursor
        self._rng_state = state.dropout_rng.clone()
        self.model.train(state.training)
        if self.augmenter is not None and state.augment is not None:
            self.augmenter.set_state(state.augment)

    @property
    def dropout_rng(self) -> torch.Tensor:
        """The state of the run's own generator for dropout (it is not the global one)."""
        return self._rng_state

    # -- one step -----------------------------------------------------------------------------

    def next_batch(self) -> torch.Tensor:
        """Indices of the next mini-batch: a fresh seeded permutation each epoch, last batch partial
        (a last batch of one merged into the one before when the model has BatchNorm)."""
        if self._cursor >= len(self._order):
            self._order = torch.randperm(len(self.data.y_train), generator=self._batches)
            self._cursor = 0
        end = self._cursor + self.experiment.train.batch_size
        if self._merge_last and end == len(self._order) - 1:
            end += 1                    # a last batch of one goes with this one (BatchNorm needs two)
        idx = self._order[self._cursor:end]
        self._cursor += len(idx)
        return idx

    def train_step(self, lr: float | None = None, accept: Callable[[float], bool] | None = None) -> TrainStep:
        """One mini-batch update: the training step every caller trains with, and nothing around it.

        The next batch (augmented as training sees it), the forward pass under the run's precision
        with the run's own dropout draws, the loss; then, if the loss is finite and
        ``accept(loss)`` agrees, ``backward()``, the gradient norm ``||g||``, clipping to
        ``train.grad_clip`` (``g <- g * c / (||g|| + 1e-6)`` when ``||g|| > c``) and the
        optimizer's step.  A non-finite gradient is not stepped on either.  ``lr``, when given, is
        set on every param group first (the LR finder's sweep); otherwise the schedule's rate is used.

        ``accept`` sees the loss *before* the update: :meth:`step` refuses a loss above the run's
        divergence ceiling, the LR finder one past its stop rule.  The schedule is not stepped and
        no step is counted; :meth:`step` does both around this.
        """
        if lr is not None:
            for group in self.optimizer.param_groups:
                group["lr"] = float(lr)
        rate = self.lr
        idx = self.next_batch()
        x, y = self.data.x_train[idx], self.data.y_train[idx]
        batch = self.augmenter(x, y) if self.augmenter is not None else None
        if batch is not None:
            x = batch.x
        if self._stochastic:
            outer = torch.get_rng_state()
            torch.set_rng_state(self._rng_state)
        with self.autocast():
            logits = self.model(x)
            loss = batch.loss(logits) if batch is not None else F.cross_entropy(logits, y)
        if self._stochastic:
            self._rng_state = torch.get_rng_state()
            torch.set_rng_state(outer)
        loss_value = loss.item()
        wanted = accept(loss_value) if accept is not None else True
        if not (math.isfinite(loss_value) and wanted):
            return TrainStep(rate, loss_value, math.nan, False, False)
        self._zero_grad()
        loss.backward()
        norm = torch.linalg.vector_norm(self._grads).item()
        if not math.isfinite(norm):
            return TrainStep(rate, loss_value, norm, False, False)
        clip = self.experiment.train.grad_clip
        clipped = clip is not None and norm > clip
        if clipped and clip is not None:   # (the second test only tells mypy what the first implies)
            # torch's own scaling, g <- g * min(1, c / (||g|| + 1e-6)), given the norm we measured
            torch.nn.utils.clip_grads_with_norm_(self._params, clip, torch.tensor(norm))
        self.optimizer.step()
        return TrainStep(rate, loss_value, norm, clipped, True)

    def _train_step(self) -> list[Event]:
        """:meth:`train_step` as a step of the run: counted, judged for divergence, scheduled, measured."""
        train = self.experiment.train
        done = self.train_step(accept=lambda loss: loss <= self._loss_ceiling)
        self.step_count += 1
        lr, loss_value, norm = done.lr, done.loss, done.grad_norm
        if not math.isfinite(loss_value):
            return self._diverge(lr, loss_value, math.nan, "the loss became non-finite")
        if loss_value > self._loss_ceiling:
            return self._diverge(lr, loss_value, math.nan,
                                 f"the loss {loss_value:.3g} exceeded {train.divergence_factor:g}x its start")
        if not done.updated:
            return self._diverge(lr, loss_value, norm, "the gradient became non-finite")
        if self.schedule.active:
            self.schedule.step()

        events: list[Event] = [StepEvent(self.step_count, self.epoch, lr, loss_value, norm, done.clipped)]
        last = self.step_count >= self.total_steps
        do_eval = last or self.step_count % train.eval_every == 0
        do_hist = bool(train.histogram_every) and (last or self.step_count % train.histogram_every == 0)
        if do_eval or do_hist:
            events += self._measure(self._snapshot(), do_eval, do_hist)
        if last:
            self.status = RunStatus.FINISHED
        return events

    def _broken_start(self, loss: float, chance: float) -> str:
        """Why the untrained network is already diverged (``""`` when it is not): the absolute test.

        Divergence is otherwise measured against the starting loss, so a network whose loss is 4e12
        from step 0 (``init_std`` 1e4) would never count as diverged.  Chance level is
        ``ln C`` (a uniform guess over C classes); a start above ``divergence_factor * ln C`` (the
        same factor as the relative test, 1000 by default: ln 2 * 1000 = 693 for two classes) means
        the true class gets probability ``C^-factor`` on average, which no training from there is
        worth watching.  ``divergence_factor`` ``None`` turns this test off too.
        """
        factor = self.experiment.train.divergence_factor
        if not factor:
            return ""
        if not math.isfinite(loss):
            return "the starting loss is non-finite"
        if loss > factor * chance:
            return (f"the starting loss {loss:.3g} is over {factor:g}x the chance-level loss "
                    f"ln {self.data.n_classes} = {chance:.3g}")
        return ""

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

    def _diverge(self, lr, loss, norm, why) -> list[Event]:
        """Stop before a non-finite value reaches the weights; the weights stay the last finite ones."""
        self.status = RunStatus.DIVERGED
        self._diverged_what = why
        return [StepEvent(self.step_count, self.epoch, lr, loss, norm, False)]

    def _end_message(self) -> str:
        if self.status == RunStatus.DIVERGED:
            return f"diverged at step {self.step_count} (lr {self.lr:.3g}): {self._diverged_what}"
        return f"finished {self.step_count} steps" + "".join(f"; {note}" for note in self.notes)

    # -- measurements -------------------------------------------------------------------------

    def _snapshot(self) -> _Snapshot:
        """Copies of what a measurement reads, taken at its tick."""
        with torch.no_grad():
            return _Snapshot(self.step_count, self.epoch, [p.detach().clone() for p in self._params],
                             [b.clone() for b in self.model.buffers()],
                             self._grads.clone() if self.step_count else None)

    @torch.no_grad()
    def _measure(self, snap: _Snapshot, do_eval: bool, do_hist: bool) -> list[Event]:
        """Load a snapshot into the shadow network, then evaluate and/or histogram it.

        Per-layer activation statistics are taken over the whole training set,
        during the evaluation's own forward pass when both fall on one tick
        (the default), so they cost nothing extra.
        """
        torch._foreach_copy_(self._shadow_params, snap.params)
        for buf, value in zip(self._shadow.buffers(), snap.buffers):
            buf.copy_(value)
        events: list[Event] = []
        recorder = _ActivationRecorder(self._probes) if do_hist else None
        with self.autocast():
            with recorder if recorder is not None else contextlib.nullcontext():
                train_loss, train_acc = self._loss_and_accuracy(self.data.x_train, self.data.y_train,
                                                                need_loss=do_eval)
            if do_eval:
                val_loss, val_acc = self._loss_and_accuracy(self.data.x_val, self.data.y_val)
                self.last_eval = EvalEvent(snap.step, snap.epoch, train_loss, train_acc, val_loss, val_acc)
                events.append(self.last_eval)
        if recorder is not None:   # do_hist
            grads = snap.grads
            layers = tuple(LayerHistogram(name, histogram(w),
                                          histogram(grads[offset:offset + n]) if grads is not None else None)
                           for name, w, offset, n in self._hist_slices)
            events.append(HistogramEvent(snap.step, layers, recorder.stats()))
        return events

    def _loss_and_accuracy(self, x: torch.Tensor, y: torch.Tensor, need_loss: bool = True) -> tuple[float, float]:
        total_loss = torch.zeros((), dtype=torch.float64)
        correct = torch.zeros((), dtype=torch.int64)
        for start in range(0, len(y), EVAL_CHUNK):
            xb, yb = x[start:start + EVAL_CHUNK], y[start:start + EVAL_CHUNK]
            logits = self._shadow(xb)
            if need_loss:
                logits = logits.float()
                total_loss += F.cross_entropy(logits, yb, reduction="sum").double()
                correct += (logits.argmax(1) == yb).sum()
        return total_loss.item() / len(y), correct.item() / len(y)

    def evaluate(self) -> EvalEvent:
        """Evaluate the current weights now."""
        event = self._measure(self._snapshot(), True, False)[0]
        assert isinstance(event, EvalEvent)
        return event

    def histograms(self) -> HistogramEvent:
        """Histogram the current weights and gradients now."""
        event = self._measure(self._snapshot(), False, True)[0]
        assert isinstance(event, HistogramEvent)
        return event

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> np.ndarray:
        """Class probabilities for ``x`` in eval mode: the decision-boundary view draws these."""
        was_training = self.model.training
        self.model.eval()
        try:
            with self.autocast():
                probs = torch.softmax(self.model(x).float(), dim=1)
        finally:
            self.model.train(was_training)
        return probs.numpy()


class _ActivationRecorder:
    """Forward hooks that accumulate each layer's activation mean and std over every batch seen."""

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


@dataclass(frozen=True)
class _Snapshot:
    step: int
    epoch: float
    params: list[torch.Tensor]
    buffers: list[torch.Tensor]
    grads: torch.Tensor | None      # the flat gradient, None before the first step


_UNIT_EDGES = np.linspace(0.0, 1.0, HIST_BINS + 1)


def histogram(tensor: torch.Tensor, bins: int = HIST_BINS) -> Histogram:
    """Counts over the tensor's own range; non-finite values are left out of the counts.

    Done in numpy on a zero-copy view with one ``bincount``, because this runs
    for every layer on every histogram tick and numpy's per-call cost is a
    fraction of torch's on arrays this small.
    """
    a = tensor.detach().float().reshape(-1).numpy()
    lo, hi = float(a.min()), float(a.max())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        a = a[np.isfinite(a)]
        if a.size == 0:
            return Histogram(np.zeros(bins, dtype=np.int64), np.linspace(-1.0, 1.0, bins + 1), math.nan, math.nan)
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:  # e.g. the zeros init: centre one-unit-wide bins on the value
        lo, hi = lo - 0.5, hi + 0.5
    index = ((a - lo) * (bins / (hi - lo))).astype(np.intp)
    np.minimum(index, bins - 1, out=index)  # the maximum belongs to the last bin
    counts = np.bincount(index, minlength=bins)
    mean = float(a.mean(dtype=np.float64))
    centred = a - mean
    std = math.sqrt(float(np.dot(centred, centred)) / a.size)
    unit = _UNIT_EDGES if bins == HIST_BINS else np.linspace(0.0, 1.0, bins + 1)
    return Histogram(counts.astype(np.int64, copy=False), lo + (hi - lo) * unit, mean, std)


def warm_up() -> None:
    """Build and step one tiny optimizer so torch's lazy imports (its compiler stack, ~3 s) happen now.

    The GUI calls this in the background at start, so the first real run starts at once.
    """
    param = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.Adam([param])
    (param ** 2).sum().backward()
    opt.step()
