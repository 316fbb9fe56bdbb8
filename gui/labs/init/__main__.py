"""``python -m gui.labs.init``: the initialization explorer alone in a window, to try it out."""
import sys

from PySide6.QtWidgets import QApplication

from gui.concurrency.collector import collect_on_gui_thread
from gui.labs.init import InitTab
from gui.style.theme import LIGHT, apply_theme

app = QApplication(sys.argv)
collect_on_gui_thread()
apply_theme(app, LIGHT, False)
tab = InitTab()
tab.resize(1100, 720)
tab.show()
sys.exit(app.exec())
