"""The optimizer's state memory in the window: one line under the form's optimizer, and the table of all of them.

Both read :mod:`engine.optim.memory`, which measures by building the optimizer on copies of the network's
parameters and taking one step.  The first step of a torch optimizer in a process imports torch's compiler
machinery (``torch._dynamo``, one to three seconds); the window has not paid that at start-up, so the line
pays it once on a daemon thread and says "measuring" meanwhile, instead of freezing the form.  After that a
measurement takes a millisecond on the lesson's networks and is cached per network and optimizer.
"""
from __future__ import annotations

import dataclasses
import functools
import html
import importlib
import sys
import threading

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.commands.optimizer_memory import experiment_network
from engine.config import Experiment, OptimizerConfig
from engine.optim.memory import (
    NetworkMemory,
    StateMemory,
    adafactor_note,
    format_bytes,
    format_ratio,
    measure,
    measure_network,
    square_name,
    square_network,
    table_configs,
)
from engine.optim.optimizers import OPTIMIZERS

_WARM = threading.Event()
_warming = False


def _warm() -> None:
    try:
        importlib.import_module("torch._dynamo")
    finally:
        _WARM.set()


def warm_started() -> bool:
    """Start loading torch's optimizer machinery once, on a daemon thread; whether it is loaded."""
    global _warming
    if not _WARM.is_set() and "torch._dynamo" in sys.modules and not _warming:
        _WARM.set()                        # loaded by someone else (a lab ran an optimizer here)
    if not _WARM.is_set() and not _warming:
        _warming = True
        threading.Thread(target=_warm, name="optimizer-warm-up", daemon=True).start()
    return _WARM.is_set()


@functools.lru_cache(maxsize=4)      # a few networks' parameters (a wide one is tens of MB): the last edits
def _network(exp: Experiment):
    model, name = experiment_network(exp)
    return list(model.parameters()), name


def _model_key(exp: Experiment) -> Experiment:
    """What decides the network's shapes (the rest of the experiment changes no state)."""
    return Experiment(seed=0, data=exp.data, model=exp.model)


def chosen_memory(exp: Experiment) -> StateMemory:
    """The experiment's optimizer, with its settings, on the experiment's network (cached: the rate and the
    rest of the experiment change no state)."""
    return _chosen(_model_key(exp), dataclasses.replace(exp.optimizer, lr=1.0))


@functools.lru_cache(maxsize=256)
def _chosen(model: Experiment, optimizer: OptimizerConfig) -> StateMemory:
    params, _name = _network(model)
    return measure(params, optimizer)


def memory_tables(exp: Experiment) -> list[NetworkMemory]:
    """Every optimizer on the experiment's network and on the square one (the experiment's own at its settings)."""
    params, name = _network(_model_key(exp))
    configs = table_configs(exp.optimizer)
    return [measure_network(name, params, configs),
            measure_network(square_name(), list(square_network().parameters()), configs)]


class StateMemoryLine(QLabel):
    """``State memory: 2.0x the weights, 2.9 KB · all optimizers``, for the form's current experiment."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                     | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.linkActivated.connect(lambda _link: self.open_table())
        self._exp: Experiment | None = None
        self._wait = QTimer(self)
        self._wait.setInterval(100)
        self._wait.timeout.connect(self._refresh)
        self.memory: StateMemory | None = None

    def show_experiment(self, exp: Experiment | None) -> None:
        """Measure ``exp``'s optimizer on its network (None: the form is invalid, keep the last figure)."""
        if exp is None:
            return
        self._exp = exp
        self._refresh()

    def _refresh(self) -> None:
        if self._exp is None:
            return
        if not warm_started():
            self._wait.start()
            self._set("measuring…", "")
            return
        self._wait.stop()
        try:
            self.memory = chosen_memory(self._exp)
        except Exception as err:  # noqa: BLE001 - a figure beside the form must never break it
            self.memory = None
            self._set("not measured", f"{type(err).__name__}: {err}")
            return
        keys = ", ".join(self.memory.state_keys) or "nothing"
        self._set(self.memory.summary,
                  f"What {self.memory.optimizer} keeps between steps on this network, measured after one step: "
                  f"{keys} ({self.memory.state_tensors} tensors, {self.memory.state_bytes:,} bytes) beside "
                  f"{self.memory.weights_bytes:,} bytes of weights.")

    def _set(self, figure: str, tip: str) -> None:
        self.setText(f"State memory: {html.escape(figure)} · <a href=\"table\">all optimizers</a>")
        self.setToolTip(tip)

    def open_table(self) -> None:
        """Open the table of every optimizer for the current experiment (modeless; one at a time)."""
        if self._exp is None:
            return
        dialog = OptimizerMemoryDialog(self._exp, self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.dialog = dialog                 # the open one, for the tests


class OptimizerMemoryDialog(QDialog):
    """Every optimizer's state on the experiment's network and on a square one, and the note on Adafactor."""

    HEADERS = ("Optimizer", "State here", "× weights", "of Adam's", "State, square", "× weights", "of Adam's")

    def __init__(self, exp: Experiment, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Optimizer state memory")
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.memories = memory_tables(exp)
        finally:
            QGuiApplication.restoreOverrideCursor()
        here, square = self.memories
        intro = QLabel(f"What each optimizer keeps between steps, measured after one step: on this experiment's "
                       f"network ({here.network}, {format_bytes(here.weights_bytes)} of weights) and on "
                       f"{square.network} ({format_bytes(square.weights_bytes)}). {exp.optimizer.name} with "
                       f"the form's settings, the others at their own defaults (plain SGD keeps nothing; "
                       f"with momentum, one velocity).")
        intro.setWordWrap(True)
        self.table = QTableWidget(len(here.rows), len(self.HEADERS), self)
        self.table.setHorizontalHeaderLabels(self.HEADERS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, (a, b) in enumerate(zip(here.rows, square.rows)):
            name = a.optimizer + (f" ({a.settings})" if a.settings else "")
            cells = (name, format_bytes(a.state_bytes), format_ratio(a.per_weights), f"{here.per_adam(a):.1%}",
                     format_bytes(b.state_bytes), format_ratio(b.per_weights), f"{square.per_adam(b):.1%}")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(OPTIMIZERS[a.optimizer].description if c == 0 else
                                ", ".join((a if c < 4 else b).state_keys) or "no state")
                if a.optimizer == exp.optimizer.name:        # the form's choice stands out
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.note = QLabel(adafactor_note(self.memories))
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        if parent is not None:
            self.resize(min(760, max(480, parent.width())), min(560, max(360, parent.height())))
