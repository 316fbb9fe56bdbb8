"""A multi-seed run: member k is the single run of seed + k, exactly; its events, its end, its updates."""
import math

import numpy as np
import pytest

from engine.config import Experiment
from engine.data.datasets import load_data
from engine.status import RunStatus
from engine.training.events import EvalEvent, FinalEvent, HistogramEvent, MembersEvent, StepEvent
from engine.training.members import SequentialMembers, member_experiment, trainer_for
from engine.training.trainer import Trainer
from engine.training.updates import EVAL_BANDS, STEP_BANDS, UpdateBuffer, member_mean


def short(seeds=3, **sections) -> Experiment:
    base = Experiment().replace(train={"steps": 30, "eval_every": 10, "histogram_every": 15, "seeds": seeds})
    return base.replace(**sections)


def run_all(trainer):
    events = []
    while not trainer.done:
        events.extend(trainer.step())
    return events


def member_events(events, k):
    """Member k's own events, in the order the run reported them."""
    return [e for m in events if isinstance(m, MembersEvent) for i, e in zip(m.members, m.events) if i == k]


def numbers(events):
    out = []
    for e in events:
        if isinstance(e, HistogramEvent):
            out += [(layer.name, layer.weight.counts.tolist(), layer.weight.edges.tolist()) for layer in e.layers]
        elif isinstance(e, FinalEvent):
            out.append((e.status, e.step, e.lr, e.message))
        else:
            out.append(e)
    return out


def alone(exp, k):
    """Member k's single run, on the run's data."""
    return run_all(Trainer(member_experiment(exp, k), data=load_data(exp.data, exp.seed)))


