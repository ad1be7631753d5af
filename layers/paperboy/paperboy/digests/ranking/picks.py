"""Picks with their why-lines, shared across readers: the same papers, scores and reasons recur for
many readers all hour, so each pick is validated once (which saved a third of ranking's time) and
each (paper, topic) reason written once. Picks are frozen."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from paperboy.digests.ranking.candidates import Candidates
from paperboy.digests.ranking.feedback import Liked, liked_reason
from paperboy.digests.ranking.memo import PER_INDEX, Memo
from paperboy.digests.ranking.reasons import topic_reason
from paperboy.digests.ranking.scoring import Interests
from paperboy.digests.ranking.topics import PerTopic
from paperboy.papers.model import Pick


def _upvotes(count: int) -> str:
    return f"trending: {count} upvote{'s' if count != 1 else ''}"


class Picks:
    """Picks among the candidates, each with the reasons a reader reads under it."""

    def __init__(self, candidates: Candidates) -> None:
        self._candidates = candidates
        self._picks: Memo[tuple[int, float, tuple[str, ...]], Pick] = Memo(PER_INDEX * 4)
        self._reasons: Memo[tuple[int, str], str] = Memo(PER_INDEX * 4)

    def trending(self, excluded: Collection[int], limit: int) -> list[Pick]:
        """The most upvoted candidates not excluded, in trending order."""
        picks: list[Pick] = []
        for number in self._candidates.trending:
            if number in excluded:
                continue
            paper = self._candidates.papers[number]
            score = round(float(self._candidates.popularity[number]), 4)
            picks.append(self._pick(number, score, (_upvotes(paper.upvotes),)))
            if len(picks) == limit:
                break
        return picks

    def ranked(
        self, order: Sequence[int], score: np.ndarray, interests: Interests, per_topic: PerTopic, liked: Liked
    ) -> list[Pick]:
        """The papers numbered in `order`, with their scores and why each matched."""
        return [
            self._pick(number, float(score[number]), self._why(number, interests, per_topic, liked))
            for number in order
        ]

    def _why(self, number: int, interests: Interests, per_topic: PerTopic, liked: Liked) -> tuple[str, ...]:
        paper = self._candidates.papers[number]
        reasons = [f"by {found[number]}" for found in interests.authors if number in found]
        reasons += self._topic_reasons(number, per_topic)
        reasons += [f"in {category}" for category, numbers in interests.categories if number in numbers]
        near = interests.near
        like = near.reason(number) if near is not None else None
        if like is None and liked:
            like = liked_reason(liked, number, paper.id)
        if like is not None:
            reasons.append(like)
        if not interests.focused and near is None:
            reasons.append(_upvotes(paper.upvotes))
        return tuple(reasons)

    def _pick(self, number: int, score: float, reasons: tuple[str, ...]) -> Pick:
        key = (number, round(score, 4), reasons)
        return self._picks.get(key, self._new_pick, number, key[1], reasons)

    def _new_pick(self, number: int, score: float, reasons: tuple[str, ...]) -> Pick:
        return Pick(paper=self._candidates.papers[number], score=score, reasons=reasons)

    def _topic_reasons(self, number: int, per_topic: PerTopic) -> list[str]:
        """What matched, most probable topic first: the reader's phrase it uses, or the interest it
        is close to."""
        matched = [(-float(passing[number]), topic) for topic, passing in per_topic if passing[number] > 0]
        if len(matched) > 1:
            matched.sort()
        return [
            self._reasons.get((number, topic), topic_reason, self._candidates.lexical, number, topic)
            for _, topic in matched
        ]
