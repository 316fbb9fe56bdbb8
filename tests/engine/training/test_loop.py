"""The training process's loop, without Qt: typed commands, back-pressure, cadence, inspections, quit,
the protocol through pickle, and ``serve`` in a real child process (spawn, as the window starts it)."""
import multiprocessing
import pickle
from typing import get_args

import numpy as np
import pytest

from engine.config import DataConfig, Experiment, OptimizerConfig, TrainConfig
from engine.status import RunStatus
from engine.training import loop as loop_module
from engine.training.loop import LabLoop, serve
from engine.training.protocol import (
    COMMANDS,
    Ack,
    AddRun,
    Command,
    DataReady,
    Failed,
    Inspect,
    Inspection,
    Pause,
    Quit,
    Ready,
    RemoveRun,
    Reset,
    SetExperiment,
    Speed,
    Start,
    StepOnce,
    Stop,
    Updates,
    command,
)
from engine.training.session import Lab

TIMEOUT = 120.0   # seconds a pipe is waited on before the test gives up (a hang guard, never a speed check)
ROUND_LIMIT = 100_000   # a receive called more often than this means the loop did not stop: fail, not hang


def exp(steps=400):
    return Experiment(name="sgd", data=DataConfig(n_train=64, n_val=64), optimizer=OptimizerConfig(name="sgd", lr=0.1),
                      train=TrainConfig(steps=steps, eval_every=100, histogram_every=0))


