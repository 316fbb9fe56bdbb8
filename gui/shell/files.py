"""The File menu's files: experiments and run lists opened and saved, metrics and plots exported.

Each call takes a path, or asks for one in a dialog that starts in the folder
of the last file (kept in the settings under ``last/folder``); a file that
cannot be read says why in a message box and changes nothing.

Every save and export goes through :meth:`FileDialogs.write`: a name without a
suffix gets the chosen filter's (``.json``, ``.csv``, ``.png``, ``.svg``); the
place is checked before anything is written (``engine.files.file_target_problem``:
a folder, a missing or read-only folder, a read-only file, a bad name); a write
that fails, or that leaves no file, is an error dialog with one line, and the file
that was there before is kept.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from engine.files import file_target_problem
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
            path, chosen = QFileDialog.getSaveFileName(self.parent, title, start, filters)
        else:
            path, chosen = QFileDialog.getOpenFileName(self.parent, title, start, filters)
        if not path:
            return None
        self.settings.setValue("last/folder", str(Path(path).parent))
        return with_suffix(Path(path), chosen or filters) if save else Path(path)

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

    def write(self, path: Path | None, title: str, filters: str, write: Callable[[Path], object]) -> Path | None:
        """``write(path)`` to a checked place (asked for when ``path`` is None); the path written, or None
        after a cancel or an error dialog (one line naming the file; nothing changed)."""
        path = path or self.ask_path(title, filters, save=True)
        if path is None:
            return None
        path = with_suffix(path, filters)
        problem = file_target_problem(path)
        if problem is None:
            try:
                write(path)
            except (OSError, ValueError, RuntimeError) as err:
                problem = str(err).replace(str(path), path.name) or type(err).__name__
            else:
                if not path.is_file() or path.stat().st_size == 0:
                    problem = "nothing was written (the exporter gave no file)"
        if problem:
            line = problem if problem.startswith(path.name) else f"{path.name}: {problem}"
            QMessageBox.critical(self.parent, title.replace("…", "") + ": not saved",
                                 f"{line}\n\nNothing was changed.")
            return None
        return path

    def may_replace(self, runs: list, what: str) -> bool:
        """True when a run list holding ``runs`` may be replaced by ``what`` (a lesson, a race, a file): at
        once when no run has trained a step, else when the teacher says so (their results would be lost)."""
        trained = [r for r in runs if r.step > 0]
        if not trained:
            return True
        steps = sum(r.step for r in trained)
        answer = QMessageBox.question(
            self.parent, "Replace the runs?",
            f"{what} replaces the {len(runs)} run(s) in the list; the results of {len(trained)} of them "
            f"({steps:,} steps trained) will be lost.\n\nTo keep them, cancel and use File > Save run list "
            "or Export metrics first.", QMessageBox.Yes | QMessageBox.Cancel, QMessageBox.Cancel)
        return answer == QMessageBox.Yes

    def save_experiment(self, form, path: Path | None = None) -> Path | None:
        """The form's experiment as a file; a form with an error says so and saves nothing."""
        exp = form.experiment() if form else None
        if exp is None:
            QMessageBox.warning(self.parent, "Cannot save",
                                "The form has an error: " + ((form.error() if form else "") or ""))
            return None
        from engine.experiment import save_experiment
        return self.write(path, "Save experiment", "Experiments (*.json)", lambda p: save_experiment(exp, p))

    def save_run_list(self, experiments: list, path: Path | None = None) -> Path | None:
        if not experiments:
            return None
        from engine.experiment import save_run_list
        return self.write(path, "Save run list", "Run lists (*.json)", lambda p: save_run_list(experiments, p))

    def export_metrics(self, run, path: Path | None = None) -> Path | None:
        """The run's metrics as CSV (None when there is no run, the dialog was cancelled or it failed)."""
        if run is None:
            return None
        return self.write(path, "Export metrics", "CSV (*.csv)", lambda p: export.export_metrics(run, p))

    def export_plot(self, tab, key: str, path: Path | None = None) -> Path | None:
        """The Training tab's plot of that key (``gui.shell.export.plot_names``) as PNG or SVG, by suffix."""
        return self.write(path, "Export plot", "PNG image (*.png);;SVG image (*.svg)",
                          lambda p: export.export_plot(tab, key, p))


def with_suffix(path: Path, filters: str) -> Path:
    """``path`` with the first suffix of ``filters`` (``"CSV (*.csv)"``) when its name has none of them."""
    suffixes = re.findall(r"\*(\.\w+)", filters)
    if not suffixes or path.suffix.lower() in suffixes:
        return path
    return path.with_name(path.name + suffixes[0]) if not path.suffix else path
