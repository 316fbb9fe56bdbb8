"""The PBT view draws what the engine reported: each member's curve its rounds' values with a jump to its parent's
at every copy, a star per exploit, a cross per diverged round, the lineage tree's edges the copies, and the
schedule of each surviving member its lineage's values; live events and the final result draw the same."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.labs.search.pbt import Exploit, MemberRound, run_pbt
from engine.labs.search.spec import parse_search
from engine.status import RunStatus
from gui.labs.search.pbt_view import PBTView

RAW = {"base": {"data": {"dataset": "moons", "n_train": 64, "n_val": 64}, "model": {"hidden": [8]},
                "optimizer": {"name": "sgd", "momentum": 0.5},
                "train": {"steps": 40, "batch_size": 16, "eval_every": 10}},
       "space": {"optimizer.lr": {"log": [1e-3, 1.0]}, "model.dropout": {"uniform": [0.0, 0.5]}},
       "methods": ["pbt"], "seed": 0, "objective": "val_loss", "pbt": {"population": 4, "interval": 10}}
DIVERGING = {**RAW, "base": {**RAW["base"], "optimizer": {"name": "sgd"},
                             "train": {**RAW["base"]["train"], "steps": 30, "divergence_factor": 3.0}},
             "space": {"optimizer.lr": {"log": [1e-2, 1e3]}}, "seed": 1}


def run(raw):
    events = []
    result = run_pbt(parse_search(raw), 0, on_event=events.append)
    return parse_search(raw), result, events


@pytest.fixture(scope="module")
def population():
    return run(RAW)


@pytest.fixture
def view(qtbot, population):
    search, _, events = population
    widget = PBTView(space=search.space)
    qtbot.addWidget(widget)
    for event in events:
        widget.add(event)
    return widget


def data(item):
    """The data an item was given (before a log axis transforms it)."""
    x, y = item.xData, item.yData
    return (np.array([]), np.array([])) if x is None else (np.asarray(x, float), np.asarray(y, float))


def test_each_members_curve_is_its_rounds_and_jumps_to_its_parent_at_each_copy(view, population):
    _, result, _ = population
    assert sorted(view.curves) == [0, 1, 2, 3] and result.events
    for h in result.members:
        x, y = data(view.curves[h.member])
        finite = np.isfinite(x)
        own = [(x[i], y[i]) for i in range(len(x)) if finite[i] and
               (i == 0 or np.isfinite(x[i - 1]))]            # every point but a landing
        assert own == [(r.step, r.value) for r in h.rounds]
        copies = [e for e in result.events if e.member == h.member]
        assert int((~finite).sum()) == len(copies)          # one break per copy
        for e in copies:
            parent = next(r.value for r in result.members[e.parent].rounds if r.step == e.step)
            i = next(i for i in range(len(x)) if not finite[i] and x[i + 1] == e.step)
            assert y[i + 1] == parent                       # it goes on from its parent's point
    stars = view.landings.data
    assert len(stars) == len(result.events)
    assert sorted((s["x"], s["y"]) for s in stars) == sorted(
        (e.step, next(r.value for r in result.members[e.parent].rounds if r.step == e.step)) for e in result.events)
    for member, line in view.jumps.items():                  # dashed: own value -> parent's value, at the step
        x, y = data(line)
        mine = [e for e in result.events if e.member == member]
        assert list(x) == [e.step for e in mine for _ in range(2)]
        assert list(y[1::2]) == [view.value_at(e.parent, e.step) for e in mine]
        assert list(y[0::2]) == [view.value_at(member, e.step) for e in mine]


def test_the_lineage_tree_links_each_copy_from_the_parents_row(view, population):
    _, result, _ = population
    links = view.tree_links()
    assert len(links) == 4 * 3                                # 4 members, 3 rounds after the first
    copies = {(e.step // 10 - 1, e.member): e.parent for e in result.events}
    for generation, source, member, _ in links:
        assert source == copies.get((generation, member), member)
    ancestry = view.ancestry()
    for e in result.events:                                   # a copy carries its parent's ancestor on
        g = e.step // 10
        assert ancestry[(g, e.member)] == ancestry[(g - 1, e.parent)]
    assert len(view.tree_nodes.data) == 16
    edges = sum(len(data(line)[0]) for line in view.tree_edges.values())
    assert edges == 2 * len(links)
    for ancestor, line in view.tree_edges.items():
        x, y = data(line)
        assert {(int(a), int(b)) for a, b in zip(x[::2], y[1::2])} == {
            (g, m) for g, _, m, a in links if a == ancestor}


def test_the_schedule_of_a_survivor_follows_its_weights_back_through_every_copy(view, population):
    _, result, _ = population
    assert view.key_box.currentText() == "optimizer.lr"
    assert view.schedule_plot.getPlotItem().ctrl.logYCheck.isChecked()       # a log range: a log axis
    assert sorted(view.schedules) == view.survivors() == [0, 1, 2, 3]
    copied = [e for e in result.events if e.step < 40]
    e = copied[-1]                                                            # the last copy
    x, y = view.schedule_points(e.member, "optimizer.lr")
    assert list(x) == [0, 10, 10, 20, 20, 30, 30, 40]
    after = [r for r in result.members[e.member].rounds if r.step > e.step]
    assert list(y[-2 * len(after):]) == [r.params["optimizer.lr"] for r in after for _ in range(2)]
    before = [r for r in view.lineage_rounds(e.parent) if r.step <= e.step]
    assert list(y[:2 * len(before)]) == [r.params["optimizer.lr"] for r in before for _ in range(2)]
    assert after[0].params == e.params_after
    lx, ly = data(view.schedules[e.member])
    assert list(lx) == list(x) and list(ly) == list(y)
    view.key_box.setCurrentText("model.dropout")
    assert not view.schedule_plot.getPlotItem().ctrl.logYCheck.isChecked()
    assert list(data(view.schedules[e.member])[1][-1:]) == [after[-1].params["model.dropout"]]


def test_the_result_draws_what_the_live_events_drew_and_clear_empties_it(qtbot, view, population):
    _, result, _ = population
    fresh = PBTView()                                   # no space: the keys come from the events
    qtbot.addWidget(fresh)
    fresh.show_result(result)
    assert sorted(fresh.curves) == sorted(view.curves)
    for member in view.curves:                          # NaN (a copy's break) compares equal here
        for a, b in zip(data(fresh.curves[member]), data(view.curves[member])):
            np.testing.assert_array_equal(a, b)
    assert fresh.tree_links() == view.tree_links()
    assert fresh.key_is_log("optimizer.lr")               # inferred: positive and over a decade
    assert f"Best: member {result.best_member}" in fresh.summary.text()
    rounds = max(len(h.rounds) for h in result.members)           # the population's rounds, not members x rounds
    assert f"{len(result.members)} members, {rounds} rounds," in fresh.summary.text()
    fresh.clear()
    assert not fresh.curves and not fresh.tree_edges and len(fresh.landings.data) == 0
    assert fresh.summary.text().endswith("no rounds yet.")


def test_a_diverged_round_is_a_cross_and_the_copy_that_replaced_it_a_jump(qtbot):
    search, result, events = run(DIVERGING)
    widget = PBTView(space=search.space)
    qtbot.addWidget(widget)
    for event in events:
        widget.add(event)
    bad = [r for h in result.members for r in h.rounds if r.status == RunStatus.DIVERGED]
    assert bad
    crosses = widget.diverged.data
    assert sorted((c["x"], c["y"]) for c in crosses) == sorted((r.step, r.value) for r in bad)
    replaced = [e for e in result.events if e.reason == RunStatus.DIVERGED]
    assert {e.member for e in replaced} == {r.member for r in bad}
    for e in replaced:                                 # it goes on from its parent's point at the round's end
        x, y = data(widget.curves[e.member])
        i = next(i for i in range(1, len(x)) if x[i] == e.step and math.isnan(x[i - 1]))
        assert y[i] == widget.value_at(e.parent, e.step)
    assert "of a member whose run ended" in widget.summary.text()
    assert all(isinstance(e, (MemberRound, Exploit)) for e in events)
