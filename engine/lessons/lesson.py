"""The lesson the app teaches, as the Help menu shows it: its Markdown with the maths made readable.

``lesson.md`` (next to this module) is the lesson "Design and Optimization of Deep
Learning", word for word.  It writes its formulas in LaTeX (``$\\eta_t$``,
``$$\\theta_{t+1} = \\theta_t - \\eta \\, \\hat{g}_t$$``), which no Qt text view
renders; :func:`readable_math` turns them into Unicode text a student can read
(``ηₜ``, ``θₜ₊₁ = θₜ − η ĝₜ``): Greek letters and operators by name, ``\\frac{a}{b}``
as ``(a)/(b)``, sub- and superscripts as Unicode sub- and superscript characters
where every character has one (else ``_(…)``, ``^(…)``).  A display formula becomes an
indented code block so it keeps its own line.  The lesson's ``[[simulation …]]``
markers name the lab that shows that section, by its key in :data:`SIMULATIONS`; a web page's
``<!--code-toggle-->`` second version of a code block (pseudocode) is left out.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

LESSON_FILE = Path(__file__).with_name("lesson.md")

# The lesson's simulation markers -> the lab (its key in gui.labs) where the app shows that section.
SIMULATIONS: Mapping[str, str] = {
    "adl-optimizer-trajectories": "trajectories",
    "adl-lr-schedule-comparison": "schedules",
    "adl-regularization-effects": "regularization",
}

SYMBOLS: Mapping[str, str] = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "eta": "η",
    "theta": "θ", "lambda": "λ", "mu": "μ", "pi": "π", "sigma": "σ", "tau": "τ", "phi": "φ", "omega": "ω",
    "Delta": "Δ", "Sigma": "Σ", "nabla": "∇", "sum": "Σ", "prod": "Π", "cdot": "·", "times": "×",
    "sim": "~", "approx": "≈", "leq": "≤", "geq": "≥", "le": "≤", "ge": "≥", "neq": "≠", "in": "∈",
    "infty": "∞", "partial": "∂", "odot": "⊙", "to": "→", "rightarrow": "→", "leftarrow": "←",
    "min": "min", "max": "max", "cos": "cos", "sin": "sin", "log": "log", "exp": "exp", "arg": "arg",
    "qquad": "    ", "quad": "  ", "|": "‖", ",": " ", ";": " ", "!": "", "{": "{", "}": "}",
    "left": "", "right": "",
}
CALLIGRAPHIC = {"L": "𝓛", "D": "𝓓", "N": "𝓝", "O": "𝓞"}
SUBSCRIPT = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))
SUPERSCRIPT = dict(zip("0123456789+-=()nit", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵗ", strict=True))
COMMAND = re.compile(r"\\([A-Za-z]+|.)")


def _group(text: str, start: int) -> tuple[str, int]:
    """The argument starting at ``start``: a ``{…}`` group (nested braces counted) or one character."""
    while start < len(text) and text[start] == " ":
        start += 1
    if start >= len(text):
        return "", start
    if text[start] != "{":
        if text[start] == "\\":
            match = COMMAND.match(text, start)
            assert match is not None
            return match.group(), match.end()
        return text[start], start + 1
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start + 1:i], i + 1
    return text[start + 1:], len(text)


def _script(body: str, table: Mapping[str, str], mark: str) -> str:
    """``body`` in sub- or superscript characters when each has one, else ``_(body)`` / ``^(body)``."""
    body = body.replace(" ", "")
    if body and all(c in table for c in body):
        return "".join(table[c] for c in body)
    return f"{mark}{body}" if len(body) == 1 else f"{mark}({body})"


def _operand(text: str) -> str:
    """A fraction's numerator or denominator, in parentheses when it is more than one term."""
    text = text.strip()
    return text if re.fullmatch(r"[\w\u0300-\u036f\u2080-\u209c\u00b2\u00b3\u00b9\u2070-\u207f|()‖.]+", text) \
        and not (text.startswith("(") and text.count("(") > 1) else f"({text})"


def readable_math(tex: str) -> str:
    """LaTeX maths as Unicode text: ``\\eta_{\\min} + \\frac{1}{2}`` -> ``η_(min) + (1)/(2)``."""
    out: list[str] = []
    i = 0
    while i < len(tex):
        c = tex[i]
        if c == "\\":
            match = COMMAND.match(tex, i)
            assert match is not None
            name, i = match.group(1), match.end()
            if name == "frac":
                top, i = _group(tex, i)
                bottom, i = _group(tex, i)
                out.append(f"{_operand(readable_math(top))}/{_operand(readable_math(bottom))}")
            elif name == "sqrt":
                body, i = _group(tex, i)
                out.append(f"√({readable_math(body)})")
            elif name in ("hat", "bar", "tilde"):
                body, i = _group(tex, i)
                accent = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303"}[name]
                out.append(readable_math(body) + accent)
            elif name in ("text", "mathrm", "operatorname", "mathbf"):
                body, i = _group(tex, i)
                out.append(body)
            elif name == "mathcal":
                body, i = _group(tex, i)
                out.append(CALLIGRAPHIC.get(body, body))
            else:
                out.append(SYMBOLS.get(name, name))
        elif c in "_^":
            body, i = _group(tex, i + 1)
            table, mark = (SUBSCRIPT, "_") if c == "_" else (SUPERSCRIPT, "^")
            out.append(_script(readable_math(body), table, mark))
        elif c in "{}":
            i += 1
        else:
            out.append("−" if c == "-" and out and out[-1].endswith(" ") else c)
            i += 1
    text = re.sub(r"[ \t]+", " ", "".join(out)).strip(" ")    # one formula line: display ones come line by line
    return unicodedata.normalize("NFC", text)       # a letter and its accent as one character where one exists


DISPLAY = re.compile(r"^\$\$[ \t]*\n(.*?)\n\$\$[ \t]*$", re.S | re.M)
INLINE = re.compile(r"(?<![\\$])\$([^$\n]+?)\$")
TOGGLE = re.compile(r"^<!--code-toggle-->\n```pseudocode\n.*?^```[ \t]*\n?", re.S | re.M)   # a web page's
# second language of the same code block: a text view shows the first (Python) only
MARKER = re.compile(r"^\[\[simulation ([\w-]+)\]\][ \t]*$", re.M)


def lesson_markdown(lab_titles: Mapping[str, str], text: str | None = None) -> str:
    """The lesson as Markdown a Qt text view can show: maths readable, each simulation marker a line
    naming the tab that shows it (``lab_titles``: lab key -> the tab's title)."""
    text = LESSON_FILE.read_text(encoding="utf-8") if text is None else text

    def display(match: re.Match) -> str:
        lines = [readable_math(line) for line in match.group(1).strip().splitlines() if line.strip()]
        return "\n".join("    " + line for line in lines)

    def marker(match: re.Match) -> str:
        key = SIMULATIONS.get(match.group(1))
        title = lab_titles.get(key, "") if key else ""
        return f"> **In the app:** the *{title}* tab shows this section: open it and change what it says." \
            if title else ""

    text = TOGGLE.sub("", text)
    text = DISPLAY.sub(display, text)
    text = INLINE.sub(lambda m: readable_math(m.group(1)), text)
    return MARKER.sub(marker, text)
