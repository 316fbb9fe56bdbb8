"""The initialization explorer tab: how far the signal gets through a deep plain network, per init scheme.

The numbers come from :mod:`engine.labs.initprobe` (no Qt); this widget only asks
for them and draws them:

* **Activation std by layer** (forward pass) and **gradient std by layer**
  (backward pass, of ``∂L/∂activation``; or of ``∂L/∂W`` on request), on a log
  y axis, one coloured curve per scheme: a scheme that loses a constant factor
  per layer draws a straight falling line.  A std that is exactly 0 (the
  ``zeros`` scheme; or float32 underflow) has no place on a log axis, so it is
  drawn on a dashed floor line labelled "exactly 0", and the legend says "= 0";
  an overflow (``inf``/``nan``) is left out and the legend says where it began.
* **Histogram of the activations at one layer** (slider), for the checked
  schemes, on common bins; exact zeros (half of every ReLU layer) are left out
  of the bars and given as a percentage in the legend.
* **Train each**: the same network trained a few hundred steps once per
  checked scheme (SGD with momentum, the engine's Trainer), loss curves drawn
  live: only the schemes whose signal survives learn.

The controls are :mod:`.controls`, the plots :mod:`.plots`, how a scheme is
drawn :mod:`.curves`; this module runs the jobs.  The probe runs in a
:class:`gui.concurrency.jobs.TaskRunner` (20 layers of 256 take about a second
for all eight schemes, 50 of 512 about eight: too long for the GUI thread),
restarted 150 ms after the last change, and each scheme's curves appear as
soon as it is measured.  Training runs in a second runner.  Both jobs are the
engine's (:func:`~engine.labs.initprobe.run_probe`,
:func:`~engine.labs.initprobe.run_training`), which choose their torch threads
themselves: the tab does not import torch.  Call :meth:`InitTab.shutdown`
before the tab goes away (``closeEvent`` does).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QScrollArea, QWidget

from engine.labs.initprobe import (
    LayerHistograms,
    ProbeConfig,
    ProbeResult,
    TrainEachConfig,
    TrainProgress,
    layer_histograms,
    run_probe,
    run_training,
)
from gui.concurrency.jobs import TaskRunner
from gui.labs.init.controls import InitControls
from gui.labs.init.curves import SCHEME_COLORS, legend_html, log_curve, log_floor
from gui.labs.init.plots import InitPlots

__all__ = ["InitTab", "SCHEME_COLORS", "legend_html", "log_curve", "log_floor"]

PROBE_DELAY_MS = 150


class InitTab(QWidget):
    """The initialization explorer.

    Public: :meth:`config` (the :class:`ProbeConfig` the controls describe, or
    None while a field is invalid), :meth:`set_config`, :meth:`probe_result`,
    :meth:`train_result`, :meth:`start_training`, :meth:`stop_training`,
    :meth:`shutdown`; signals ``probe_done(ProbeResult)``,
    ``training_done(TrainProgress)``; the controls (``depth_spin``,
    ``width_spin``, ``activation_combo``, ``scheme_list``, ``std_edit``,
    ``seed_spin``, ``layer_slider``, ``gradient_combo``, ``train_steps_spin``,
    ``train_button``) and the curves (``activation_curves``,
    ``gradient_curves``, ``histogram_curves``, ``loss_curves``: dicts by scheme),
    named here as in :attr:`controls` and :attr:`plots`.
    """

    probe_done = Signal(object)
    training_done = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._result: ProbeResult | None = None
        self._train: TrainProgress | None = None
        self._training_cfg: ProbeConfig | None = None
        self._pending = False
        self._probe_runner = TaskRunner(self, name="init-probe")
        self._train_runner = TaskRunner(self, name="init-train")
        self._probe_runner.partial.connect(self._on_probe_partial)
        self._probe_runner.done.connect(self._on_probe_done)
        self._probe_runner.failed.connect(self._on_failed)
        self._probe_runner.finished.connect(self._on_probe_finished)
        self._train_runner.partial.connect(self._on_train_partial)
        self._train_runner.done.connect(self._on_train_done)
        self._train_runner.failed.connect(self._on_failed)
        self._train_runner.finished.connect(self._on_train_finished)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PROBE_DELAY_MS)
        self._timer.timeout.connect(self._start_probe)

        self.controls = InitControls()
        self.plots = InitPlots()
        c, p = self.controls, self.plots
        self.depth_spin, self.width_spin, self.activation_combo = c.depth_spin, c.width_spin, c.activation_combo
        self.scheme_list, self.std_edit, self.std_error, self.seed_spin = (c.scheme_list, c.std_edit,
                                                                           c.std_error, c.seed_spin)
        self.gradient_combo, self.train_steps_spin, self.train_button = (c.gradient_combo, c.train_steps_spin,
                                                                         c.train_button)
        self.status_label, self.explanation = c.status_label, c.explanation
        self.activation_plot, self.gradient_plot = p.activation_plot, p.gradient_plot
        self.histogram_plot, self.loss_plot = p.histogram_plot, p.loss_plot
        self.activation_curves, self.gradient_curves = p.activation_curves, p.gradient_curves
        self.histogram_curves, self.loss_curves = p.histogram_curves, p.loss_curves
        self.legends, self.layer_slider, self.layer_label = p.legends, p.layer_slider, p.layer_label
        self._floor_lines = p.floor_lines
        c.changed.connect(self._changed)
        c.gradient_combo.currentIndexChanged.connect(self._draw_depth_curves)
        c.train_button.clicked.connect(self._train_clicked)
        p.layer_slider.valueChanged.connect(self._layer_changed)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        # The controls scroll when the screen is short (a 1024x768 projector): no row is squeezed onto another.
        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(self.controls.width() + scroll.verticalScrollBar().sizeHint().width())
        layout.addWidget(scroll)
        # The plots scroll too, up and down: each keeps the height it needs to be read (InitPlots) and
        # never shrinks to a strip under its legend on a projector.
        plots = QScrollArea()
        plots.setWidget(self.plots)
        plots.setWidgetResizable(True)
        plots.setFrameShape(QFrame.Shape.NoFrame)
        plots.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(plots, 1)
        self._changed()

    # -- the configuration ----------------------------------------------------------------------

    def checked_schemes(self) -> tuple[str, ...]:
        return self.controls.checked_schemes()

    def set_checked_schemes(self, schemes) -> None:
        self.controls.set_checked_schemes(schemes)

    def config(self) -> ProbeConfig | None:
        """What the controls describe, or None while the std is invalid or no scheme is checked."""
        return self.controls.config()

    def set_config(self, cfg: ProbeConfig) -> None:
        self.controls.set_config(cfg)

    def probe_result(self) -> ProbeResult | None:
        return self._result

    def train_result(self) -> TrainProgress | None:
        return self._train

    @Slot()
    def _changed(self) -> None:
        cfg = self.config()
        self.train_button.setEnabled(cfg is not None or self._train_runner.busy())
        if cfg is None:
            self._timer.stop()
            std_ok = self.controls.std() is not None
            self.status_label.setText("Check at least one scheme." if std_ok else "Fix the std to continue.")
            return
        self._timer.start()

    # -- probing --------------------------------------------------------------------------------

    @Slot()
    def _start_probe(self) -> None:
        cfg = self.config()
        if cfg is None:
            return
        if self._probe_runner.busy():
            # The running probe is stale: ask it to stop (it ends between schemes) and try again
            # shortly.  Polling, not only waiting for ``finished``: that signal can arrive while the
            # thread is still ending, when busy() is still true, and the new probe would never start.
            self._pending = True
            self._probe_runner.cancel()
            self._timer.start()
            return
        self._pending = False
        self.status_label.setText(f"Measuring {len(cfg.schemes)} scheme(s)…")
        self._probe_runner.start(run_probe, cfg)

    @Slot(object)
    def _on_probe_partial(self, result: ProbeResult) -> None:
        if not self._pending and result.config == self.config():   # never draw a stale probe
            self._show(result)

    @Slot(object)
    def _on_probe_done(self, result: ProbeResult) -> None:
        if self._pending or result.config != self.config() or len(result.schemes) < len(result.config.schemes):
            return
        self._show(result)
        cfg = result.config
        self.status_label.setText(f"{cfg.depth} {cfg.activation} layers of {cfg.width}, "
                                  f"batch of {cfg.batch}, seed {cfg.seed}.")
        self.probe_done.emit(result)

    @Slot()
    def _on_probe_finished(self) -> None:
        if self._pending:
            self._start_probe()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.status_label.setText(f"Failed: {message}")

    def _show(self, result: ProbeResult) -> None:
        depth = result.config.depth
        if self._result is None or self._result.config.depth != depth:
            self.plots.set_depth(depth)
        self._result = result
        self._draw_depth_curves()
        self._draw_histogram()

    @Slot()
    def _draw_depth_curves(self) -> None:
        self.plots.draw_depth_curves(self._result, self.gradient_combo.currentData())

    # -- the histogram --------------------------------------------------------------------------

    @Slot(int)
    def _layer_changed(self, layer: int) -> None:
        self._draw_histogram()

    def histogram(self) -> LayerHistograms | None:
        """What the histogram plot shows now."""
        if self._result is None or not self._result.schemes:
            return None
        return layer_histograms(self._result, self.layer_slider.value())

    def _draw_histogram(self) -> None:
        self.plots.draw_histogram(self.histogram(), self.layer_slider.value())

    # -- training -------------------------------------------------------------------------------

    @Slot()
    def _train_clicked(self) -> None:
        if self._train_runner.busy():
            self.stop_training()
        else:
            self.start_training()

    def start_training(self, steps: int | None = None) -> bool:
        """Train the configured network once per checked scheme; False if invalid or already training."""
        cfg = self.config()
        if cfg is None or self._train_runner.busy():
            return False
        if steps is not None:
            self.train_steps_spin.setValue(steps)
        train = TrainEachConfig(steps=self.train_steps_spin.value(),
                                eval_every=max(1, self.train_steps_spin.value() // 60))
        self._train = None
        self._training_cfg = cfg
        self.plots.start_losses(cfg, train.steps)
        self.train_button.setText("Stop")
        self.status_label.setText(f"Training {len(cfg.schemes)} scheme(s) {train.steps} steps each…")
        return self._train_runner.start(run_training, cfg, train)

    def stop_training(self) -> None:
        self._train_runner.cancel()

    def training(self) -> bool:
        return self._train_runner.busy()

    @Slot(object)
    def _on_train_partial(self, progress: TrainProgress) -> None:
        self._train = progress
        self._draw_losses()
        self.status_label.setText(f"Training: step {progress.step} of {progress.total_steps}…")

    @Slot(object)
    def _on_train_done(self, progress: TrainProgress) -> None:
        self._train = progress
        self._draw_losses()
        finals = ", ".join(f"{c.scheme} {c.train_loss[-1]:.3g}" for c in progress.curves if c.train_loss.size)
        self.status_label.setText(f"Trained {progress.step} steps. Final loss: {finals}.")
        self.training_done.emit(progress)

    @Slot()
    def _on_train_finished(self) -> None:
        self.train_button.setText("Train each")
        self.train_button.setEnabled(self.config() is not None)

    def _draw_losses(self) -> None:
        std = self._training_cfg.init_std if self._training_cfg is not None else 0.01
        self.plots.draw_losses(self._train, std)

    # -- lifetime -------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the probe and the training and join their threads (call before the tab goes away)."""
        self._timer.stop()
        self._pending = False
        self._probe_runner.shutdown(15000)
        self._train_runner.shutdown(15000)

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)
