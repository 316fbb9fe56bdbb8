"""A PBT member resumes a state: the two traps (the parent's learning rate restored over the explored one, a
copied optimizer state sharing momentum buffers with its parent) and a resume that is bit for bit a straight run."""
import numpy as np
import pytest
import torch

from engine.labs.search.pbt_member import MemberState, build_member, train_round
from engine.labs.search.spec import parse_search
from engine.optim.schedules import lr_curve
from engine.status import RunStatus

BASE = {"data": {"dataset": "moons", "n_train": 64, "n_val": 64}, "model": {"hidden": [8]},
        "optimizer": {"name": "sgd", "momentum": 0.0}, "train": {"steps": 40, "batch_size": 16, "eval_every": 10}}


def base(**sections):
    raw = {k: dict(v) for k, v in BASE.items()}
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value}
    return parse_search({"base": raw, "space": {"optimizer.lr": {"log": [1e-3, 1.0]}}, "methods": ["pbt"]}).base


def parent_state(exp, lr=0.1, steps=10) -> MemberState:
    result = train_round(exp, {"optimizer.lr": lr}, "val_loss", MemberState(), steps)
    assert result.status == RunStatus.FINISHED and result.state.step == steps
    return result.state


def test_the_explored_learning_rate_is_the_one_the_next_step_uses():
    exp = base()
    state = parent_state(exp, lr=0.1)
    child = build_member(exp, {"optimizer.lr": 0.08}, state)
    assert [g["lr"] for g in child.optimizer.param_groups] == [0.08]
    params = list(child.model.parameters())
    before = [p.detach().clone() for p in params]
    done = child.train_step()
    assert done.updated and done.lr == 0.08
    steps = [(p.detach() - old).flatten() for p, old in zip(params, before)]
    grads = torch.cat([p.grad.flatten() for p in params])
    # plain SGD: w <- w - lr g, so the step is 0.08 g, not the parent's 0.1 g
    torch.testing.assert_close(torch.cat(steps), -0.08 * grads, rtol=1e-4, atol=1e-6)
    assert (torch.cat(steps) + 0.1 * grads).abs().max() > 100 * 1e-6
    # the trap is real: loading the parent's optimizer state as it is brings the parent's rate back
    naive = build_member(exp, {"optimizer.lr": 0.08}, MemberState())
    naive.load_state(state.trainer)
    assert naive.optimizer.param_groups[0]["lr"] == pytest.approx(0.1)


def test_with_a_schedule_the_rate_at_step_t_is_the_explored_runs_rate_at_t():
    exp = base(schedule={"name": "exponential", "gamma": 0.95})
    state = parent_state(exp, lr=0.1, steps=10)
    child = build_member(exp, {"optimizer.lr": 0.05}, state)
    curve = lr_curve(child.experiment.schedule, 0.05, 40)
    assert child.step_count == 10
    assert child.optimizer.param_groups[0]["lr"] == pytest.approx(curve[10], rel=1e-12)
    child.step()
    assert child.optimizer.param_groups[0]["lr"] == pytest.approx(curve[11], rel=1e-12)


def momentum_buffers(trainer) -> list[torch.Tensor]:
    return [trainer.optimizer.state[p]["momentum_buffer"] for p in trainer.model.parameters()]


def test_a_copied_optimizer_state_owns_its_momentum_buffers():
    exp = base(optimizer={"momentum": 0.9})
    state = parent_state(exp, lr=0.1)
    held = [b.clone() for b in state.trainer.optimizer["state"][0].values() if isinstance(b, torch.Tensor)]
    a = build_member(exp, {"optimizer.lr": 0.1}, state)
    b = build_member(exp, {"optimizer.lr": 0.12}, state)
    b_before = [t.clone() for t in momentum_buffers(b)]
    for _ in range(3):
        assert a.train_step().updated
    assert any(not torch.equal(x, y) for x, y in zip(momentum_buffers(a), b_before))     # a's moved
    assert all(torch.equal(x, y) for x, y in zip(momentum_buffers(b), b_before))         # b's did not
    assert all(x.data_ptr() != y.data_ptr() for x, y in zip(momentum_buffers(a), momentum_buffers(b)))
    after = [t for t in state.trainer.optimizer["state"][0].values() if isinstance(t, torch.Tensor)]
    assert all(torch.equal(x, y) for x, y in zip(after, held))                           # the state too
    # the trap is real: two trainers loaded from one state dict as it is share their buffers
    n1, n2 = (build_member(exp, {"optimizer.lr": 0.1}, MemberState()) for _ in range(2))
    n1.load_state(state.trainer)
    n2.load_state(state.trainer)
    assert momentum_buffers(n1)[0].data_ptr() == momentum_buffers(n2)[0].data_ptr()


def test_rounds_resumed_from_saved_states_are_a_straight_run_bit_for_bit():
    from engine.labs.search.trial import trial_experiment
    from engine.training.trainer import Trainer
    exp = base(optimizer={"momentum": 0.9}, schedule={"name": "cosine"}, model={"dropout": 0.2})
    state = MemberState()
    values = []
    for _ in range(4):
        result = train_round(exp, {"optimizer.lr": 0.05}, "val_loss", state, 10)
        state = result.state
        values.append(result.value)
    assert result.done and result.status == RunStatus.FINISHED and state.step == 40
    straight = Trainer(trial_experiment(exp, {"optimizer.lr": 0.05}))
    evals = {}
    straight.run(lambda e: evals.__setitem__(e.step, e.val_loss) if hasattr(e, "val_loss") else None)
    assert values == [evals[10], evals[20], evals[30], evals[40]]
    assert np.isfinite(values).all() and values[-1] < evals[0]


def test_a_diverged_round_is_penalized_no_better_than_the_untrained_network():
    exp = base(train={"divergence_factor": 3.0})
    result = train_round(exp, {"optimizer.lr": 1e3}, "val_loss", MemberState(), 20)
    assert result.status == RunStatus.DIVERGED and result.done
    assert result.state.step < 20 and result.value >= result.state.untrained


def test_a_state_that_does_not_fit_is_an_error_not_a_crash():
    exp = base()
    state = parent_state(exp)
    result = train_round(exp, {"optimizer.lr": 0.1, "model.hidden": [16]}, "val_loss", state, 10)
    assert result.status == RunStatus.ERROR
    assert result.message.startswith("the copied state does not fit this member's network")
