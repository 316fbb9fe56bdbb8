"""The experiment form of the Training tab, in one module per part.

``schema`` what the form knows of each key (read from the engine), ``widgets`` the small widgets,
``fields`` and ``compound_fields`` one experiment key each, ``preview`` the schedule preview,
``form`` the :class:`ExperimentForm` that puts them together.
"""
from gui.training.form.compound_fields import LengthField, PairField, RateField, ToggledNumberField
from gui.training.form.fields import (
    CheckField,
    ChoiceField,
    Field,
    ListField,
    NumberField,
    PathField,
    TextField,
    Unreadable,
)
from gui.training.form.form import ExperimentForm
from gui.training.form.preview import PREVIEW_MAX_STEPS, SchedulePreview
from gui.training.form.schema import CHOOSERS, META, format_hint, format_number, format_rate, tooltip_for
from gui.training.form.widgets import NumberBox, Section

__all__ = [
    "CHOOSERS", "META", "PREVIEW_MAX_STEPS", "CheckField", "ChoiceField", "ExperimentForm", "Field", "LengthField",
    "ListField", "NumberBox", "NumberField", "PairField", "PathField", "RateField", "SchedulePreview", "Section",
    "TextField", "ToggledNumberField", "Unreadable", "format_hint", "format_number", "format_rate", "tooltip_for",
]
