"""The learning-rate range test (Leslie Smith's, as fastai's ``lr_find`` defines it) and a check of it.

The finder trains the experiment's own network with its own optimizer for a
few dozen mini-batches while the rate grows exponentially,

    lr_i = start_lr * (end_lr / start_lr) ** (i / (steps - 1)),   i = 0 .. steps-1

so every step multiplies the rate by the same factor and the sweep ends on
``end_lr`` exactly.  (fastai uses ``i / steps`` and never quite reaches
``end_lr``; the rate the student typed is the rate plotted.)  The noisy batch
losses are smoothed by an exponential moving average with bias correction,
fastai's ``AvgSmoothLoss``:

    avg_i = beta * avg_{i-1} + (1 - beta) * loss_i,  avg_{-1} = 0
    smoothed_i = avg_i / (1 - beta ** (i + 1))

(without the correction the first points would be pulled toward zero).  The
sweep stops as soon as the smoothed loss exceeds ``4x`` the best seen so far,
or a loss is non-finite: past that point the network is being destroyed.

Why it works: at a tiny rate a step changes nothing and the loss stays flat;
as the rate grows, steps become large enough to descend and the loss falls
faster; once a step overshoots the valley's walls the loss climbs and then
explodes.  The best rate for training is a little below where the descent is
fastest, well below the explosion.  Why it can fail: the sweep is a few dozen
steps of one short, warming-up run, judged on training loss; a real run is
long, starts cold at a fixed rate, and is judged on validation loss
(``check_finder`` trains at rates across the range to show where they agree,
and ``check_verdict`` says whether the best of those runs lies within
``AGREE_FACTOR`` = 3x of the finder's pick).

Four suggestions, computed as fastai computes them on the smoothed curve with
its first tenth and last five points left off (the start is still flat and
the end is blowing up):

* ``valley`` (fastai's default): the longest strictly descending subsequence
  of the curve, and the point two thirds of the way along it;
* ``slide``: walking left from the end, the first rate where the slope of the
  curve (per point) agrees within ``thresh`` with the slope ``lr_diff`` points
  to its right: where the curve stops bending;
* ``minimum``: the rate of the lowest loss, divided by ten (clamped to the
  swept range here, so that every suggestion is a rate the sweep tried);
* ``steep``: the rate where the loss falls fastest per unit of ``ln lr``.

Nothing the finder does survives it: the weights, buffers, gradients and
optimizer state, the trainer's batch order and cursor, its dropout generator,
its schedule and the global torch generator are all saved first and restored
after, so training after the finder gives the numbers it gives without it,
bit for bit.  No Qt here: the tab, the headless command and the tests call
the same functions, with a :class:`~engine.training.jobs.TaskState` for live reports.
"""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from engine.config import FINDER_LR, FINDER_LR_RATIO, Experiment
from engine.files import float_cell, frozen_array, text_cell, write_csv_atomic, write_json_atomic
from engine.smoothing import DebiasedEMA, debiased_ema
from engine.status import RunStatus, SweepStatus
from engine.training.jobs import TaskState
from engine.training.trainer import Trainer

START_LR, END_LR, STEPS = 1e-7, 10.0, 100
MIN_STEPS, MAX_STEPS = 2, 100_000     # the sweep's length: FinderSettings.check and the tab's spin box
BETA = 0.98                 # smoothing of the loss, fastai's AvgSmoothLoss
STOP_FACTOR = 4.0           # stop once the smoothed loss exceeds this multiple of the best
REPORT_EVERY = 0.05         # seconds between live reports of the curve


SUGGESTION_NAMES = ("valley", "slide", "minimum", "steep")
SUGGESTION_HELP = {
    "valley": "two thirds of the way down the longest descending stretch of the curve (fastai's default)",
    "slide": "where the curve stops bending: the slope agrees with the slope 15 points further right",
    "minimum": "a tenth of the rate with the lowest loss",
    "steep": "where the loss falls fastest per decade of learning rate",
}