class FakeTime:
    """Stands in for the loop module's ``time``: the clock moves only when the test moves it."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def fake_time(monkeypatch):
    clock = FakeTime()
    monkeypatch.setattr(loop_module, "time", clock)
    return clock


def scripted(clock, rounds, tick, ack_every_round=False):
    """A receive for ``LabLoop.run``: each round moves the clock by ``tick``; after ``rounds`` rounds, Quit.

    With ``ack_every_round`` the window takes every batch at once (an Ack at the start of each round)."""
    state = {"rounds": 0, "ack_due": False, "calls": 0}

    def receive(timeout):
        state["calls"] += 1
        assert state["calls"] < ROUND_LIMIT, "the loop did not stop"
        if state["ack_due"]:
            state["ack_due"] = False
            return Ack()
        if state["rounds"] >= rounds:
            return Quit()
        state["rounds"] += 1
        clock.now += tick
        state["ack_due"] = ack_every_round
        return None

    return receive


def of_type(messages, kind):
    return [m for m in messages if isinstance(m, kind)]


# -- back-pressure -----------------------------------------------------------------------------------------

def test_no_second_batch_before_ack_and_the_piled_up_points_then_arrive_together(fake_time):
    sent = []
    loop = LabLoop(sent.append, update_hz=8)
    loop.apply(AddRun("a", exp()))       # reported at once: the queued run; now one batch is in flight
    loop.apply(Start())
    # Never an Ack, and the cadence always due (a second per round): the lab trains, nothing more is sent.
    loop.run(scripted(fake_time, rounds=50, tick=1.0))
    assert loop.lab.trainer("a").step_count == 50
    first = of_type(sent, Updates)
    assert len(first) == 1 and len(first[0].updates[0].steps) == 0
    assert of_type(sent, DataReady) == []

    sent.clear()
    loop.apply(Ack())
    loop.run(scripted(fake_time, rounds=1, tick=1.0))     # one more round, then the batch
    batches = of_type(sent, Updates)
    assert len(batches) == 1
    (update,) = batches[0].updates
    steps = loop.lab.trainer("a").step_count
    assert steps == 51
    np.testing.assert_array_equal(update.steps.step, np.arange(1, steps + 1))   # every step, none lost
    assert [(m.run_id, m.generation) for m in of_type(sent, DataReady)] == [("a", 0)]


# -- cadence -------------------------------------------------------------------------------------------------

def test_updates_go_at_most_once_per_interval_of_the_cadence(fake_time):
    sent_at = []
    loop = LabLoop(lambda message: sent_at.append((fake_time.now, message)), update_hz=8)   # every 1/8 s
    loop.apply(AddRun("a", exp()))
    loop.apply(Ack())
    loop.apply(Start())
    sent_at.clear()
    rounds, tick = 192, 1 / 64          # 3 s of fake time, 8 rounds per interval (exact in binary)
    loop.run(scripted(fake_time, rounds=rounds, tick=tick, ack_every_round=True))
    times = [t for t, message in sent_at if isinstance(message, Updates)]
    slots = [int(t // (1 / 8)) for t in times]
    assert len(slots) == len(set(slots)), "two batches within one interval of the cadence"
    assert len(times) >= 3 * 8 - 1      # and the cadence is kept: about one per interval
    assert loop.lab.trainer("a").step_count == rounds   # training never waited for the cadence


def test_a_speed_limit_sleeps_between_rounds_on_the_clock(fake_time):
    loop = LabLoop(lambda message: None, update_hz=8)
    loop.apply(AddRun("a", exp()))
    loop.apply(Speed(4.0))              # 4 rounds per second
    loop.apply(Start())
    loop.run(scripted(fake_time, rounds=40, tick=0.0))   # only the loop's own sleeps move the clock
    steps = loop.lab.trainer("a").step_count
    assert 4 * fake_time.now - 1 <= steps <= 4 * fake_time.now + 1


# -- commands ------------------------------------------------------------------------------------------------

def test_an_unknown_command_is_a_value_error():
    loop = LabLoop(lambda message: None)
    with pytest.raises(ValueError, match="unknown command"):
        loop.apply(("start",))          # the old tuple form is not a command any more
    with pytest.raises(ValueError, match=r"unknown command 'jump' \(choose from add, remove, .*quit\)"):
        command("jump")


def test_the_name_table_builds_every_command_with_its_fields():
    assert set(COMMANDS.values()) == set(get_args(Command))
    e = exp()
    assert command("add", "a", e) == AddRun("a", e)
    assert command("set_experiment", "a", e) == SetExperiment("a", e)
    assert command("reset") == Reset(None) and command("reset", "a") == Reset("a")
    assert command("speed", None) == Speed(None)
    assert command("inspect", "bn", "a") == Inspect("bn", "a")
    with pytest.raises(TypeError):
        command("remove")               # a missing field is the dataclass's TypeError


def test_lab_commands_reach_the_lab_and_are_reported_at_once():
    sent = []
    loop = LabLoop(sent.append)
    loop.apply(AddRun("a", exp()))
    loop.apply(AddRun("b", exp()))
    loop.apply(Ack())
    loop.apply(StepOnce())
    assert [loop.lab.trainer(r).step_count for r in "ab"] == [1, 1]
    assert [u.status for u in of_type(sent, Updates)[-1].updates] == ["paused", "paused"]
    loop.apply(Ack())
    loop.apply(RemoveRun("b"))
    loop.apply(Ack())
    loop.apply(Reset("a"))
    assert loop.lab.run_ids == ["a"] and loop.lab.trainer("a") is None
    (update,) = of_type(sent, Updates)[-1].updates
    assert (update.status, update.generation) == ("queued", 1)
    loop.apply(Ack())
    loop.apply(Start())
    assert loop.lab.running
    loop.apply(Pause())
    assert not loop.lab.running
    loop.apply(StepOnce())
    loop.apply(Stop())
    assert loop.lab.status("a") == "stopped"


def test_quit_ends_run_before_the_commands_after_it():
    loop = LabLoop(lambda message: None)
    queue = [AddRun("a", exp()), Start(), Quit(), AddRun("b", exp())]
    loop.run(lambda timeout: queue.pop(0) if queue else None)
    assert loop.lab.run_ids == ["a"] and loop.lab.trainer("a") is None   # quit before the first round
    assert queue == [AddRun("b", exp())]


# -- inspections ---------------------------------------------------------------------------------------------

def test_inspections_run_on_request_and_an_unknown_one_names_the_choices():
    sent = []
    loop = LabLoop(sent.append, inspections={"steps": lambda trainer: trainer.step_count,
                                              "lr": lambda trainer: trainer.experiment.optimizer.lr})
    loop.apply(AddRun("a", exp()))
    loop.apply(StepOnce())
    loop.apply(AddRun("b", exp()))      # not built yet: nothing to inspect
    sent.clear()
    loop.apply(Inspect("steps", "a"))
    loop.apply(Inspect("lr", "a"))
    loop.apply(Inspect("steps", "b"))
    assert sent == [Inspection("steps", "a", 1), Inspection("lr", "a", 0.1)]
    with pytest.raises(ValueError, match=r"unknown inspection 'bn' \(choose from lr, steps\)"):
        loop.apply(Inspect("bn", "a"))


# -- the protocol through a pipe -------------------------------------------------------------------------------

def test_every_command_and_message_survives_pickle():
    e = exp()
    plain = [AddRun("a", e), RemoveRun("a"), SetExperiment("a", e), Reset(), Reset("a"), Start(), Pause(), Stop(),
             Speed(20.0), Speed(None), StepOnce(), Inspect("bn", "a"), Ack(), Quit(), Ready(),
             Inspection("bn", "a", {"rows": [1.5, 2.5]}), Failed("RuntimeError: the pipe broke")]
    for message in plain:
        assert pickle.loads(pickle.dumps(message)) == message
    lab = Lab()
    lab.add("a", e)
    lab.start()
    for _ in range(3):
        lab.step_round()
    updates = Updates(tuple(lab.take_updates()))
    back = pickle.loads(pickle.dumps(updates))
    assert isinstance(back, Updates) and back.updates[0].run_id == "a"
    np.testing.assert_array_equal(back.updates[0].steps.loss, updates.updates[0].steps.loss)
    data = DataReady("a", 0, lab.data("a"))
    back = pickle.loads(pickle.dumps(data))
    assert (back.run_id, back.generation) == ("a", 0)
    np.testing.assert_array_equal(back.data.x_train, data.data.x_train)


# -- serve, in a child process -----------------------------------------------------------------------------------

def _receive(pipe):
    assert pipe.poll(TIMEOUT), "the training process said nothing"
    return pipe.recv()


def test_serve_in_a_spawned_process_answers_ready_trains_and_ends_when_the_pipe_closes():
    ctx = multiprocessing.get_context("spawn")
    child_commands, commands = ctx.Pipe(duplex=False)
    messages, child_out = ctx.Pipe(duplex=False)
    process = ctx.Process(target=serve, args=(child_commands, child_out, None), daemon=True)
    process.start()
    child_commands.close()
    child_out.close()
    try:
        assert _receive(messages) == Ready()
        commands.send(AddRun("a", exp(steps=20)))
        commands.send(Start())
        steps, status = [], None
        while status != RunStatus.FINISHED:
            message = _receive(messages)
            assert not isinstance(message, Failed), message.text
            if isinstance(message, Updates):
                for update in message.updates:
                    steps.extend(update.steps.step.tolist())
                    status = update.status
                commands.send(Ack())
        assert steps == list(range(1, 21))
        commands.close()                 # the window went away: the process must end by itself
        process.join(TIMEOUT)
        assert process.exitcode == 0
    finally:
        if process.is_alive():
            process.terminate()
            process.join(5)
        messages.close()


def test_a_multi_seed_runs_update_crosses_the_pipe_with_its_spread_and_is_not_inspected():
    """The process backend pickles RunUpdates as they are: a K-member run's spreads arrive unchanged."""
    sent = []
    loop = LabLoop(sent.append, inspections={"steps": lambda trainer: trainer.step_count})
    many = exp().replace(train={"seeds": 3})
    loop.apply(AddRun("m", many))
    loop.apply(StepOnce())
    loop.apply(StepOnce())
    sent.clear()
    loop.apply(Inspect("steps", "m"))        # one network is measured; a band of three is none of them
    assert sent == []
    lab = Lab()
    lab.add("m", many)
    lab.start()
    for _ in range(3):
        lab.step_round()
    [update] = lab.take_updates()
    back = pickle.loads(pickle.dumps(Updates((update,)))).updates[0]
    assert back.members == 3 and set(back.step_spread) == {"loss", "grad_norm"}
    np.testing.assert_array_equal(back.step_spread["loss"].maximum, update.step_spread["loss"].maximum)
    np.testing.assert_array_equal(back.eval_spread["val_acc"].q25, update.eval_spread["val_acc"].q25)
