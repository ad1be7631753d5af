"""RankingIndex: the candidate papers, indexed once per container and hour; cheap per reader.

Built from named pieces: the candidates (candidates.py), what readers name besides topics
(lookups.py), each topic's probability (topics.py), the ratings (feedback.py), how the signals make
one score (scoring.py) and the picks with their reasons (picks.py).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from paperboy.digests.likes import nearness
from paperboy.digests.ranking import feedback as ratings
from paperboy.digests.ranking import fusion, scoring
from paperboy.digests.ranking.candidates import Candidates
from paperboy.digests.ranking.lookups import Lookups
from paperboy.digests.ranking.picks import Picks
from paperboy.digests.ranking.scoring import Interests
from paperboy.digests.ranking.text import query
from paperboy.digests.ranking.topics import PerTopic, TopicScores
from paperboy.papers.model import Paper, Pick
from paperboy.readers.model import Feedback, LikedPaper, ReaderSettings
from paperboy.semantic import vectors


class RankingIndex:
    """The candidate papers, indexed once; cheap to query for each reader.

    Not thread-safe: each Lambda container serves one event at a time.
    """

    papers: tuple[Paper, ...]

    def __init__(self, papers: Sequence[Paper], model: fusion.FusionModel | None = None) -> None:
        self._candidates = Candidates(papers)
        self.papers = self._candidates.papers
        self._lookups = Lookups(self._candidates)
        self._topics = TopicScores(self._candidates, model)
        self._picks = Picks(self._candidates)

    def __len__(self) -> int:
        return len(self.papers)

    @property
    def model(self) -> fusion.FusionModel:
        """The fusion model given, else the shipped one (read when first needed: computing features
        needs none)."""
        return self._topics.model

    def features(self, topic: str, packed: bytes | None) -> tuple[np.ndarray, np.ndarray]:
        """One topic's feature table over the candidates (features.NAMES), and where the semantic
        model applies (the paper and the topic both have a vector)."""
        return self._topics.features(topic, packed)

    def probability(self, topic: str, packed: bytes | None) -> np.ndarray:
        """Per paper, the fusion model's probability that it is on the topic."""
        return self._topics.probability(topic, packed)

    def relevance(
        self, topics: Sequence[str], topic_vectors: Mapping[str, bytes]
    ) -> tuple[np.ndarray, PerTopic]:
        """Per paper, its relevance to the reader's topics, and per topic its passing probabilities
        (TopicScores.relevance)."""
        return self._topics.relevance(topics, topic_vectors)

    def excluded(self, settings: ReaderSettings, exclude_ids: Collection[str]) -> set[int]:
        return self._lookups.excluded(settings, exclude_ids)

    def likeness(self, liked: LikedPaper, vector: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per paper, its likeness to `liked` and whether that is a cosine (Candidates.likeness)."""
        return self._candidates.likeness(liked, vector)

    def number_of(self, paper_id: str) -> int | None:
        """The paper's place among the candidates (the index of per-paper arrays)."""
        return self._candidates.number.get(paper_id)

    def rank(
        self,
        settings: ReaderSettings,
        feedback: Feedback,
        exclude_ids: Collection[str] = (),
        count: int | None = None,
        *,
        topic_vectors: Mapping[str, bytes] | None = None,
        profile_vector: bytes | None = None,
        likes: Sequence[LikedPaper] = (),
        like_vectors: Mapping[str, bytes] | None = None,
    ) -> list[Pick]:
        limit = settings.count if count is None else count
        if limit <= 0 or not self.papers:
            return []
        interests = self._interests(settings, feedback, exclude_ids, profile_vector, likes, like_vectors)
        if interests.trending_only:
            return self._picks.trending(interests.excluded, limit)
        signal, liked = (
            ratings.signal(self._candidates, feedback, interests.profile) if interests.rated else (None, [])
        )
        relevance, per_topic = self._focus(interests, topic_vectors) if interests.focused else (None, [])
        relevant, score = scoring.score(self._candidates, interests, relevance, signal)
        order = scoring.best(self._candidates, relevant, score, limit)
        return self._picks.ranked(order, score, interests, per_topic, liked)

    def _interests(
        self,
        settings: ReaderSettings,
        feedback: Feedback,
        exclude_ids: Collection[str],
        profile_vector: bytes | None,
        likes: Sequence[LikedPaper],
        like_vectors: Mapping[str, bytes] | None,
    ) -> Interests:
        topics = [topic for topic in settings.topics if query(topic)]
        categories = [(category, self._lookups.in_category(category)) for category in settings.categories]
        profile = vectors.unpack(profile_vector) if profile_vector is not None else None
        # Papers the reader named: a liked paper is never picked, and papers near them are.
        number = self._candidates.number
        excluded = self._lookups.excluded(settings, exclude_ids)
        excluded |= {number[like.id] for like in likes if like.id in number}
        return Interests(
            excluded=excluded,
            topics=topics,
            categories=categories,
            authors=[self._lookups.by(name) for name in settings.authors],
            profile=profile,
            near=nearness(self, likes, like_vectors or {}),
            focused=bool(topics or categories),
            rated=bool(feedback.more or feedback.less or profile is not None),
        )

    def _focus(
        self, interests: Interests, topic_vectors: Mapping[str, bytes] | None
    ) -> tuple[np.ndarray, PerTopic]:
        """The reader's topic relevance, with their categories: alone, a category match weighs like a
        paper at the cut; beside a topic it lifts it."""
        relevance, per_topic = self._topics.relevance(interests.topics, topic_vectors or {})
        for _, numbers in interests.categories:
            relevance[list(numbers)] += self.model.cut
        return relevance, per_topic

    def also_trending(
        self, settings: ReaderSettings, exclude_ids: Collection[str], count: int = 3
    ) -> list[Pick]:
        """The day's most upvoted papers beside a reader's picks: none excluded, picked or sent.
        "The day" is the newest day among the candidates: older days' big papers were trending then."""
        excluded = self._lookups.excluded(settings, exclude_ids)
        excluded |= self._candidates.older
        return self._picks.trending(excluded, count)


def rank(index: RankingIndex, settings: ReaderSettings, feedback: Feedback, **options: Any) -> list[Pick]:
    """The reader's picks from the indexed papers, best first, each with its reasons.

    Options, as `RankingIndex.rank` takes them: `count` defaults to the reader's own; `exclude_ids`
    are papers already sent; `topic_vectors` (by topic, as stored) and `profile_vector` are the
    reader's sentence vectors, where they have any; `likes` are the papers the reader named (never
    picked) and `like_vectors` their vectors by paper id.
    """
    return index.rank(settings, feedback, **options)
