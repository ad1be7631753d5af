"""Papers near the ones a reader liked (`like <ids>`, `me: <name>`), for ranking (issue 17).

Apart from the ranking module, which calls it: a reader's likes are one more signal beside topics,
categories, authors and feedback. A candidate's likeness to a liked paper is the cosine of their
sentence vectors (the liked paper's vector comes from the reader's `like_vectors`, filled by Embed),
or, where either lacks one, BM25 of the liked title over the best candidate's. A paper counts as near
the reader's likes from NEAR_THRESHOLD on; a reader without topics gets those papers instead of the
trending list, each with the reason 'like "<title>" you liked'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from paperboy.readers.model import LikedPaper

if TYPE_CHECKING:
    from paperboy.digests.ranking import RankingIndex

# Cosine from which a candidate is near a liked paper. `python -m relevance_eval.likes` (README
# "Ranking") tried 0.45-0.65: 0.55 gave the best P@5 with topics and without; 0.65 left 8 of 61
# likes-only readers with nothing.
NEAR_THRESHOLD = 0.55
# Without vectors, the share of the best candidate's BM25 score for the liked title.
LEXICAL_NEAR = 0.6
# Beside topics, nearness lifts a paper's score by up to this much (like feedback does; 0.25 and 0.5
# measured the same).
LIKE_WEIGHT = 0.5
# The newest likes count: a profile of 50 papers is not 50 times as narrow.
RECENT_LIKES = 20


@dataclass(frozen=True)
class Nearness:
    """Per candidate: its likeness to the closest liked paper, that paper, and whether it is near."""

    score: np.ndarray
    closest: tuple[LikedPaper, ...]
    near: np.ndarray

    def reason(self, number: int) -> str | None:
        if not self.near[number]:
            return None
        title = self.closest[number].title
        shown = title if len(title) <= 50 else title[:49].rstrip(" ,:;-") + "…"
        return f'like "{shown}" you liked'


def nearness(
    index: RankingIndex, likes: Sequence[LikedPaper], like_vectors: Mapping[str, bytes]
) -> Nearness | None:
    """How near each candidate is to the reader's liked papers; None without likes."""
    used = list(likes)[-RECENT_LIKES:]
    if not used or not len(index):
        return None
    rows: list[np.ndarray] = []
    thresholds: list[np.ndarray] = []
    for liked in used:
        likeness, semantic = index.likeness(liked, like_vectors.get(liked.id))
        rows.append(likeness)
        thresholds.append(np.where(semantic, NEAR_THRESHOLD, LEXICAL_NEAR))
    stacked = np.vstack(rows)
    passed = stacked >= np.vstack(thresholds)
    # The closest liked paper among those the candidate is near to, else the closest at all.
    ranked = np.where(passed, stacked + 1.0, stacked)
    best = ranked.argmax(axis=0)
    columns = np.arange(stacked.shape[1])
    return Nearness(
        score=stacked[best, columns],
        closest=tuple(used[row] for row in best),
        near=passed[best, columns],
    )
