"""The trainer: determinism, isolation between runs, divergence, clipping, events."""
import math

import numpy as np
import pytest
import torch

from engine.config import DataConfig, Experiment, ModelConfig, OptimizerConfig, TrainConfig
from engine.status import RunStatus
from engine.training.events import EvalEvent, FinalEvent, HistogramEvent, StepEvent
from engine.training.histograms import histogram
from engine.training.trainer import Trainer


def short(**sections) -> Experiment:
    base = Experiment().replace(train={"steps": 60, "eval_every": 20, "histogram_every": 30})
    return base.replace(**sections)


def run_all(trainer):
    events = []
    while not trainer.done:
        events.extend(trainer.step())
    return events


def numbers(events):
    """Every number of every event, in order, for bit-for-bit comparison."""
    out = []
    for e in events:
        if isinstance(e, HistogramEvent):
            for layer in e.layers:
                out += [layer.name, layer.weight.counts.tolist(), layer.weight.edges.tolist(), layer.weight.std]
            out += [(a.name, a.mean, a.std) for a in e.activations]
        elif isinstance(e, FinalEvent):
            out.append((e.status, e.step, e.lr))
        else:
            out.append(e)
    return out


def test_same_seed_same_numbers_bit_for_bit():
    exp = short(model={"dropout": 0.3, "norm": "batch"})
    assert numbers(run_all(Trainer(exp))) == numbers(run_all(Trainer(exp)))


def test_different_seed_different_numbers():
    a = [e.loss for e in run_all(Trainer(short())) if isinstance(e, StepEvent)]
    b = [e.loss for e in run_all(Trainer(short(seed=1))) if isinstance(e, StepEvent)]
    assert a != b


def test_interleaved_runs_do_not_disturb_each_other():
    """The GUI steps several runs in turn; dropout draws must stay each run's own."""
    exp_a, exp_b = short(model={"dropout": 0.5}), short(seed=3, model={"dropout": 0.2})
    alone_a, alone_b = numbers(run_all(Trainer(exp_a))), numbers(run_all(Trainer(exp_b)))
    ta, tb = Trainer(exp_a), Trainer(exp_b)
    ea, eb = [], []
    while not (ta.done and tb.done):
        ea += ta.step()
        torch.rand(7)  # someone else using the global generator in between
        eb += tb.step()
    assert numbers(ea) == alone_a and numbers(eb) == alone_b


def test_measuring_never_changes_training():
    """Histograms and evaluations on every step leave the trajectory as it was."""
    quiet = short(model={"dropout": 0.3, "norm": "batch"}).replace(train={"eval_every": 1000, "histogram_every": 0})
    busy = quiet.replace(train={"eval_every": 1, "histogram_every": 1})
    loss = lambda exp: [e.loss for e in run_all(Trainer(exp)) if isinstance(e, StepEvent)]
    assert loss(quiet) == loss(busy)


def test_event_sequence_and_counts():
    events = run_all(Trainer(short()))
    steps = [e for e in events if isinstance(e, StepEvent)]
    evals = [e for e in events if isinstance(e, EvalEvent)]
    hists = [e for e in events if isinstance(e, HistogramEvent)]
    assert [e.step for e in steps] == list(range(1, 61))
    assert [e.step for e in evals] == [0, 20, 40, 60]
    assert [e.step for e in hists] == [0, 30, 60]
    assert isinstance(events[-1], FinalEvent) and events[-1].status == RunStatus.FINISHED and events[-1].step == 60
    assert steps[12].epoch == pytest.approx(13 / 13)  # 400 examples / 32 = 13 batches an epoch


def test_histograms_describe_the_tensors():
    trainer = Trainer(short())
    first = trainer.step()
    hist0 = next(e for e in first if isinstance(e, HistogramEvent))
    assert [l.name for l in hist0.layers] == ["hidden1.linear.weight", "hidden2.linear.weight", "out.weight"]
    assert all(l.grad is None for l in hist0.layers)  # nothing applied yet at step 0
    w = trainer.model.hidden1.linear.weight.detach()
    layer = hist0.layers[0]
    # The step-0 histogram is of the initial weights; step 1 has since changed them, so rebuild them.
    init = Trainer(short()).model.hidden1.linear.weight.detach()
    assert layer.weight.counts.sum() == init.numel() and layer.weight.counts.dtype == np.int64
    assert layer.weight.edges[0] == pytest.approx(init.min().item())
    assert layer.weight.mean == pytest.approx(init.mean().item(), abs=1e-6)
    assert layer.weight.std == pytest.approx(init.std(unbiased=False).item(), rel=1e-5)
    assert [a.name for a in hist0.activations] == ["hidden1", "hidden2"]
    assert hist0.activations[0].mean >= 0  # ReLU output
    later = trainer.histograms()
    assert later.layers[0].grad.counts.sum() == w.numel()


