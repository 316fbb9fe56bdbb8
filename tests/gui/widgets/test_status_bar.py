"""The status bar's message ends in "…" where its permanent labels begin, and still answers the whole line."""
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QMainWindow, QStatusBar

from gui.widgets.status_bar import ElidingStatusBar

LONG = "Lesson loaded: Effective step sizes: SGD, Adam and LAMB, weight by weight. Press Space to train."


def test_a_long_message_is_elided_before_the_labels_and_kept_whole(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    bar = ElidingStatusBar(window)
    window.setStatusBar(bar)
    for text in ("step 1,000", "epoch 76.92", "elapsed 0:01"):
        label = QLabel(text)
        label.setMinimumWidth(110)
        bar.addPermanentWidget(label)
    window.resize(640, 200)
    window.show()
    qtbot.waitExposed(window)
    bar.showMessage(LONG, 5000)
    shown = QStatusBar.currentMessage(bar)                  # what Qt draws
    assert shown.endswith("…") and LONG.startswith(shown[:-1])
    assert QFontMetrics(bar.font()).horizontalAdvance(shown) <= bar.room() < bar.width() - 3 * 110
    assert bar.currentMessage() == LONG and bar.toolTip() == LONG
    labels = bar._permanent
    labels[0].setText("step 1,000,000,000 of 2,000,000,000")       # a label grows under a shown message
    qtbot.waitUntil(lambda: labels[0].width() > 110)
    refit = QStatusBar.currentMessage(bar)
    assert len(refit) < len(shown) and refit.endswith("…")
    assert QFontMetrics(bar.font()).horizontalAdvance(refit) <= bar.room()
    assert bar.currentMessage() == LONG
    bar.showMessage("Ready.", 5000)
    assert QStatusBar.currentMessage(bar) == bar.currentMessage() == "Ready." and bar.toolTip() == ""
    bar.clearMessage()
    assert bar.currentMessage() == "" and bar.toolTip() == ""
