"""The claims of the large-batch lab: at equal epochs plain SGD with the linear scaling rule and warm-up breaks
down as the batch grows, and the layer-wise methods (LARS, LAMB) hold up better.

Each claim is a set-up and the conditions its numbers must meet, checked at many seeds
(:mod:`engine.lessons.claims.table`).
"""
from __future__ import annotations

from engine.lessons.claims.table import Claim

CLAIMS: tuple[Claim, ...] = ()