class SettingsError(ValueError):
    """A sweep setting the finder refuses: ``key`` names the :class:`FinderSettings` field, ``str(err)`` is one line."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class FinderSettings:
    """How to sweep.  ``steps`` mini-batches, from ``start_lr`` to ``end_lr``."""
    start_lr: float = START_LR
    end_lr: float = END_LR
    steps: int = STEPS
    beta: float = BETA
    stop_factor: float = STOP_FACTOR

    def check(self) -> None:
        """Raise :class:`SettingsError` with a one-line reason for settings the sweep cannot use.

        Both rates within :data:`engine.config.FINDER_LR` and their ratio within
        :data:`engine.config.FINDER_LR_RATIO` (the reasons for the numbers are there), so no sweep
        runs off to rates float32 cannot hold.
        """
        for key, value in (("start_lr", self.start_lr), ("end_lr", self.end_lr)):
            problem = FINDER_LR.check(value)
            if problem:
                raise SettingsError(key, f"{key.replace('_', ' ')} {problem}, got {value!r}")
        ratio = self.end_lr / self.start_lr
        problem = FINDER_LR_RATIO.check(ratio)
        if problem:
            raise SettingsError("end_lr", f"end lr / start lr {problem}, got {self.end_lr:g} / "
                                          f"{self.start_lr:g} = {ratio:.3g}")
        if not MIN_STEPS <= self.steps <= MAX_STEPS:
            raise SettingsError("steps", f"steps must be in [{MIN_STEPS}, {MAX_STEPS}], got {self.steps!r}")
        if not 0 <= self.beta < 1:
            raise SettingsError("beta", f"beta must be in [0, 1), got {self.beta!r}")
        if not self.stop_factor > 1:
            raise SettingsError("stop_factor", f"stop factor must be > 1, got {self.stop_factor!r}")


@dataclass(frozen=True)
class Suggestion:
    """One suggested rate, and the point of the curve fastai marks for it.

    For ``minimum`` the mark sits at the lowest loss and the suggested rate is
    a tenth of it; for the others the mark sits on the curve at ``lr``.
    """
    name: str
    lr: float
    mark_lr: float
    mark_loss: float


@dataclass(frozen=True)
class FinderCurve:
    """The sweep so far (a live report): arrays are copies, one entry per step taken."""
    lrs: np.ndarray
    losses: np.ndarray          # the raw mini-batch losses
    smoothed: np.ndarray        # EMA with bias correction
    planned: int                # steps the sweep would take without stopping


@dataclass(frozen=True)
class FinderResult:
    """The whole sweep, why it ended and the four suggestions (``valley`` first, the default)."""
    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    stop_reason: str
    suggestions: tuple[Suggestion, ...]
    settings: FinderSettings = field(default_factory=FinderSettings)

    @property
    def steps(self) -> int:
        return len(self.lrs)

    @property
    def divergence_lr(self) -> float | None:
        """The rate at which the sweep stopped because the loss blew up (None if it did not)."""
        return float(self.lrs[-1]) if self.stop_reason in (SweepStatus.DIVERGED, SweepStatus.NON_FINITE) else None

    def suggestion(self, name: str = "valley") -> Suggestion | None:
        return next((s for s in self.suggestions if s.name == name), None)

    def summary(self) -> dict:
        """What ``suggestions.json`` holds: plain numbers, the suggestions by name."""
        return {
            "suggestions": {s.name: s.lr for s in self.suggestions},
            "default": "valley",
            "stop_reason": self.stop_reason,
            "steps_taken": self.steps,
            "range": {"start_lr": self.settings.start_lr, "end_lr": self.settings.end_lr,
                      "steps": self.settings.steps,
                      "swept_from": float(self.lrs[0]) if self.steps else None,
                      "swept_to": float(self.lrs[-1]) if self.steps else None,
                      "divergence_lr": self.divergence_lr},
            "smoothing_beta": self.settings.beta,
            "stop_factor": self.settings.stop_factor,
        }


# -- the pieces, each a formula -----------------------------------------------------------------

def sweep_lrs(start_lr: float = START_LR, end_lr: float = END_LR, steps: int = STEPS) -> np.ndarray:
    """``start_lr * (end_lr/start_lr) ** (i/(steps-1))``: equal ratios, both ends included."""
    return start_lr * (end_lr / start_lr) ** (np.arange(steps) / (steps - 1))


def smooth(losses, beta: float = BETA) -> np.ndarray:
    """fastai's ``AvgSmoothLoss``: :func:`engine.smoothing.debiased_ema` with weight ``beta``."""
    return debiased_ema(np.asarray(losses, dtype=np.float64), beta)[0]


