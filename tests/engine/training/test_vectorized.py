"""The vectorized members (engine/training/vectorized.py): member k is the single run of seed + k.

Parametrized over the registries (engine.experiment.REGISTRIES), so an optimizer, schedule, init,
activation or norm added later is checked without a line here.  Tolerance: rtol 1e-5, atol 1e-6 on every
number.  The stacked forward and backward are the single run's kernels (measured bit-equal on the
gradients, and the reported losses are torch's own per-member calls); what can differ is the order a
few kernels add or fuse in (a layer norm's affine, SIMD tails of the stacked optimizer's elementwise
kernels, a per-member sum in the activation statistics), each a float32 rounding of ~1e-7 relative, which
a few dozen steps do not grow past 1e-6.  Accuracies, statuses, steps and messages must be equal exactly.
"""
import math
import warnings

import numpy as np
import pytest
import torch

from engine.config import Experiment
from engine.data.datasets import load_data
from engine.experiment import REGISTRIES
from engine.status import RunStatus
from engine.training.events import EvalEvent, FinalEvent, HistogramEvent, MembersEvent, StepEvent
from engine.training.members import member_experiment
from engine.training.trainer import Trainer
from engine.training.vectorized import VectorizedMembers, vectorizable

RTOL, ATOL = 1e-5, 1e-6


def short(**sections) -> Experiment:
    base = Experiment().replace(data={"n_train": 160, "n_val": 80},
                                train={"steps": 24, "eval_every": 8, "histogram_every": 12, "seeds": 3})
    return base.replace(**sections)


def run_all(trainer):
    events = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # torch: a (K, N) gradient's views break its layout hint
        while not trainer.done:
            events.extend(trainer.step())
    return events


def member_events(events, k):
    return [e for m in events if isinstance(m, MembersEvent) for i, e in zip(m.members, m.events) if i == k]


def close(a, b):
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)


def assert_same_run(mine, theirs):
    assert [type(e) for e in mine] == [type(e) for e in theirs]
    for a, b in zip(mine, theirs):
        if isinstance(a, StepEvent):
            assert (a.step, a.epoch, a.lr, a.clipped) == (b.step, b.epoch, b.lr, b.clipped), (a, b)
            assert close(a.loss, b.loss) and close(a.grad_norm, b.grad_norm), (a, b)
        elif isinstance(a, EvalEvent):
            assert (a.step, a.train_acc, a.val_acc) == (b.step, b.train_acc, b.val_acc), (a, b)
            assert close(a.train_loss, b.train_loss) and close(a.val_loss, b.val_loss), (a, b)
        elif isinstance(a, HistogramEvent):
            assert a.step == b.step
            for la, lb in zip(a.layers, b.layers):
                assert la.name == lb.name and close(la.weight.mean, lb.weight.mean) and close(la.weight.std, lb.weight.std)
                # what the step did: the effective rates, ||dtheta|| / ||theta|| and the zero gradients
                assert (la.rate is None) == (lb.rate is None) and (la.update_ratio is None) == (lb.update_ratio is None)
                if la.rate is not None:
                    assert close(la.rate.mean, lb.rate.mean) and close(la.rate.std, lb.rate.std), (la.name, a.step)
                if la.update_ratio is not None:
                    assert math.isclose(la.update_ratio, lb.update_ratio, rel_tol=1e-4, abs_tol=1e-7), la.name
                assert la.zero_grad == lb.zero_grad, (la.name, a.step)
            for sa, sb in zip(a.activations, b.activations):
                assert sa.name == sb.name and close(sa.mean, sb.mean) and close(sa.std, sb.std)
        else:
            assert isinstance(a, FinalEvent)
            assert (a.status, a.step, a.lr, a.message) == (b.status, b.step, b.lr, b.message), (a, b)


def check_members(exp):
    assert vectorizable(exp) is None
    members = VectorizedMembers(exp)
    events = run_all(members)
    data = load_data(exp.data, exp.seed)
    for k in range(exp.train.seeds):
        alone = Trainer(member_experiment(exp, k), data=data)
        assert_same_run(member_events(events, k), run_all(alone))
        state = members.member_state(k)
        for name, value in alone.model.state_dict().items():
            torch.testing.assert_close(state[name], value, rtol=RTOL, atol=ATOL, msg=name)
    return members, events


