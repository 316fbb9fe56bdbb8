"""The window's look: light or dark, and presenter mode, chosen in the View menu and kept in the settings.

Presenter mode is for a projector: larger type, thicker lines, more contrast
(``gui.style.theme``).  The choice applies to the whole application and to
every plot, the lesson labs' included (:meth:`Look.style_lab`).

On a projector (1024x768 is the classroom case) the form column would take a third of the screen,
so the Training tab's form folds away (``form_action``, in the View menu and the toolbar): folded by
default in presenter mode, shown by default otherwise, and each look remembers the teacher's choice.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from gui.style.theme import apply_theme, pick, style_plot
from gui.widgets.plotting import plain_text, set_title

FOLD_KEYS = {False: "view/fold_form", True: "view/fold_form_presenter"}
"""The settings that remember whether the form is folded, per look (presenter mode or not)."""


class Look(QObject):
    """The View menu's choices; ``changed`` when one changed (the window restyles its views)."""

    changed = Signal()

    def __init__(self, settings, make_action: Callable[..., QAction], parent: QObject | None = None):
        super().__init__(parent)
        self.dark = settings.value("view/dark", False, type=bool)
        self.presenter = settings.value("view/presenter", False, type=bool)
        self.presenter_action = make_action("&Presenter mode", self.toggle_presenter, "F5",
                                            "Larger type, thicker lines, more contrast, for a projector")
        self.presenter_action.setCheckable(True)
        self.presenter_action.setChecked(self.presenter)
        self._group = QActionGroup(self)
        self.light_action = make_action("&Light", lambda: self.set_dark(False))
        self.dark_action = make_action("&Dark", lambda: self.set_dark(True))
        for action in (self.light_action, self.dark_action):
            action.setCheckable(True)
            self._group.addAction(action)
        (self.dark_action if self.dark else self.light_action).setChecked(True)
        # folded or not, per look (False: the desk, True: presenter mode); presenter mode folds by default
        self._folded = {presenter: settings.value(FOLD_KEYS[presenter], presenter, type=bool)
                        for presenter in (False, True)}
        self.form_action = make_action("Fold away the &form", self.toggle_form, "F6",
                                       "Hide the form and the runs list, so the plots get the room")
        self.form_action.setCheckable(True)
        self.form_action.setChecked(self.form_folded)

    @property
    def form_folded(self) -> bool:
        """The Training tab's form column is folded away in the current look."""
        return self._folded[self.presenter]

    def fill(self, menu: QMenu) -> None:
        for action in (self.presenter_action, self.form_action):
            menu.addAction(action)
        menu.addSeparator()
        for action in (self.light_action, self.dark_action):
            menu.addAction(action)

    def save(self, settings) -> None:
        settings.setValue("view/dark", self.dark)
        settings.setValue("view/presenter", self.presenter)
        for presenter, key in FOLD_KEYS.items():
            settings.setValue(key, self._folded[presenter])

    @Slot()
    def toggle_presenter(self) -> None:
        self.presenter = self.presenter_action.isChecked()
        self.form_action.setChecked(self.form_folded)
        self.changed.emit()

    @Slot()
    def toggle_form(self) -> None:
        self._folded[self.presenter] = self.form_action.isChecked()
        self.changed.emit()

    def set_dark(self, dark: bool) -> None:
        self.dark = dark
        self.changed.emit()

    def theme(self):
        """The ``gui.style.theme`` theme of the current choices."""
        return pick(self.dark, self.presenter)

    def apply_to_app(self) -> None:
        """The application's palette and type size."""
        apply_theme(QApplication.instance(), self.theme(), self.presenter)

    def style_lab(self, lab: QWidget) -> None:
        """A lesson lab in the window's look: its plots styled, and its own colours if it has any."""
        import pyqtgraph as pg
        theme = self.theme()
        for widget in lab.findChildren(pg.PlotWidget):
            style_plot(widget, theme, self.presenter)
            item = widget.getPlotItem()
            if item.titleLabel.isVisible() and item.titleLabel.text:
                set_title(item, plain_text(item.titleLabel.text))   # the title in the look's type size
        if hasattr(lab, "apply_theme"):
            lab.apply_theme(theme, self.presenter)