def valley(lrs: np.ndarray, losses: np.ndarray) -> tuple[float, int]:
    """fastai's ``valley``: the longest strictly descending subsequence, and 2/3 of the way along it.

    ``lds[i]`` is the length of the longest subsequence with decreasing losses
    ending at ``i`` (``1 + max lds[j]`` over earlier, higher points).  The
    longest ends at ``end`` (the first index reaching the maximum) and is
    taken to start ``lds[end]`` points before it; the pick is at
    ``start + int(span/3) + int(span/6)``, about two thirds of the span.
    """
    n = len(losses)
    lds = np.ones(n, dtype=np.int64)
    for i in range(1, n):
        higher = losses[:i] > losses[i]
        if higher.any():
            lds[i] = lds[:i][higher].max() + 1
    end = int(np.argmax(lds))
    start = end - int(lds[end])
    sections = (end - start) / 3
    idx = max(0, start + int(sections) + int(sections / 2))
    return float(lrs[idx]), idx


def slide(lrs: np.ndarray, losses: np.ndarray, lr_diff: int = 15, thresh: float = 0.005) -> float:
    """fastai's ``slide``: from the right, the first rate whose slope is within ``thresh`` of the slope ``lr_diff`` points right.

    Slopes are ``numpy.gradient`` of the loss per point.  ``lr_diff`` is cut
    to the curve's length minus one when the curve is shorter than fastai expects.
    """
    grad = np.gradient(losses) if len(losses) > 1 else np.zeros(len(losses))
    lr_diff = min(lr_diff, len(losses) - 1)
    r, l = -1, -1 - lr_diff
    found = lrs[l]
    while l >= -len(losses) and abs(grad[r] - grad[l]) > thresh:
        found = lrs[l]
        r -= 1
        l -= 1
    return float(found)


def steep(lrs: np.ndarray, losses: np.ndarray) -> tuple[float, int]:
    """fastai's ``steep``: the left end of the segment where ``d loss / d ln lr`` is most negative."""
    slopes = np.diff(losses) / np.diff(np.log(lrs))
    idx = int(np.argmin(slopes))
    return float(lrs[idx]), idx


def suggest(lrs: np.ndarray, smoothed: np.ndarray, planned: int) -> tuple[Suggestion, ...]:
    """The four suggestions on the curve, fastai's way: without its first ``planned//10`` and last 5 points.

    A short curve (the sweep stopped early) keeps at least three points: the
    skips shrink, but the last point is always left off when there is more
    than one, so no suggestion can sit on the point where the sweep blew up.
    Returns () when fewer than two usable points remain.
    """
    finite = np.isfinite(smoothed)
    n = int(np.argmin(finite)) if not finite.all() else len(smoothed)   # drop from the first NaN on
    head, tail = planned // 10, 5
    while n - head - tail < 3 and (head or tail > 1):
        if head:
            head -= 1
        else:
            tail -= 1
    tail = min(tail, max(n - 1, 0)) if n > 1 else 0
    x, y = np.asarray(lrs[head:n - tail], dtype=np.float64), np.asarray(smoothed[head:n - tail], dtype=np.float64)
    if len(x) < 2:
        return ()
    v_lr, v_idx = valley(x, y)
    s_lr = slide(x, y)
    s_loss = float(np.interp(np.log10(s_lr), np.log10(x), y))
    m_idx = int(np.argmin(y))
    m_lr = max(float(x[m_idx]) / 10, float(lrs[0]))
    t_lr, t_idx = steep(x, y)
    return (Suggestion("valley", v_lr, v_lr, float(y[v_idx])),
            Suggestion("slide", s_lr, s_lr, s_loss),
            Suggestion("minimum", m_lr, float(x[m_idx]), float(y[m_idx])),
            Suggestion("steep", t_lr, t_lr, float(y[t_idx])))


# -- saving and restoring everything the sweep touches -------------------------------------------

@contextlib.contextmanager
def preserved(trainer: Trainer):
    """Run the body on the trainer's own network and optimizer, then put everything back.

    The trainer's own :meth:`~engine.training.trainer.Trainer.save_state` (weights,
    gradients, optimizer, schedule, batch order, dropout draws, train/eval
    mode), plus the global torch generator.
    """
    saved = trainer.save_state()
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        trainer.load_state(saved)


# -- the range test ----------------------------------------------------------------------------

