"""The row above the training plots: the smoothing slider, the log-loss box and the x-axis choice.

It only asks (its signals); :class:`~gui.training.metric_plots.MetricPlots` decides and shows the
result here, so a setting changed from Python and one changed by a click end the same way.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSlider, QWidget

from gui.training.plot_bands import BAND_KINDS

X_AXES = ("step", "epoch")
DEFAULT_SMOOTHING = 0.6
MAX_SMOOTHING = 0.99


class PlotControls(QWidget):
    """The row above the plots: the smoothing slider, the log-loss box and the x-axis choice.

    It only asks (its signals); :class:`MetricPlots` decides and shows the result here with the
    ``show_*`` methods, which emit nothing, so a setting changed from Python and one changed by a
    click end the same way.
    """
    smoothing_requested = Signal(float)
    log_requested = Signal(bool)
    x_axis_requested = Signal(str)
    band_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, round(MAX_SMOOTHING * 100))
        self.slider.setValue(round(DEFAULT_SMOOTHING * 100))
        self.slider.setMinimumWidth(40)     # shrinks first, so the window fits a 1024-pixel projector
        self.slider.setMaximumWidth(160)
        self.slider.setToolTip("Weight w of the exponential moving average drawn over the mini-batch loss: "
                               "0 shows the raw loss, 0.99 averages over about 100 steps.")
        self.smoothing_label = QLabel()
        # always "0.00"-shaped: its own text width is its minimum, in any font size
        self.log_box = QCheckBox("log loss")
        self.log_box.setToolTip("Logarithmic y axis on the loss plot: equal ratios look equal, so late "
                                "progress stays visible.")
        self.x_combo = QComboBox()
        for axis in X_AXES:                 # "x: step" needs no label beside it: narrower on a projector
            self.x_combo.addItem(f"x: {axis}", axis)
        self.x_combo.setToolTip("What the shared x axis counts: optimizer steps or passes over the training set.")
        self.band_combo = QComboBox()
        for kind, (_, _, text) in BAND_KINDS.items():
            self.band_combo.addItem(text, kind)
        self.band_combo.setToolTip("A multi-seed run's band: from its lowest to its highest member, or the "
                                   "middle half of its members (25th to 75th percentile).")
        self.band_combo.setVisible(False)        # until a multi-seed run is plotted: no room taken for nothing
        self.band_combo.currentIndexChanged.connect(
            lambda index: self.band_requested.emit(self.band_combo.itemData(index)))
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(60)   # while the slider is dragged, recompute once it rests
        self._debounce.timeout.connect(self._slider_rested)
        self.slider.valueChanged.connect(self._on_slider)
        self.log_box.toggled.connect(self.log_requested)
        self.x_combo.currentIndexChanged.connect(self._on_x_combo)

        bar = QHBoxLayout(self)
        bar.setContentsMargins(2, 2, 2, 2)
        bar.addWidget(QLabel("Smoothing"))
        bar.addWidget(self.slider)
        bar.addWidget(self.smoothing_label)
        bar.addSpacing(3)
        bar.addWidget(self.log_box)
        bar.addSpacing(3)
        bar.addWidget(self.x_combo)
        bar.addWidget(self.band_combo)
        bar.addStretch(1)
        self.show_smoothing(DEFAULT_SMOOTHING)
        self._fit_x_combo()

    def show_smoothing(self, weight: float) -> None:
        self._debounce.stop()
        if round(weight * 100) != self.slider.value():
            self.slider.blockSignals(True)
            self.slider.setValue(round(weight * 100))
            self.slider.blockSignals(False)
        self.smoothing_label.setText(f"{weight:.2f}")

    @Slot(bool)
    def show_log(self, on: bool) -> None:
        if self.log_box.isChecked() != on:
            self.log_box.blockSignals(True)
            self.log_box.setChecked(on)
            self.log_box.blockSignals(False)

    def show_band_choice(self, visible: bool) -> None:
        """The band choice is shown while a multi-seed run is plotted (one-seed runs have no band)."""
        self.band_combo.setVisible(visible)

    def show_band(self, kind: str) -> None:
        index = self.band_combo.findData(kind)
        if index >= 0 and index != self.band_combo.currentIndex():
            self.band_combo.blockSignals(True)
            self.band_combo.setCurrentIndex(index)
            self.band_combo.blockSignals(False)

    def show_x_axis(self, axis: str) -> None:
        if self.x_combo.currentData() != axis:
            self.x_combo.blockSignals(True)
            self.x_combo.setCurrentIndex(self.x_combo.findData(axis))
            self.x_combo.blockSignals(False)

    @Slot(int)
    def _on_slider(self, value: int) -> None:
        self.smoothing_label.setText(f"{value / 100:.2f}")
        self._debounce.start()

    @Slot()
    def _slider_rested(self) -> None:
        self.smoothing_requested.emit(self.slider.value() / 100)

    @Slot(int)
    def _on_x_combo(self, index: int) -> None:
        self.x_axis_requested.emit(self.x_combo.itemData(index))

    def _fit_x_combo(self) -> None:
        """Room for "x: epoch" in the current font: a combo sizes itself once, at its first show, so in
        presenter mode's larger type it would cut its own text."""
        self.x_combo.setMinimumWidth(self.x_combo.fontMetrics().horizontalAdvance("x: epoch") + 30)

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.FontChange:
            self._fit_x_combo()
        super().changeEvent(event)
