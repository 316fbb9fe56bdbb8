"""A run's records (how it ended, at which step, its evaluations): one per member of a multi-seed run, each
the record of that member's single run; the window's Lab hands them out once, when the run has ended."""
import math

import pytest

from engine.config import Experiment
from engine.data.datasets import load_data
from engine.status import RunStatus
from engine.training.members import member_experiment, trainer_for
from engine.training.records import RecordKeeper
from engine.training.session import Lab
from engine.training.trainer import Trainer


def short(seeds=3, **sections) -> Experiment:
    base = Experiment().replace(seed=4, train={"steps": 40, "eval_every": 10, "histogram_every": 0, "seeds": seeds})
    return base.replace(**sections)


def record_of(trainer, members=1):
    keeper = RecordKeeper(members)
    while not trainer.done:
        assert keeper.records() is None          # nothing before the run has ended
        for event in trainer.step():
            keeper.add(event)
    return keeper.records()


def test_member_k_s_record_is_its_single_run_s_even_when_some_diverge():
    """lr 10 with momentum 0.9: members 0, 3 and 4 of this run diverge, at steps 4, 8 and 4, the others finish."""
    exp = short(seeds=6, optimizer={"name": "sgd", "lr": 10.0, "momentum": 0.9})
    records = record_of(trainer_for(exp), members=6)
    alone = [record_of(Trainer(member_experiment(exp, k), data=load_data(exp.data, exp.seed)))[0] for k in range(6)]
    assert len(records) == 6
    assert [r.status for r in records] == [a.status for a in alone]
    assert {r.status for r in records} == {RunStatus.DIVERGED, RunStatus.FINISHED}
    assert [r.step for r in records] == [a.step for a in alone]
    for got, want in zip(records, alone):
        assert [e.step for e in got.evals] == [e.step for e in want.evals]
        for g, w in zip(got.evals, want.evals):
            for name in ("train_loss", "train_acc", "val_loss", "val_acc"):
                assert math.isclose(getattr(g, name), getattr(w, name), rel_tol=1e-4, abs_tol=1e-5), (name, g, w)


def test_a_single_run_s_record_is_its_trainer_s_end_and_its_evaluations():
    trainer = Trainer(short(seeds=1))
    (record,) = record_of(trainer)
    assert (record.status, record.step) == (trainer.status, trainer.step_count) == (RunStatus.FINISHED, 40)
    assert [e.step for e in record.evals] == [0, 10, 20, 30, 40]


def test_a_stopped_run_s_members_all_say_stopped():
    trainer = trainer_for(short(seeds=2))
    keeper = RecordKeeper(2)
    for _ in range(5):
        for event in trainer.step():
            keeper.add(event)
    for event in trainer.stop():
        keeper.add(event)
    assert [(r.status, r.step) for r in keeper.records()] == [(RunStatus.STOPPED, 5)] * 2


@pytest.mark.parametrize("seeds", [1, 3])
def test_the_lab_hands_the_records_out_once_in_the_update_that_ends_the_run_and_again_after_a_reset(seeds):
    lab = Lab()
    lab.add("m", short(seeds=seeds))
    lab.start()
    handed = []
    for _ in range(2):
        while lab.running:
            lab.step_round()
            handed += [(u.status, u.records) for u in lab.take_updates() if u.records]
        handed += [(u.status, u.records) for u in lab.take_updates() if u.records]
        lab.reset()
        lab.start()
    assert len(handed) == 2 and handed[0] == handed[1]
    status, records = handed[0]
    assert status == RunStatus.FINISHED and len(records) == seeds and {r.step for r in records} == {40}
