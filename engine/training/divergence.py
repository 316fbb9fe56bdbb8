"""When a run has diverged: the tests a :class:`~engine.training.trainer.Trainer` judges every step by.

Three ways a run ends as ``diverged`` rather than going on:

- **a broken start**: the untrained network's loss is already over ``divergence_factor * ln C``
  (``ln C`` is the chance-level loss, a uniform guess over C classes);
- **a step past the ceiling**: a mini-batch loss above ``divergence_factor * max(L0, ln C)``,
  ``L0`` the starting loss, or a non-finite loss or gradient (the step is refused, so the weights stay
  the last finite ones);
- **arithmetic that failed**: an overflow or non-finite value raised inside a step
  (:func:`numeric_failure`).

``divergence_factor`` ``None`` (or 0) turns the first two tests off; non-finite values always count.
"""
from __future__ import annotations

import math
import re

_NUMERIC_WORDS = re.compile(r"\b(overflow|underflow|non-finite|not finite|nan|inf|infinity)\b", re.IGNORECASE)


def numeric_failure(err: BaseException) -> str | None:
    """Why ``err`` came from the numbers (an overflow, a non-finite value), or ``None`` for any other error.

    Such an exception inside a training step means the run diverged (Adam at ``lr`` 1e300 makes torch
    raise "value cannot be converted to type float without overflow" in its update), not that the
    program is wrong: :meth:`Trainer.step` ends the run as ``diverged`` with this reason.  Every other
    exception (a ``ZeroDivisionError`` in Python code included) is a true bug and still ends the run
    as ``error``.
    """
    if isinstance(err, (OverflowError, FloatingPointError)):
        return f"the arithmetic failed ({type(err).__name__}: {err})".splitlines()[0]
    text = str(err).splitlines()[0] if str(err) else ""
    if isinstance(err, RuntimeError) and _NUMERIC_WORDS.search(text):
        return f"the arithmetic failed ({text})"
    return None


class DivergenceCheck:
    """The divergence tests of one run: set from its starting loss, then asked about every step's."""

    def __init__(self, factor: float | None, n_classes: int):
        self.factor = factor
        self.n_classes = n_classes
        self.chance = math.log(n_classes)
        self.ceiling = math.inf        # set from the starting loss by :meth:`start`

    def start(self, loss: float) -> str:
        """Set the ceiling from the untrained network's loss; return why that start is already diverged.

        The ceiling is ``divergence_factor * max(L0, ln C)`` (infinite when the factor is off or ``L0``
        non-finite).  Divergence is otherwise measured against the starting loss, so a network whose
        loss is 4e12 from step 0 (``init_std`` 1e4) would never count as diverged: the absolute test is
        a start above ``divergence_factor * ln C`` (the same factor as the relative test, 1000 by
        default: ln 2 * 1000 = 693 for two classes), which means the true class gets probability
        ``C^-factor`` on average, which no training from there is worth watching.  Returns ``""`` when
        the start is fine.
        """
        factor = self.factor
        start_loss = max(loss, self.chance)
        self.ceiling = factor * start_loss if factor and math.isfinite(start_loss) else math.inf
        if not factor:
            return ""
        if not math.isfinite(loss):
            return "the starting loss is non-finite"
        if loss > factor * self.chance:
            return (f"the starting loss {loss:.3g} is over {factor:g}x the chance-level loss "
                    f"ln {self.n_classes} = {self.chance:.3g}")
        return ""

    def accept(self, loss: float) -> bool:
        """Whether a step may update on this mini-batch loss (not above the ceiling)."""
        return loss <= self.ceiling

    def step_failure(self, loss: float, updated: bool) -> str:
        """Why a step with this loss diverged (``""`` when it did not); ``updated``: the optimizer stepped."""
        if not math.isfinite(loss):
            return "the loss became non-finite"
        if loss > self.ceiling:
            return f"the loss {loss:.3g} exceeded {self.factor:g}x its start"
        if not updated:
            return "the gradient became non-finite"
        return ""
