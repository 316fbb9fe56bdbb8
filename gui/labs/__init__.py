"""The lesson labs beside the training lab: one registry entry per tab of the main window.

Each lab is built after torch has loaded (the tab modules import the engine,
which imports torch; building them on the GUI thread at start would delay the
window), so the window first shows a light holder with a "Loading" line and
fills it in :meth:`LabHolder.fill`.  A factory gets the window, so a lab can read
the training form's experiment or hand runs to the training lab through the
window's public methods, and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget


@dataclass(frozen=True)
class LabInfo:
    key: str
    title: str
    tip: str
    build: Callable[["object"], QWidget]     # (main window) -> the tab's widget


def _trajectories(window) -> QWidget:
    from gui.labs.trajectories import TrajectoriesTab
    return TrajectoriesTab()


def _finder(window) -> QWidget:
    from gui.labs.finder import FinderTab
    tab = FinderTab(window.form_experiment)
    tab.use_lr.connect(window.use_learning_rate)
    tab.preset_loaded.connect(window.show_experiment_in_form)
    return tab


def _init(window) -> QWidget:
    from gui.labs.init import InitTab
    return InitTab()


def _schedules(window) -> QWidget:
    from gui.labs.schedules import ScheduleRaceTab
    tab = ScheduleRaceTab(window.form_experiment)
    tab.race.connect(window.race)
    window.form.changed.connect(tab.refresh)   # the curves span the form's planned steps
    return tab


def _regularization(window) -> QWidget:
    from gui.labs.regularization import RegularizationTab
    tab = RegularizationTab()
    tab.compare.connect(window.compare_regularization)
    return tab


def _large_batch(window) -> QWidget:
    from gui.labs.large_batch import LargeBatchTab
    return LargeBatchTab()


def _search(window) -> QWidget:
    from gui.labs.search import SearchTab
    tab = SearchTab(window.form_experiment, window.files)
    tab.apply_experiment.connect(window.show_experiment_in_form)
    # a trial's curves: its experiment trained again as the Training tab's run (asked first when runs would be lost)
    tab.open_trial.connect(lambda exp: window.train_set([exp], f"Trial {exp.name}"))
    return tab


LABS: tuple[LabInfo, ...] = (
    LabInfo("trajectories", "Trajectories",
            "Optimizers as balls rolling on 2-D loss surfaces: watch momentum carry and Adam rescale.",
            _trajectories),
    LabInfo("finder", "LR finder",
            "Sweep the learning rate over one short run to find a good one, then check the pick.", _finder),
    LabInfo("init", "Initialization",
            "How the signal's size changes layer by layer at the start, for each way to initialize.", _init),
    LabInfo("schedules", "Schedules",
            "Learning-rate schedules side by side, then a race of the same experiment under each.", _schedules),
    LabInfo("regularization", "Regularization",
            "Dropout, weight decay, augmentation and batch norm against overfitting, compared.",
            _regularization),
    LabInfo("search", "Search",
            "Hyperparameter search: grid, random, TPE and Gaussian-process search race on one budget, "
            "alone or with a whole class.", _search),
    LabInfo("large-batch", "Large batch",
            "Batch sizes 32 to 8192 at equal epochs: SGD with linear scaling and warm-up against LARS and LAMB.",
            _large_batch),
)


class LabScroll(QScrollArea):
    """A lab at the viewport's size, never below its minimum size: it scrolls only when the screen is too
    short for that minimum.  (``setWidgetResizable`` would size it to its layout's height-for-width, the
    height its wrapped texts prefer, and so scroll on every screen.)"""

    def __init__(self, lab: QWidget):
        super().__init__()
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(lab)
        lab.installEventFilter(self)
        self.viewport().installEventFilter(self)

    def fit(self) -> None:
        lab, room = self.widget(), self.viewport().size()
        least = lab.minimumSizeHint().expandedTo(lab.minimumSize())
        lab.resize(max(room.width(), least.width()), max(room.height(), least.height()))

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.LayoutRequest or (kind == QEvent.Type.Resize and watched is self.viewport()):
            self.fit()        # the lab's minimum changed, or the room it has
        return False


class LabHolder(QWidget):
    """A tab's place in the window until torch has loaded; then the lab itself, in a scroll area: on a short
    screen (1024x768, large type, a question's words above the tabs) a lab keeps its plots' height and
    scrolls, instead of growing the window past the screen or flattening its plots."""

    def __init__(self, info: LabInfo, parent: QWidget | None = None):
        super().__init__(parent)
        self.info = info
        self.lab: QWidget | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._loading = QLabel("Loading PyTorch… this lab appears in a moment.")
        self._loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout.addWidget(self._loading)

    def fill(self, window) -> QWidget:
        if self.lab is None:
            self.lab = self.info.build(window)
            self._loading.hide()
            self.scroll = LabScroll(self.lab)
            self._layout.addWidget(self.scroll)
            if self.isVisible():
                self.scroll.show()
                self.lab.show()   # a child added to a shown widget is not shown by itself (a hidden one shows with it)
        return self.lab
