"""The claims of mixed precision: in fp16 without loss scaling small gradients underflow to zero and the loss
stalls; with dynamic loss scaling training matches fp32.

Each claim is a set-up and the conditions its numbers must meet, checked at many seeds
(:mod:`engine.lessons.claims.table`).
"""
from __future__ import annotations

from engine.lessons.claims.table import Claim

CLAIMS: tuple[Claim, ...] = ()
