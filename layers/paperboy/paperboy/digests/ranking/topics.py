"""Each topic's probability per candidate (the features, then the fusion model), computed once per
distinct topic and vector per index: readers who wrote the same topic share it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from paperboy.digests.ranking import fusion
from paperboy.digests.ranking.candidates import Candidates
from paperboy.digests.ranking.features import topic_features
from paperboy.digests.ranking.memo import PER_INDEX, Memo
from paperboy.semantic import vectors

# A paper's second and further matching topics add this share of their probability.
EXTRA_TOPIC_SHARE = 0.25

# Per topic the reader wrote, each paper's probability where it reaches the cut, else 0.
PerTopic = list[tuple[str, np.ndarray]]


class TopicScores:
    """Topics scored over the candidates with the given fusion model, else the shipped one."""

    def __init__(self, candidates: Candidates, model: fusion.FusionModel | None) -> None:
        self._candidates = candidates
        self._model = model
        self._passing: Memo[tuple[str, bytes | None], np.ndarray] = Memo(PER_INDEX)

    @property
    def model(self) -> fusion.FusionModel:
        # Read when first needed (computing features needs none).
        return self._model or fusion.shipped()

    def features(self, topic: str, packed: bytes | None) -> tuple[np.ndarray, np.ndarray]:
        """One topic's feature table over the candidates (features.NAMES), and where the semantic
        model applies (the paper and the topic both have a vector)."""
        candidates = self._candidates
        cosines = candidates.matrix @ vectors.unpack(packed) if packed is not None else None
        semantic = candidates.has_vector if packed is not None else np.zeros(len(candidates), dtype=bool)
        return topic_features(candidates.lexical, topic, cosines, candidates.has_vector), semantic

    def probability(self, topic: str, packed: bytes | None) -> np.ndarray:
        """Per paper, the fusion model's probability that it is on the topic."""
        return self.model.probability(*self.features(topic, packed))

    def passing(self, topic: str, packed: bytes | None) -> np.ndarray:
        """Per paper, its probability for the topic where it reaches the cut, else 0."""
        return self._passing.get((topic, packed), self._cut_probability, topic, packed)

    def _cut_probability(self, topic: str, packed: bytes | None) -> np.ndarray:
        probability = self.probability(topic, packed)
        return np.where(probability >= self.model.cut, probability, 0.0)

    def relevance(
        self, topics: Sequence[str], topic_vectors: Mapping[str, bytes]
    ) -> tuple[np.ndarray, PerTopic]:
        """Per paper, its relevance to the reader's topics (0 unless some topic's probability reaches
        the cut): the best topic's probability, plus a share of the other passing ones'; and per topic
        its passing probabilities, for the reasons."""
        per_topic = [(topic, self.passing(topic, topic_vectors.get(topic))) for topic in topics]
        if not per_topic:
            return np.zeros(len(self._candidates)), per_topic
        if len(per_topic) == 1:
            return per_topic[0][1].copy(), per_topic
        stacked = np.vstack([passing for _, passing in per_topic])
        best = stacked.max(axis=0)
        return best + EXTRA_TOPIC_SHARE * (stacked.sum(axis=0) - best), per_topic
