"""Python's cyclic garbage collector runs on the GUI thread only.

Why: the collector runs in whichever thread happens to allocate past its threshold.  When that is a
worker thread (a lab's job, the thread backend's training loop) and the garbage holds Qt objects of a
closed window or a removed plot, the worker destroys them: ``QObject::~QObject`` takes Qt's
signal-slot mutex, then waits for the GIL to ask Python for an override.  If the GUI thread meanwhile
holds the GIL and destroys a widget of its own, it waits for that same mutex: both wait forever and
the window freezes.  That is the stack seen in a hung test run here (the init lab's job thread in
``gc_collect_main`` -> ``~QObject`` -> ``Sbk_GetPyOverride`` -> GIL; the GUI thread in
``~QMenu`` -> ``QBasicMutex::lockInternal``, holding the GIL).

So automatic collection is switched off and a timer on the GUI thread collects instead
(:class:`GuiThreadCollector`, after pyqtgraph's ``GarbageCollector``, the recipe of Erik Janssens): every
:data:`INTERVAL_S`, a generation at a time when its count passed the threshold automatic collection would have used;
the oldest generation at most every :data:`FULL_EVERY_S` seconds.  Why that limit: a full collection with
torch loaded takes ~0.1 s of the GUI thread, and pyqtgraph's recipe ran one whenever ten younger
collections had happened (measured with benchmarks/gui_bench.py: the longest stall 120-130 ms, against
56-60 ms with automatic collection, whose own rule spaces full collections out by how many objects have
grown old).  Reference counting frees everything else at once, as before.
"""
from __future__ import annotations

import gc
import threading
import time

from PySide6.QtCore import QTimer

INTERVAL_S = 0.1
FULL_EVERY_S = 30.0


class GuiThreadCollector:
    """Collects cyclic garbage from a timer of the thread that makes it (the GUI thread)."""

    def __init__(self, interval_s: float = INTERVAL_S, full_every_s: float = FULL_EVERY_S):
        self.threshold = gc.get_threshold()
        self.full_every_s = full_every_s
        self._last_full = time.monotonic()
        self.timer = QTimer()
        self.timer.timeout.connect(self.check)
        gc.disable()
        self.timer.start(int(interval_s * 1000))

    def check(self) -> None:
        """Collect the generations whose counts passed their thresholds (the oldest not too often)."""
        l0, l1, l2 = gc.get_count()
        if l0 <= self.threshold[0]:
            return
        gc.collect(0)
        if l1 <= self.threshold[1]:
            return
        gc.collect(1)
        now = time.monotonic()
        if l2 > self.threshold[2] and now - self._last_full >= self.full_every_s:
            gc.collect(2)
            self._last_full = now


_collector: GuiThreadCollector | None = None


def collect_on_gui_thread() -> GuiThreadCollector:
    """Switch automatic collection off and collect from a timer of this (the GUI) thread; once per process.

    Call it on the GUI thread once the QApplication exists (:func:`gui.app.make_app` does)."""
    global _collector
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("collect_on_gui_thread must be called on the GUI thread")
    if _collector is None:
        _collector = GuiThreadCollector()
    gc.disable()            # again: someone may have switched it back on
    return _collector


def settle() -> None:
    """Once start-up is over (torch, the engine and the window loaded): collect everything once and freeze
    what survives (``gc.freeze``: those objects are never scanned again).  Without it the first timed
    collection of the middle generation scanned every object made since start-up (78 ms of the GUI thread,
    measured) and every full collection scans them again.  What an earlier call froze is thawed first and
    collected with the rest, so a second window (the tests open many) leaks none of the first one's garbage."""
    if _collector is not None:
        gc.unfreeze()
        gc.collect()
        gc.freeze()


def installed() -> GuiThreadCollector | None:
    """The collector, if this process has one."""
    return _collector
