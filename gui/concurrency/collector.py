"""Python's cyclic garbage collector runs on the GUI thread only.

Why: the collector runs in whichever thread happens to allocate past its threshold.  When that is a
worker thread (a lab's job, the thread backend's training loop) and the garbage holds Qt objects of a
closed window or a removed plot, the worker destroys them: ``QObject::~QObject`` takes Qt's
signal-slot mutex, then waits for the GIL to ask Python for an override.  If the GUI thread meanwhile
holds the GIL and destroys a widget of its own, it waits for that same mutex: both wait forever and
the window freezes.  That is the stack seen in a hung test run here (the init lab's job thread in
``gc_collect_main`` -> ``~QObject`` -> ``Sbk_GetPyOverride`` -> GIL; the GUI thread in
``~QMenu`` -> ``QBasicMutex::lockInternal``, holding the GIL).

So automatic collection is switched off and a timer on the GUI thread collects instead, a generation
at a time when its count passed the threshold automatic collection would have used: pyqtgraph's
:class:`~pyqtgraph.util.garbage_collector.GarbageCollector` (the recipe of Erik Janssens) does exactly
that, and is already a dependency.  Reference counting frees everything else at once, as before.
"""
from __future__ import annotations

import gc
import threading

from pyqtgraph.util.garbage_collector import GarbageCollector

INTERVAL_S = 1.0

_collector: GarbageCollector | None = None


def collect_on_gui_thread() -> GarbageCollector:
    """Switch automatic collection off and collect from a timer of this (the GUI) thread; once per process.

    Call it on the GUI thread once the QApplication exists (:func:`gui.app.make_app` does)."""
    global _collector
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("collect_on_gui_thread must be called on the GUI thread")
    if _collector is None:
        _collector = GarbageCollector(interval=INTERVAL_S)
    gc.disable()            # again: someone may have switched it back on
    return _collector


def installed() -> GarbageCollector | None:
    """The collector, if this process has one."""
    return _collector
