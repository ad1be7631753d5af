"""The day's candidate papers, numbered and indexed once per RankingIndex: words, vectors, popularity.

Every per-paper array in the ranking package is indexed by a candidate's number here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from paperboy.digests.ranking.lexical import LexicalIndex
from paperboy.digests.ranking.text import query
from paperboy.papers.model import Paper
from paperboy.readers.model import LikedPaper
from paperboy.semantic import vectors


def _trending_key(paper: Paper) -> tuple[int, int, float, str]:
    published = paper.published_at.timestamp() if isinstance(paper.published_at, datetime) else 0.0
    return (-paper.upvotes, -paper.comments, -published, paper.id)


def _latest(papers: Sequence[Paper]) -> tuple[Paper, ...]:
    """A paper listed twice (two days, two sources) counts once, with its latest counts."""
    latest: dict[str, Paper] = {}
    for paper in papers:
        latest[paper.id] = paper
    return tuple(latest.values())


def _popularity(papers: Sequence[Paper]) -> np.ndarray:
    """Log upvotes, 0..1 over the candidates."""
    top = max((paper.upvotes for paper in papers), default=0)
    scale = math.log1p(top) if top > 0 else 1.0
    return np.array([math.log1p(max(p.upvotes, 0)) / scale for p in papers])


class Candidates:
    """The candidate papers once each, numbered: their words (BM25), sentence vectors, popularity and
    trending order."""

    papers: tuple[Paper, ...]

    def __init__(self, papers: Sequence[Paper]) -> None:
        self.papers = _latest(papers)
        count = len(self.papers)
        self.number = {paper.id: number for number, paper in enumerate(self.papers)}
        self.lexical = LexicalIndex(self.papers)
        # Sentence vectors: a paper without one (stored before embedding ran) is ranked lexically.
        # A vector another model made is no vector here (its space is not the readers').
        usable = [paper.vector if paper.vector_model == vectors.MODEL else None for paper in self.papers]
        self.has_vector = np.array([vector is not None for vector in usable], dtype=bool)
        self.matrix = np.zeros((count, vectors.DIM), dtype=np.float32)
        if self.has_vector.any():
            self.matrix[self.has_vector] = vectors.matrix([vector for vector in usable if vector is not None])
        self.popularity = _popularity(self.papers)
        self.trending = tuple(sorted(range(count), key=lambda n: _trending_key(self.papers[n])))
        # Each paper's place in trending order: ties in score keep it.
        self.rank_of = np.zeros(count, dtype=np.int64)
        for place, number in enumerate(self.trending):
            self.rank_of[number] = place
        newest = max((paper.day for paper in self.papers), default=None)
        self.older = frozenset(n for n, paper in enumerate(self.papers) if paper.day != newest)

    def __len__(self) -> int:
        return len(self.papers)

    def likeness(self, liked: LikedPaper, vector: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per paper, its likeness to `liked` and whether that is a cosine (else lexical): the cosine
        with `vector` or, for a paper among the candidates, its own; else BM25 for its title over the
        best other candidate's."""
        own = self.number.get(liked.id)
        scores, _ = self.lexical.bm25(query(liked.title))
        if own is not None:
            scores[own] = 0.0
        lexical = scores / max(float(scores.max()) if len(scores) else 0.0, 1e-9)
        if own is not None:
            lexical[own] = 1.0
        target = None
        if vector is not None:
            target = vectors.unpack(vector)
        elif own is not None and self.has_vector[own]:
            target = self.matrix[own]
        if target is None:
            return lexical, np.zeros(len(self.papers), dtype=bool)
        return np.where(self.has_vector, self.matrix @ target, lexical), self.has_vector
