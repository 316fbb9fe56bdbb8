"""The lesson as the Help menu shows it: every section, the maths readable, each marker naming a tab."""
from __future__ import annotations

import re

import pytest

from engine.lessons.lesson import LESSON_FILE, SIMULATIONS, lesson_markdown, readable_math

TITLES = {"trajectories": "Trajectories", "schedules": "Schedules", "regularization": "Regularization"}


def test_every_section_of_the_lesson_is_there_and_no_latex_is_left():
    source = LESSON_FILE.read_text(encoding="utf-8")
    shown = lesson_markdown(TITLES)
    for heading in re.findall(r"^## .+$", source, re.M):
        assert heading in shown
    assert "$" not in shown
    assert not re.search(r"\\[A-Za-z]+", shown), re.findall(r"\\[A-Za-z]+", shown)[:5]
    assert "[[simulation" not in shown
    for title in TITLES.values():
        assert f"the *{title}* tab shows this section" in shown


def test_every_simulation_marker_of_the_lesson_names_a_lab():
    markers = re.findall(r"\[\[simulation ([\w-]+)\]\]", LESSON_FILE.read_text(encoding="utf-8"))
    assert markers and set(markers) <= set(SIMULATIONS)


@pytest.mark.parametrize("tex, text", [
    (r"\theta_{t+1} = \theta_t - \eta \, \hat{g}_t", "θₜ₊₁ = θₜ − η ĝₜ"),
    (r"\hat{m}_t = \frac{m_t}{1 - \beta_1^t}", "m̂ₜ = mₜ/(1 − β₁ᵗ)"),
    (r"\epsilon = 10^{-8}", "ε = 10⁻⁸"),
    (r"\eta_t = \eta_{\min} + \frac{1}{2}(\eta_{\max} - \eta_{\min})",
     "ηₜ = ηₘᵢₙ + 1/2(ηₘₐₓ − ηₘᵢₙ)"),
    (r"\lambda \|\theta\|^2", "λ ‖θ‖²"),
    (r"\mathcal{L}(\theta)", "𝓛(θ)"),
    (r"\sigma_B^2", "σ_B²"),
    (r"\sqrt{\hat{v}_t} + \epsilon", "√(v̂ₜ) + ε"),
])
def test_readable_math(tex, text):
    assert readable_math(tex) == text


def test_a_display_formula_becomes_an_indented_block_on_its_own_lines():
    shown = lesson_markdown({}, "Before:\n\n$$\nv_{t+1} = \\mu v_t\n$$\n\nAfter.\n")
    assert shown == "Before:\n\n    vₜ₊₁ = μ vₜ\n\nAfter.\n"
