"""The lab: runs stepped together, batched updates, reset, errors kept to their run."""
import numpy as np

from engine.config import DataConfig, Experiment, OptimizerConfig, TrainConfig
from engine.status import RunStatus
from engine.training.events import FinalEvent, StepEvent
from engine.training.session import Lab, SharedData, step_in_turn, step_safely, train_in_turn
from engine.training.trainer import Trainer


def exp(run_name, **opt):
    return Experiment(name=run_name, optimizer=OptimizerConfig(**opt), train=TrainConfig(steps=40, eval_every=10,
                                                                                      histogram_every=20))


def drain(lab, rounds):
    updates = []
    for _ in range(rounds):
        lab.step_round()
        updates += lab.take_updates()
    return updates


def test_runs_interleave_and_equal_their_solo_runs():
    lab = Lab()
    lab.add("a", exp("sgd", name="sgd", lr=0.1))
    lab.add("b", exp("adam", name="adam"))
    lab.start()
    updates = drain(lab, 50)
    loss = {rid: np.concatenate([u.steps.loss for u in updates if u.run_id == rid]) for rid in "ab"}
    for rid, e in (("a", exp("sgd", name="sgd", lr=0.1)), ("b", exp("adam", name="adam"))):
        solo = Trainer(e)
        alone = [ev.loss for _ in range(40) for ev in solo.step() if type(ev).__name__ == "StepEvent"]
        np.testing.assert_array_equal(loss[rid], alone)
    assert lab.status("a") == lab.status("b") == RunStatus.FINISHED


def test_updates_carry_all_new_points_as_arrays():
    lab = Lab()
    lab.add("a", exp("a"))
    lab.start()
    for _ in range(15):
        lab.step_round()
    (u,) = lab.take_updates()
    assert list(u.steps.step) == list(range(1, 16)) and u.status == RunStatus.RUNNING and u.step == 15
    assert list(u.evals.step) == [0, 10] and [h.step for h in u.histograms] == [0]
    assert u.boundary is not None and u.boundary.probs.shape == (90, 90, 2)
    np.testing.assert_allclose(u.boundary.probs.sum(-1), 1, rtol=1e-5)
    assert lab.take_updates() == []  # nothing new, nothing sent


def test_boundary_is_rate_limited_not_every_step():
    lab = Lab(boundary_interval=10.0)
    lab.add("a", exp("a"))
    lab.start()
    lab.step_round()
    first = lab.take_updates(now=100.0)[0]
    lab.step_round()
    second = lab.take_updates(now=101.0)[0]
    lab.step_round()
    third = lab.take_updates(now=111.0)[0]
    assert first.boundary is not None and second.boundary is None and third.boundary is not None


def test_pause_step_once_and_stop():
    lab = Lab()
    lab.add("a", exp("a"))
    assert lab.step_round() == 0 and lab.status("a") == RunStatus.QUEUED
    assert lab.step_once() == 1 and lab.status("a") == RunStatus.PAUSED and lab.trainer("a").step_count == 1
    lab.start()
    lab.step_round()
    lab.pause()
    assert lab.step_round() == 0 and lab.trainer("a").step_count == 2
    lab.stop()
    assert lab.status("a") == RunStatus.STOPPED


def test_reset_rewinds_to_the_same_initial_weights_and_bumps_generation():
    lab = Lab()
    lab.add("a", exp("a"))
    lab.start()
    drain(lab, 15)
    trained = [p.detach().clone() for p in lab.trainer("a").model.parameters()]
    lab.reset()
    assert lab.status("a") == RunStatus.QUEUED
    (u,) = lab.take_updates()
    assert u.generation == 1 and u.status == RunStatus.QUEUED
    lab.start()
    lab.step_round()
    # After one step of the rewound run, the weights equal the first run's after one step.
    fresh = Trainer(exp("a"))
    fresh.step()
    for p, q in zip(lab.trainer("a").model.parameters(), fresh.model.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())
    assert not all(np.array_equal(p.numpy(), q.detach().numpy())
                   for p, q in zip(trained, lab.trainer("a").model.parameters()))


def test_a_failing_run_ends_in_error_and_the_others_go_on():
    lab = Lab()
    lab.add("bad", Experiment(data=DataConfig(dataset="mnist", path="/nowhere")))
    lab.add("diverging", exp("x", name="sgd", lr=50.0))
    lab.add("good", exp("good"))
    lab.start()
    updates = drain(lab, 45)
    assert lab.status("bad") == RunStatus.ERROR and lab.status("diverging") == RunStatus.DIVERGED and lab.status("good") == RunStatus.FINISHED
    bad = [u for u in updates if u.run_id == "bad"][-1]
    assert bad.status == RunStatus.ERROR and bad.message.startswith("data.path:")
    div = [u for u in updates if u.run_id == "diverging"][-1]
    assert div.message.startswith("diverged at step") and "lr 50" in div.message


def test_runs_on_the_same_data_share_it():
    lab = Lab()
    lab.add("a", exp("a"))
    lab.add("b", exp("b", name="sgd", lr=0.1))
    lab.start()
    lab.step_round()
    assert lab.data("a") is lab.data("b")


def test_steps_per_second_is_reported_while_running():
    lab = Lab()
    lab.add("a", Experiment(train=TrainConfig(steps=500)))
    lab.start()
    for _ in range(200):
        lab.step_round()
    (u,) = lab.take_updates()
    assert u.steps_per_sec > 10


# -- the driver every side-by-side caller uses -----------------------------------------------------

