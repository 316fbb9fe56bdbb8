"""The claims of the Lessons menu's questions, the labs' verdicts and the tooltips that assert an
outcome: each a set-up and what its text says about it."""
from __future__ import annotations

from engine.lessons.claims.table import Claim

CLAIMS: tuple[Claim, ...] = ()