def test_histogram_of_a_constant_and_of_garbage():
    h = histogram(torch.zeros(10))
    assert h.counts.sum() == 10 and h.edges[0] < 0 < h.edges[-1]
    h = histogram(torch.tensor([1.0, math.inf, math.nan, 2.0]))
    assert h.counts.sum() == 2 and h.mean == 1.5


def test_too_high_a_learning_rate_diverges_and_says_where():
    trainer = Trainer(Experiment(optimizer=OptimizerConfig(name="sgd", lr=50.0)))
    final = trainer.run()
    assert final.status == RunStatus.DIVERGED
    assert final.step < 10 and trainer.step_count == final.step
    assert final.message.startswith(f"diverged at step {final.step} (lr 50)")
    assert trainer.step() == []  # a diverged run takes no more steps
    for p in trainer.model.parameters():
        assert torch.isfinite(p).all()  # stopped before garbage reached the weights


def test_non_finite_loss_is_divergence_even_without_the_factor():
    exp = Experiment(optimizer=OptimizerConfig(name="sgd", lr=1e6), model=ModelConfig(hidden=(32, 32)),
                     train=TrainConfig(divergence_factor=None))
    final = Trainer(exp).run()
    assert final.status == RunStatus.DIVERGED and "non-finite" in final.message


def test_gradient_clipping_records_the_pre_clip_norm():
    exp = short(optimizer={"name": "sgd", "lr": 0.5}, train={"grad_clip": 0.05})
    trainer = Trainer(exp)
    steps = [e for e in run_all(trainer) if isinstance(e, StepEvent)]
    assert any(e.clipped for e in steps)
    assert all(e.clipped == (e.grad_norm > 0.05) for e in steps)
    # The pre-clip norm is the true norm: compare with an unclipped twin's first step.
    free = [e for e in Trainer(short(optimizer={"name": "sgd", "lr": 0.5})).step() if isinstance(e, StepEvent)]
    assert steps[0].grad_norm == free[0].grad_norm


def test_epochs_set_the_number_of_steps():
    trainer = Trainer(Experiment(data=DataConfig(n_train=100), train=TrainConfig(epochs=2, batch_size=30)))
    run_all(trainer)
    assert trainer.step_count == 8 and trainer.epoch == 2


def test_stop_and_error_end_the_run():
    trainer = Trainer(short())
    final = trainer.run(should_stop=lambda: trainer.step_count >= 5)
    assert final.status == RunStatus.STOPPED and final.step == 5
    broken = Trainer(short())
    broken.next_batch = lambda: 1 / 0
    final = broken.run()
    assert final.status == RunStatus.ERROR and final.message == "ZeroDivisionError: division by zero"


def test_bf16_autocast_runs_in_bfloat16_and_still_learns():
    exp = short(train={"precision": "bf16", "steps": 200})
    trainer = Trainer(exp)
    seen = []
    hook = trainer.model.hidden1.linear.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    run_all(trainer)
    hook.remove()
    assert torch.bfloat16 in seen
    assert trainer.last_eval.train_loss < 0.6  # starts near 0.95


def test_batchnorm_evaluates_with_running_statistics():
    trainer = Trainer(short(model={"norm": "batch"}))
    run_all(trainer)
    x = trainer.data.x_val[:5]
    alone = trainer.predict_proba(x[:1])
    together = trainer.predict_proba(x)
    np.testing.assert_allclose(alone[0], together[0], rtol=1e-6)
    assert trainer.model.training  # prediction hands the model back in train mode


def test_predict_proba_rows_are_distributions():
    trainer = Trainer(short())
    p = trainer.predict_proba(torch.randn(50, 2))
    assert p.shape == (50, 2)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-6)


