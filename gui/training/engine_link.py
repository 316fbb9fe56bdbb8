"""The Training tab's line to its training process: hearing it, noticing its death, bringing a fresh one.

The process can end unasked (killed, out of memory, a crash in native code). Then
its worker says ``died(why)``; the link marks every run that had not ended as an
error with that one line, and the next Start (:meth:`EngineLink.restart`) starts a
fresh process.  When that one is ready it is given every run again from step 0
(the run list, names and settings intact): a fresh process counts each run's
generations from 0, so the window's do too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QMessageBox

from engine.status import FINAL, RunStatus

if TYPE_CHECKING:
    from gui.training.tab import TrainingTab


class EngineLink(QObject):
    """Connects a ``gui.concurrency.training.TrainingThread``'s worker to ``tab`` and keeps it alive."""

    def __init__(self, tab: TrainingTab):
        super().__init__(tab)
        self.tab = tab
        self.training = None
        self.lost = ""                  # why the training process died; "" while it lives
        self._start_when_ready = False

    def attach(self, training) -> None:
        self.training = training
        self._hear(training.worker)

    def _hear(self, worker) -> None:
        tab = self.tab
        worker.ready.connect(self.on_ready)
        worker.updates.connect(tab.on_updates)
        worker.data_ready.connect(tab.on_data)
        worker.failed.connect(self.on_failed)
        worker.inspected.connect(tab.inspected)
        worker.died.connect(self.on_died)

    @Slot()
    def on_ready(self) -> None:
        """torch is loaded: the first time the tab builds its form; after a death the runs go to the new process."""
        tab = self.tab
        if tab.form is None:
            tab.build_form()
            if self._start_when_ready:          # it died before it was ever ready, and Start was pressed
                tab.engine_restarted.emit(True)
        else:
            for run in tab.runs.values():
                tab.rewind(run)
                run.generation = 0              # the fresh process counts its runs' generations from 0
                self.training.post("add", run.run_id, run.experiment)
            tab.ready = True
            tab.message.emit("A fresh training process is ready.", 5000)
            tab.engine_restarted.emit(self._start_when_ready)
        self._start_when_ready = False
        tab.update_controls()

    @Slot(str)
    def on_failed(self, message: str) -> None:
        QMessageBox.critical(self.tab, "Descent Lab", f"The training engine stopped: {message}")

    @Slot(str)
    def on_died(self, why: str) -> None:
        """The training process is gone: one line, the runs it held ended as errors; Start brings a new one."""
        tab = self.tab
        self.lost = why
        for run in tab.runs.values():
            if run.status not in FINAL:
                run.status, run.message = RunStatus.ERROR, why
                tab.runs_list.set_status(run.run_id, RunStatus.ERROR, why)
                tab.runs_list.set_rate(run.run_id, 0.0)
        line = f"{why[0].upper()}{why[1:]}: press Start for a fresh one (the runs are kept)."
        tab.loading.setText(line)
        tab.message.emit(line, 0)
        if tab.runs:
            tab.runs_ended.emit(list(tab.runs.values()))
        tab.update_controls()

    def restart(self) -> None:
        """A fresh training process; when it is ready every run is given to it again, and they start."""
        tab = self.tab
        self.lost = ""
        self._start_when_ready = True
        tab.ready = False                       # until the fresh process says it is
        tab.loading.setText("Starting a fresh training process…")
        tab.message.emit("Starting a fresh training process…", 0)
        self._hear(self.training.restart())
        self.training.start()
        tab.update_controls()