def find_lr(trainer: Trainer, settings: FinderSettings = FinderSettings(),
            state: TaskState | None = None) -> FinderResult:
    """Sweep the rate over ``settings.steps`` mini-batches of ``trainer``'s experiment; leave it untouched.

    Each step is the trainer's own :meth:`~engine.training.trainer.Trainer.train_step`
    (its batches in its order, its augmentation, its dropout, its gradient clipping,
    its optimizer) at the sweep's rate, set on every param group before the step;
    the schedule is not stepped.  The loss is judged before the update: a step
    that trips a stop rule (or whose gradient is non-finite) is not taken.  A
    step whose arithmetic overflows inside torch (a rate float32 cannot hold,
    see :func:`overflowed`) ends the sweep as ``non_finite`` at that rate, as an
    infinite loss or gradient does, never as an exception.
    ``state`` receives a :class:`FinderCurve` at most every ``REPORT_EVERY``
    seconds and may ask the sweep to stop early.
    """
    settings.check()
    state = state or TaskState()
    planned = sweep_lrs(settings.start_lr, settings.end_lr, settings.steps)
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    ema, best, reason = DebiasedEMA(settings.beta), math.inf, SweepStatus.FINISHED

    def judge(loss: float) -> bool:
        """Record the batch's loss at the trainer's rate; go on to the update unless a stop rule says no."""
        nonlocal best, reason
        smooth_value = ema.update(loss)
        lrs.append(trainer.lr)
        losses.append(loss)
        smoothed.append(smooth_value)
        if not (math.isfinite(loss) and math.isfinite(smooth_value)):
            reason = SweepStatus.NON_FINITE
            return False
        best = min(best, smooth_value)
        if smooth_value > settings.stop_factor * best:
            reason = SweepStatus.DIVERGED
        return reason == SweepStatus.FINISHED

    last_report = time.perf_counter()
    with preserved(trainer):
        trainer.model.train()
        for lr in planned:
            if state.stop_requested():
                reason = SweepStatus.STOPPED
                break
            judged = len(lrs)
            try:
                step = trainer.train_step(float(lr), accept=judge)   # the run's own step, at the sweep's rate
            except RuntimeError as err:
                if not overflowed(err):
                    raise
                if len(lrs) == judged:       # refused before its loss was seen: the point is still this rate's
                    judge(math.nan)
                reason = SweepStatus.NON_FINITE
                break
            if reason != SweepStatus.FINISHED:
                break
            if not step.updated:                                   # a finite loss whose gradient overflowed
                reason = SweepStatus.NON_FINITE
                break
            now = time.perf_counter()
            if now - last_report >= REPORT_EVERY:
                last_report = now
                state.report(FinderCurve(frozen_array(lrs), frozen_array(losses), frozen_array(smoothed),
                                         settings.steps))
    lrs_a, smoothed_a = frozen_array(lrs), frozen_array(smoothed)
    result = FinderResult(lrs_a, frozen_array(losses), smoothed_a, reason,
                          suggest(lrs_a, smoothed_a, settings.steps), settings)
    state.report(FinderCurve(result.lrs, result.losses, result.smoothed, settings.steps))
    return result


def overflowed(err: RuntimeError) -> bool:
    """Whether torch refused a step because a number left float32's range.

    An optimizer hands its rate to torch as a float32 scalar (``param.add_(grad, alpha=-lr)``, Adam's
    ``addcdiv_(..., value=-lr / (1 - beta1^t))``); past 3.4e38 torch raises ``RuntimeError: value
    cannot be converted to type float without overflow`` instead of returning an infinite weight.
    For the finder that is the same verdict as an infinite loss.  Any other error is a real fault
    and propagates.
    """
    return "overflow" in str(err)


def find_lr_job(state: TaskState, experiment: Experiment,
                settings: FinderSettings = FinderSettings()) -> FinderResult:
    """The finder as a ``job(state, ...)`` for ``gui.concurrency.jobs.TaskRunner``: builds the trainer, then sweeps."""
    return find_lr(Trainer(experiment), settings, state)


# -- files -----------------------------------------------------------------------------------------

CSV_COLUMNS = ("step", "lr", "loss", "smoothed_loss")


def write_finder_files(result: FinderResult, out_dir: str | Path) -> tuple[Path, Path]:
    """``DIR/lr_find.csv`` (one row per sweep step) and ``DIR/suggestions.json``; both written atomically.

    Steps count from 1, as the trainer's do; rates and losses are written by
    :func:`engine.files.float_cell`, so the file reproduces the arrays exactly.  JSON has no
    NaN: a non-finite value is written as null (the stop reason says why).
    """
    out = Path(out_dir)
    rows = ([i, float_cell(lr), float_cell(loss), float_cell(sm)]
            for i, (lr, loss, sm) in enumerate(zip(result.lrs, result.losses, result.smoothed), start=1))
    return (write_csv_atomic(out / "lr_find.csv", CSV_COLUMNS, rows),
            write_json_atomic(out / "suggestions.json", result.summary()))


