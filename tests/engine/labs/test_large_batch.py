"""The large-batch lab: its rates and warm-up are the formulas, equal epochs are the steps, every run is the app's."""
import csv
import math

import pytest

from engine.config import Experiment
from engine.experiment import ExperimentError
from engine.labs.large_batch import (
    BASE_BATCH,
    BATCHES,
    CSV_COLUMNS,
    LAB_EXPERIMENT,
    METHODS,
    METHODS_BY_KEY,
    LargeBatchSettings,
    large_batch_experiment,
    plan,
    run_large_batch,
    scaled_lr,
    warmup_steps,
    write_large_batch_csv,
)
from engine.status import RunStatus
from engine.training.jobs import TaskState
from engine.training.trainer import Trainer

SMALL = Experiment(name="small", seed=3).replace(data={"dataset": "spiral", "n_train": 600, "n_val": 200},
                                                 model={"hidden": (8,)})


def test_the_rates_follow_each_methods_scaling_rule():
    sgd, lars, lamb = (METHODS_BY_KEY[k] for k in ("sgd", "lars", "lamb"))
    for batch in BATCHES:
        k = batch / BASE_BATCH
        assert scaled_lr(sgd, batch) == pytest.approx(0.05 * k)           # Goyal et al.: linear
        assert scaled_lr(lars, batch) == pytest.approx(0.1 * k)           # linear, as SimCLR scales LARS
        assert scaled_lr(lamb, batch) == pytest.approx(0.01 * math.sqrt(k))   # You et al. 2019: square root
    assert scaled_lr(sgd, 8192) == pytest.approx(12.8) and scaled_lr(lamb, 8192) == pytest.approx(0.16)


@pytest.mark.parametrize("batch, warm", [(32, 1024), (2048, 16), (8192, 4)])
def test_the_warm_up_is_one_epoch_of_steps(batch, warm):
    assert warmup_steps(32768, batch, 10) == warm == math.ceil(32768 / batch)
    exp = large_batch_experiment(LAB_EXPERIMENT, METHODS[0], batch, 10)
    assert exp.schedule.warmup_steps == warm and exp.schedule.name == "cosine"
    assert exp.optimizer.lr == pytest.approx(scaled_lr(METHODS[0], batch))
    assert warmup_steps(100, 64, 1) == 0          # a warm-up as long as the run: none


def test_training_ramps_the_rate_up_linearly_over_the_warm_up():
    exp = large_batch_experiment(SMALL, METHODS_BY_KEY["sgd"], 64, 3)   # ceil(600/64) = 10 warm-up steps
    trainer = Trainer(exp)
    rates = []
    for _ in range(12):
        trainer.step()
        rates.append(trainer.lr)
    lr, warm = exp.optimizer.lr, exp.schedule.warmup_steps
    assert warm == 10
    # the rate of step t is lr * (t + 1) / W; trainer.lr after step t is the rate of step t + 1
    assert rates[:warm - 1] == pytest.approx([lr * (t + 2) / warm for t in range(warm - 1)])


def test_equal_epochs_means_epochs_times_ceil_n_over_b_steps_and_each_run_is_the_experiment_alone():
    settings = LargeBatchSettings(batches=(256, 32), methods=("sgd", "lamb"), epochs=2)
    result = run_large_batch(TaskState(), SMALL, settings)
    assert [(r.method, r.batch_size) for r in result.rows] == [("sgd", 32), ("lamb", 32), ("sgd", 256),
                                                               ("lamb", 256)]
    for row in result.rows:
        assert row.steps == row.planned_steps == 2 * math.ceil(600 / row.batch_size)
        assert row.status == RunStatus.FINISHED and not row.broken
    alone = Trainer(large_batch_experiment(SMALL, METHODS_BY_KEY["lamb"], 256, 2))
    alone.run()
    row = result.row("lamb", 256)
    assert (row.final_val_loss, row.final_val_acc, row.final_train_loss) == (
        alone.last_eval.val_loss, alone.last_eval.val_acc, alone.last_eval.train_loss)
    batches, acc, loss = result.curve("sgd")
    assert batches == [32, 256] and acc == [result.row("sgd", 32).final_val_acc, result.row("sgd", 256).final_val_acc]


def test_a_stop_ends_the_running_run_and_skips_the_rest():
    class StopAfterFirst(TaskState):
        def report(self, partial):
            self.request_stop()
    result = run_large_batch(StopAfterFirst(), SMALL, LargeBatchSettings(batches=(32, 64), methods=("sgd",), epochs=1))
    assert len(result.rows) == 1 and result.stopped


def test_a_diverged_run_is_broken():
    exp = large_batch_experiment(SMALL, METHODS_BY_KEY["sgd"], 512, 3).replace(optimizer={"lr": 1e6})
    from engine.labs.large_batch import train_row
    row = train_row(METHODS_BY_KEY["sgd"], exp)
    assert row.status == RunStatus.DIVERGED and row.broken and row.steps < row.planned_steps


@pytest.mark.parametrize("settings, says", [
    (LargeBatchSettings(batches=()), "--batches: choose at least one"),
    (LargeBatchSettings(batches=(33,)), "--batches: 33 is not one of"),
    (LargeBatchSettings(methods=("adam",)), "--methods: unknown method 'adam'"),
    (LargeBatchSettings(epochs=0), "--epochs"),
])
def test_bad_settings_are_one_line_naming_the_option(settings, says):
    with pytest.raises(ExperimentError, match=says.split(":")[0]) as err:
        plan(LAB_EXPERIMENT, settings)
    assert says in str(err.value)


def test_a_batch_larger_than_the_data_is_refused():
    with pytest.raises(ExperimentError, match="larger than data.n_train"):
        plan(SMALL, LargeBatchSettings(batches=(1024,)))


def test_the_csv_has_one_row_per_method_and_batch(tmp_path):
    result = run_large_batch(TaskState(), SMALL, LargeBatchSettings(batches=(128,), methods=("sgd", "lars"), epochs=1))
    path = write_large_batch_csv(result.rows, tmp_path / "large_batch.csv")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["method"], r["batch_size"], r["steps"], r["status"]) for r in rows] == [
        ("sgd", "128", "5", "finished"), ("lars", "128", "5", "finished")]
    assert float(rows[1]["lr"]) == pytest.approx(0.1 * 4) and float(rows[0]["final_val_acc"]) == result.rows[0].final_val_acc
