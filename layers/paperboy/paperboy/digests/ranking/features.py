"""What the fusion model knows about one (topic, paper) pair, over one day's candidates.

Every feature is cheap: a few BM25 queries over postings, phrase lookups among the papers that hold
every word, one matrix-vector product for the cosines. They are computed once per distinct topic (and
topic vector) per RankingIndex, never per reader.
"""

from __future__ import annotations

import math

import numpy as np

from paperboy.digests.ranking.lexical import LexicalIndex
from paperboy.digests.ranking.text import forms, phrases, query, spelled_out

# Lexical: the topic's BM25 over the ideal (every word once in a title) and over the day's best; the
# same per phrase the reader separated ("pruning, quantization and knowledge distillation"); how many
# of those phrases the paper uses as phrases; the idf-weighted share of the topic's words it uses, and
# uses in its title; how long the topic is (a sentence scores lower everywhere than a two-word topic).
LEXICAL = (
    "bm25_ideal",
    "bm25_best",
    "bm25_log",
    "bm25_ideal_over_0.3",
    "phrase_bm25_max",
    "phrase_bm25_mean",
    "phrases_used",
    "any_phrase_used",
    "long_phrase_used",
    "words_used",
    "words_in_title",
    "log_words",
    "phrase_count",
)
# Semantic: the cosine of the paper's and the topic's vectors, how far it stands out among the day's
# candidates (z-score, with hinges: the model learns that only the far tail matters), its distance to
# the day's closest paper, and how close that closest paper is (a topic the model does not know).
SEMANTIC = (
    "cosine",
    "z",
    "z_over_1",
    "z_over_2",
    "z_over_3",
    "cosine_over_0.4",
    "below_best",
    "best",
)
NAMES = (*LEXICAL, *SEMANTIC)
_CAP = 2.0


def topic_features(
    lexical: LexicalIndex, topic: str, cosines: np.ndarray | None, has_vector: np.ndarray
) -> np.ndarray:
    """One row per candidate, one column per name in NAMES (the semantic ones 0 without cosines)."""
    count = lexical.count
    table = np.zeros((count, len(NAMES)))
    column = {name: number for number, name in enumerate(NAMES)}

    scores, ideal = lexical.bm25(query(topic))
    best_score = float(scores.max()) if count else 0.0
    over_ideal = np.minimum(scores / max(ideal, 1e-9), _CAP)
    table[:, column["bm25_ideal"]] = over_ideal
    table[:, column["bm25_best"]] = scores / max(best_score, 1e-9)
    table[:, column["bm25_log"]] = np.log1p(10 * over_ideal)
    table[:, column["bm25_ideal_over_0.3"]] = np.maximum(over_ideal - 0.3, 0.0)

    pieces = phrases(topic)
    if pieces:
        per_phrase = np.zeros((len(pieces), count))
        used = np.zeros((len(pieces), count), dtype=bool)
        long_used = np.zeros(count, dtype=bool)
        for row, (shown, sequence) in enumerate(pieces):
            phrase_scores, phrase_ideal = lexical.bm25(query(shown))
            per_phrase[row] = np.minimum(phrase_scores / max(phrase_ideal, 1e-9), _CAP)
            for form in forms(sequence):
                found = lexical.with_phrase(form)
                used[row] |= found
                if len(form) > 1:
                    long_used |= found
        table[:, column["phrase_bm25_max"]] = per_phrase.max(axis=0)
        table[:, column["phrase_bm25_mean"]] = per_phrase.mean(axis=0)
        table[:, column["phrases_used"]] = used.mean(axis=0)
        table[:, column["any_phrase_used"]] = used.any(axis=0)
        table[:, column["long_phrase_used"]] = long_used

    unique = list(dict.fromkeys(spelled_out(topic)))
    weights = [lexical.idf.get(word, lexical.rare) for word in unique]
    total = max(sum(weights), 1e-9)
    for word, weight in zip(unique, weights, strict=True):
        table[lexical.having(word), column["words_used"]] += weight / total
        found = lexical.in_title.get(word)
        if found is not None:
            table[found, column["words_in_title"]] += weight / total
    table[:, column["log_words"]] = math.log1p(len(unique))
    table[:, column["phrase_count"]] = len(pieces)

    known = cosines[has_vector] if cosines is not None else np.zeros(0)
    if cosines is not None and len(known):
        spread = max(float(known.std()), 1e-6)
        z = (cosines - float(known.mean())) / spread
        best = float(known.max())
        table[:, column["cosine"]] = cosines
        table[:, column["z"]] = z
        for step in (1, 2, 3):
            table[:, column[f"z_over_{step}"]] = np.maximum(z - step, 0.0)
        table[:, column["cosine_over_0.4"]] = np.maximum(cosines - 0.4, 0.0)
        table[:, column["below_best"]] = cosines - best
        table[:, column["best"]] = best
    return table
