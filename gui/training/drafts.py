"""The form's unsaved edits of each run, kept when another run (or a lab's set-up) takes the form.

The form is a draft: Add run trains it beside the others, Apply gives it to the selected run.  Until
then its edits belong to the run the form shows, and selecting another run must not throw them away:
they are kept here, by run, and come back when that run is selected again.  Apply and Remove drop a
run's draft.
"""
from __future__ import annotations


class FormDrafts:
    """run id -> the form's unsaved experiment for it; ``shown`` is the run whose settings the form shows."""

    def __init__(self):
        self.drafts: dict[str, object] = {}
        self.shown: str | None = None

    def keep(self, form, runs: dict) -> str | None:
        """Keep the form's edits of the run it shows; that run's name if it had any.  The form then shows
        no run's settings until :meth:`show` says which."""
        run = runs.get(self.shown or "")
        draft = form.experiment() if form is not None else None
        self.shown = None
        if run is None or draft is None or draft == run.named():
            return None
        self.drafts[run.run_id] = draft
        return run.name

    def show(self, run_id: str):
        """The form now shows ``run_id``: its kept draft (taken back), or None when it has none."""
        self.shown = run_id
        return self.drafts.pop(run_id, None)

    def drop(self, run_id: str) -> None:
        self.drafts.pop(run_id, None)
