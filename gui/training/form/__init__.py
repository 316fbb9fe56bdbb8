"""The experiment form of the Training tab (see :mod:`gui.training.form.form`)."""
from gui.training.form.form import (
    META,
    PREVIEW_MAX_STEPS,
    ExperimentForm,
    LengthField,
    ListField,
    NumberBox,
    PathField,
    RateField,
    format_hint,
    tooltip_for,
)

__all__ = ["META", "PREVIEW_MAX_STEPS", "ExperimentForm", "LengthField", "ListField", "NumberBox", "PathField",
           "RateField", "format_hint", "tooltip_for"]
