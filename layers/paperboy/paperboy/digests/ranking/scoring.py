"""One reader's signals combined into a score per candidate, and the best relevant candidates.

A signal is a per-candidate array; `score` says how each one lifts a paper or makes it relevant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from paperboy.digests.likes import LIKE_WEIGHT, Nearness
from paperboy.digests.ranking.candidates import Candidates

# Above any topic score even after the lifts: a followed author's papers come first.
AUTHOR_SCORE = 3.0
# Feedback: the cosine to the reader's profile vector (or, without vectors, BM25 likeness to the
# rated titles) moves a relevant paper's score by up to this much.
FEEDBACK_WEIGHT = 0.5
# Popularity (log upvotes, 0..1 over the index) lifts a relevant paper's score by at most this share:
# among papers about as likely on topic, the popular first. Held out on the profiles written after
# reading (`make eval`), 0.1 ranked a little better than 0.3 (P@5 0.682 against 0.671).
POPULARITY_LIFT = 0.1


@dataclass(slots=True)
class Interests:
    """One reader's settings and signals, resolved against the candidates."""

    excluded: set[int]
    topics: list[str]
    categories: list[tuple[str, frozenset[int]]]
    authors: list[dict[int, str]]
    profile: np.ndarray | None
    near: Nearness | None
    # Topics or categories: only relevant papers are picked.
    focused: bool
    rated: bool

    @property
    def trending_only(self) -> bool:
        """Nothing to rank by: the trending list as it is."""
        return not (self.focused or any(self.authors) or self.rated or self.near is not None)


def score(
    candidates: Candidates, interests: Interests, relevance: np.ndarray | None, feedback: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per paper, whether it is relevant and its score, from its topic and category `relevance` (None
    unless the reader is focused), the `feedback` signal (None unless rated) and the reader's likes
    and authors. Excluded papers are never relevant."""
    popularity = candidates.popularity
    near = interests.near
    if relevance is not None:
        relevant = relevance > 0
        score = relevance * (1.0 + POPULARITY_LIFT * popularity)
        if near is not None:
            # Both signals: near a liked paper is relevant too, and nearness lifts a match.
            relevant |= near.near
            score = score + LIKE_WEIGHT * np.where(near.near, near.score, 0.0)
    elif near is not None:
        # Likes and no topics: the papers near them, not the trending list.
        relevant = near.near.copy()
        score = near.score * (1.0 + POPULARITY_LIFT * popularity)
    else:
        relevant = np.ones(len(candidates), dtype=bool)
        # Trending order, which log-scaled upvotes keep, moved by authors and feedback.
        score = popularity.copy()
    if feedback is not None:
        score = score + FEEDBACK_WEIGHT * feedback
    pinned = list({number for found in interests.authors for number in found})
    if pinned:
        relevant[pinned] = True
        score[pinned] += AUTHOR_SCORE
    if interests.excluded:
        relevant[list(interests.excluded)] = False
    return relevant, score


def best(candidates: Candidates, relevant: np.ndarray, score: np.ndarray, limit: int) -> list[int]:
    """The relevant candidates' numbers, best score first, ties in trending order; at most `limit`."""
    numbers = np.flatnonzero(relevant)
    return numbers[np.lexsort((candidates.rank_of[numbers], -score[numbers]))][:limit].tolist()
