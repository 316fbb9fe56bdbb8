"""The lesson's questions as data, and question 1's set-up shows its answer (no Qt)."""
import math

from engine.labs.surfaces import SURFACES, distance_to_minimum
from engine.labs.trajectories import compute_trajectories
from engine.lessons.questions import QUESTIONS, RAVINE


def test_every_question_has_its_words_and_what_to_look_at():
    assert len({q.key for q in QUESTIONS}) == len(QUESTIONS) == 4
    assert all(q.title and q.text.endswith("?") and q.look for q in QUESTIONS)


def test_on_the_ravine_adam_goes_straight_down_while_sgd_crawls_or_bounces_out():
    """Question 1: per-parameter rates.  SGD's rate is capped by the steep coordinate (2/condition)."""
    info = SURFACES[RAVINE["surface"]]
    slow, too_fast, adam = compute_trajectories(RAVINE["surface"], info.start, RAVINE["optimizers"],
                                                RAVINE["steps"], {"condition": RAVINE["condition"]})
    assert RAVINE["optimizers"][0].startswith("sgd") and 0.018 < 2 / RAVINE["condition"] < 0.021
    assert abs(slow.y[-1]) < 1e-6 < abs(slow.x[-1])      # the steep coordinate settled, the flat one not
    assert too_fast.status == "left_box" or not math.isfinite(too_fast.loss[-1]) or \
        abs(too_fast.y[-1]) > abs(too_fast.y[0])         # a little more rate and the steep one explodes
    d = lambda t: distance_to_minimum(RAVINE["surface"], t.x[-1], t.y[-1])
    assert d(adam) < d(slow) / 20
