"""fp16 with FP32 master weights and loss scaling (engine/model/precision.py), in the Trainer and the members.

The numbers: fp16's forward really is float16 while the weights stay float32; on the mixed-precision preset
the first step's weight gradients are exactly zero without scaling and mostly not with it (read from the
trainer's own ``.grad``); an overflow skips a step and halves the scale without ending the run; a resumed
fp16 run equals the uninterrupted one; K > 1 at fp16 runs as sequential members equal to their own runs.
"""
import math

import pytest
import torch

from engine.config import Experiment
from engine.lessons.presets import PRESETS
from engine.model.precision import FP16_FLOOR, PRECISIONS, Precision
from engine.status import RunStatus
from engine.training.events import StepEvent
from engine.training.members import SequentialMembers, member_experiment, trainer_for
from engine.training.trainer import Trainer
from engine.training.vectorized import VectorizedMembers, vectorizable


def short(precision="fp16", loss_scale="dynamic", steps=30, **sections) -> Experiment:
    return Experiment().replace(data={"n_train": 160, "n_val": 80},
                                train={"steps": steps, "eval_every": 10, "histogram_every": 0,
                                       "precision": precision, "loss_scale": loss_scale}, **sections)


def run(trainer) -> list:
    events = []
    while not trainer.done:
        events += trainer.step()
    return events


def weights(trainer) -> list[torch.Tensor]:
    return [p for p in trainer.model.parameters() if p.dim() == 2]


def weight_zero_fractions(trainer) -> list[float]:
    return [float((p.grad == 0).float().mean()) for p in weights(trainer)]


def test_the_registry_is_the_configs_choices():
    from engine.config import TrainConfig
    from engine.experiment import schema
    entries = {e.path: e for e in schema()}
    assert tuple(entries["train.precision"].allowed) == tuple(PRECISIONS)
    assert tuple(entries["train.loss_scale"].allowed) == ("dynamic", "none")
    assert TrainConfig().loss_scale == "dynamic"
    assert FP16_FLOOR == torch.finfo(torch.float16).smallest_normal * 2.0 ** -10   # the smallest subnormal


def test_fp16_runs_the_forward_in_float16_and_keeps_float32_master_weights():
    trainer = Trainer(short())
    with trainer.autocast():
        logits = trainer.model(trainer.data.x_train[:4])
    assert logits.dtype == torch.float16
    trainer.step(), trainer.step()
    assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in trainer.model.parameters())
    assert trainer.precision.scaler is not None and trainer.precision.scale == 2.0 ** 16
    assert Trainer(short(loss_scale="none")).precision.scaler is None
    assert Trainer(short(precision="bf16")).precision.scaler is None      # bf16 has fp32's exponent range


def test_the_presets_small_gradients_underflow_without_scaling_and_survive_with_it():
    """The preset's second step (the claim's): the first four layers' gradients, all below fp16's floor in
    fp32, are exactly zero without scaling and survive with it; the output layer's, larger, survive in both."""
    fp32, none, dynamic = (Trainer(exp) for exp in PRESETS["mixed-precision"].runs)
    for t in (fp32, none, dynamic):
        t.step(), t.step()       # step 0's measurement and the first training step; then the second
    deep = slice(0, 4)
    assert max(float(p.grad.abs().max()) for p in weights(fp32)[deep]) < FP16_FLOOR
    assert weight_zero_fractions(fp32) == [0.0] * 9
    assert weight_zero_fractions(none)[deep] == [1.0] * 4       # every one rounded to exactly zero
    assert max(weight_zero_fractions(dynamic)[deep]) <= 0.05
    assert weight_zero_fractions(none)[-1] == 0.0               # above the floor: kept without scaling too
    # with scaling, the small gradients are fp32's to fp16's rounding (10-bit mantissa; subnormals coarser)
    g32 = torch.cat([p.grad.flatten() for p in weights(fp32)[deep]])
    g16 = torch.cat([p.grad.flatten() for p in weights(dynamic)[deep]])
    assert torch.corrcoef(torch.stack([g32, g16]))[0, 1] > 0.99


