"""The candidates' words, indexed once per RankingIndex: BM25 weights, phrase lookups, titles."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

from paperboy.digests.ranking.text import words
from paperboy.papers.model import Paper

# BM25 with a title counting TITLE_WEIGHT times the abstract (one long field of the title repeated).
BM25_K1 = 1.2
BM25_B = 0.75
TITLE_WEIGHT = 3
KEYWORD_WEIGHT = 1


def _bm25_postings(
    frequencies: list[dict[str, float]], lengths: np.ndarray
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, float]]:
    """BM25's per-(word, paper) weights, idf included (a query's score is then a sum of rows), and
    each word's idf."""
    count = len(frequencies)
    average = float(lengths.mean()) if count else 1.0
    norms = BM25_K1 * (1 - BM25_B + BM25_B * lengths / max(average, 1.0))
    listed: dict[str, tuple[list[int], list[float]]] = {}
    for number, counts in enumerate(frequencies):
        for word, tf in counts.items():
            where, weights = listed.setdefault(word, ([], []))
            where.append(number)
            weights.append(tf * (BM25_K1 + 1) / (tf + norms[number]))
    postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    idf: dict[str, float] = {}
    for word, (where, weights) in listed.items():
        idf[word] = math.log(1.0 + (count - len(where) + 0.5) / (len(where) + 0.5))
        postings[word] = (np.array(where, dtype=np.intp), np.array(weights) * idf[word])
    return postings, idf


class _Stemmed(NamedTuple):
    """One paper's stems: weighted counts, each field's stems in order, weighted length, title words."""

    counts: dict[str, float]
    fields: list[str]
    length: int
    title_words: set[str]


def _stemmed(paper: Paper) -> _Stemmed:
    counts: dict[str, float] = {}
    fields: list[str] = []
    length = 0
    title_words: set[str] = set()
    weighted = (
        (paper.title, TITLE_WEIGHT),
        (paper.summary, 1),
        # HF's AI summary restates the abstract in plainer words (absent from arXiv papers).
        (paper.ai_summary, 1),
        *((keyword, KEYWORD_WEIGHT) for keyword in paper.keywords),
    )
    for field, (text, weight) in enumerate(weighted):
        sequence, joined = words(text)
        for word in (*sequence, *joined):
            counts[word] = counts.get(word, 0.0) + weight
            if field == 0:
                title_words.add(word)
        length += weight * len(sequence)
        fields.append(" ".join(sequence))
    return _Stemmed(counts, fields, length, title_words)


class LexicalIndex:
    """Every title, abstract and keyword list stemmed once (Snowball English) into BM25 postings."""

    def __init__(self, papers: Sequence[Paper]) -> None:
        count = len(papers)
        self.count = count
        stemmed = [_stemmed(paper) for paper in papers]
        # Each paper's content stems as one spaced string, title then abstract then keywords, for
        # phrase lookups (exclusions, reasons, features): " speech recogn robust | ... ".
        self.texts = [" " + " | ".join(paper.fields) + " " for paper in stemmed]
        in_title: dict[str, list[int]] = {}
        for number, paper in enumerate(stemmed):
            for word in paper.title_words:
                in_title.setdefault(word, []).append(number)
        self.in_title = {word: np.array(found, dtype=np.intp) for word, found in in_title.items()}
        lengths = np.array([paper.length for paper in stemmed], dtype=np.float64)
        self.postings, self.idf = _bm25_postings([paper.counts for paper in stemmed], lengths)
        # What a word once in a title (and nowhere else) scores in an average-length paper.
        self._ideal_tf = TITLE_WEIGHT * (BM25_K1 + 1) / (TITLE_WEIGHT + BM25_K1)
        # The idf of a word no candidate uses.
        self.rare = math.log(1.0 + (count + 0.5) / 0.5)

    def bm25(self, query: Iterable[str]) -> tuple[np.ndarray, float]:
        """Every paper's BM25 score for the query, and what a paper with every query word once in its
        title would score."""
        scores = np.zeros(self.count)
        ideal = 0.0
        for word in query:
            posting = self.postings.get(word)
            if posting is not None:
                where, weights = posting
                scores[where] += weights
            ideal += self.idf.get(word, self.rare) * self._ideal_tf
        return scores, ideal

    def having(self, word: str) -> np.ndarray:
        """The papers using a word (title, abstract, AI summary or keywords)."""
        posting = self.postings.get(word)
        return posting[0] if posting is not None else np.zeros(0, dtype=np.intp)

    def share_using(self, word: str) -> float:
        """The share of candidates using a word: "transfer" is in almost every paper of a day."""
        return len(self.having(word)) / self.count if self.count else 0.0

    def with_phrase_in(self, number: int, sequence: Sequence[str]) -> bool:
        return bool(sequence) and " " + " ".join(sequence) + " " in self.texts[number]

    def with_phrase(self, sequence: Sequence[str]) -> np.ndarray:
        """Per paper, whether it uses these stems next to each other in one field."""
        found = np.zeros(self.count, dtype=bool)
        if not sequence:
            return found
        candidates = self.having(sequence[0])
        for word in sequence[1:]:
            candidates = np.intersect1d(candidates, self.having(word), assume_unique=True)
        wanted = " " + " ".join(sequence) + " "
        for number in candidates.tolist():
            found[number] = wanted in self.texts[number]
        return found