def test_a_step_that_raises_ends_that_run_alone_in_error(monkeypatch):
    broken, fine = Trainer(exp("broken")), Trainer(exp("fine"))

    def boom():
        raise RuntimeError("no batch today\nsecond line")
    monkeypatch.setattr(broken, "step", boom)
    first, second = step_in_turn([broken, fine])
    assert [type(e) for e in first] == [FinalEvent] and first[0].status == RunStatus.ERROR
    assert first[0].message == "RuntimeError: no batch today" and broken.done
    assert any(isinstance(e, StepEvent) for e in second) and not fine.done
    assert step_safely(broken) == []                                   # an ended run gives nothing


def test_train_in_turn_runs_every_trainer_to_its_end_as_alone():
    heard: dict[int, list] = {0: [], 1: []}
    rounds = []
    trainers = [Trainer(exp("sgd", name="sgd", lr=0.1)), Trainer(exp("adam", name="adam"))]
    train_in_turn(trainers, lambda i, events: heard[i].extend(events), after_round=lambda: rounds.append(1))
    assert all(t.status == RunStatus.FINISHED for t in trainers) and len(rounds) == 40
    for i, e in enumerate((exp("sgd", name="sgd", lr=0.1), exp("adam", name="adam"))):
        solo = Trainer(e)
        alone = [ev for _ in range(40) for ev in solo.step()]
        assert [ev.loss for ev in heard[i] if isinstance(ev, StepEvent)] == \
            [ev.loss for ev in alone if isinstance(ev, StepEvent)]
        assert isinstance(heard[i][-1], FinalEvent)


def test_train_in_turn_stops_every_run_where_it_is():
    trainers = [Trainer(exp("a")), Trainer(exp("b"))]
    finals = []
    rounds = []
    train_in_turn(trainers, lambda i, events: finals.extend(e for e in events if isinstance(e, FinalEvent)),
                  should_stop=lambda: len(rounds) == 5, after_round=lambda: rounds.append(1))
    assert [t.step_count for t in trainers] == [5, 5] and [f.status for f in finals] == [RunStatus.STOPPED, RunStatus.STOPPED]


def test_shared_data_loads_once_per_data_and_seed():
    data = SharedData()
    a, b = exp("a"), exp("b", name="sgd")
    assert data(a) is data(b)
    assert data(a.replace(seed=a.seed + 1)) is not data(a)


def test_a_finished_run_leaves_the_boundary_of_its_last_step():
    lab = Lab(boundary_interval=1e9)            # the cadence alone would send only the first boundary
    lab.add("a", exp("a"))
    lab.start()
    boundaries = []
    for i in range(45):
        lab.step_round()
        boundaries += [u.boundary for u in lab.take_updates(now=float(i)) if u.boundary is not None]
    assert lab.status("a") == RunStatus.FINISHED
    assert boundaries[-1].step == lab.trainer("a").step_count == 40
    assert [b.step for b in boundaries] == [1, 40]
    assert lab.take_updates(now=99.0) == []     # once: an ended run sends nothing more


def test_every_single_step_sends_its_boundary():
    lab = Lab(boundary_interval=1e9)
    lab.add("a", exp("a"))
    steps = []
    for i in range(4):
        lab.step_once()
        (u,) = lab.take_updates(now=float(i))
        assert u.boundary is not None
        steps.append(u.boundary.step)
    assert steps == [1, 2, 3, 4] and lab.status("a") == RunStatus.PAUSED


def test_a_multi_seed_run_beside_a_single_one():
    """Run "m" (3 seeds) steps beside run "a" (1 seed): "a" is its solo run, "m" sends its members' mean with
    the spread, member 0's histograms and the members' mean probabilities."""
    from engine.training.members import SequentialMembers
    from engine.training.updates import STEP_BANDS
    single, many = exp("a"), exp("m").replace(seed=2, train={"seeds": 3})
    lab = Lab()
    lab.add("a", single)
    lab.add("m", many)
    lab.start()
    updates = drain(lab, 45)
    assert lab.status("a") == lab.status("m") == RunStatus.FINISHED
    of = {rid: [u for u in updates if u.run_id == rid] for rid in "am"}
    solo = Trainer(single)
    alone = [ev.loss for _ in range(40) for ev in solo.step() if isinstance(ev, StepEvent)]
    np.testing.assert_array_equal(np.concatenate([u.steps.loss for u in of["a"]]), alone)
    assert all(u.members == 1 and not u.step_spread for u in of["a"])
    assert all(u.members == 3 for u in of["m"])
    reference = SequentialMembers(many)
    reference.run()
    per_member = []
    for member in reference.trainers:      # each member's own single run, again
        again = Trainer(member.experiment, member.data)
        per_member.append([ev.loss for _ in range(40) for ev in again.step() if isinstance(ev, StepEvent)])
    per_member = np.array(per_member)
    losses = np.concatenate([u.steps.loss for u in of["m"] if len(u.steps)])
    np.testing.assert_allclose(losses, per_member.mean(axis=0), rtol=1e-12)
    spread = np.concatenate([u.step_spread["loss"].maximum for u in of["m"] if set(u.step_spread) == set(STEP_BANDS)])
    np.testing.assert_array_equal(spread, per_member.max(axis=0))
    hist_steps = [h.step for u in of["m"] for h in u.histograms]
    assert hist_steps == [0, 20, 40]
    boundary = next(u.boundary for u in reversed(of["m"]) if u.boundary is not None)
    grid = np.stack(np.meshgrid(boundary.xs, boundary.ys), -1).reshape(-1, 2)
    import torch
    mean = reference.predict_proba(torch.from_numpy(grid)).mean(axis=0).reshape(boundary.probs.shape)
    np.testing.assert_allclose(boundary.probs, mean, rtol=1e-5, atol=1e-6)
