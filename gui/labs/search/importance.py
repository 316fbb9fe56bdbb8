"""Which keys mattered: Optuna's PED-ANOVA importance over the race's finished trials, every method's together.

PED-ANOVA (Watanabe et al., 2023) compares, key by key, where the top ``gamma'`` = 10% of the trials lie with
where all of them lie: the Pearson divergence between the two Parzen densities of that key,
``D = integral (p_top(x) / p_all(x) - 1)^2 p_all(x) dx``, is large when the good trials crowd into one part of
the range and zero when they spread like the rest; the importances are these divergences normalised to sum
to one.  With fewer than :data:`MIN_TRIALS` finished trials the top 10% is less than one trial and the numbers
mean nothing, so the tab says how many are still needed instead.
"""
from __future__ import annotations

import html
import json
import warnings

import optuna
from optuna.importance import PedAnovaImportanceEvaluator, get_param_importances

from engine.labs.search.space import Param
from gui.labs.search.book import TrialBook

MIN_TRIALS = 10
BAR_CELLS = 10


def _optuna_value(param: Param, value):
    return json.dumps(value) if param.kind == "choice" and isinstance(value, list) else value


def importances(book: TrialBook, space: tuple[Param, ...]) -> dict[str, float] | None:
    """key path -> importance (summing to 1), or None below :data:`MIN_TRIALS` finished trials."""
    rows = [r for r in book.finished() if all(p.path in r.values for p in space)]
    if len(rows) < MIN_TRIALS or not space:
        return None
    distributions = {p.path: p.distribution() for p in space}
    study = optuna.create_study(direction=book.goal.direction)
    for r in rows:
        study.add_trial(optuna.trial.create_trial(
            params={p.path: _optuna_value(p, r.values[p.path]) for p in space},
            distributions=distributions, value=float(r.value)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")           # "importances will be equal" for a flat race: shown as such
        return get_param_importances(study, evaluator=PedAnovaImportanceEvaluator(), normalize=True)


def importance_html(book: TrialBook, space: tuple[Param, ...]) -> str:
    found = importances(book, space)
    if found is None:
        have = len(book.finished())
        return (f"<b>Importance</b> (PED-ANOVA) needs {MIN_TRIALS} finished trials: "
                f"{have} so far, {max(0, MIN_TRIALS - have)} to go.")
    entries = " &nbsp; ".join(f"{html.escape(k)}&nbsp;<b>{v:.2f}</b>&nbsp;{'█' * round(v * BAR_CELLS)}"
                              for k, v in found.items())
    return f"<b>Importance</b> (PED-ANOVA, {len(book.finished())} finished trials): {entries}"


TIP = ("Parameter importance by PED-ANOVA: how much the best 10% of the finished trials crowd into one part of "
       "each key's range (1: all of the importance, 0: the best trials spread like all the others).")
