"""Why a paper matched a topic, in the reader's own words: the phrase of theirs the paper uses, or the
interest it is close to, never a lone common word ("mentions “domain”" for "domain adaptation")."""

from __future__ import annotations

import numpy as np

from paperboy.digests.ranking.lexical import LexicalIndex
from paperboy.digests.ranking.text import forms, phrases, query

# A why-line quotes at most this many of the reader's phrases, and a topic cut to SHOWN_TOPIC characters.
MAX_REASONS = 2
SHOWN_TOPIC = 60
# A one-word phrase used by more than this share of the day's papers ("learning", "transfer") says
# nothing about why this paper was picked, unless it is the reader's whole topic.
COMMON_SHARE = 0.2
# A long topic (a sentence) is named by its phrase the paper covers best, from this share of what
# that phrase would score with every word in a title.
PHRASE_COVERED = 0.5


def short(text: str, limit: int = 50) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,:;-") + "…"


def _concepts(lexical: LexicalIndex, topic: str) -> list[tuple[str, tuple[str, ...]]]:
    """The topic's phrases that name a concept: several words, one rare word, or the whole topic."""
    pieces = phrases(topic)
    return [
        (shown, sequence)
        for shown, sequence in pieces
        if len(sequence) > 1 or len(pieces) == 1 or lexical.share_using(sequence[0]) <= COMMON_SHARE
    ]


def topic_reason(lexical: LexicalIndex, number: int, topic: str) -> str:
    concepts = _concepts(lexical, topic)
    used = [
        shown
        for shown, sequence in concepts
        if any(lexical.with_phrase_in(number, form) for form in forms(sequence))
    ][:MAX_REASONS]
    if used:
        return "mentions " + ", ".join(f"“{short(shown, SHOWN_TOPIC)}”" for shown in used)
    if len(topic) > SHOWN_TOPIC and concepts:
        covered = [(_covered(lexical, number, shown), shown) for shown, _ in concepts]
        share, shown = max(covered)
        if share >= PHRASE_COVERED:
            return f"close to your interest in “{short(shown, SHOWN_TOPIC)}”"
    return f"close to your interest “{short(topic, SHOWN_TOPIC)}”"


def _covered(lexical: LexicalIndex, number: int, shown: str) -> float:
    scores, ideal = lexical.bm25(query(shown))
    return float(np.minimum(scores[number] / max(ideal, 1e-9), 1.0))
