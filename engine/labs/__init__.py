"""The lesson labs' physics, one module per lab (no Qt): what the window's lab tabs and the headless
commands both call.

``INSPECTIONS`` are measurements of a trained run that the training process makes on request
(``("inspect", name, run_id)``): the window hands this table to the loop, which knows no lab.
"""
from __future__ import annotations

from engine.labs.batchnorm import batchnorm_table

INSPECTIONS = {"batchnorm": batchnorm_table}
