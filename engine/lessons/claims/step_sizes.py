"""The claims of the optimizer-internals lesson about effective step sizes: adaptive optimizers give each
parameter its own rate lr / (sqrt(v_hat) + eps), and LAMB evens out the per-layer update ratio |dtheta| /
|theta|.

Each claim is a set-up and the conditions its numbers must meet, checked at many seeds
(:mod:`engine.lessons.claims.table`).
"""
from __future__ import annotations

from engine.lessons.claims.table import Claim

CLAIMS: tuple[Claim, ...] = ()
