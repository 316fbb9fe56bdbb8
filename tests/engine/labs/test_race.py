"""The schedule race (engine.labs.race) and the headless race and compare commands."""
import csv
import json

import numpy as np
import pytest

import main
from engine.config import Experiment, OptimizerConfig, ScheduleConfig, TrainConfig
from engine.experiment import ExperimentError, experiment_to_dict
from engine.labs.race import RACE, race_curves, race_experiments
from engine.optim.schedules import lr_curve


def tiny(steps=30, **schedule):
    return Experiment(name="tiny", optimizer=OptimizerConfig(name="sgd", lr=0.1),
                      schedule=ScheduleConfig(**schedule) if schedule else ScheduleConfig(),
                      train=TrainConfig(steps=steps, eval_every=10, histogram_every=0))


def test_each_contender_replaces_only_the_schedule_and_is_named_after_it():
    base = tiny(steps=500, warmup_steps=7)
    runs = race_experiments(base)
    assert [r.name for r in runs] == [e.label for e in RACE]
    assert [r.schedule.name for r in runs] == [e.schedule for e in RACE]
    for run in runs:
        assert run.optimizer == base.optimizer and run.train == base.train and run.data == base.data
    by_name = {r.name: r for r in runs}
    assert by_name["warmup+cosine"].schedule.warmup_steps == 50       # a tenth of the planned steps
    assert by_name["cosine"].schedule.warmup_steps == 0                # the form's warm-up is not carried over


def test_a_bad_parameter_is_refused_with_the_experiment_files_message():
    with pytest.raises(ExperimentError) as err:
        race_experiments(tiny(), params={"step": {"gamma": 3.0}}, labels=["step"])
    assert err.value.path == "schedule.gamma"
    with pytest.raises(ValueError, match="unknown schedule 'linear'"):
        race_experiments(tiny(), labels=["linear"])


def test_curves_are_the_rates_training_uses():
    runs = race_experiments(tiny(steps=200), params={"step": {"step_size": 50, "gamma": 0.5}})
    curves = race_curves(runs)
    for run in runs:
        np.testing.assert_array_equal(curves[run.name], lr_curve(run.schedule, 0.1, 200))
    assert curves["step"][49] == pytest.approx(0.1) and curves["step"][50] == pytest.approx(0.05)


def test_race_command_writes_curves_and_with_train_one_row_per_contender(tmp_path, capsys):
    exp_file = tmp_path / "exp.json"
    exp_file.write_text(json.dumps(experiment_to_dict(tiny())))
    out = tmp_path / "out"
    assert main.main(["race", str(exp_file), "--schedules", "constant,cosine", "--train", "--out", str(out)]) == 0
    with open(out / "lr_curves.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["step", "constant", "cosine"] and len(rows) == 31
    assert float(rows[1][1]) == pytest.approx(0.1)
    with open(out / "race.csv") as f:
        race = list(csv.DictReader(f))
    assert [r["schedule"] for r in race] == ["constant", "cosine"]
    assert all(r["status"] == "finished" and r["steps"] == "30" and 0 <= float(r["final_val_acc"]) <= 1 for r in race)
    assert (out / "cosine" / "metrics.csv").exists()


def test_race_and_compare_refuse_bad_input_with_one_line_and_exit_2(tmp_path, capsys):
    assert main.main(["race", "--preset", "no-such", "--out", str(tmp_path)]) == 2
    assert main.main(["compare", "--out", str(tmp_path)]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text('[{"optimizer": {"lr": -1}}]')
    assert main.main(["compare", str(bad), "--out", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines)
    assert "optimizer.lr" in lines[-1]


def test_compare_command_writes_final_accuracies_and_their_gap(tmp_path):
    runs = [experiment_to_dict(tiny().replace(name="a")), experiment_to_dict(tiny().replace(name="b", seed=1))]
    run_list = tmp_path / "runs.json"
    run_list.write_text(json.dumps(runs))
    assert main.main(["compare", str(run_list), "--out", str(tmp_path / "out")]) == 0
    with open(tmp_path / "out" / "comparison.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == ["a", "b"]
    for r in rows:
        assert float(r["gap"]) == pytest.approx(float(r["train_acc"]) - float(r["val_acc"]))


@pytest.mark.parametrize("steps, warmup", [(2, 0), (3, 2), (100, 10)])
def test_a_race_too_short_for_a_warm_up_runs_without_one(steps, warmup):
    runs = {exp.name: exp for exp in race_experiments(Experiment(train=TrainConfig(steps=steps)))}
    assert runs["warmup+cosine"].schedule.warmup_steps == warmup
    assert len(runs) == len(RACE)


def test_race_row_writes_its_label_as_text():
    from engine.labs.race import race_row
    summary = {"status": "finished", "steps": 3, "final_train_loss": 0.5, "final_val_loss": None,
               "final_val_acc": 0.25}
    assert race_row("=cmd", summary) == ["'=cmd", "finished", 3, "0.5", "", "0.25"]
    assert race_row("cosine", summary)[0] == "cosine"


def test_race_curves_are_bounded_in_length_before_any_is_computed():
    from engine.config import MAX_CURVE_STEPS
    from engine.experiment import ExperimentError, parse_experiment
    from engine.labs.race import race_curves
    long = parse_experiment({"name": "long", "train": {"steps": MAX_CURVE_STEPS + 1}})
    with pytest.raises(ExperimentError, match=rf"^train\.steps: a schedule race draws at most "
                                              rf"{MAX_CURVE_STEPS:,} steps, got {MAX_CURVE_STEPS + 1:,}$"):
        race_curves([parse_experiment({"name": "short", "train": {"steps": 10}}), long])
    assert len(race_curves([parse_experiment({"train": {"steps": 10}})])["experiment"]) == 10
