"""Cyclic garbage is collected on the GUI thread, never in a worker thread (gui.concurrency.collector says why)."""
import gc
import threading

from gui.concurrency.collector import collect_on_gui_thread


class Cycle:
    """Garbage only the cyclic collector can free; it says in which thread it was freed."""

    def __init__(self, freed: list):
        self.me, self.freed = self, freed

    def __del__(self):
        self.freed.append(threading.current_thread() is threading.main_thread())


SCENARIO = """
import gc, os, sys, threading, time
sys.path.insert(0, ROOT)
from PySide6.QtWidgets import QApplication
from gui.concurrency.collector import collect_on_gui_thread
app = QApplication([])
collector = collect_on_gui_thread()
freed = []
class Cycle:
    def __init__(self):
        self.me = self
    def __del__(self):
        freed.append(threading.current_thread() is threading.main_thread())
gc.collect()
Cycle()
kept = []
def allocate():     # enough tracked objects, kept alive, that automatic collection would run right here
    kept.extend([] for _ in range(20 * gc.get_threshold()[0]))
worker = threading.Thread(target=allocate)
worker.start()
worker.join()
print("enabled", gc.isenabled(), "in worker", list(freed), "past threshold", gc.get_count()[0] > collector.threshold[0])
deadline = time.monotonic() + 10     # a bound, not a wait: the timer fires within INTERVAL_S
while not freed and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.01)
print("after", list(freed))
"""


def test_a_worker_thread_that_allocates_past_the_threshold_collects_nothing_the_gui_timer_does():
    """In a fresh process with the app's collector on (as make_app sets it up): a cycle is not freed in the
    worker thread that allocates past the threshold, and the GUI thread's timer frees it.  A process of its
    own, because in two full-suite runs of four, inside the shared test process, the cycle was not freed by
    a timed gen-0 collection within 10 s, for a reason not yet found (issue note)."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = str(Path(__file__).resolve().parents[3])
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", f"ROOT = {root!r}\n" + SCENARIO], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["enabled False in worker [] past threshold True", "after [True]"], proc.stdout


def test_it_is_one_collector_and_only_for_the_gui_thread():
    assert collect_on_gui_thread() is collect_on_gui_thread()
    failed: list[str] = []

    def elsewhere():
        try:
            collect_on_gui_thread()
        except RuntimeError as err:
            failed.append(str(err))
    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert failed == ["collect_on_gui_thread must be called on the GUI thread"]


def test_the_oldest_generation_is_collected_at_most_every_full_every_s(qtbot):
    """A full collection costs the GUI thread ~0.1 s: young garbage goes at every check, old garbage only once
    FULL_EVERY_S has passed since the last full collection."""
    from gui.concurrency.collector import GuiThreadCollector
    collector = GuiThreadCollector(interval_s=3600, full_every_s=3600)   # its timer never fires here
    try:
        freed: list[bool] = []
        holder = [Cycle(freed)]
        gc.collect(1)                     # the cycle, still held, now lives in the oldest generation
        holder.clear()                    # garbage there
        kept: list = []
        for _ in range(400):              # enough young collections that the oldest's count passes its threshold
            kept.extend([] for _ in range(collector.threshold[0] + 1))
            collector.check()
        assert gc.get_count()[2] > collector.threshold[2] and freed == []     # not yet: too soon
        collector._last_full -= 3600
        kept.extend([] for _ in range(collector.threshold[0] + 1))
        for _ in range(collector.threshold[1] + 1):
            kept.extend([] for _ in range(collector.threshold[0] + 1))
            collector.check()
        assert freed == [True]
        kept.clear()
    finally:
        collector.timer.stop()


def test_settling_freezes_what_lives_and_frees_what_an_earlier_settle_froze():
    from gui.concurrency.collector import settle
    collect_on_gui_thread()
    freed: list[bool] = []
    holder = [Cycle(freed)]
    settle()
    assert gc.get_freeze_count() > 0
    holder.clear()                    # garbage now, but frozen: no collection sees it
    gc.collect()
    assert freed == []
    settle()                          # thawed, collected, the living frozen again
    assert freed == [True]
