"""Trainer.resume: a fresh trainer given a saved state, its step and the untrained loss goes on as the saved
run would have, to the last bit, and keeps that run's divergence ceiling (what PBT's members rely on)."""
import pytest

from engine.config import Experiment
from engine.status import RunStatus
from engine.training.events import EvalEvent, StepEvent
from engine.training.trainer import Trainer


def experiment(lr: float = 0.1, factor: float = 1000.0) -> Experiment:
    return Experiment().replace(optimizer={"name": "sgd", "lr": lr, "momentum": 0.9},
                                train={"steps": 30, "eval_every": 10, "histogram_every": 0,
                                       "divergence_factor": factor})


def trained(trainer: Trainer, steps: int) -> list:
    events: list = []
    while trainer.step_count < steps and not trainer.done:
        events += trainer.step()
    return events


def start_loss(events) -> float:
    return next(e.train_loss for e in events if isinstance(e, EvalEvent) and e.step == 0)


def numbers(events) -> list:
    return [(type(e).__name__, e.step, e.loss if isinstance(e, StepEvent) else e.val_loss) for e in events
            if isinstance(e, (StepEvent, EvalEvent))]


def test_a_resumed_run_goes_on_exactly_as_the_run_in_one_go():
    whole = trained(Trainer(experiment()), 30)
    first = Trainer(experiment())
    head = trained(first, 10)
    resumed = Trainer(experiment())
    resumed.resume(first.save_state(), 10, start_loss(head))
    assert resumed.step_count == 10
    tail = trained(resumed, 30)
    assert tail[0].step == 11                     # no step-0 measurement again, the step count goes on
    assert numbers(tail) == [n for n in numbers(whole) if n[1] > 10]
    assert resumed.status == RunStatus.FINISHED and resumed.step_count == 30


def test_a_resumed_run_keeps_the_saved_runs_divergence_ceiling():
    """A calm run's state resumed at a rate of 5 (as PBT's explore may): the first steps' losses pass 5x the
    untrained loss, and the resumed run says so, as the saved run would have."""
    first = Trainer(experiment(lr=0.05, factor=5.0))
    head = trained(first, 10)
    hot = Trainer(experiment(lr=0.05, factor=5.0))
    hot.resume(first.save_state(), 10, start_loss(head))
    assert hot.optimizer.param_groups[0]["lr"] == 0.05      # the saved run's settings...
    hot.optimizer.param_groups[0]["lr"] = 5.0               # ...which a caller changes after resuming
    hot.run()
    assert hot.final is not None and hot.final.status == RunStatus.DIVERGED
    assert hot.final.step > 10 and "exceeded 5x its start" in hot.final.message


@pytest.mark.parametrize("step", [-1, 31])
def test_a_step_outside_the_run_is_refused_in_one_line(step):
    first = Trainer(experiment())
    trained(first, 10)
    with pytest.raises(ValueError, match=rf"^resume at step {step}: this run has 0 to 30 steps$"):
        Trainer(experiment()).resume(first.save_state(), step, 0.7)