@pytest.mark.parametrize("sections", [
    {},
    {"model": {"dropout": 0.3, "norm": "batch"}, "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}},
    {"augment": {"jitter": 0.05}, "train": {"grad_clip": 0.5}, "schedule": {"name": "cosine"}},
])
def test_member_k_is_the_run_of_seed_plus_k_exactly(sections):
    exp = short(seed=5, **sections)
    members = SequentialMembers(exp)
    events = run_all(members)
    assert members.seeds == (5, 6, 7) and members.K == 3
    for k in range(3):
        assert numbers(member_events(events, k)) == numbers(alone(exp, k))
    assert isinstance(events[-1], FinalEvent) and events[-1].status == RunStatus.FINISHED
    assert events[-1].message == "finished 30 steps" and events[-1].step == members.step_count == 30
    assert members.member_status == (RunStatus.FINISHED,) * 3


def test_events_come_one_members_event_per_kind_and_point():
    events = SequentialMembers(short()).step()          # step 0's measurement, then step 1
    kinds = [(type(e.events[0]), e.events[0].step) for e in events]
    assert kinds == [(EvalEvent, 0), (HistogramEvent, 0), (StepEvent, 1)]
    assert all(isinstance(e, MembersEvent) and e.members == (0, 1, 2) for e in events)


def test_the_data_is_shared_and_loaded_from_the_runs_seed():
    exp = short(seed=2)
    members = SequentialMembers(exp)
    assert all(t.data is members.data for t in members.trainers)
    assert np.array_equal(members.data.x_train.numpy(), load_data(exp.data, 2).x_train.numpy())


def test_a_diverged_member_reports_its_end_once_and_the_others_go_on():
    exp = short(seeds=4, optimizer={"name": "sgd", "lr": 12.0}, train={"steps": 40, "eval_every": 20,
                                                                        "histogram_every": 0})
    events = run_all(SequentialMembers(exp))
    ends = {k: [e for e in member_events(events, k) if isinstance(e, FinalEvent)] for k in range(4)}
    statuses = [ends[k][0].status for k in range(4)]
    singles = [alone(exp, k) for k in range(4)]
    assert statuses == [single[-1].status for single in singles]
    diverged = statuses.count(RunStatus.DIVERGED)
    assert 0 < diverged < 4 and all(len(v) == 1 for v in ends.values())   # the set-up has both kinds
    for k in range(4):     # nothing of a member after its end, and its events are its run's
        assert numbers(member_events(events, k)) == numbers(singles[k])
        assert member_events(events, k)[-1] is ends[k][0]
    final = events[-1]
    assert isinstance(final, FinalEvent) and final.status == RunStatus.FINISHED and final.step == 40
    assert final.message == f"finished 40 steps; {diverged} of 4 members diverged"


def test_every_member_diverged_is_a_diverged_run():
    members = SequentialMembers(short(optimizer={"name": "sgd", "lr": 50.0}))
    final = members.run()
    assert final.status == RunStatus.DIVERGED and final.message == "all 3 members diverged"


def test_stop_and_fail_end_the_whole_run():
    members = SequentialMembers(short())
    members.step()
    members.step()
    [final] = members.stop()
    assert final.status == RunStatus.STOPPED and final.step == 2 and members.stop() == []
    assert members.member_status == (RunStatus.STOPPED,) * 3 and members.step() == []
    failing = SequentialMembers(short())
    [error] = failing.fail(ValueError("bad\nsecond line"))
    assert error.status == RunStatus.ERROR and error.message == "ValueError: bad"


def test_run_stops_when_asked():
    members = SequentialMembers(short())
    final = members.run(should_stop=lambda: members.step_count >= 5)
    assert final.status == RunStatus.STOPPED and final.step == 5


def test_last_eval_and_predict_proba_are_the_members():
    exp = short()
    members = SequentialMembers(exp)
    run_all(members)
    singles = [Trainer(member_experiment(exp, k), data=members.data) for k in range(3)]
    for t in singles:
        t.run()
    assert members.last_eval is not None
    assert members.last_eval.val_acc == pytest.approx(np.mean([t.last_eval.val_acc for t in singles]), abs=1e-12)
    x = members.data.x_val[:7]
    probs = members.predict_proba(x)
    assert probs.shape == (3, 7, members.data.n_classes)
    assert np.array_equal(probs[1], singles[1].predict_proba(x))


def test_trainer_for_picks_by_seeds():
    assert isinstance(trainer_for(short(seeds=1)), Trainer)
    many = trainer_for(short(seeds=2))
    assert not isinstance(many, Trainer) and many.K == 2 and many.seeds == (0, 1)


def test_the_update_carries_the_members_mean_and_spread():
    exp = short(seeds=4, optimizer={"name": "sgd", "lr": 12.0}, train={"steps": 40, "eval_every": 20,
                                                                        "histogram_every": 10})
    members = SequentialMembers(exp)
    buffer = UpdateBuffer("a", members=4)
    events = run_all(members)
    for e in events:
        buffer.add(e)
    update = buffer.take(members.status, members.step_count, members.epoch, 0.0)
    assert update.members == 4 and set(update.step_spread) == set(STEP_BANDS)
    assert set(update.eval_spread) == set(EVAL_BANDS)
    steps = [m for m in events if isinstance(m, MembersEvent) and isinstance(m.events[0], StepEvent)]
    assert list(update.steps.step) == [m.events[0].step for m in steps] == list(range(1, 41))
    for i, m in enumerate(steps):
        losses = [e.loss for e in m.events if math.isfinite(e.loss)]
        assert update.steps.loss[i] == pytest.approx(np.mean(losses), rel=1e-12)
        assert update.step_spread["loss"].minimum[i] == min(losses)
        assert update.step_spread["loss"].maximum[i] == max(losses)
    assert 0 < len(steps[-1].members) < 4       # the last steps' mean is over the members left
    evals = [m for m in events if isinstance(m, MembersEvent) and isinstance(m.events[0], EvalEvent)]
    assert list(update.evals.step) == [0, 20, 40]
    for i, m in enumerate(evals):
        accs = [e.val_acc for e in m.events]
        assert update.evals.val_acc[i] == pytest.approx(np.mean(accs), rel=1e-12)
        assert update.eval_spread["val_acc"].q25[i] == pytest.approx(np.quantile(accs, 0.25))
    member0 = [e for e in member_events(events, 0) if isinstance(e, HistogramEvent)]
    assert numbers(update.histograms) == numbers(member0) and member0          # member 0's only


def test_member_mean_ignores_missing_members():
    values = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]])
    mean = member_mean(values)
    assert mean[0] == 2.0 and math.isnan(mean[1])


def test_trainer_for_takes_the_vectorized_members_only_where_they_support_the_experiment(monkeypatch):
    """engine.training.vectorized is imported lazily: where it says why not (a reason), or cannot be
    imported, the sequential members train instead."""
    import sys
    import types
    fake = types.ModuleType("engine.training.vectorized")

    class Vectorized(SequentialMembers):
        pass
    fake.VectorizedMembers = Vectorized
    fake.vectorizable = lambda exp: None if exp.optimizer.name == "adam" else "not this optimizer"
    monkeypatch.setitem(sys.modules, "engine.training.vectorized", fake)
    assert type(trainer_for(short(seeds=2))) is Vectorized
    assert type(trainer_for(short(seeds=2, optimizer={"name": "sgd"}))) is SequentialMembers
    assert isinstance(trainer_for(short(seeds=1)), Trainer)
    monkeypatch.setitem(sys.modules, "engine.training.vectorized", None)     # import fails
    assert type(trainer_for(short(seeds=2))) is SequentialMembers
