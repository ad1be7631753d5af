"""Display titles: the LaTeX a mail client would show literally becomes readable text."""

from __future__ import annotations

import pytest

from paperboy.papers.titles import display_title, normalise_whitespace


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        # The real title in the 2026-11-22 fixture.
        (
            "L$^{2}$NAS: Learning to Optimize Neural Architectures via Continuous-Action Reinforcement"
            " Learning",
            "L²NAS: Learning to Optimize Neural Architectures via Continuous-Action Reinforcement Learning",
        ),
        (r"$\alpha$-Fold and $\beta_2$-VAE", "α-Fold and β₂-VAE"),
        (r"Attention in $O(n^2)$ Time", "Attention in O(n²) Time"),
        (r"$\ell_1$ Regularisation", "ℓ₁ Regularisation"),
        (r"$k$-NN Search on $\mathbb{R}^n$", "k-NN Search on Rⁿ"),
        (r"From GPT-4o $\to$ o1", "From GPT-4o → o1"),
        (r"Top-$x_{max}$ Sampling", "Top-xₘₐₓ Sampling"),
        (r"\textbf{Bold} and \emph{Emphasised} Ideas", "Bold and Emphasised Ideas"),
        (r"\emph{$\mathbf{\hat{x}}$}-Prediction", "x-Prediction"),
        (r"Pruning 90\% of Weights \& Biases", "Pruning 90% of Weights & Biases"),
        ("``Quoted'' Words and Non~Breaking Spaces", "“Quoted” Words and Non Breaking Spaces"),
    ],
)
def test_latex_in_titles_is_shown_as_a_reader_expects(raw, shown):
    assert display_title(raw) == shown


def test_superscripts_without_a_unicode_form_say_what_was_meant():
    # There is no superscript "a" or "b": "x^ab" is readable, "xab" would change the meaning.
    assert display_title(r"Scaling as $x^{ab}$") == "Scaling as x^ab"


def test_a_space_after_a_math_operator_is_kept():
    assert display_title(r"Sorting in $\mathcal{O}(\log n)$ Comparisons") == "Sorting in O(log n) Comparisons"


def test_dollar_amounts_are_not_mistaken_for_math():
    # The module never loses text: a title about money keeps its dollar signs.
    title = "The $5 Model That Beats the $10 Million One"
    assert display_title(title) == title


def test_escaped_dollars_are_text_and_do_not_open_math():
    assert display_title(r"Training for \$5 with $k$-Shot Prompts") == "Training for $5 with k-Shot Prompts"


def test_hard_wrapped_titles_become_one_line():
    assert display_title("  Multi-line\n    Title   With  Gaps \n") == "Multi-line Title With Gaps"


@pytest.mark.parametrize("raw", ["$ $", "$$", r"\unknownmacro{}"])
def test_a_title_is_never_empty_after_display(raw):
    assert display_title(raw).strip()


def test_plain_titles_are_left_alone():
    title = "Learning to Animate Images from A Few Videos to Portray Delicate Human Actions"
    assert display_title(title) == title


def test_unknown_commands_outside_math_are_kept_rather_than_lost():
    assert "LaTeX" in display_title(r"Why \LaTeX{} Still Matters")


def test_normalise_whitespace_joins_hard_wrapped_abstracts():
    assert normalise_whitespace("  We study\n  transfer   learning.\n") == "We study transfer learning."
