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

The parts a run is made of live beside it, one module each: ``batches`` (the
seeded batch order, BatchNorm's last-batch rule), ``gradients`` (the flat
gradient buffer), ``divergence`` (when a run has diverged), ``measurements``
(snapshots measured on a shadow network) and ``histograms``.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from engine.config import Experiment, steps_per_epoch
from engine.data.augment import Augmenter
from engine.data.datasets import DataSplit, load_data
from engine.experiment import resolve
from engine.model.models import build_model
from engine.model.precision import Precision
from engine.optim.optimizers import build_optimizer
from engine.optim.rates import effective_rates
from engine.optim.schedules import LRSchedule
from engine.status import RunStatus
from engine.training.batches import MERGE_NOTE, BatchOrder, batch_norm_merge
from engine.training.divergence import DivergenceCheck, numeric_failure
from engine.training.ending import Driven, error_line
from engine.training.events import EvalEvent, Event, FinalEvent, HistogramEvent, StepEvent
from engine.training.gradients import FlatGradients
from engine.training.measurements import ShadowNetwork, Snapshot


@dataclass(frozen=True)
class TrainStep:
    """What one :meth:`Trainer.train_step` did."""
    lr: float               # the rate it stepped with (param group 0's)
    loss: float             # the mini-batch loss, before the update
    grad_norm: float        # ||g|| before clipping; NaN when no backward ran
    clipped: bool
    updated: bool           # the optimizer stepped: False when the loss (or gradient) was non-finite or refused
    skipped: bool = False   # fp16's loss scaler skipped the step (inf/NaN gradients): not divergence


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
    precision: dict | None = None     # the loss scaler's state (fp16 with dynamic scaling)


