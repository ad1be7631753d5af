"""What the fusion model knows about one (topic, paper) pair, over one day's candidates.

Every feature is cheap: a few BM25 queries over postings, phrase lookups among the papers that hold
every word, one matrix-vector product for the cosines. They are computed once per distinct topic (and
topic vector) per RankingIndex, never per reader.

One more feature: name it in LEXICAL (it needs no vectors) or SEMANTIC, and fill its column in the
function below for its group, or in a new function `topic_features` calls. fusion.json picks its
columns by name, so the shipped model ranks as before until `make eval EVAL_ARGS=--fit` learns the
new feature's weight (tests/relevance_eval/learn.py fits over LEXICAL and NAMES).
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

# Column number per feature name, for the functions below that fill a table's columns.
_COLUMN = {name: number for number, name in enumerate(NAMES)}


def topic_features(
    lexical: LexicalIndex, topic: str, cosines: np.ndarray | None, has_vector: np.ndarray
) -> np.ndarray:
    """One row per candidate, one column per name in NAMES (the semantic ones 0 without cosines)."""
    table = np.zeros((lexical.count, len(NAMES)))
    _bm25(table, lexical, topic)
    _phrases(table, lexical, topic)
    _words(table, lexical, topic)
    if cosines is not None:
        _semantic(table, cosines[has_vector], cosines)
    return table


def _bm25(table: np.ndarray, lexical: LexicalIndex, topic: str) -> None:
    """The whole topic's BM25: over the ideal, over the day's best, log-scaled, hinged."""
    scores, ideal = lexical.bm25(query(topic))
    best_score = float(scores.max()) if lexical.count else 0.0
    over_ideal = np.minimum(scores / max(ideal, 1e-9), _CAP)
    table[:, _COLUMN["bm25_ideal"]] = over_ideal
    table[:, _COLUMN["bm25_best"]] = scores / max(best_score, 1e-9)
    table[:, _COLUMN["bm25_log"]] = np.log1p(10 * over_ideal)
    table[:, _COLUMN["bm25_ideal_over_0.3"]] = np.maximum(over_ideal - 0.3, 0.0)


def _phrases(table: np.ndarray, lexical: LexicalIndex, topic: str) -> None:
    """Per phrase the reader separated: its BM25, and whether the paper uses it as a phrase."""
    pieces = phrases(topic)
    table[:, _COLUMN["phrase_count"]] = len(pieces)
    if not pieces:
        return
    count = lexical.count
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
    table[:, _COLUMN["phrase_bm25_max"]] = per_phrase.max(axis=0)
    table[:, _COLUMN["phrase_bm25_mean"]] = per_phrase.mean(axis=0)
    table[:, _COLUMN["phrases_used"]] = used.mean(axis=0)
    table[:, _COLUMN["any_phrase_used"]] = used.any(axis=0)
    table[:, _COLUMN["long_phrase_used"]] = long_used


def _words(table: np.ndarray, lexical: LexicalIndex, topic: str) -> None:
    """The idf-weighted share of the topic's words the paper uses, and uses in its title."""
    unique = list(dict.fromkeys(spelled_out(topic)))
    weights = [lexical.idf.get(word, lexical.rare) for word in unique]
    total = max(sum(weights), 1e-9)
    for word, weight in zip(unique, weights, strict=True):
        table[lexical.having(word), _COLUMN["words_used"]] += weight / total
        found = lexical.in_title.get(word)
        if found is not None:
            table[found, _COLUMN["words_in_title"]] += weight / total
    table[:, _COLUMN["log_words"]] = math.log1p(len(unique))


def _semantic(table: np.ndarray, known: np.ndarray, cosines: np.ndarray) -> None:
    """The cosines, and how they stand among the `known` ones (the papers with a vector)."""
    if not len(known):
        return
    spread = max(float(known.std()), 1e-6)
    z = (cosines - float(known.mean())) / spread
    best = float(known.max())
    table[:, _COLUMN["cosine"]] = cosines
    table[:, _COLUMN["z"]] = z
    for step in (1, 2, 3):
        table[:, _COLUMN[f"z_over_{step}"]] = np.maximum(z - step, 0.0)
    table[:, _COLUMN["cosine_over_0.4"]] = np.maximum(cosines - 0.4, 0.0)
    table[:, _COLUMN["below_best"]] = cosines - best
    table[:, _COLUMN["best"]] = best
