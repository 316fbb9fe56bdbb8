"""The training thread (both backends): the window's names become typed commands, messages become the same
signals as before, and it stops cleanly."""
import numpy as np
import pytest

from engine.config import DataConfig, Experiment, OptimizerConfig, TrainConfig
from engine.training.protocol import AddRun, DataReady, Failed, Inspection, Ready, Start, Updates
from gui.concurrency.training import ThreadWorker, TrainingThread
from gui.concurrency.worker_base import still_running


def exp(steps=30):
    return Experiment(name="sgd", data=DataConfig(n_train=64, n_val=64), optimizer=OptimizerConfig(name="sgd", lr=0.1),
                      train=TrainConfig(steps=steps, eval_every=10, histogram_every=0))


def test_post_builds_the_command_from_its_name_and_refuses_an_unknown_one():
    training = TrainingThread(backend="thread")     # not started: the commands wait in the queue
    training.post("add", "a", exp())
    training.post("start")
    training.post(Start())
    assert [training.worker._receive(0.0) for _ in range(3)] == [AddRun("a", exp()), Start(), Start()]
    with pytest.raises(ValueError, match="unknown command 'go'.*start"):
        training.post("go")
    assert training.worker._receive(0.0) is None
    assert training.shutdown(2000)


def test_messages_become_the_worker_signals():
    worker = ThreadWorker()
    heard = []
    worker.ready.connect(lambda: heard.append("ready"))
    worker.updates.connect(lambda updates: heard.append(("updates", updates)))
    worker.data_ready.connect(lambda *args: heard.append(("data", *args)))
    worker.inspected.connect(lambda *args: heard.append(("inspected", *args)))
    worker.failed.connect(lambda text: heard.append(("failed", text)))
    for message in (Ready(), Updates(("u1", "u2")), DataReady("a", 2, "split"), Inspection("bn", "a", {"x": 1}),
                    Failed("RuntimeError: gone")):
        worker._dispatch(message)
    assert heard == ["ready", ("updates", ["u1", "u2"]), ("data", "a", 2, "split"), ("inspected", "bn", "a", {"x": 1}),
                     ("failed", "RuntimeError: gone")]
    with pytest.raises(ValueError, match="unknown message"):
        worker._dispatch(("ready",))


@pytest.mark.parametrize("backend", ["thread", "process"])
def test_each_backend_trains_a_run_and_shuts_down(qtbot, backend):
    training = TrainingThread(backend=backend)
    steps, statuses = [], []

    def on_updates(updates):
        for update in updates:
            steps.extend(update.steps.step.tolist())
            statuses.append(update.status)
        training.worker.acknowledge()

    training.worker.updates.connect(on_updates)
    with qtbot.waitSignal(training.worker.ready, timeout=60_000):
        training.start()
    assert training in still_running()
    training.post("add", "a", exp(steps=30))
    training.post("start")
    qtbot.waitUntil(lambda: bool(statuses) and statuses[-1] == "finished", timeout=60_000)
    np.testing.assert_array_equal(steps, np.arange(1, 31))
    with qtbot.waitSignal(training.worker.finished, timeout=10_000):
        assert training.shutdown(10_000)
    assert training not in still_running()
    if backend == "process":
        assert training.worker.process.exitcode == 0


def test_the_first_process_worker_takes_the_training_process_started_early(qtbot):
    """run_app starts the training process before Qt and the window load (spawn_early); the window's worker
    takes that one, a later worker (a restart) starts its own, and both are real processes that end cleanly."""
    from gui.concurrency import training as module
    module.spawn_early()
    early = module._early[0]
    module.spawn_early()                                  # once: a second call starts nothing more
    assert module._early[0] is early and early.is_alive()
    first = TrainingThread(backend="process")
    assert first.worker.process is early and module._early is None
    second = TrainingThread(backend="process")
    assert second.worker.process is not early and second.worker.process.is_alive()
    for training in (first, second):
        ready = []
        training.worker.ready.connect(lambda r=ready: r.append(True))
        training.start()
        qtbot.waitUntil(lambda r=ready: bool(r), timeout=60_000)    # each one answers: it is the one it talks to
        assert training.shutdown(10_000)
    assert not early.is_alive() and not second.worker.process.is_alive()