def test_trains_a_cnn_on_digits():
    exp = Experiment(data=DataConfig(dataset="digits", n_train=300, n_val=200),
                     model=ModelConfig(kind="cnn", hidden=(32,)), train=TrainConfig(steps=150, eval_every=150))
    trainer = Trainer(exp)
    run_all(trainer)
    assert trainer.status == RunStatus.FINISHED and trainer.last_eval.val_acc > 0.6


def test_stop_ends_the_run_once():
    trainer = Trainer(short().replace(train={"eval_every": 1}))
    events = []
    for _ in range(10):
        events += trainer.step()
    events += trainer.stop()
    assert [e.step for e in events if isinstance(e, EvalEvent)] == list(range(11))
    assert isinstance(events[-1], FinalEvent) and events[-1].status == RunStatus.STOPPED
    assert trainer.step() == [] and trainer.stop() == []


# Dropout, augmentation and clipping that bites: every part of the one training step is in play.
STEPPED = short(data=DataConfig(n_train=200, n_val=100), model=ModelConfig(hidden=(16, 16), dropout=0.3),
                augment={"jitter": 0.05, "mixup": 0.2}, train={"grad_clip": 0.5, "histogram_every": 0})


def test_train_step_is_the_step_of_the_run_at_the_rate_asked():
    """``train_step(lr)`` trains exactly as ``step()`` does at that rate; it counts nothing and steps no schedule."""
    alone, run = Trainer(STEPPED), Trainer(STEPPED)
    clipped = 0
    for lr in (0.05, 0.2, 0.01, 0.3):
        done = alone.train_step(lr)
        for group in run.optimizer.param_groups:
            group["lr"] = lr
        (event,) = [e for e in run.step() if isinstance(e, StepEvent)]
        assert done.updated and (done.lr, done.loss, done.grad_norm, done.clipped) == \
            (event.lr, event.loss, event.grad_norm, event.clipped)
        assert all(torch.equal(a, b) for a, b in zip(alone.model.state_dict().values(), run.model.state_dict().values()))
        clipped += done.clipped
    assert clipped and alone.step_count == 0 and run.step_count == 4


def test_train_step_judges_the_loss_before_the_update():
    """``accept`` sees the loss first: refused, the weights stay as they are (the batch is used up)."""
    trainer = Trainer(STEPPED)
    before = [t.clone() for t in trainer.model.state_dict().values()]
    seen = []
    done = trainer.train_step(0.1, accept=lambda loss: seen.append(loss) is not None)
    assert not done.updated and seen == [done.loss] and math.isnan(done.grad_norm)
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.model.state_dict().values()))
    assert trainer.train_step(0.1).updated
    assert not all(torch.equal(a, b) for a, b in zip(before, trainer.model.state_dict().values()))


# -- accepted input that used to crash, and runs broken from the start (issue 10, classes 3 and 4) --------

def _batch_sizes(trainer):
    sizes, take = [], trainer.next_batch

    def recording():
        idx = take()
        sizes.append(len(idx))
        return idx
    trainer.next_batch = recording
    return sizes


def test_batchnorm_merges_a_last_batch_of_one_into_the_one_before_and_says_so():
    from engine.training.batches import merges_last_batch
    exp = Experiment(data=DataConfig(n_train=33), model=ModelConfig(norm="batch"),
                     train=TrainConfig(epochs=3, batch_size=32, eval_every=1, histogram_every=0))
    trainer = Trainer(exp)
    sizes = _batch_sizes(trainer)
    final = trainer.run()
    assert final.status == RunStatus.FINISHED and sizes == [33, 33, 33]         # one batch an epoch, no batch of one
    assert trainer.steps_per_epoch == 1 and trainer.total_steps == 3 and trainer.epoch == 3
    assert trainer.notes and "merged" in trainer.notes[0] and "merged" in final.message
    assert merges_last_batch(33, 32) and merges_last_batch(65, 32)
    assert not merges_last_batch(34, 32) and not merges_last_batch(32, 32) and not merges_last_batch(1, 32)
    # Without BatchNorm nothing changes: the last batch of one stays, numbers as before.
    plain = Trainer(exp.replace(model={"norm": "none"}))
    plain_sizes = _batch_sizes(plain)
    assert plain.run().status == RunStatus.FINISHED and plain_sizes == [32, 1] * 3 and plain.notes == ()