CASES = ([{"optimizer": {"name": name}} for name in REGISTRIES["optimizers"]]
         + [{"schedule": {"name": name, "warmup_steps": 3}} for name in REGISTRIES["schedules"]]
         + [{"model": {"init": name}} for name in REGISTRIES["inits"]]
         + [{"model": {"activation": name}} for name in REGISTRIES["activations"]]
         + [{"model": {"norm": name}, "optimizer": {"name": "adam"}} for name in REGISTRIES["norms"]]
         + [{"model": {"dropout": 0.3}}, {"augment": {"jitter": 0.05}}, {"augment": {"mixup": 0.4}},
            {"train": {"grad_clip": 0.3}}, {"train": {"precision": "bf16"}},
            {"model": {"norm": "batch", "dropout": 0.2}, "optimizer": {"name": "sgd", "momentum": 0.9},
             "train": {"batch_size": 33}}])


@pytest.mark.parametrize("sections", CASES, ids=lambda s: repr(s))
def test_member_k_is_the_single_run_of_seed_plus_k(sections):
    members, events = check_members(short(seed=4, **sections))
    assert members.seeds == (4, 5, 6)
    assert isinstance(events[-1], FinalEvent) and events[-1].status == RunStatus.FINISHED
    assert events[-1].message.startswith("finished 24 steps")


def test_a_member_singled_out_trains_alone_to_its_numbers_on_the_runs_data():
    """member_experiment(exp, k) is a complete run: given no data, it draws the run's (data.seed), not seed + k's."""
    exp = short(seed=4, model={"dropout": 0.2})
    members = VectorizedMembers(exp)
    events = run_all(members)
    single = member_experiment(exp, 2)
    assert (single.seed, single.data.seed, single.train.seeds) == (6, 4, 1)
    alone = Trainer(single)
    assert np.array_equal(alone.data.x_train, members.data.x_train)
    assert not np.array_equal(load_data(exp.data, 6).x_train, members.data.x_train)   # seed 6's own data differs
    assert_same_run(member_events(events, 2), run_all(alone))
    assert member_experiment(single.replace(train={"seeds": 3}), 1).data.seed == 4    # a set data seed is kept


def test_events_come_as_the_sequential_members_give_them():
    events = VectorizedMembers(short()).step()
    assert [(type(e.events[0]), e.events[0].step) for e in events] == [(EvalEvent, 0), (HistogramEvent, 0),
                                                                       (StepEvent, 1)]
    assert all(isinstance(e, MembersEvent) and e.members == (0, 1, 2) for e in events)


def test_members_that_diverge_end_as_their_runs_while_the_others_go_on():
    """SGD at lr 2 with a ceiling of 3x the starting loss: seeds 0 and 1 diverge, 2 to 5 finish (found by
    trying; the equivalence holds whichever do)."""
    exp = short(seed=0, optimizer={"name": "sgd", "lr": 2.0},
                train={"seeds": 6, "steps": 30, "divergence_factor": 3.0})
    members, events = check_members(exp)
    statuses = members.member_status
    assert RunStatus.DIVERGED in statuses and RunStatus.FINISHED in statuses, statuses
    assert events[-1].status == RunStatus.FINISHED and "2 of 6 members diverged" in events[-1].message
    diverged = [k for k, s in enumerate(statuses) if s == RunStatus.DIVERGED]
    for k in diverged:       # once ended, a member reports nothing more
        own = member_events(events, k)
        assert isinstance(own[-1], FinalEvent) and own[-1].status == RunStatus.DIVERGED


def test_every_member_diverged_ends_the_run_diverged():
    members, events = check_members(short(optimizer={"name": "sgd", "lr": 1e6}))
    assert members.member_status == (RunStatus.DIVERGED,) * 3
    assert events[-1].status == RunStatus.DIVERGED and events[-1].message == "all 3 members diverged"


def test_predictions_are_each_members_own():
    exp = short()
    members = VectorizedMembers(exp)
    run_all(members)
    x = members.data.x_val[:10]
    probs = members.predict_proba(x)
    assert probs.shape == (3, 10, members.data.n_classes)
    alone = Trainer(member_experiment(exp, 2), data=members.data)
    run_all(alone)
    torch.testing.assert_close(torch.from_numpy(probs[2]), torch.from_numpy(alone.predict_proba(x)),
                               rtol=RTOL, atol=ATOL)


def test_stop_ends_every_member():
    members = VectorizedMembers(short())
    members.step()
    final = members.stop()
    assert final[0].status == RunStatus.STOPPED and members.member_status == (RunStatus.STOPPED,) * 3


def test_what_is_not_vectorized_says_why_in_one_line():
    why = vectorizable(Experiment().replace(data={"dataset": "digits"}, model={"kind": "cnn"}))
    assert why is not None and "cnn" in why and "\n" not in why
