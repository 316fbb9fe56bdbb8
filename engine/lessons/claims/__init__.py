"""Every claim the app makes, as data: a set-up, the numbers it measures, the conditions they must
meet; checked at many seeds, because a claim is only as good as its worst seed.

The claims come by lesson section (:mod:`.optimization`, :mod:`.regularization`,
:mod:`.initialization`, :mod:`.normalization`, :mod:`.search` for the search lab's presets, :mod:`.step_sizes`,
:mod:`.mixed_precision` and :mod:`.large_batch` for the optimizer internals, and
:mod:`.questions` for the Lessons menu's questions and the labs' and tooltips' statements); :mod:`.table` holds what a claim is and how it is
checked and counted, :mod:`.measured` the shipped table the window reads.  The tests (two seeds, in
the quick suite), ``main.py claims`` (ten, by ``make claims``) and the window's "holds at k of n
seeds" read this one table.

The thresholds are the app's words made measurable, with a margin; the numbers measured when each
condition was written are in the comments.
"""
from __future__ import annotations

from engine.lessons.claims import (
    initialization,
    large_batch,
    mixed_precision,
    normalization,
    optimization,
    questions,
    regularization,
    search,
    step_sizes,
)
from engine.lessons.claims.measured import MEASURED, Measured, measured
from engine.lessons.claims.table import (
    CLAIM_COLUMNS,
    Claim,
    ClaimCheck,
    ClaimRow,
    Condition,
    Numbers,
    check_claim,
    claims_table,
    write_claims_csv,
)

#: Every claim, by lesson section, each section in the Lessons menu's order (the presets, then its
#: "Hyperparameter search" section, then the questions).
CLAIMS: tuple[Claim, ...] = (optimization.CLAIMS + regularization.CLAIMS + initialization.CLAIMS
                             + normalization.CLAIMS + search.CLAIMS + step_sizes.CLAIMS + mixed_precision.CLAIMS
                             + large_batch.CLAIMS + questions.CLAIMS)

CLAIMS_BY_KEY: dict[str, Claim] = {claim.key: claim for claim in CLAIMS}

__all__ = ["CLAIMS", "CLAIMS_BY_KEY", "CLAIM_COLUMNS", "Claim", "ClaimCheck", "ClaimRow", "Condition", "MEASURED",
           "Measured", "Numbers", "check_claim", "claims_table", "measured", "write_claims_csv"]
