"""Display forms of paper titles: LaTeX fragments and stray whitespace made readable.

The original title is always kept next to the display form; this module never loses text, it only
rewrites markup a mail client would show literally (`L$^{2}$NAS` becomes `L²NAS`).
"""

from __future__ import annotations

import re

_SUPERSCRIPT = str.maketrans("0123456789+-=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ")
_SUBSCRIPT = str.maketrans("0123456789+-=()aeoxijklmnpst", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓᵢⱼₖₗₘₙₚₛₜ")

_SYMBOLS = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "iota": "ι",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "pi": "π",
    "rho": "ρ",
    "sigma": "σ",
    "tau": "τ",
    "phi": "φ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Pi": "Π",
    "Sigma": "Σ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
    "infty": "∞",
    "times": "×",
    "cdot": "·",
    "pm": "±",
    "leq": "≤",
    "geq": "≥",
    "le": "≤",
    "ge": "≥",
    "neq": "≠",
    "approx": "≈",
    "sim": "~",
    "rightarrow": "→",
    "to": "→",
    "leftarrow": "←",
    "Rightarrow": "⇒",
    "ell": "ℓ",
    "star": "⋆",
    "circ": "∘",
    "dagger": "†",
    "ddagger": "‡",
}
# Commands whose argument is the text to show: \textbf{X}, \mathcal{X}, \emph{X}, ...
_WRAPPERS = re.compile(
    r"\\(?:text\w*|math\w*|emph|operatorname|boldsymbol|bm|hat|tilde|bar|vec|underline)\s*\{([^{}]*)\}"
)
_SCRIPT = re.compile(r"([\^_])\s*(\{[^{}]*\}|\\?\w)")
# A dollar that opens math touches its first character and one that closes it touches its last and
# is not followed by a digit (as in pandoc), so "the $5 model" is money, not math; \$ is never math.
_MATH = re.compile(r"(?<!\\)\$\$?(?!\s)(.+?)(?<![\s\\])\$\$?(?!\d)", re.DOTALL)
_COMMAND = re.compile(r"\\([A-Za-z]+)\s*")
_ESCAPED = re.compile(r"\\([&%$#_{}])")
_SPACE = re.compile(r"\s+")


def _script(match: re.Match[str]) -> str:
    marker, body = match.group(1), match.group(2).strip("{}")
    table = _SUPERSCRIPT if marker == "^" else _SUBSCRIPT
    converted = body.translate(table)
    if all(char != original or char.isspace() for char, original in zip(converted, body, strict=True)):
        return converted
    # Not every character has a Unicode super/subscript: say what was meant instead.
    return f"^{body}" if marker == "^" else f"_{body}"


def _math_command(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _SYMBOLS:
        return _SYMBOLS[name]
    # An operator name (\log n, \max x) is a word: keep the space that separates it from the next.
    return name + (" " if match.group(0) != f"\\{name}" else "")


def _math(match: re.Match[str]) -> str:
    text = match.group(1)
    for _ in range(3):  # nested wrappers such as \mathbf{\hat{x}}
        text = _WRAPPERS.sub(r"\1", text)
    text = _COMMAND.sub(_math_command, text)
    text = _SCRIPT.sub(_script, text)
    return text.replace("{", "").replace("}", "")


def display_title(raw: str) -> str:
    """The title as a reader should see it; never empty when `raw` has any visible text."""
    text = _MATH.sub(_math, raw)
    for _ in range(3):
        text = _WRAPPERS.sub(r"\1", text)
    text = _ESCAPED.sub(r"\1", text)
    text = _COMMAND.sub(lambda m: _SYMBOLS.get(m.group(1), m.group(0)), text)
    text = text.replace("~", " ").replace("``", "“").replace("''", "”")
    display = _SPACE.sub(" ", text).strip()
    return display or _SPACE.sub(" ", raw).strip()


def normalise_whitespace(text: str) -> str:
    """Abstracts arrive hard-wrapped with leading spaces: one space between words."""
    return _SPACE.sub(" ", text).strip()
