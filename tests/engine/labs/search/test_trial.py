"""One trial: the sampled values at their key paths, trained by the Trainer, judged by the objective; a diverged,
refused or stopped trial is recorded as such (Optuna PRUNED / FAIL, the status attribute) and the search goes on."""
import math

import optuna
import pytest
from optuna.trial import TrialState

from engine.experiment import parse_experiment
from engine.labs.search.trial import TrialResult, train_trial, trial_experiment
from engine.labs.search.work import tell
from engine.status import RunStatus

BASE = parse_experiment({"data": {"dataset": "moons", "n_train": 64, "n_val": 64}, "model": {"hidden": [8]},
                         "optimizer": {"name": "sgd"}, "train": {"steps": 20, "batch_size": 16, "eval_every": 10}})


def test_the_values_go_to_their_key_paths():
    exp = trial_experiment(BASE, {"optimizer.lr": 0.05, "model.dropout": 0.25, "model.hidden": [4, 4], "seed": 3})
    assert (exp.optimizer.lr, exp.model.dropout, exp.model.hidden, exp.seed) == (0.05, 0.25, (4, 4), 3)
    assert exp.data == BASE.data and exp.train == BASE.train


def test_a_finished_trial_reports_its_four_numbers_and_the_objectives_one():
    results = {goal: train_trial(BASE, {"optimizer.lr": 0.1}, goal)
               for goal in ("val_loss", "val_acc", "best_val_loss", "best_val_acc")}
    first = results["val_loss"]
    assert first.status == RunStatus.FINISHED and first.steps == 20
    for goal, result in results.items():
        # the same seed, the same run: the numbers agree, and the value is the objective's
        assert (result.val_loss, result.val_acc) == (first.val_loss, first.val_acc)
        assert result.value == getattr(result, goal)
    assert first.best_val_loss <= first.val_loss and first.best_val_acc >= first.val_acc
    assert 0 < first.val_loss < math.log(2) and 0.5 < first.val_acc <= 1


def test_a_diverged_trial_is_worth_no_more_than_the_untrained_network():
    result = train_trial(BASE, {"optimizer.lr": 1e4}, "val_loss")
    untrained = train_trial(BASE, {"optimizer.lr": 1e4, "train.steps": 1, "train.eval_every": 1}, "val_loss")
    assert result.status == RunStatus.DIVERGED and result.steps < 20
    assert "diverged" in result.message
    assert result.value is not None and result.value >= train_trial(BASE, {"optimizer.lr": 0.1}, "val_loss").value
    assert untrained.status in (RunStatus.DIVERGED, RunStatus.FINISHED)


def test_a_combination_the_validator_refuses_is_an_error_with_its_line():
    result = train_trial(BASE, {"optimizer.nesterov": True, "optimizer.momentum": 0.0}, "val_loss")
    assert (result.status, result.value, result.steps) == (RunStatus.ERROR, None, 0)
    assert result.message == "optimizer.nesterov: needs momentum > 0"


def test_a_stopped_trial_has_no_value():
    result = train_trial(BASE, {"optimizer.lr": 0.1}, "val_loss", should_stop=lambda: True)
    assert (result.status, result.value) == (RunStatus.STOPPED, None)


def _result(status, value):
    return TrialResult(status, value, 7, 0.5, f"{status} here", "host:1", val_loss=value)


@pytest.mark.parametrize("status, value, state, told", [
    (RunStatus.FINISHED, 0.3, TrialState.COMPLETE, 0.3),
    (RunStatus.DIVERGED, 0.9, TrialState.PRUNED, 0.9),
    (RunStatus.ERROR, None, TrialState.FAIL, None),
    (RunStatus.STOPPED, None, TrialState.FAIL, None),
])
def test_each_outcome_is_told_in_its_optuna_state_with_its_status(status, value, state, told):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask({"optimizer.lr": optuna.distributions.FloatDistribution(1e-3, 1.0, log=True)})
    trial.set_user_attr("slot", 0)
    tell(study, trial, _result(status, value))
    frozen = study.trials[0]
    assert frozen.state == state and frozen.value == told
    assert frozen.user_attrs["status"] == status and frozen.user_attrs["steps"] == 7
    assert frozen.user_attrs["message"] == f"{status} here" and frozen.user_attrs["worker"] == "host:1"
    waiting = study.get_trials(states=(TrialState.WAITING,))
    if status == RunStatus.STOPPED:        # queued again: same point, same budget slot
        assert len(waiting) == 1 and waiting[0].params == frozen.params and waiting[0].user_attrs["slot"] == 0
    else:
        assert waiting == []
