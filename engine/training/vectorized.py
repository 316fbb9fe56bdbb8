"""A run of ``train.seeds: K`` members as one vectorized computation (issue 13).

Member ``k`` is, to float32 rounding, the single run ``Trainer(experiment.replace(seed=seed + k,
train={"seeds": 1}), data)`` on the run's shared data (``engine.training.members``).  Where
:class:`~engine.training.members.SequentialMembers` pays a training step's Python and dispatch overhead K
times, this pays it once: on these small networks a step is almost all overhead (a 2-16-16-2 MLP step is
~60k floating-point operations, a microsecond of arithmetic, and takes ~0.5 ms), so K members cost little
more than one.

How each part of a single run's step is kept per member:

* initial weights: each member's network is built exactly as its run builds it (``torch.manual_seed(seed
  + k)`` under ``fork_rng``), then stacked (:class:`~engine.training.vector_network.StackedNetwork`);
* batches, augmentation, the loss: :mod:`engine.training.vector_data`; dropout masks from each member's
  own generator, started where its run's is (the global generator's state after building its network);
* gradient norms, clipping, the optimizer and the schedule: :mod:`engine.training.vector_optim`;
* the divergence tests: one :class:`~engine.training.divergence.DivergenceCheck` per member.  A member
  that diverges ends as its run ends (the step refused, its weights the last finite ones): its slice of
  the stacked parameters and buffers is frozen from then on (put back after every step), it reports its
  own ``FinalEvent`` once and then nothing, and the others go on;
* measurements: :mod:`engine.training.vector_measure`, in eval mode under ``no_grad``.

The events are those of :class:`~engine.training.members.SequentialMembers`: per point one
``MembersEvent`` per kind, holding each reporting member's own single-run event; the run ends with one
plain ``FinalEvent``.  :func:`vectorizable` says which experiments this trainer takes (the factory
``trainer_for`` falls back to the sequential members for the rest).
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch

from engine.config import DataKind, Experiment, steps_per_epoch
from engine.data.augment import Augmenter
from engine.data.datasets import DATASETS, DataSplit, load_data
from engine.experiment import resolve
from engine.model.models import MODELS, build_model
from engine.model.precision import autocast_for
from engine.status import RunStatus
from engine.training.batches import MERGE_NOTE, batch_norm_merge
from engine.training.divergence import DivergenceCheck, numeric_failure
from engine.training.ending import Driven, error_line
from engine.training.events import EvalEvent, Event, FinalEvent, MembersEvent, StepEvent
from engine.training.members import run_status
from engine.training.updates import mean_eval
from engine.training.vector_data import MemberBatches, member_batch
from engine.training.vector_measure import measure_members
from engine.training.vector_network import ForwardContext, StackedNetwork, unsupported_layer
from engine.training.vector_optim import MemberOptimizers, StackedGradients


def vectorizable(experiment: Experiment) -> str | None:
    """None when :class:`VectorizedMembers` trains ``experiment`` exactly; else one line why not.

    Every optimizer, schedule, init, norm, activation, dropout, augmentation, clipping and precision
    setting of an mlp is supported but fp16 (``train.precision``); the cnn is not yet (its stacked layers are built, but a grouped
    convolution is equal to each member's only to ~1e-6, not bit for bit), nor a network layer with no
    batched form (a layer type added to the model registry later).

    fp16 is left to the sequential members: its loss scale is one number per run that halves when that
    run's gradient overflows, so K members need K scales, and one stacked backward of ``S * loss`` has one;
    each sequential member is its own Trainer with its own scaler."""
    if experiment.train.precision == "fp16":
        return ("train.precision fp16: each member's loss scale moves on its own overflows, and the stacked "
                "backward has one scale")
    if experiment.model.kind == "cnn":
        return ("model.kind cnn: a grouped convolution adds in another order than each member's own, and a "
                "bias before BatchNorm (gradient 0 but for rounding) makes that visible")
    image = DATASETS[experiment.data.dataset].kind == DataKind.IMAGE if experiment.data.dataset in DATASETS \
        else MODELS[experiment.model.kind].needs_image
    with torch.random.fork_rng(devices=[]):
        try:
            model = build_model(experiment.model, (1, 8, 8) if image else (2,), 2)
        except ValueError as err:
            return str(err).splitlines()[0]
    layer = unsupported_layer(model)
    return None if layer is None else f"layer {layer} has no batched form in the vectorized members"


class VectorizedMembers(Driven):
    """K members of seeds ``seed + k`` trained as one stacked network (see the module's docstring)."""

    def __init__(self, experiment: Experiment, data: DataSplit | None = None):
        self.experiment = resolve(experiment)
        exp = self.experiment
        if exp.train.precision == "fp16":
            raise ValueError(f"{vectorizable(exp)}: train the members sequentially")
        self.K = K = exp.train.seeds
        self.seeds = tuple(exp.seed + k for k in range(K))
        self.data = data if data is not None else load_data(exp.data, exp.seed)
        n_train = len(self.data.y_train)
        self.total_steps = exp.total_steps(n_train)
        self.steps_per_epoch = steps_per_epoch(n_train, exp.train.batch_size)
        models, dropout_states = [], []
        for seed in self.seeds:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                models.append(build_model(exp.model, self.data.input_shape, self.data.n_classes))
                dropout_states.append(torch.get_rng_state())
        self._merge_last = batch_norm_merge(models[0], n_train, exp.train.batch_size)
        if self._merge_last:
            self.steps_per_epoch = n_train // exp.train.batch_size
            if exp.train.epochs is not None:
                self.total_steps = exp.train.epochs * self.steps_per_epoch
        stochastic = any(isinstance(m, torch.nn.Dropout) and m.p > 0 for m in models[0].modules())
        self._dropout = [torch.Generator().set_state(s) for s in dropout_states] if stochastic else None
        self.net = StackedNetwork(models, self.data.input_shape)
        self._grads = StackedGradients(self.net.params)
        self.optimizers = MemberOptimizers(self.net.params, self._grads, exp, self.total_steps)
        self._batches = MemberBatches(n_train, exp.train.batch_size, self.seeds, self._merge_last)
        self.augmenters = ([Augmenter(exp.augment, self.data.kind, s) for s in self.seeds]
                           if exp.augment.active else None)
        self.autocast = autocast_for(exp.train.precision)
        self._checks = [DivergenceCheck(exp.train.divergence_factor, self.data.n_classes) for _ in range(K)]
        self._status: list[str | None] = [None] * K
        self._why = [""] * K
        self._end_step: dict[int, int] = {}        # the step and rate each member ended at
        self._end_lr: dict[int, float] = {}
        self._ending: list[int] = []               # members that ended in this step()
        self._member_loss: dict[int, float] = {}   # each member's last evaluated training loss
        self._ended: list[int] = []                # members whose slices are frozen (diverged)
        self._frozen: list[torch.Tensor] = []
        self.step_count = 0
        self.status: str | None = None
        self.final: FinalEvent | None = None
        self.elapsed = 0.0
        self.last_eval: EvalEvent | None = None

    # -- the interface of every member trainer ------------------------------------------------------

    @property
    def notes(self) -> tuple[str, ...]:
        if self._merge_last:
            return (MERGE_NOTE,)
        return ()

    @property
    def lr(self) -> float:
        return self.optimizers.lr

    @property
    def epoch(self) -> float:
        return self.step_count / self.steps_per_epoch

    @property
    def member_status(self) -> tuple[str, ...]:
        """Each member's status: ``running`` while it trains, then its own final one."""
        return tuple(s or RunStatus.RUNNING for s in self._status)

    def step(self) -> list[Event]:
        """One step of every member still training; their events grouped per point, then, once every
        member has ended, the run's FinalEvent."""
        if self.done:
            return []
        started = time.perf_counter()
        events: list[Event] = []
        if self.step_count == 0:
            events += self._start()
        if self._live():
            events += self._train_step()
        self.elapsed += time.perf_counter() - started
        if self._ending:
            ends = sorted(self._ending)
            events.append(MembersEvent(tuple(ends), tuple(self._member_final(k) for k in ends)))
            self._ending = []
        if all(s is not None for s in self._status):
            events.append(self._finish(*run_status(self.member_status, self.step_count, self.notes)))
        return events

    def stop(self) -> list[Event]:
        """End the run (every member still training) at the user's request: ``[FinalEvent]``."""
        if self.done:
            return []
        self._status = [s or RunStatus.STOPPED for s in self._status]
        return [self._finish(RunStatus.STOPPED, f"stopped by the user at step {self.step_count}")]

    def fail(self, err: BaseException) -> list[Event]:
        """End the run because something raised: one line."""
        if self.done:
            return []
        self._status = [s or RunStatus.ERROR for s in self._status]
        return [self._finish(RunStatus.ERROR, error_line(err))]

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> np.ndarray:
        """Each member's class probabilities for ``x`` in eval mode: shape (K, n, classes)."""
        with self.autocast():
            logits = self.net.forward(x, ForwardContext(False))
        return torch.softmax(logits.float(), dim=2).numpy()

    def member_state(self, k: int) -> dict[str, torch.Tensor]:
        """Member ``k``'s weights and buffers by name (copies), as its run's ``model.state_dict()``."""
        return {name: t.detach().clone() for name, t in self.net.member_tensors(k).items()}

    # -- one step ---------------------------------------------------------------------------------

    def _live(self) -> list[int]:
        return [k for k, s in enumerate(self._status) if s is None]

    def _start(self) -> list[Event]:
        """Step 0: every member's untrained network measured; a member whose start is broken ends here."""
        hist = self.experiment.train.histogram_every > 0
        events = self._measure(list(range(self.K)), True, hist)
        assert self.last_eval is not None
        evals = events[0]
        assert isinstance(evals, MembersEvent)
        for k, event in zip(evals.members, evals.events):
            assert isinstance(event, EvalEvent)
            broken = self._checks[k].start(event.train_loss)
            if broken:
                self._end(k, RunStatus.DIVERGED, self.lr, broken)
        return events

    def _end(self, k: int, status: str, lr: float, why: str = "") -> None:
        """Member k ends now, at this step and rate; a diverged member's slices are frozen as they are."""
        self._status[k], self._why[k] = status, why
        self._end_step[k], self._end_lr[k] = self.step_count, lr
        self._ending.append(k)
        if status == RunStatus.DIVERGED:
            self._freeze([k])

    def _member_final(self, k: int) -> FinalEvent:
        """Member k's own FinalEvent, as its run's ``Trainer._finish`` words it."""
        status = self._status[k]
        assert status is not None
        if status == RunStatus.DIVERGED:
            message = f"diverged at step {self._end_step[k]} (lr {self._end_lr[k]:.3g}): {self._why[k]}"
        else:
            message = f"finished {self._end_step[k]} steps" + "".join(f"; {n}" for n in self.notes)
        steps = self._end_step[k]
        rate = steps / self.elapsed if self.elapsed > 0 else 0.0
        return FinalEvent(status, steps, steps / self.steps_per_epoch, self._end_lr[k], message, self.elapsed, rate)

    def _train_step(self) -> list[Event]:
        """Every live member's step, as :meth:`Trainer._train_step` takes it, in one batched pass."""
        live = self._live()
        rate = self.lr
        train = self.experiment.train
        upcoming = self.step_count + 1
        hist_next = bool(train.histogram_every) and (upcoming >= self.total_steps
                                                      or upcoming % train.histogram_every == 0)
        # a histogram tick measures what the step did to the weights: keep them from before it
        before = [p.detach().clone() for p in self.net.params] if hist_next else None
        losses, norms, clipped, failed = self._update(live)
        self._restore()
        self.step_count += 1
        step, epoch = self.step_count, self.epoch
        steps: list[tuple[int, StepEvent]] = []
        going = []
        for k in live:
            if k in failed:
                losses[k] = norms[k] = math.nan
            why = failed.get(k) or self._checks[k].step_failure(losses[k], math.isfinite(norms[k]))
            if why:
                self._end(k, RunStatus.DIVERGED, rate, why)
                steps.append((k, StepEvent(step, epoch, rate, losses[k], norms[k], False)))
            else:
                going.append(k)
                steps.append((k, StepEvent(step, epoch, rate, losses[k], norms[k], clipped[k])))
        if going:
            self.optimizers.schedule_step()
        events: list[Event] = [MembersEvent(tuple(k for k, _ in steps), tuple(e for _, e in steps))]
        last = step >= self.total_steps
        do_eval = last or step % train.eval_every == 0
        do_hist = bool(train.histogram_every) and (last or step % train.histogram_every == 0)
        if going and (do_eval or do_hist):
            events += self._measure(going, do_eval, do_hist, before if do_hist else None)
        if last:
            for k in going:
                self._end(k, RunStatus.FINISHED, self.lr)
                if not math.isfinite(self._member_loss.get(k, 0.0)):
                    self._status[k], self._why[k] = RunStatus.DIVERGED, "the weights became non-finite"
        return events

    def _update(self, live: list[int]) -> tuple[list[float], list[float], list[bool], dict[int, str]]:
        """Batch, forward, loss, backward, norms, clipping and the optimizers' step for every member;
        returns each member's loss, gradient norm (NaN where no backward would have run), whether it
        was clipped, and ``{k: why}`` for members whose step failed in the arithmetic."""
        K = self.K
        nan = [math.nan] * K
        try:
            idx = self._batches.next()
            batch = member_batch(self.data.x_train[idx], self.data.y_train[idx], self.augmenters)
            with self.autocast():
                logits = self.net.forward(batch.x, ForwardContext(True, self._dropout))
                member_losses = batch.losses(logits)
                losses = batch.reported(logits)
            accepted = [math.isfinite(losses[k]) and self._checks[k].accept(losses[k]) for k in range(K)]
            norms, clipped = list(nan), [False] * K
            if not any(accepted[k] for k in live):
                return losses, norms, clipped, {}
            self._grads.zero()
            member_losses.sum().backward()
            norm = self._grads.norms()
            norms = [n if ok else math.nan for n, ok in zip(norm.tolist(), accepted)]
            clip = self.experiment.train.grad_clip
            if clip is not None:
                clipped = self._grads.clip(norm, clip).tolist()
            update = [k in live and math.isfinite(n) for k, n in enumerate(norms)]
            self._freeze([k for k in live if not update[k]])   # refused: the weights before this step
            failed = self.optimizers.step(update)
        except Exception as err:  # from the numbers: every live member diverged; anything else is a bug
            why = numeric_failure(err)
            if why is None:
                raise
            return list(nan), list(nan), [False] * K, {k: why for k in live}
        return losses, norms, clipped, failed

    def _freeze(self, members: list[int]) -> None:
        """Record ``members``' slices of every stacked parameter and buffer as they are now: from here on
        :meth:`_restore` puts them back after every step, so each stays as its single run ended."""
        new = [k for k in members if k not in self._ended]
        if not new:
            return
        tensors = self.net.params + self.net.buffers
        with torch.no_grad():
            if not self._frozen:
                self._frozen = [t.detach().clone() for t in tensors]
            index = torch.tensor(new)
            for saved, t in zip(self._frozen, tensors):
                saved[index] = t.detach()[index]
        self._ended += new

    def _restore(self) -> None:
        """Put every frozen member's slices back (the stacked optimizer and the forward pass moved them)."""
        if not self._ended:
            return
        index = torch.tensor(self._ended)
        with torch.no_grad():
            for saved, t in zip(self._frozen, self.net.params + self.net.buffers):
                t.detach()[index] = saved[index]

    # -- measurements ------------------------------------------------------------------------------

    def _measure(self, members: list[int], do_eval: bool, do_hist: bool,
                 before: list[torch.Tensor] | None = None) -> list[Event]:
        """Measure ``members``; ``before``, the stacked weights before this tick's step (a histogram tick
        after step 0), with which each member's effective rates and step sizes are measured too."""
        grads = self._grads.views if self.step_count else None
        rates = self.optimizers.rates(members) if before is not None else None
        evals, hists = measure_members(self.net, self.data, self.autocast, self.step_count, self.epoch,
                                       grads, members, do_eval, do_hist, before, rates)
        events: list[Event] = []
        if evals:
            group = MembersEvent(tuple(evals), tuple(evals.values()))
            self.last_eval = mean_eval(group)
            self._member_loss.update({k: e.train_loss for k, e in evals.items()})
            events.append(group)
        if hists:
            events.append(MembersEvent(tuple(hists), tuple(hists.values())))
        return events
