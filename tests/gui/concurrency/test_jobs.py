"""The lesson tabs' job runner: results arrive on the GUI thread, failures are reported, stop is honoured."""
import threading

from gui.concurrency.jobs import TaskRunner


def _count(state, n):
    for i in range(n):
        state.report((i, threading.current_thread().name))
    return n * 10


def _stoppable(state):
    while not state.stop_requested():
        threading.Event().wait(0.005)
    return "stopped"


def _broken(state):
    raise ValueError("the surface has no minimum here")


def test_partials_then_result_arrive_in_order_on_the_gui_thread(qtbot):
    runner = TaskRunner()
    partials, results = [], []
    runner.partial.connect(lambda value: partials.append((value, threading.current_thread() is threading.main_thread())))
    runner.done.connect(results.append)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        assert runner.start(_count, 3)
    assert [value[0] for value, _ in partials] == [0, 1, 2]
    assert all(on_main for _, on_main in partials)
    assert results == [30]
    assert not runner.busy()


def test_a_failing_job_reports_its_reason_and_the_runner_can_start_again(qtbot):
    runner = TaskRunner()
    messages = []
    runner.failed.connect(messages.append)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.start(_broken)
    assert messages == ["ValueError: the surface has no minimum here"]
    results = []
    runner.done.connect(results.append)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        assert runner.start(_count, 1)
    assert results == [10]


def test_one_job_at_a_time_and_shutdown_stops_it(qtbot):
    runner = TaskRunner()
    assert runner.start(_stoppable)
    assert not runner.start(_count, 1)
    assert runner.shutdown(5000)
    assert not runner.busy()
