"""Drawing the Training tab's views one per event-loop turn, so a class never sees the window stutter.

Drawing a whole batch at once (four plots, the boundary, the histograms) made one turn of the event
loop last up to ~150 ms here; :class:`DrawScheduler` draws one view per turn and merges the points of
batches that arrive meanwhile into the next drawing instead of queueing them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Slot

from gui.training.metric_plots import PLOTS

if TYPE_CHECKING:
    from gui.training.tab import TrainingTab

HIDDEN_BATCH = 64
"""Histogram events a run keeps waiting while the Weights tab is hidden; then they go into its bounded
store (:meth:`~gui.training.histograms.HistogramView.store`) in one extend per layer, undrawn."""

# The views one drawing round visits, one per event-loop turn (DrawScheduler.draw_slice).
DRAW_ROUND = (*(info.key for info in PLOTS), "boundary", "weights")


class DrawScheduler(QObject):
    """Draws what the updates brought one view per event-loop turn, so Qt paints it before the next.

    Drawing a whole batch at once (four plots, the boundary, the histograms)
    made one turn of the event loop last up to ~150 ms here, which a class
    sees as a stutter of the whole window; one view per turn keeps each turn
    short, and the points of batches that arrive meanwhile are merged into
    the next drawing instead of queued.  A round visits every view once;
    ``batches_drawn`` counts the rounds that drew something (the benchmark
    reads the refresh rate from it).
    """

    def __init__(self, tab: "TrainingTab"):
        super().__init__(tab)
        self.tab = tab
        self.batches_drawn = 0
        self.boundaries_due: dict[str, object] = {}      # newest boundary per run, not drawn yet
        self.hidden_histograms: dict[str, list] = {}     # events waiting for the Weights tab (< HIDDEN_BATCH a run)
        self._slice = 0                                  # where the drawing round stands
        self._drew_in_round = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.draw_slice)

    def store(self, update) -> None:
        """Keep what of ``update`` is drawn later: its histograms and its newest boundary."""
        if update.histograms:
            waiting = self.hidden_histograms.setdefault(update.run_id, [])
            waiting.extend(update.histograms)
            if len(waiting) >= HIDDEN_BATCH:        # stored, not drawn: the list stays short however long the run
                self._hand_over(self.hidden_histograms.pop(update.run_id), update.run_id)
        if update.boundary is not None:
            self.boundaries_due[update.run_id] = update.boundary

    def schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def forget(self, run_id: str) -> None:
        self.hidden_histograms.pop(run_id, None)
        self.boundaries_due.pop(run_id, None)

    @Slot()
    def draw_slice(self) -> None:
        while self._slice < len(DRAW_ROUND):
            view = DRAW_ROUND[self._slice]
            self._slice += 1
            if self._due(view):
                self._draw(view)
                self._drew_in_round = True
                self._timer.start()
                return
        self._slice = 0
        if self._drew_in_round:
            self._drew_in_round = False
            self.batches_drawn += 1
        if any(self._due(view) for view in DRAW_ROUND):
            self._timer.start()

    def _due(self, view: str) -> bool:
        if view == "boundary":
            return bool(self.boundaries_due)
        if view == "weights":
            return self._histograms_due()
        return view in self.tab.plots.pending_plots()

    def _draw(self, view: str) -> None:
        if view == "boundary":
            self.draw_boundaries()
        elif view == "weights":
            self.feed_histograms()
        else:
            self.tab.plots.draw_pending(view)

    def draw_boundaries(self) -> None:
        due, self.boundaries_due = self.boundaries_due, {}
        for run_id, boundary in due.items():
            if run_id in self.tab.runs:
                self.tab.boundary.show(run_id, boundary)

    def feed_histograms(self, hidden_too: bool = False) -> None:
        """Histogram events go to the Weights tab when it is on screen; while it is hidden they wait.

        Its redraw is the costliest of the window's (a heatmap and a histogram per
        update), and nobody sees it while another tab is shown; the events are
        stored (in batches of ``HIDDEN_BATCH``, bounded), so the heatmap over time is complete when the
        tab is opened (or, ``hidden_too``, when a file is exported from it unseen).
        """
        view = self.tab.histograms
        if not (self._histograms_due() or (hidden_too and (self.hidden_histograms or view.stale))):
            return
        waiting, self.hidden_histograms = self.hidden_histograms, {}
        for run_id, events in waiting.items():
            self._hand_over(events, run_id)
        view.refresh()

    def _hand_over(self, events: list, run_id: str) -> None:
        """A run's waiting events into the Weights tab's store, undrawn (a run removed meanwhile: dropped)."""
        from engine.training.updates import EMPTY_EVALS, EMPTY_STEPS, RunUpdate
        run = self.tab.runs.get(run_id)
        if run is None:
            return
        self.tab.histograms.store(RunUpdate(run_id, run.status, run.message, run.step, run.epoch, run.rate,
                                            EMPTY_STEPS, EMPTY_EVALS, tuple(events), generation=run.generation))

    def _histograms_due(self) -> bool:
        return (self.tab.tabs.currentWidget() is self.tab.histograms
                and (bool(self.hidden_histograms) or self.tab.histograms.stale))

    def flush(self) -> None:
        """Draw everything stored at once: an exported file shows every point received."""
        for key in self.tab.plots.pending_plots():
            self.tab.plots.draw_pending(key)
        self.draw_boundaries()
        self.feed_histograms(hidden_too=True)
