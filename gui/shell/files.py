"""The File menu's files: experiments and run lists opened and saved, metrics and plots exported.

Each call takes a path, or asks for one in a dialog that starts in the folder
of the last file (kept in the settings under ``last/folder``); a file that
cannot be read says why in a message box and changes nothing.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from gui.shell import export
from gui.shell.settings import text_setting


class FileDialogs:
    """The dialogs of the File menu, parented to ``parent`` (the window), remembering the last folder."""

    def __init__(self, parent: QWidget, settings):
        self.parent = parent
        self.settings = settings

    def ask_path(self, title: str, filters: str, save: bool) -> Path | None:
        start = text_setting(self.settings, "last/folder", str(Path.home()))
        if save:
            path, _ = QFileDialog.getSaveFileName(self.parent, title, start, filters)
        else:
            path, _ = QFileDialog.getOpenFileName(self.parent, title, start, filters)
        if not path:
            return None
        self.settings.setValue("last/folder", str(Path(path).parent))
        return Path(path)

    def read_run_list(self, path: Path | None = None) -> tuple[Path, list] | None:
        """(the file, its experiments) from an experiment or run-list file; None if cancelled or unreadable.

        The file is read by ``engine.experiment.load_run_list``, through the one JSON reader
        (``engine.inputs.read_json``: regular files only, size, depth, integer and duplicate-key
        limits); whatever it refuses is shown as its one line, naming the file, in a warning box.
        """
        path = path or self.ask_path("Open experiment", "Experiments (*.json);;All files (*)", save=False)
        if path is None:
            return None
        from engine.experiment import ExperimentError, load_run_list
        try:
            return path, load_run_list(path)
        except ExperimentError as err:
            self.cannot_open(path, str(err))
        except Exception as err:  # a safety net: the reader and the validator name every known fault
            self.cannot_open(path, f"cannot open: {type(err).__name__}: {err}".splitlines()[0])
        return None

    def cannot_open(self, path: Path, line: str) -> None:
        """The reason in a warning box, as one line that names the file (the reader's lines name it already;
        a key's problem, ``optimizer.lr: must be > 0``, gets the file's name in front)."""
        if not line.startswith((str(path), path.name)):
            line = f"{path.name}: {line}"
        QMessageBox.warning(self.parent, "Cannot open this file", f"{line}\n\nNothing was changed.")

    def save_experiment(self, form, path: Path | None = None) -> bool:
        """The form's experiment as a file; a form with an error says so and saves nothing."""
        exp = form.experiment() if form else None
        if exp is None:
            QMessageBox.warning(self.parent, "Cannot save",
                                "The form has an error: " + ((form.error() if form else "") or ""))
            return False
        path = path or self.ask_path("Save experiment", "Experiments (*.json)", save=True)
        if path is None:
            return False
        from engine.experiment import save_experiment
        save_experiment(exp, path)
        return True

    def save_run_list(self, experiments: list, path: Path | None = None) -> bool:
        if not experiments:
            return False
        path = path or self.ask_path("Save run list", "Run lists (*.json)", save=True)
        if path is None:
            return False
        from engine.experiment import save_run_list
        save_run_list(experiments, path)
        return True

    def export_metrics(self, run, path: Path | None = None) -> bool:
        """The run's metrics as CSV (False when there is no run, or the dialog was cancelled)."""
        if run is None:
            return False
        path = path or self.ask_path("Export metrics", "CSV (*.csv)", save=True)
        if path is None:
            return False
        export.export_metrics(run, path)
        return True

    def export_plot(self, tab, key: str, path: Path | None = None) -> bool:
        """The Training tab's plot of that key (``gui.shell.export.plot_names``) as PNG or SVG, by suffix."""
        path = path or self.ask_path("Export plot", "PNG image (*.png);;SVG image (*.svg)", save=True)
        if path is None:
            return False
        export.export_plot(tab, key, path)
        return True