# -- the Challenge: does the finder's pick agree with real training? ----------------------------

AGREE_FACTOR = 3.0          # the check agrees with the finder when its best rate is within this factor of the pick
# 15 rates: over the usual span (the pick / 30 to where the sweep blew up, 3 to 5 decades) one rate is 1.8x to
# 2.2x the next, finer than AGREE_FACTOR, so the verdict is not decided by where the grid happens to fall.  With 8
# (3.3x to 4.6x apart) the rate nearest the pick could lie 2x from it and the best rate be missed by as much: at
# seed 0 of the finder-fails lesson the best came out 5.7x the pick, its loss 3.3x lower; 15 rates find 10.7x, 29x.
CHECK_RUNS, CHECK_STEPS = 15, 300


@dataclass(frozen=True)
class CheckPoint:
    """One short full run at one rate: its final validation loss (NaN when it diverged)."""
    index: int
    lr: float
    val_loss: float
    val_acc: float
    status: str             # engine.training.events: finished, diverged, error, stopped
    message: str


@dataclass(frozen=True)
class CheckResult:
    points: tuple[CheckPoint, ...]
    steps: int

    @property
    def best(self) -> CheckPoint | None:
        """The finished run with the lowest final validation loss."""
        ok = [p for p in self.points if p.status == RunStatus.FINISHED and math.isfinite(p.val_loss)]
        return min(ok, key=lambda p: p.val_loss) if ok else None


def check_lrs(result: FinderResult, n: int = CHECK_RUNS) -> np.ndarray:
    """``n`` log-spaced rates from the valley pick / 30 to where the sweep ended (at least valley x 30).

    That spans rates the finder calls too small, its picks, and the rates where
    it saw the loss blow up, so the check can agree or disagree with it.  The
    rates stay inside the swept range.
    """
    pick = result.suggestion("valley")
    centre = pick.lr if pick else float(np.sqrt(result.settings.start_lr * result.settings.end_lr))
    high = float(result.lrs[-1]) if result.steps else result.settings.end_lr
    low = max(centre / 30, result.settings.start_lr)
    high = min(max(high, centre * 30), result.settings.end_lr)
    return np.geomspace(low, high, n)


def with_lr(experiment: Experiment, lr: float) -> Experiment:
    """The experiment trained at ``lr``: the optimizer's rate, and one-cycle's peak when it names one."""
    exp = experiment.replace(optimizer={"lr": float(lr)})
    if exp.schedule.name == "one_cycle" and exp.schedule.max_lr is not None:
        exp = exp.replace(schedule={"max_lr": float(lr)})
    return exp


