"""RankingIndex: the candidate papers, indexed once per container and hour; cheap per reader."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from paperboy.digests.ranking import fusion
from paperboy.digests.ranking.features import topic_features
from paperboy.digests.ranking.lexical import LexicalIndex
from paperboy.digests.ranking.memo import Memo
from paperboy.digests.ranking.reasons import short, topic_reason
from paperboy.digests.ranking.text import Name, forms, phrases, query, words
from paperboy.papers.model import Paper, Pick
from paperboy.readers.model import Feedback, LikedPaper, ReaderSettings
from paperboy.semantic import vectors

# A paper's second and further matching topics add this share of their probability.
EXTRA_TOPIC_SHARE = 0.25
# Above any topic score even after the lifts: a followed author's papers come first.
AUTHOR_SCORE = 3.0
# Feedback: the cosine to the reader's profile vector (or, without vectors, BM25 likeness to the
# rated titles) moves a relevant paper's score by up to this much.
FEEDBACK_WEIGHT = 0.5
FEEDBACK_RECENT = 10
# A pick says "like X you liked" from this similarity on.
LIKENESS_SHOWN = 0.55
# Popularity (log upvotes, 0..1 over the index) lifts a relevant paper's score by at most this share:
# among papers about as likely on topic, the popular first. Held out on the profiles written after
# reading (`make eval`), 0.1 ranked a little better than 0.3 (P@5 0.682 against 0.671).
POPULARITY_LIFT = 0.1
# Per-topic results kept per index; picks and reasons recur per (paper, topic), hence more of them.
_CACHE_LIMIT = 4096

PerTopic = list[tuple[str, np.ndarray]]


def _trending_key(paper: Paper) -> tuple[int, int, float, str]:
    published = paper.published_at.timestamp() if isinstance(paper.published_at, datetime) else 0.0
    return (-paper.upvotes, -paper.comments, -published, paper.id)


def _upvotes(count: int) -> str:
    return f"trending: {count} upvote{'s' if count != 1 else ''}"


class RankingIndex:
    """The candidate papers, indexed once; cheap to query for each reader.

    Not thread-safe: each Lambda container serves one event at a time.
    """

    papers: tuple[Paper, ...]

    def __init__(self, papers: Sequence[Paper], model: fusion.FusionModel | None = None) -> None:
        # A paper listed twice (two days, two sources) counts once, with its latest counts.
        latest: dict[str, Paper] = {}
        for paper in papers:
            latest[paper.id] = paper
        self.papers = tuple(latest.values())
        self._model = model
        count = len(self.papers)
        self._number = {paper.id: number for number, paper in enumerate(self.papers)}
        self._lexical = LexicalIndex(self.papers)
        self._by_surname: dict[str, list[tuple[int, str, Name]]] = {}
        by_category: dict[str, set[int]] = {}
        for number, paper in enumerate(self.papers):
            for author in paper.authors:
                name = Name.of(author)
                if name is not None:
                    # Candidates by initial and surname; `same_person` then decides.
                    self._by_surname.setdefault(name.initial_last, []).append((number, author, name))
            for category in paper.categories:
                key = category.strip().lower()
                # "cs" (a whole archive) as well as "cs.ro" (one subject class).
                for part in {key, key.split(".", 1)[0]}:
                    by_category.setdefault(part, set()).add(number)
        self._by_category = {category: frozenset(numbers) for category, numbers in by_category.items()}
        # Sentence vectors: a paper without one (stored before embedding ran) is ranked lexically.
        # A vector another model made is no vector here (its space is not the readers').
        usable = [paper.vector if paper.vector_model == vectors.MODEL else None for paper in self.papers]
        self._has_vector = np.array([vector is not None for vector in usable], dtype=bool)
        self._matrix = np.zeros((count, vectors.DIM), dtype=np.float32)
        if self._has_vector.any():
            self._matrix[self._has_vector] = vectors.matrix(
                [vector for vector in usable if vector is not None]
            )
        top = max((paper.upvotes for paper in self.papers), default=0)
        scale = math.log1p(top) if top > 0 else 1.0
        self._popularity = np.array([math.log1p(max(p.upvotes, 0)) / scale for p in self.papers])
        self._trending = tuple(sorted(range(count), key=lambda n: _trending_key(self.papers[n])))
        newest = max((paper.day for paper in self.papers), default=None)
        self._older = frozenset(n for n, paper in enumerate(self.papers) if paper.day != newest)
        self._rank_of = np.zeros(count, dtype=np.int64)
        for place, number in enumerate(self._trending):
            self._rank_of[number] = place
        self._probabilities: Memo[tuple[str, bytes | None], np.ndarray] = Memo(_CACHE_LIMIT)
        self._excluded_memo: Memo[str, frozenset[int]] = Memo(_CACHE_LIMIT)
        self._authors: Memo[str, dict[int, str]] = Memo(_CACHE_LIMIT)
        self._reasons: Memo[tuple[int, str], str] = Memo(_CACHE_LIMIT * 4)
        self._picks: Memo[tuple[int, float, tuple[str, ...]], Pick] = Memo(_CACHE_LIMIT * 4)

    def __len__(self) -> int:
        return len(self.papers)

    @property
    def model(self) -> fusion.FusionModel:
        """The fusion model given, else the shipped one (read when first needed: computing features
        needs none)."""
        return self._model or fusion.shipped()

    # -- relevance -----------------------------------------------------------------------------------

    def features(self, topic: str, packed: bytes | None) -> tuple[np.ndarray, np.ndarray]:
        """One topic's feature table over the candidates (features.NAMES), and where the semantic
        model applies (the paper and the topic both have a vector)."""
        cosines = self._matrix @ vectors.unpack(packed) if packed is not None else None
        semantic = self._has_vector if packed is not None else np.zeros(len(self.papers), dtype=bool)
        return topic_features(self._lexical, topic, cosines, self._has_vector), semantic

    def probability(self, topic: str, packed: bytes | None) -> np.ndarray:
        """Per paper, the fusion model's probability that it is on the topic."""
        return self.model.probability(*self.features(topic, packed))

    def _passing(self, topic: str, packed: bytes | None) -> np.ndarray:
        """Per paper, its probability for the topic where it reaches the cut, else 0; computed once
        per distinct topic (and vector) per index, since readers who wrote the same topic share it."""

        return self._probabilities.get((topic, packed), self._cut_probability, topic, packed)

    def _cut_probability(self, topic: str, packed: bytes | None) -> np.ndarray:
        probability = self.probability(topic, packed)
        return np.where(probability >= self.model.cut, probability, 0.0)

    def relevance(
        self, topics: Sequence[str], topic_vectors: Mapping[str, bytes]
    ) -> tuple[np.ndarray, PerTopic]:
        """Per paper, its relevance to the reader's topics (0 unless some topic's probability reaches
        the cut): the best topic's probability, plus a share of the other passing ones'; and per topic
        its passing probabilities, for the reasons."""
        per_topic = [(topic, self._passing(topic, topic_vectors.get(topic))) for topic in topics]
        if not per_topic:
            return np.zeros(len(self.papers)), per_topic
        if len(per_topic) == 1:
            return per_topic[0][1].copy(), per_topic
        stacked = np.vstack([passing for _, passing in per_topic])
        best = stacked.max(axis=0)
        return best + EXTRA_TOPIC_SHARE * (stacked.sum(axis=0) - best), per_topic

    # -- exclusions and authors ------------------------------------------------------------------------

    def _excluded_by(self, term: str) -> frozenset[int]:
        return self._excluded_memo.get(term, self._mentioning, term)

    def _mentioning(self, term: str) -> frozenset[int]:
        """Papers that mention an excluded term (any of its phrases) as a phrase, never scattered."""
        sequences = {sequence for _, sequence in phrases(term)}
        whole, _ = words(term)
        if whole:
            sequences.add(tuple(whole))
        # An excluded abbreviation excludes its expansion and back: "LLMs" and "large language models".
        found = np.zeros(len(self.papers), dtype=bool)
        for sequence in sequences:
            for form in forms(sequence):
                found |= self._lexical.with_phrase(form)
        return frozenset(np.flatnonzero(found).tolist())

    def excluded(self, settings: ReaderSettings, exclude_ids: Collection[str]) -> set[int]:
        excluded = {self._number[i] for i in exclude_ids if i in self._number}
        for term in settings.excludes:
            excluded |= self._excluded_by(term)
        return excluded

    def _by(self, followed: str) -> dict[int, str]:
        return self._authors.get(followed, self._papers_by, followed)

    def _papers_by(self, followed: str) -> dict[int, str]:
        """Papers by a followed author, each with the paper's own spelling of the name."""
        wanted = Name.of(followed)
        found: dict[int, str] = {}
        if wanted is not None:
            for number, author, name in self._by_surname.get(wanted.initial_last, ()):
                if number not in found and wanted.same_person(name):
                    found[number] = author
        return found

    # -- feedback ------------------------------------------------------------------------------------

    def _similar(self, liked: LikedPaper) -> np.ndarray:
        """Per paper, its likeness to a rated paper: the cosine of their vectors where both have one,
        else its BM25 score for the rated title over the best other candidate's."""
        own = self._number.get(liked.id)
        scores, _ = self._lexical.bm25(query(liked.title))
        if own is not None:
            scores[own] = 0.0
        lexical = scores / max(float(scores.max()) if len(scores) else 0.0, 1e-9)
        if own is not None:
            lexical[own] = 1.0
            if self._has_vector[own]:
                return np.where(self._has_vector, self._matrix @ self._matrix[own], lexical)
        return lexical

    def _feedback(
        self, feedback: Feedback, profile: np.ndarray | None
    ) -> tuple[np.ndarray, list[tuple[LikedPaper, np.ndarray]]]:
        """Per paper, the feedback signal in -1..1, and each liked paper's likeness for the reasons."""
        signal = np.zeros(len(self.papers))
        liked = [(paper, self._similar(paper)) for paper in feedback.more[-FEEDBACK_RECENT:]]
        if profile is not None:
            signal = np.where(self._has_vector, self._matrix @ profile, 0.0)
            lexical_only = ~self._has_vector
        else:
            lexical_only = np.ones(len(self.papers), dtype=bool)
        if lexical_only.any():
            more = np.max([s for _, s in liked], axis=0) if liked else 0.0
            disliked = [self._similar(paper) for paper in feedback.less[-FEEDBACK_RECENT:]]
            less = np.max(disliked, axis=0) if disliked else 0.0
            signal = np.where(lexical_only, np.clip(more - less, -1.0, 1.0), signal)
        return signal, liked

    # -- ranking -------------------------------------------------------------------------------------

    def rank(
        self,
        settings: ReaderSettings,
        feedback: Feedback,
        exclude_ids: Collection[str] = (),
        count: int | None = None,
        *,
        topic_vectors: Mapping[str, bytes] | None = None,
        profile_vector: bytes | None = None,
    ) -> list[Pick]:
        limit = settings.count if count is None else count
        if limit <= 0 or not self.papers:
            return []
        excluded = self.excluded(settings, exclude_ids)
        topics = [topic for topic in settings.topics if query(topic)]
        categories = [
            (category, self._by_category.get(category.strip().lower(), frozenset()))
            for category in settings.categories
        ]
        authors = [self._by(name) for name in settings.authors]
        profile = vectors.unpack(profile_vector) if profile_vector is not None else None
        rated = bool(feedback.more or feedback.less or profile is not None)
        focused = bool(topics or categories)
        if not (focused or any(authors) or rated):
            return self._plain_trending(excluded, limit)

        signal, liked = self._feedback(feedback, profile) if rated else (None, [])
        per_topic: PerTopic = []
        if focused:
            relevance, per_topic = self.relevance(topics, topic_vectors or {})
            for _, numbers in categories:
                # Alone, a category match weighs like a paper at the cut; beside a topic it lifts it.
                relevance[list(numbers)] += self.model.cut
            relevant = relevance > 0
            score = relevance * (1.0 + POPULARITY_LIFT * self._popularity)
        else:
            relevant = np.ones(len(self.papers), dtype=bool)
            # Trending order, which log-scaled upvotes keep, moved by authors and feedback.
            score = self._popularity.copy()
        if signal is not None:
            score = score + FEEDBACK_WEIGHT * signal
        pinned = list({number for found in authors for number in found})
        if pinned:
            relevant[pinned] = True
            score[pinned] += AUTHOR_SCORE
        if excluded:
            relevant[list(excluded)] = False
        candidates = np.flatnonzero(relevant)
        # Best score first; ties in trending order.
        order = candidates[np.lexsort((self._rank_of[candidates], -score[candidates]))][:limit].tolist()

        picks: list[Pick] = []
        for number in order:
            paper = self.papers[number]
            reasons = [f"by {found[number]}" for found in authors if number in found]
            reasons += self._topic_reasons(number, per_topic)
            reasons += [f"in {category}" for category, numbers in categories if number in numbers]
            if liked:
                source, similar = max(liked, key=lambda item: float(item[1][number]))
                if similar[number] >= LIKENESS_SHOWN and source.id != paper.id:
                    reasons.append(f'like "{short(source.title)}" you liked')
            if not focused:
                reasons.append(_upvotes(paper.upvotes))
            picks.append(self._pick(number, float(score[number]), tuple(reasons)))
        return picks

    def _pick(self, number: int, score: float, reasons: tuple[str, ...]) -> Pick:
        """The same picks recur all hour (the same papers, scores and reasons for many readers):
        each is validated once and shared, which saved a third of ranking's time. Picks are frozen."""
        key = (number, round(score, 4), reasons)
        return self._picks.get(key, self._new_pick, number, key[1], reasons)

    def _new_pick(self, number: int, score: float, reasons: tuple[str, ...]) -> Pick:
        return Pick(paper=self.papers[number], score=score, reasons=reasons)

    def _topic_reasons(self, number: int, per_topic: PerTopic) -> list[str]:
        """What matched, most probable topic first: the reader's phrase it uses, or the interest it
        is close to."""
        matched = [(-float(passing[number]), topic) for topic, passing in per_topic if passing[number] > 0]
        if len(matched) > 1:
            matched.sort()
        return [
            self._reasons.get((number, topic), lambda t=topic: self._reason(number, t))
            for _, topic in matched
        ]

    def _reason(self, number: int, topic: str) -> str:
        return topic_reason(self._lexical, number, topic)

    def _plain_trending(self, excluded: set[int], limit: int) -> list[Pick]:
        picks: list[Pick] = []
        for number in self._trending:
            if number in excluded:
                continue
            paper = self.papers[number]
            score = round(float(self._popularity[number]), 4)
            picks.append(self._pick(number, score, (_upvotes(paper.upvotes),)))
            if len(picks) == limit:
                break
        return picks

    def also_trending(
        self, settings: ReaderSettings, exclude_ids: Collection[str], count: int = 3
    ) -> list[Pick]:
        """The day's most upvoted papers beside a reader's picks: none excluded, picked or sent.
        "The day" is the newest day among the candidates: older days' big papers were trending then."""
        excluded = self.excluded(settings, exclude_ids)
        excluded |= self._older
        return self._plain_trending(excluded, count)


def rank(index: RankingIndex, settings: ReaderSettings, feedback: Feedback, **options: Any) -> list[Pick]:
    """The reader's picks from the indexed papers, best first, each with its reasons.

    Options, as `RankingIndex.rank` takes them: `count` defaults to the reader's own; `exclude_ids`
    are papers already sent; `topic_vectors` (by topic, as stored) and `profile_vector` are the
    reader's sentence vectors, where they have any.
    """
    return index.rank(settings, feedback, **options)
