"""The run list's right-click menu: single out a member of a multi-seed run as its own run, or remove a run.

Singling out member k adds ``engine.training.members.member_experiment(run, k)``: seed ``seed + k`` with
``data.seed`` kept at the band's data seed, so the new run draws the band's data and trains to exactly
member k's numbers; the class sees one seed's path run inside the band it came from.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QPoint, Slot
from PySide6.QtWidgets import QMenu


class RunMenu(QObject):
    """Owned by the Training tab; opens on the run list's ``menu_requested``."""

    def __init__(self, tab):
        super().__init__(tab)
        self.tab = tab
        tab.runs_list.menu_requested.connect(self.show)

    def single_out(self, run_id: str, k: int) -> str | None:
        """Member ``k`` of a multi-seed run as a run of its own, selected; its id, or None when the run is not
        a multi-seed run with a member ``k``."""
        from engine.training.members import member_experiment  # torch is loaded: the run list exists
        tab = self.tab
        run = tab.runs.get(run_id)
        if run is None or run.experiment.train.seeds < 2 or not 0 <= k < run.experiment.train.seeds:
            return None
        single = member_experiment(run.named(), k)
        new_id = tab.add_run(single.replace(name=f"{run.name} · seed {single.seed}"))
        tab.runs_list.select(new_id)
        tab.message.emit(f"Member {k} of {run.name} is its own run: seed {single.seed} on the same data "
                         f"(data seed {single.data.seed}); it trains to exactly that member's curves.", 8000)
        return new_id

    def menu(self, run_id: str) -> QMenu:
        """The menu of one run: single out a member (a multi-seed run only), remove."""
        tab = self.tab
        menu = QMenu(tab)
        run = tab.runs[run_id]
        seeds = run.experiment.train.seeds
        if seeds > 1:
            members = menu.addMenu("Single out a member")
            members.setToolTip("Train one member alone, as its own run, beside the band it belongs to.")
            members.setToolTipsVisible(True)
            for k in range(seeds):
                action = members.addAction(f"member {k} (seed {run.experiment.seed + k})")
                action.triggered.connect(lambda _=False, k=k: self.single_out(run_id, k))
        menu.addAction("Remove", lambda: tab.remove_run(run_id))
        return menu

    @Slot(str, QPoint)
    def show(self, run_id: str, where: QPoint) -> None:
        if run_id in self.tab.runs:
            menu = self.menu(run_id)
            menu.aboutToHide.connect(menu.deleteLater)
            menu.popup(where)