def check_finder(state: TaskState, experiment: Experiment, lrs, steps: int = CHECK_STEPS) -> CheckResult:
    """Train ``steps`` steps at each rate in ``lrs``, reporting each run's :class:`CheckPoint` as it ends.

    Runs are full training runs of the experiment (schedule, warm-up and all)
    with only the rate changed and the horizon set to ``steps``; they share
    one copy of the data.  Stops between runs, or inside one, on request.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    points, data = [], None
    for i, lr in enumerate(np.asarray(lrs, dtype=np.float64)):
        if state.stop_requested():
            break
        exp = with_lr(experiment, lr).replace(train={"steps": steps, "epochs": None, "histogram_every": 0,
                                                     "eval_every": steps})
        trainer = Trainer(exp, data)
        data = trainer.data
        final = trainer.run(should_stop=state.stop_requested)
        last = trainer.last_eval
        # The final evaluation, when the run finished with one at its last step.
        done = last if final.status == RunStatus.FINISHED and last is not None and last.step == final.step else None
        point = CheckPoint(i, float(lr), done.val_loss if done is not None else math.nan,
                           done.val_acc if done is not None else math.nan, final.status, final.message)
        points.append(point)
        state.report(point)
    return CheckResult(tuple(points), steps)


@dataclass(frozen=True)
class CheckVerdict:
    """What the Challenge concludes: the check's best rate against the finder's valley pick.

    With ``ratio = best_lr / pick_lr``, the finder *agrees* with real training when
    ``1 / factor <= ratio <= factor``; above, it was too cautious (real runs do best at a
    larger rate), below, too bold.  ``agrees`` and ``ratio`` are None when there is nothing
    to compare (no check run finished, or the sweep made no pick).
    """
    pick_lr: float | None           # the finder's valley pick
    best_lr: float | None           # the finished check run with the lowest final validation loss
    best_val_loss: float | None
    ratio: float | None
    agrees: bool | None
    factor: float
    sentence: str                   # the verdict in words, for the tab and the command line

    def summary(self) -> dict:
        """What ``verdict.json`` holds (with the check's length, given by :func:`write_check_files`)."""
        return {"pick": "valley", "pick_lr": self.pick_lr, "best_lr": self.best_lr,
                "best_val_loss": self.best_val_loss, "ratio": self.ratio, "agrees": self.agrees,
                "agree_factor": self.factor, "verdict": self.sentence}


def format_lr(lr: float) -> str:
    """A rate as the finder writes it in words: two significant digits, or ``1.0e-05`` far from 1."""
    return f"{lr:.2g}" if 1e-3 <= lr < 100 else f"{lr:.1e}"


def _times(ratio: float) -> str:
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


def check_verdict(pick_lr: float | None, check: CheckResult, factor: float = AGREE_FACTOR) -> CheckVerdict:
    """The Challenge's verdict on ``check`` (see :class:`CheckVerdict` for the rule) against ``pick_lr``."""
    best = check.best
    if best is None:
        return CheckVerdict(pick_lr, None, None, None, None, factor,
                            "No check run finished: every rate diverged or the check was stopped.")
    head = f"Best check run: lr {format_lr(best.lr)}, val loss {best.val_loss:.3g}"
    if pick_lr is None:
        return CheckVerdict(None, best.lr, best.val_loss, None, None, factor,
                            f"{head}; the finder made no pick to compare it with.")
    ratio = best.lr / pick_lr
    agrees = 1 / factor <= ratio <= factor
    pick = f"the valley pick (lr {format_lr(pick_lr)})"
    words = (f"within {factor:g}x of {pick}: the finder agrees with real training" if agrees else
             f"{_times(ratio)} {pick}: the finder was too cautious" if ratio > 1 else
             f"{_times(1 / ratio)} below {pick}: the finder was too bold")
    return CheckVerdict(pick_lr, best.lr, best.val_loss, ratio, agrees, factor, f"{head}, {words}.")


def verdict_of(result: FinderResult, check: CheckResult) -> CheckVerdict:
    """:func:`check_verdict` of a sweep's valley pick."""
    pick = result.suggestion("valley")
    return check_verdict(pick.lr if pick is not None else None, check)


CHECK_COLUMNS = ("run", "lr", "val_loss", "val_acc", "status", "message")


def write_check_files(check: CheckResult, verdict: CheckVerdict, out_dir: str | Path) -> tuple[Path, Path]:
    """``DIR/check.csv`` (one row per checked rate, :data:`CHECK_COLUMNS`; a run that did not finish
    has ``nan`` losses) and ``DIR/verdict.json`` (:meth:`CheckVerdict.summary` and the runs' length).

    The text cells (status, message: a run's error message may quote what the user wrote) go through
    :func:`engine.files.text_cell`, so none is ever run as a spreadsheet formula.
    """
    out = Path(out_dir)
    rows = ([p.index, float_cell(p.lr), float_cell(p.val_loss), float_cell(p.val_acc), text_cell(p.status),
             text_cell(p.message)] for p in check.points)
    return (write_csv_atomic(out / "check.csv", CHECK_COLUMNS, rows),
            write_json_atomic(out / "verdict.json", {**verdict.summary(), "check_steps": check.steps,
                                                     "check_runs": len(check.points)}))


__all__ = ["FinderSettings", "SettingsError", "overflowed", "FinderCurve", "FinderResult", "Suggestion",
           "CheckPoint", "CheckResult", "CheckVerdict", "check_verdict", "verdict_of", "write_check_files", "format_lr", "CHECK_COLUMNS",
           "find_lr", "find_lr_job", "check_finder", "check_lrs", "sweep_lrs", "smooth", "suggest",
           "valley", "slide", "steep", "with_lr", "preserved", "write_finder_files", "CSV_COLUMNS",
           "SUGGESTION_NAMES"]
