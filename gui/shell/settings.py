"""Reading the settings file, which anyone may have edited: a bad value is ignored, said in the log, and
the window starts clean.

QSettings hands back whatever the file holds: ``last/runs=a, b`` arrives as a list, ``last/runs=5`` as
a string that is JSON but not a run list, and a hand-made value may nest 10,000 levels deep.  Every
text setting is read through :func:`text_setting` and the run list through :func:`last_runs`, which
uses the app's one JSON reader (``engine.inputs``: size and depth caps, duplicate keys refused) and
the experiment validator, so no setting can raise while the window starts.
"""
from __future__ import annotations

import math
import sys
from typing import Any, Callable

from gui.platform.failure_log import log_failure


def note_ignored(key: str, why: str) -> str:
    """Say in the log (and on stderr, when there is one) that setting ``key`` was ignored; the line."""
    line = f"settings: ignored {key}: {why}"
    try:
        log_failure(line)
    except OSError:
        pass  # an unwritable log folder must not stop the window either
    if sys.stderr is not None:
        print(line, file=sys.stderr)
    return line


def text_setting(settings, key: str, default: str = "") -> str:
    """The setting ``key`` as text; ``default`` (and a line in the log) when it is anything else."""
    value: Any = settings.value(key, default)
    if value is None or value == default:
        return default
    if not isinstance(value, str):
        note_ignored(key, f"not text ({type(value).__name__})")
        return default
    return value


def last_runs(settings, key: str = "last/runs") -> list:
    """The run list saved at the last close, as experiments; [] when missing or not a valid run list."""
    from engine.experiment import ExperimentError, parse_experiment
    from engine.inputs import InputError, parse_json
    text = text_setting(settings, key)
    if not text:
        return []
    try:
        raw = parse_json(text, f"setting {key}", "run list")
        if not isinstance(raw, list):
            raise ValueError(f"a run list is a JSON list, not {type(raw).__name__}")
        return [parse_experiment(item) for item in raw]
    except (InputError, ExperimentError, ValueError, TypeError) as err:
        note_ignored(key, str(err).splitlines()[0] if str(err) else type(err).__name__)
        return []


def _flag(value: Any) -> bool:
    """A saved on/off: QSettings gives back ``True``/``"true"`` (an ini file holds text); anything else raises."""
    if value in (True, "true"):
        return True
    if value in (False, "false"):
        return False
    raise ValueError(f"not true or false: {value!r}")


def _weight(value: Any) -> float:
    weight = float(value)
    if not math.isfinite(weight):
        raise ValueError(f"not a finite number: {value!r}")
    return weight


# The plot controls a teacher sets once for a class: key -> (how a saved value is read, the getter and the
# setter of gui.training.metric_plots.MetricPlots). A setter refuses a value it does not know (ValueError).
PLOT_VIEW: dict[str, tuple[Callable[[Any], Any], str, str]] = {
    "plots/x_axis": (str, "x_axis", "set_x_axis"),
    "plots/smoothing": (_weight, "smoothing", "set_smoothing"),
    "plots/log_loss": (_flag, "log_loss", "set_log_loss"),
    "plots/band": (str, "band_kind", "set_band_kind"),
}


def save_plot_view(settings, plots) -> None:
    for key, (_, getter, _) in PLOT_VIEW.items():
        settings.setValue(key, getattr(plots, getter)())


def restore_plot_view(settings, plots) -> None:
    """The plot controls as last saved; a bad value is ignored (a line in the log) and its control kept."""
    for key, (read, _, setter) in PLOT_VIEW.items():
        value = settings.value(key)
        if value is None:
            continue
        try:
            getattr(plots, setter)(read(value))
        except (ValueError, TypeError) as err:
            note_ignored(key, str(err).splitlines()[0] if str(err) else type(err).__name__)


def restore_window(window) -> bool:
    """The window's geometry (or 1440x900), splitters and plot controls as last saved; True when the
    geometry came back."""
    from PySide6.QtCore import QByteArray
    geometry = window.settings.value("window/geometry")
    restored = isinstance(geometry, QByteArray) and not geometry.isEmpty() and window.restoreGeometry(geometry)
    if not restored:
        window.resize(1440, 900)
    restore_splitters(window)
    restore_plot_view(window.settings, window.training_tab.plots)
    return bool(restored)


def restore_splitters(window) -> None:
    """Each splitter's saved state; the form column keeps its own width (restoreState scales every pane to
    the splitter's width now)."""
    from PySide6.QtCore import QByteArray
    settings = window.settings
    for key, splitter in window._splitters().items():
        state = settings.value(f"window/{key}")
        if isinstance(state, QByteArray) and not state.isEmpty():
            splitter.restoreState(state)
    form_width = settings.value("window/form_width", 0, type=int)
    split = window.training_tab
    total = sum(split.sizes())
    if form_width > 0 and total > form_width:
        split.setSizes([form_width, total - form_width])


def save_window(window) -> None:
    """What the window keeps between sessions: its geometry, its splitters, the form's width, the look and
    the plot controls (x axis, smoothing, log loss, band) and the run list (or, with no runs, the form's
    experiment, so the next start shows it)."""
    s = window.settings
    s.setValue("window/geometry", window.saveGeometry())
    for key, splitter in window._splitters().items():
        s.setValue(f"window/{key}", splitter.saveState())
    if not window.training_tab.form_folded:
        s.setValue("window/form_width", window.training_tab.sizes()[0])
    window.look.save(s)
    save_plot_view(s, window.training_tab.plots)
    if window.ready:
        import json

        from engine.experiment import experiment_to_dict
        runs = [experiment_to_dict(exp) for exp in window.training_tab.experiments()]
        if not runs and window.form is not None and window.form.experiment() is not None:
            runs = [experiment_to_dict(window.form.experiment())]
        s.setValue("last/runs", json.dumps(runs))
    s.sync()
