"""Guard against the PySide6 6.12.0 reference leak that aborts Python 3.11 (``bool_dealloc``).

6.12.0 drops a reference to ``True`` on every ``Signal.emit()`` and to ``None``
on every unset ``QObject.property()`` (pyqtgraph calls it on each setData);
after a few hundred emits the interpreter aborts.  If an upgrade brings it
back, these counts fall and this test says so before the app crashes in class.
"""
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QObject, Signal  # noqa: E402


class Emitter(QObject):
    ping = Signal(bool)
    data = Signal(object)


def test_signal_emit_and_property_do_not_drop_references():
    app = QCoreApplication.instance() or QCoreApplication([])
    emitter = Emitter()
    received = []
    emitter.ping.connect(received.append)
    before_true, before_none = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(10_000):
        emitter.ping.emit(True)
        emitter.data.emit(None)
        emitter.property("never-set")
    assert len(received) == 10_000
    received.clear()
    assert sys.getrefcount(True) >= before_true
    assert sys.getrefcount(None) >= before_none
    assert app is not None


def test_pinned_pyside_version():
    import PySide6
    assert PySide6.__version__ != "6.12.0"