class Trainer(Driven):
    """One run of one experiment.

    ``data`` may be passed in when several trainers share a dataset (it is
    read-only); otherwise it is loaded from the experiment.

    Measurements (evaluation on the full sets, histograms, activation
    statistics) are taken on a *snapshot*: weights, buffers and gradients are
    copied at their tick into a shadow copy of the network kept in eval mode
    (:class:`~engine.training.measurements.ShadowNetwork`), so measuring never
    changes training (no dropout draws, no BatchNorm running-statistic updates).
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
        self._merge_last = batch_norm_merge(self.model, n_train, exp.train.batch_size)
        if self._merge_last:
            self.steps_per_epoch = n_train // exp.train.batch_size
            if exp.train.epochs is not None:
                self.total_steps = exp.train.epochs * self.steps_per_epoch
        self._stochastic = any(isinstance(m, torch.nn.Dropout) and m.p > 0 for m in self.model.modules())
        self._params = list(self.model.parameters())
        self._grads = FlatGradients(self._params)   # every .grad a view into one buffer
        self.optimizer = build_optimizer(self._params, exp.optimizer)
        self.schedule = LRSchedule(self.optimizer, exp.schedule, self.total_steps)
        self._batches = BatchOrder(n_train, exp.train.batch_size, exp.seed, self._merge_last)
        # Training batches only; its own seeded generators, so the batch order is the same with or without.
        self.augmenter = Augmenter(exp.augment, self.data.kind, exp.seed) if exp.augment.active else None
        self.precision = Precision(exp.train.precision, exp.train.loss_scale)
        self.autocast = self.precision.autocast

        # Measurements run on a shadow copy of the network, loaded from a snapshot of the weights.
        self._shadow = ShadowNetwork(self.model)

        self.step_count = 0
        self.status: str | None = None       # set when the run has ended
        self.elapsed = 0.0
        self.last_eval: EvalEvent | None = None
        self.final: FinalEvent | None = None
        self._divergence = DivergenceCheck(exp.train.divergence_factor, self.data.n_classes)
        self._diverged_what = ""

    @property
    def notes(self) -> tuple[str, ...]:
        """What the trainer changed of the experiment as given, one line each (empty when nothing)."""
        if self._merge_last:
            return (MERGE_NOTE,)
        return ()

    # -- driving ------------------------------------------------------------------------------

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
            broken = self._divergence.start(self.last_eval.train_loss)   # sets the loss ceiling too
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

    def stop(self) -> list[Event]:
        """End the run early at the user's request; returns ``[FinalEvent]`` (an empty list if already ended)."""
        if self.done:
            return []
        return [self._finish(RunStatus.STOPPED, f"stopped by the user at step {self.step_count}")]

    def fail(self, err: BaseException) -> list[Event]:
        """End the run because something raised; the message is one line for the user."""
        if self.done:
            return []
        return [self._finish(RunStatus.ERROR, error_line(err))]

    # -- saving and restoring ---------------------------------------------------------------------

    def save_state(self) -> "TrainerState":
        """A copy of everything a training step changes (augmentation draws too), so a detour (the LR
        finder's sweep on this very network) can be undone bit for bit with :meth:`load_state`."""
        return TrainerState(
            weights=copy.deepcopy(self.model.state_dict()),
            grads=tuple(p.grad for p in self._params),
            flat_grads=self._grads.flat.clone(),
            optimizer=copy.deepcopy(self.optimizer.state_dict()),
            schedule=copy.deepcopy(self.schedule.state_dict()),
            batches=self._batches.generator.get_state(),
            order=self._batches.order.clone(),
            cursor=self._batches.cursor,
            dropout_rng=self._rng_state.clone(),
            training=self.model.training,
            augment=self.augmenter.get_state() if self.augmenter is not None else None,
            precision=copy.deepcopy(self.precision.state_dict()))

    def load_state(self, state: "TrainerState") -> None:
        """Back to ``state``: weights and buffers in place (the optimizer keeps its parameters), the
        gradients as views of the flat buffer again, optimizer, schedule, batch order, dropout draws."""
        with torch.no_grad():
            self.model.load_state_dict(state.weights)
            self._grads.flat.copy_(state.flat_grads)
        for p, g in zip(self._params, state.grads):
            p.grad = g
        self.optimizer.load_state_dict(state.optimizer)
        self.schedule.load_state_dict(state.schedule)
        self._batches.generator.set_state(state.batches)
        self._batches.order, self._batches.cursor = state.order.clone(), state.cursor
        self._rng_state = state.dropout_rng.clone()
        self.model.train(state.training)
        if self.augmenter is not None and state.augment is not None:
            self.augmenter.set_state(state.augment)
        self.precision.load_state_dict(copy.deepcopy(state.precision))

    def resume(self, state: "TrainerState", step: int, start_loss: float) -> None:
        """Continue, in this fresh trainer, a run saved by :meth:`save_state` after ``step`` steps, as if this
        trainer had taken them: :meth:`load_state`, then the two things a state does not hold, the step count
        (so the schedule's horizon, the evaluation ticks and the end come at the run's own steps, and step 0's
        measurement is not taken again) and the divergence ceiling, ``divergence_factor * max(L0, ln C)`` from
        ``start_loss``, the untrained network's training loss ``L0`` (what step 0 set in the saved run).

        The optimizer's settings (``lr`` too) and the schedule's state are the saved run's, as
        ``optimizer.load_state_dict`` restores them: a caller that wants other ones (PBT's explored rate,
        engine/labs/search/pbt_member.py) sets them after.  The state's tensors are loaded as given
        (``load_state`` keeps tensors that already fit): pass a copy when another trainer may load the same
        state.  Raises ValueError when ``step`` is not in
        ``0 .. total_steps``."""
        if not 0 <= step <= self.total_steps:
            raise ValueError(f"resume at step {step}: this run has 0 to {self.total_steps} steps")
        self.load_state(state)
        self.step_count = step
        self._divergence.start(start_loss)

    @property
    def dropout_rng(self) -> torch.Tensor:
        """The state of the run's own generator for dropout (it is not the global one)."""
        return self._rng_state

    # -- one step -----------------------------------------------------------------------------

    def next_batch(self) -> torch.Tensor:
        """Indices of the next mini-batch: a fresh seeded permutation each epoch, last batch partial
        (a last batch of one merged into the one before when the model has BatchNorm)."""
        return self._batches.next()

    def train_step(self, lr: float | None = None, accept: Callable[[float], bool] | None = None) -> TrainStep:
        """One mini-batch update: the training step every caller trains with, and nothing around it.

        The next batch (augmented as training sees it), the forward pass under the run's precision
        with the run's own dropout draws, the loss; then, if the loss is finite and
        ``accept(loss)`` agrees, ``backward()``, the gradient norm ``||g||``, clipping to
        ``train.grad_clip`` (``g <- g * c / (||g|| + 1e-6)`` when ``||g|| > c``) and the
        optimizer's step.  A non-finite gradient is not stepped on either.  With fp16's loss scaling
        (:mod:`engine.model.precision`) backward runs on ``S * loss`` and the gradients are divided by
        ``S`` before the norm; a non-finite one then makes the scaler skip the step and halve ``S``
        (``skipped``: the run goes on).  ``lr``, when given, is
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
        self._grads.zero()
        self.precision.backward(loss)
        self.precision.unscale(self.optimizer)
        norm = self._grads.norm()
        if not math.isfinite(norm):
            skipped = self.precision.scaler is not None and not self.precision.step(self.optimizer)
            return TrainStep(rate, loss_value, norm, False, False, skipped)
        clip = self.experiment.train.grad_clip
        clipped = clip is not None and norm > clip
        if clipped and clip is not None:   # (the second test only tells mypy what the first implies)
            # torch's own scaling, g <- g * min(1, c / (||g|| + 1e-6)), given the norm we measured
            torch.nn.utils.clip_grads_with_norm_(self._params, clip, torch.tensor(norm))
        stepped = self.precision.step(self.optimizer)
        return TrainStep(rate, loss_value, norm, clipped, stepped, not stepped)

    def _train_step(self) -> list[Event]:
        """:meth:`train_step` as a step of the run: counted, judged for divergence, scheduled, measured."""
        train = self.experiment.train
        upcoming = self.step_count + 1
        hist_next = bool(train.histogram_every) and (upcoming >= self.total_steps
                                                      or upcoming % train.histogram_every == 0)
        # a histogram tick measures what the step did to the weights: keep them from before it
        before = [p.detach().clone() for p in self._params] if hist_next else None
        done = self.train_step(accept=self._divergence.accept)
        self.step_count += 1
        lr, loss_value, norm = done.lr, done.loss, done.grad_norm
        why = self._divergence.step_failure(loss_value, done.updated or done.skipped)
        if why:   # (a refused loss ran no backward: its norm is NaN already)
            return self._diverge(lr, loss_value, norm, why)
        if self.schedule.active:
            self.schedule.step()

        events: list[Event] = [StepEvent(self.step_count, self.epoch, lr, loss_value, norm, done.clipped)]
        last = self.step_count >= self.total_steps
        do_eval = last or self.step_count % train.eval_every == 0
        do_hist = bool(train.histogram_every) and (last or self.step_count % train.histogram_every == 0)
        if do_eval or do_hist:
            events += self._measure(self._snapshot(before if do_hist else None), do_eval, do_hist)
        if last:
            self.status = RunStatus.FINISHED
        return events

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

    def _snapshot(self, before: list[torch.Tensor] | None = None) -> Snapshot:
        """Copies of what a measurement reads, taken at its tick; ``before``, the weights before the tick's
        step, with the optimizer's effective rates when given (a histogram tick)."""
        with torch.no_grad():
            return Snapshot(self.step_count, self.epoch, [p.detach().clone() for p in self._params],
                            [b.clone() for b in self.model.buffers()],
                            self._grads.flat.clone() if self.step_count else None,
                            before, effective_rates(self.optimizer, self._params) if before is not None else None)

    def _measure(self, snap: Snapshot, do_eval: bool, do_hist: bool) -> list[Event]:
        """Measure ``snap`` on the shadow network (:mod:`engine.training.measurements`); keep its evaluation."""
        events = self._shadow.measure(snap, self.data, self.autocast, do_eval, do_hist)
        self.last_eval = next((e for e in events if isinstance(e, EvalEvent)), self.last_eval)
        return events

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


def warm_up() -> None:
    """Build and step one tiny optimizer so torch's lazy imports (its compiler stack, ~3 s) happen now.

    The GUI calls this in the background at start, so the first real run starts at once.
    """
    param = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.Adam([param])
    (param ** 2).sum().backward()
    opt.step()