def test_an_overflow_skips_the_step_halves_the_scale_and_the_run_goes_on():
    trainer = Trainer(short(steps=40))
    trainer.precision.scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 40)   # S * g overflows fp16
    first = trainer.step()          # step 0's measurement and the first step: skipped, S halved
    assert trainer.precision.scale == 2.0 ** 39 and trainer.status is None
    assert not math.isfinite(next(e for e in first if isinstance(e, StepEvent)).grad_norm)
    before = [p.detach().clone() for p in trainer.model.parameters()]
    events = trainer.step()
    step = next(e for e in events if isinstance(e, StepEvent))
    assert not math.isfinite(step.grad_norm) and trainer.status is None
    assert all(torch.equal(a, p) for a, p in zip(before, trainer.model.parameters()))   # not stepped
    assert trainer.precision.scale == 2.0 ** 38 and trainer.precision.skipped == 2
    run(trainer)
    assert trainer.status == RunStatus.FINISHED
    assert trainer.precision.scale <= 2.0 ** 24 and trainer.precision.skipped < 40   # lowered until they fit
    assert any(not torch.equal(a, p) for a, p in zip(before, trainer.model.parameters()))


def test_fp16_without_scaling_never_skips():
    trainer = Trainer(short(loss_scale="none", steps=12))
    run(trainer)
    assert trainer.status == RunStatus.FINISHED and trainer.precision.skipped == 0


def overflowing(exp: Experiment) -> Trainer:
    """A trainer whose scaler starts far too high, so its first steps are skipped: the scale is state."""
    trainer = Trainer(exp)
    trainer.precision.scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 30, growth_interval=4)
    return trainer


def test_a_resumed_fp16_run_equals_the_uninterrupted_one():
    exp = short(steps=30)
    whole = overflowing(exp)
    run(whole)
    first = overflowing(exp)
    for _ in range(13):
        first.step()
    assert first.precision.skipped > 0
    state, start = first.save_state(), first._divergence.ceiling / exp.train.divergence_factor
    second = overflowing(exp)
    second.resume(state, first.step_count, start)
    assert second.precision.scale == first.precision.scale
    run(second)
    for a, b in zip(whole.model.parameters(), second.model.parameters()):
        assert torch.equal(a, b)
    assert second.precision.scale == whole.precision.scale
    assert second.precision.skipped == whole.precision.skipped


def test_load_state_puts_the_scale_back():
    trainer = overflowing(short(steps=20))
    trainer.step(), trainer.step()
    state = trainer.save_state()
    scale = trainer.precision.scale
    for _ in range(6):
        trainer.step()
    assert trainer.precision.scale != scale
    trainer.load_state(state)
    assert trainer.precision.scale == scale


def test_k_seeds_at_fp16_are_sequential_members_equal_to_their_runs():
    exp = short(steps=20).replace(train={"seeds": 2})
    assert "train.precision" in (vectorizable(exp) or "")
    with pytest.raises(ValueError, match="train.precision fp16"):
        VectorizedMembers(exp)
    members = trainer_for(exp)
    assert isinstance(members, SequentialMembers)
    run(members)
    for k in range(2):
        alone = Trainer(member_experiment(exp, k), members.data)
        run(alone)
        for a, b in zip(alone.model.parameters(), members.trainers[k].model.parameters()):
            assert torch.equal(a, b)
    assert vectorizable(exp.replace(train={"precision": "bf16"})) is None


def test_precision_alone_steps_like_a_plain_loop_without_a_scaler():
    """Without a scaler backward/unscale/step are loss.backward() and optimizer.step()."""
    param = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.SGD([param], lr=0.5)
    precision = Precision("fp32")
    precision.backward((param * 2).sum())
    precision.unscale(opt)
    assert precision.step(opt) and torch.equal(param.detach(), torch.zeros(3))
    assert precision.state_dict() is None and precision.scale == 1.0