@pytest.mark.parametrize("changes, key", [({"data": {"n_train": 1}}, "data.n_train"),
                                          ({"train": {"batch_size": 1}}, "train.batch_size")])
def test_batchnorm_refuses_batches_that_can_never_hold_two_examples_naming_the_key(changes, key):
    from engine.experiment import ExperimentError
    with pytest.raises(ExperimentError) as caught:
        Trainer(Experiment(model=ModelConfig(norm="batch")).replace(**changes))
    assert str(caught.value).startswith(key) and "\n" not in str(caught.value)


def test_an_overflow_inside_the_optimizer_step_is_a_divergence_not_an_error():
    trainer = Trainer(short(optimizer={"name": "adam", "lr": 1e300}))
    final = trainer.run()
    assert final.status == RunStatus.DIVERGED and final.step == 1 and "overflow" in final.message
    # step() itself never raises for it either (the window and compare drive step(), not run()).
    stepped = Trainer(short(optimizer={"name": "adam", "lr": 1e300}))
    events = stepped.step() + stepped.step()
    assert isinstance(events[-1], FinalEvent) and events[-1].status == RunStatus.DIVERGED


def test_an_exception_not_from_the_numbers_is_still_an_error():
    from engine.training.divergence import numeric_failure
    broken = Trainer(short())
    broken.next_batch = lambda: (_ for _ in ()).throw(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    final = broken.run()
    assert final.status == RunStatus.ERROR and "shapes" in final.message
    assert numeric_failure(RuntimeError("value cannot be converted to type float without overflow"))
    assert numeric_failure(OverflowError("math range error")) and numeric_failure(FloatingPointError("x"))
    assert numeric_failure(RuntimeError("information missing")) is None     # 'inf' only as a word
    assert numeric_failure(ZeroDivisionError("division by zero")) is None
    assert numeric_failure(KeyError("inf")) is None


def test_a_loss_far_above_chance_from_step_0_is_diverged_at_step_0():
    exp = short(model={"init": "normal", "init_std": 1e4})
    final = Trainer(exp).run()
    assert final.status == RunStatus.DIVERGED and final.step == 0
    assert "chance-level loss ln 2" in final.message and "starting loss" in final.message
    # The test is the relative test's own factor against ln C: divergence_factor None turns both off.
    assert Trainer(exp.replace(train={"divergence_factor": None})).run().status == RunStatus.FINISHED
    # An ordinary start is far below it: the default run trains as before.
    ordinary = Trainer(short())
    events = ordinary.step()
    start = next(e for e in events if isinstance(e, EvalEvent))
    assert start.train_loss < 1000 * math.log(2) and ordinary.status is None


def test_a_histogram_tick_snapshots_the_weights_before_its_step_and_the_rates_after():
    """The snapshot of a histogram tick carries the weights before the tick's update (so the measurement can
    read ||dtheta|| / ||theta||) and the optimizer's effective rates; other ticks carry neither."""
    from engine.config import Experiment, OptimizerConfig, TrainConfig
    from engine.training.trainer import Trainer
    exp = Experiment(optimizer=OptimizerConfig(name="adam", lr=0.01),
                     train=TrainConfig(steps=4, eval_every=1, histogram_every=2))
    trainer = Trainer(exp)
    seen = []
    original = trainer._snapshot

    def spy(before=None):
        snap = original(before)
        seen.append(snap)
        return snap
    trainer._snapshot = spy
    weights_before_step_2 = None
    while not trainer.done:
        if trainer.step_count == 1:
            weights_before_step_2 = [p.detach().clone() for p in trainer.model.parameters()]
        trainer.step()
    by_step = {s.step: s for s in seen}
    assert by_step[1].before is None and by_step[1].rates is None and by_step[3].before is None
    assert by_step[2].before is not None and by_step[4].before is not None
    assert all(torch.equal(a, b) for a, b in zip(by_step[2].before, weights_before_step_2))
    assert not all(torch.equal(a, b) for a, b in zip(by_step[2].before, by_step[2].params))
    assert by_step[2].rates is not None and len(by_step[2].rates) == len(by_step[2].params)
