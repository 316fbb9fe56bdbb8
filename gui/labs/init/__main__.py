"""``python -m gui.labs.init``: the initialization explorer alone in a window, to try it out."""
import sys

from PySide6.QtWidgets import QApplication

from gui.labs.init import InitTab
from gui.style.theme import LIGHT, apply_theme

app = QApplication(sys.argv)
apply_theme(app, LIGHT, False)
tab = InitTab()
tab.resize(1100, 720)
tab.show()
sys.exit(app.exec())
