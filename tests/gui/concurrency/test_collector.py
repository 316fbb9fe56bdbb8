"""Cyclic garbage is collected on the GUI thread, never in a worker thread (gui.concurrency.collector says why)."""
import gc
import threading

from gui.concurrency.collector import INTERVAL_S, collect_on_gui_thread


class Cycle:
    """Garbage only the cyclic collector can free; it says in which thread it was freed."""

    def __init__(self, freed: list):
        self.me, self.freed = self, freed

    def __del__(self):
        self.freed.append(threading.current_thread() is threading.main_thread())


def test_a_worker_thread_that_allocates_past_the_threshold_collects_nothing_the_gui_timer_does(qtbot):
    collector = collect_on_gui_thread()
    assert not gc.isenabled()
    gc.collect()
    freed: list[bool] = []
    Cycle(freed)
    kept: list = []

    def allocate():     # enough tracked objects, kept alive, that automatic collection would run right here
        kept.extend([] for _ in range(20 * gc.get_threshold()[0]))
    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    assert freed == []                                         # not in the worker
    assert gc.get_count()[0] > collector.threshold[0]
    qtbot.waitUntil(lambda: bool(freed), timeout=int(10_000 * INTERVAL_S))
    assert freed == [True]                                     # on the GUI thread, by the timer
    kept.clear()


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
