"""The reader's ratings (`more N` / `less N`) as a signal per candidate, and the why-line they give.

Where the reader has a profile vector (Rocchio, moved by each rating) and the paper a sentence
vector, the signal is their cosine; elsewhere it is BM25 likeness to the rated titles.
"""

from __future__ import annotations

import numpy as np

from paperboy.digests.ranking.candidates import Candidates
from paperboy.digests.ranking.reasons import short
from paperboy.readers.model import Feedback, LikedPaper

# The newest ratings count.
FEEDBACK_RECENT = 10
# A pick says "like X you liked" from this similarity on.
LIKENESS_SHOWN = 0.55

# Each rated-up paper with every candidate's likeness to it.
Liked = list[tuple[LikedPaper, np.ndarray]]


def signal(
    candidates: Candidates, feedback: Feedback, profile: np.ndarray | None
) -> tuple[np.ndarray, Liked]:
    """Per paper, the feedback signal in -1..1, and each liked paper's likeness for the reasons."""
    has_vector = candidates.has_vector
    moved = np.zeros(len(candidates))
    liked = [(paper, candidates.likeness(paper)[0]) for paper in feedback.more[-FEEDBACK_RECENT:]]
    if profile is not None:
        moved = np.where(has_vector, candidates.matrix @ profile, 0.0)
        lexical_only = ~has_vector
    else:
        lexical_only = np.ones(len(candidates), dtype=bool)
    if lexical_only.any():
        more = np.max([s for _, s in liked], axis=0) if liked else 0.0
        disliked = [candidates.likeness(paper)[0] for paper in feedback.less[-FEEDBACK_RECENT:]]
        less = np.max(disliked, axis=0) if disliked else 0.0
        moved = np.where(lexical_only, np.clip(more - less, -1.0, 1.0), moved)
    return moved, liked


def liked_reason(liked: Liked, number: int, paper_id: str) -> str | None:
    """'like "X" you liked' for the rated-up paper closest to this one, if close enough."""
    if not liked:
        return None
    source, similar = max(liked, key=lambda item: float(item[1][number]))
    if similar[number] >= LIKENESS_SHOWN and source.id != paper_id:
        return f'like "{short(source.title)}" you liked'
    return None
