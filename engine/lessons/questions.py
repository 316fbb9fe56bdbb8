"""The lesson's "Check Your Understanding" questions and its Challenge, as data: their words, what the
opened lab shows, and the set-ups they open (no Qt).  The window's Lessons menu lists them and opens each
where the app shows it (``gui/labs/questions.py`` says how); a claim a question makes is checked by a test.
"""
from __future__ import annotations

from dataclasses import dataclass

# Question 1 on the trajectories lab: a ravine whose steep direction gets gradients 100x larger than
# its flat one, as a often-updated layer against a rarely-updated one.  SGD's rate must stay below
# 2/100 for the steep direction; Adam gives each coordinate its own step.  tests/gui/labs/test_questions.py
# checks that the paths show it.
RAVINE = dict(surface="ravine", condition=100.0, steps=150,
              optimizers=("sgd:lr=0.018", "sgd:lr=0.021", "adam:lr=0.1"))
# The Trajectories lab's double well (the lesson: mini-batch noise "helps escape shallow local minima"): the
# same SGD with the exact gradient and with noise of sigma 3 (at lr 0.05, a walk of about 0.15 a step); the
# noise seed is the claim's seed.
NOISY_DESCENT = dict(surface="double-well", steps=1000, optimizers=("sgd:lr=0.05", "sgd:lr=0.05,noise=3"))


@dataclass(frozen=True)
class Question:
    key: str
    title: str          # the menu entry
    text: str           # the lesson's words
    look: str           # what the opened lab shows


QUESTIONS: tuple[Question, ...] = (
    Question("adam-per-parameter", "1. Why does Adam's per-parameter rate help?",
             "Adam adapts the learning rate for each parameter individually based on the history of its "
             "gradients. Why might this be helpful for a network where some layers are updated frequently "
             "and others rarely?",
             "A ravine 100 times steeper across than along: one coordinate gets large gradients, the other "
             "small ones. SGD's rate must stay below 0.02 for the steep one, so it crawls along the flat one "
             "(at 0.021 it bounces out); Adam divides each step by that coordinate's own gradient size and "
             "goes straight down both. Press Play and switch on Arrows."),
    Question("batchnorm-test-time", "2. BatchNorm without running statistics at test time?",
             "Batch normalization normalizes activations within each mini-batch during training, but uses "
             "running statistics at test time. What could go wrong if you forgot to switch to running "
             "statistics at test time?",
             "Train the runs (Space): when they finish, the table below compares test accuracy with running "
             "statistics and with the statistics of each test batch, for batches of different sizes and "
             "makeup."),
    Question("dropout-generalizes", "3. Lower training loss, or dropout?",
             "Two networks are trained on the same data: one with heavy dropout, one without. The one "
             "without dropout achieves lower training loss. Which one would you expect to perform better "
             "on new data, and why?",
             "Press Compare: the network without regularization reaches 100% training accuracy with a "
             "wide train-validation gap (batch norm alone leaves it about as wide); dropout ends with "
             "the higher training loss, yet the higher validation accuracy."),
    Question("finder-challenge", "Challenge: when does the learning-rate finder fail?",
             "Design a theoretical argument for why the learning-rate finder works, and an experiment where "
             "it fails. What property of the loss landscape or the data would make the best training rate "
             "differ from what the finder suggests?",
             "A preset where it fails is loaded: run the finder, then Check the finder to train real runs "
             "across the range and compare where they end with the finder's pick."),
)
