"""Population-based training drawn: the population's curves with its exploits, the lineage tree, the schedules.

Three plots, fed live by :meth:`PBTView.add` (each :class:`~engine.labs.search.pbt.MemberRound` and
:class:`~engine.labs.search.pbt.Exploit` as the engine reports it) and completed by :meth:`PBTView.show_result`:

* **Population**: one curve per member, its objective after each round against the step, in the member's run
  colour.  When a member copies a parent at step ``s`` its curve breaks and *jumps*: a dashed segment at ``s``
  from its own value down (or up) to its parent's, a star where it lands, and it trains on from there.  A
  diverged round is a cross in the palette's error red.
* **Lineage**: a node per member (row) and round (column); an edge from each node to the node its weights
  went to after the round: straight along the row when the member trained on, from the parent's row to the
  member's when it copied.  Nodes and edges wear the colour of the generation-0 member whose weights they
  descend from, so a lineage that takes over the population is one colour spreading down the rows.
* **Schedule**: for each surviving member (its last round finished), the values of one key (chosen in the box
  above) that its weights were trained with, round by round, following its lineage back through every copy:
  the schedule PBT found.  A log axis where the key's range is log (:meth:`set_space`; without a space, where
  every value is positive and they span a decade or more), a choice at its place in the list.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from engine.labs.search.pbt import Exploit, MemberRound, PBTResult
from engine.labs.search.space import Param
from engine.status import RunStatus
from gui.style.palette import ERROR, MARK_FILL, run_color
from gui.widgets.plotting import LogFriendlyAxis, lab_plot

LINE_WIDTH = 2
JUMP_WIDTH = 1.5
NODE_SIZE = 7
MARK_SIZE = 11


def _plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    return lab_plot(title, bottom=x_label, left=y_label, axis_items={"left": LogFriendlyAxis("left")},
                    min_height=140)


class PBTView(QWidget):
    """The population of one PBT run, drawn as its events arrive (GUI thread only)."""

    def __init__(self, parent: QWidget | None = None, space: Sequence[Param] = ()):
        super().__init__(parent)
        self.space: dict[str, Param] = {}
        self.summary = QLabel("Population-based training: no rounds yet.")
        self.summary.setWordWrap(True)
        self.curves_plot = _plot("Population: objective per member", "step", "objective")
        self.tree_plot = _plot("Who copied whom", "round", "member")
        self.schedule_plot = _plot("Schedules", "step", "value")
        self.tree_plot.setToolTip("Round by round, which member each one copied (weights and optimizer state)")
        self.schedule_plot.setToolTip("The chosen key's values of each surviving member, through its lineage: "
                                      "the schedule the population found")
        self.key_box = QComboBox()
        self.key_box.setToolTip("The hyperparameter whose schedule is drawn")
        self.key_box.currentIndexChanged.connect(self._on_key)

        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.tree_plot)
        schedule = QWidget()
        column = QVBoxLayout(schedule)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Key:"))
        row.addWidget(self.key_box, 1)
        column.addLayout(row)
        column.addWidget(self.schedule_plot, 1)
        lower.addWidget(schedule)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.curves_plot)
        split.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)

        self.rounds: dict[int, list[MemberRound]] = {}
        self.exploits: list[Exploit] = []
        self.result: PBTResult | None = None
        self.curves: dict[int, pg.PlotDataItem] = {}
        self.tree_edges: dict[int, pg.PlotDataItem] = {}     # by generation-0 ancestor
        self.schedules: dict[int, pg.PlotDataItem] = {}
        self.jumps: dict[int, pg.PlotDataItem] = {}           # each member's dashed jumps, pairs of points
        self.landings = pg.ScatterPlotItem([], [], symbol="star", size=MARK_SIZE)
        self.diverged = pg.ScatterPlotItem([], [], symbol="x", size=MARK_SIZE, pen=pg.mkPen(ERROR, width=2),
                                           brush=pg.mkBrush(ERROR))
        self.tree_nodes = pg.ScatterPlotItem([], [], size=NODE_SIZE)
        self.curves_plot.addItem(self.landings)
        self.curves_plot.addItem(self.diverged)
        self.tree_plot.addItem(self.tree_nodes)
        self.tree_plot.getPlotItem().invertY(True)
        self.set_space(space)

    # -- what the search tab calls --------------------------------------------------------------------

    def set_space(self, space: Sequence[Param]) -> None:
        """The search's keys (their kinds give the schedule's axis); optional: the events name the keys."""
        self.space = {p.path: p for p in space}
        self._fill_keys(list(self.space))

    def clear(self) -> None:
        self.rounds, self.exploits, self.result = {}, [], None
        for items, plot in ((self.curves, self.curves_plot), (self.jumps, self.curves_plot),
                            (self.tree_edges, self.tree_plot), (self.schedules, self.schedule_plot)):
            for line in items.values():
                plot.removeItem(line)
            items.clear()
        self.landings.setData([], [])
        self.diverged.setData([], [])
        self.tree_nodes.setData([], [])
        self.summary.setText("Population-based training: no rounds yet.")

    def add(self, event: Any) -> None:
        """One :class:`MemberRound` or :class:`Exploit`, live; anything else is not this view's."""
        if isinstance(event, MemberRound):
            self.rounds.setdefault(event.member, []).append(event)
            self.rounds[event.member].sort(key=lambda r: r.generation)
            if not self.space and self.key_box.count() < len(event.params):
                self._fill_keys(list(event.params))
        elif isinstance(event, Exploit):
            self.exploits.append(event)
        else:
            return
        self.redraw()

    def show_result(self, result: PBTResult) -> None:
        """The whole run as the engine returns it (the same events, in order, and the best)."""
        self.rounds = {h.member: list(h.rounds) for h in result.members if h.rounds}
        self.exploits = list(result.events)
        if not self.space and result.members and any(h.rounds for h in result.members):
            self._fill_keys(list(next(h for h in result.members if h.rounds).rounds[0].params))
        self.result = result
        self.redraw()

    # -- the drawing ----------------------------------------------------------------------------------

    def redraw(self) -> None:
        self._draw_curves()
        self._draw_tree()
        self._draw_schedules()
        self.summary.setText(self._summary_text())

    def _line(self, items: dict[int, pg.PlotDataItem], key: int, plot: pg.PlotWidget, **kwargs) -> pg.PlotDataItem:
        if key not in items:
            items[key] = plot.getPlotItem().plot([], [], **kwargs)
        return items[key]

    def value_at(self, member: int, step: int) -> float:
        """The member's objective after its round that ended at ``step`` (NaN when it has none)."""
        return next((r.value for r in self.rounds.get(member, ()) if r.step == step), math.nan)

    def curve_points(self, member: int) -> tuple[np.ndarray, np.ndarray]:
        """The member's curve: its rounds' values, broken (NaN) at each copy and resumed at the parent's value."""
        parents = {e.step: e.parent for e in self.exploits if e.member == member}
        pending = sorted(parents)
        xs: list[float] = []
        ys: list[float] = []

        def land(step: int) -> None:       # copied at ``step``: the curve goes on from the parent's point
            xs.extend([math.nan, step])
            ys.extend([math.nan, self.value_at(parents[step], step)])

        for r in self.rounds.get(member, ()):
            while pending and pending[0] < r.step:
                land(pending.pop(0))
            xs.append(r.step)
            ys.append(r.value)
        for step in pending:
            land(step)
        return np.array(xs, dtype=float), np.array(ys, dtype=float)

    def jump_segments(self) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Pairs of points, one pair per exploit: (step, the member's last value) to (step, the parent's)."""
        xs, ys, members = [], [], []
        for e in self.exploits:
            own = self._last_value_before(e.member, e.step)
            xs += [e.step, e.step]
            ys += [own, self.value_at(e.parent, e.step)]
            members.append(e.member)
        return np.array(xs, dtype=float), np.array(ys, dtype=float), members

    def _last_value_before(self, member: int, step: int) -> float:
        values = [r.value for r in self.rounds.get(member, ()) if r.step <= step]
        return values[-1] if values else math.nan

    def _draw_curves(self) -> None:
        for member in sorted(self.rounds):
            x, y = self.curve_points(member)
            color = run_color(member)
            line = self._line(self.curves, member, self.curves_plot, pen=pg.mkPen(color, width=LINE_WIDTH),
                              symbol="o", symbolSize=5, symbolBrush=color, symbolPen=color, connect="finite")
            line.setData(x, y, connect="finite")
        x, y, members = self.jump_segments()
        for member in set(self.jumps) - set(members):
            self.jumps[member].setData([], [])
        for member in sorted(set(members)):
            mine = np.repeat(np.array(members) == member, 2)
            pairs = mine & np.repeat(np.isfinite(y).reshape(-1, 2).all(axis=1), 2)
            line = self._line(self.jumps, member, self.curves_plot, connect="pairs",
                              pen=pg.mkPen(run_color(member), width=JUMP_WIDTH, style=Qt.PenStyle.DashLine))
            line.setData(x[pairs], y[pairs], connect="pairs")
        spots = [{"pos": (e.step, self.value_at(e.parent, e.step)), "brush": pg.mkBrush(MARK_FILL),
                  "pen": pg.mkPen(run_color(e.member), width=2)}
                 for e in self.exploits if math.isfinite(self.value_at(e.parent, e.step))]
        self.landings.setData(spots)
        bad = [r for rounds in self.rounds.values() for r in rounds if r.status == RunStatus.DIVERGED]
        self.diverged.setData([float(r.step) for r in bad], [r.value for r in bad])

    def ancestry(self) -> dict[tuple[int, int], int]:
        """``(generation, member) -> the generation-0 member`` whose weights the member trained in that round."""
        copied = {(e.step, e.member): e.parent for e in self.exploits}
        ends = self._generation_ends()
        out: dict[tuple[int, int], int] = {}
        for generation in sorted(ends):
            for member in sorted(self.rounds):
                if not any(r.generation == generation for r in self.rounds[member]):
                    continue
                if generation == 0:
                    out[(0, member)] = member
                    continue
                previous = ends.get(generation - 1)
                source = copied.get((previous, member), member) if previous is not None else member
                out[(generation, member)] = out.get((generation - 1, source), source)
        return out

    def _generation_ends(self) -> dict[int, int]:
        """Each round's last step (the step at which the exploits after it happen)."""
        ends: dict[int, int] = {}
        for rounds in self.rounds.values():
            for r in rounds:
                if r.status == RunStatus.FINISHED:
                    ends[r.generation] = max(ends.get(r.generation, 0), r.step)
        return ends

    def tree_links(self) -> list[tuple[int, int, int, int]]:
        """``(generation, from member, to member, ancestor)``: the weights of ``from`` after round ``generation``
        went on in ``to``'s round ``generation + 1`` (``from == to``: it trained on; else ``to`` copied)."""
        copied = {(e.step, e.member): e.parent for e in self.exploits}
        ends = self._generation_ends()
        ancestry = self.ancestry()
        links = []
        for (generation, member), ancestor in sorted(ancestry.items()):
            if generation == 0:
                continue
            source = copied.get((ends.get(generation - 1), member), member)
            links.append((generation - 1, source, member, ancestor))
        return links

    def _draw_tree(self) -> None:
        ancestry = self.ancestry()
        self.tree_nodes.setData([{"pos": (g, m), "brush": pg.mkBrush(run_color(a)), "pen": pg.mkPen(run_color(a))}
                                 for (g, m), a in sorted(ancestry.items())])
        by_ancestor: dict[int, tuple[list[float], list[float]]] = {}
        for generation, source, member, ancestor in self.tree_links():
            xs, ys = by_ancestor.setdefault(ancestor, ([], []))
            xs += [generation, generation + 1]
            ys += [source, member]
        for ancestor in list(self.tree_edges):
            if ancestor not in by_ancestor:
                self.tree_edges[ancestor].setData([], [])
        for ancestor, (xs, ys) in by_ancestor.items():
            line = self._line(self.tree_edges, ancestor, self.tree_plot,
                              pen=pg.mkPen(run_color(ancestor), width=LINE_WIDTH), connect="pairs")
            line.setData(np.array(xs, dtype=float), np.array(ys, dtype=float), connect="pairs")

    # -- schedules ------------------------------------------------------------------------------------

    def survivors(self) -> list[int]:
        """Members whose last round finished (the ones still standing)."""
        return [m for m, rounds in sorted(self.rounds.items()) if rounds and rounds[-1].status == RunStatus.FINISHED]

    def lineage_rounds(self, member: int) -> list[MemberRound]:
        """The rounds that trained the weights ``member`` holds now, oldest first, through every copy."""
        copied = {(e.step, e.member): e.parent for e in self.exploits}
        ends = self._generation_ends()
        rounds = self.rounds.get(member, [])
        if not rounds:
            return []
        chain = []
        current, generation = member, rounds[-1].generation
        while generation >= 0:
            r = next((x for x in self.rounds.get(current, ()) if x.generation == generation), None)
            if r is None:
                break
            chain.append(r)
            if generation > 0:
                current = copied.get((ends.get(generation - 1), current), current)
            generation -= 1
        return chain[::-1]

    def schedule_points(self, member: int, key: str) -> tuple[np.ndarray, np.ndarray]:
        """A step line: each lineage round's value of ``key`` from the step it started at to the step it ended."""
        xs: list[float] = []
        ys: list[float] = []
        start = 0
        for r in self.lineage_rounds(member):
            y = self._position(key, r.params.get(key))
            xs += [start, r.step]
            ys += [y, y]
            start = r.step
        return np.array(xs, dtype=float), np.array(ys, dtype=float)

    def _position(self, key: str, value: Any) -> float:
        param = self.space.get(key)
        if param is not None and param.kind == "choice":
            reprs = [str(c) for c in param.choices]
            return float(reprs.index(str(value))) if str(value) in reprs else math.nan
        try:
            return float(value)
        except (TypeError, ValueError):
            return math.nan

    def key_is_log(self, key: str) -> bool:
        param = self.space.get(key)
        if param is not None:
            return param.kind == "log"
        values = np.array([self._position(key, r.params.get(key)) for rs in self.rounds.values() for r in rs])
        values = values[np.isfinite(values)]
        return bool(len(values)) and bool((values > 0).all()) and bool(values.max() >= 10 * values.min())

    def _draw_schedules(self) -> None:
        key = self.key_box.currentText()
        for member in list(self.schedules):
            self.schedules[member].setData([], [])
        if not key:
            return
        item = self.schedule_plot.getPlotItem()
        item.setLabel("left", key)
        item.setLogMode(y=self.key_is_log(key))
        param = self.space.get(key)
        axis = item.getAxis("left")
        axis.setTicks([list(enumerate(str(c) for c in param.choices))] if param is not None and param.kind == "choice"
                      else None)
        for member in self.survivors():
            x, y = self.schedule_points(member, key)
            line = self._line(self.schedules, member, self.schedule_plot,
                              pen=pg.mkPen(run_color(member), width=LINE_WIDTH))
            line.setData(x, y)

    def _fill_keys(self, keys: list[str]) -> None:
        current = self.key_box.currentText()
        self.key_box.blockSignals(True)
        self.key_box.clear()
        self.key_box.addItems(keys)
        if current in keys:
            self.key_box.setCurrentText(current)
        self.key_box.blockSignals(False)

    @Slot(int)
    def _on_key(self, _index: int) -> None:
        self._draw_schedules()

    def _summary_text(self) -> str:
        n_rounds = max((len(r) for r in self.rounds.values()), default=0)    # the population's, not each member's
        text = (f"Population-based training: {len(self.rounds)} members, {n_rounds} rounds, "
                f"{len(self.exploits)} exploits")
        diverged = sum(e.reason != "bottom" for e in self.exploits)
        if diverged:
            text += f" ({diverged} of a member whose run ended)"
        if self.result is not None and self.result.best_member >= 0:
            best = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                             for k, v in self.result.best_params.items())
            text += f". Best: member {self.result.best_member}, {self.result.best_value:.4g} ({best})"
            if self.result.stopped:
                text += "; stopped: the finished rounds are shown"
        return text + "."
