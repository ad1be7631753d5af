"""A reference row: arxiv-sanity-lite's per-user ranking, timed on our benchmark's candidate papers.

arxiv-sanity-lite (karpathy, HEAD d7a303b) mails each user the papers a tf-idf linear SVM scores
highest: features are scikit-learn tf-idf over title + abstract + authors of every indexed paper
(word 1-2 grams, sublinear tf, English stop words, min_df 5, max_df 0.1, at most 20,000 features,
l2 norm), computed once a day; then per user and per tag a LinearSVC (C=0.01, balanced classes,
tol 1e-6, at most 10,000 iterations) is fit with the tag's papers as positives and every other
paper as negatives, scored with decision_function, kept if from the last 3 days and not already
tagged, merged across tags by the highest score, top 20. This module is our own implementation of
that method from those parameters, so that the digest benchmark can say how many times cheaper a
whole digest of ours (rank, render, MIME) is than their ranking alone, in the same run.

The index holds the same papers our ranking and rendering rows rank (fewer than their live site
indexed, which only makes each fit cheaper). Users are our benchmark's reader profiles: one tag per
followed topic (a reader who follows none still has one tag, or arxiv-sanity-lite mails nothing),
each tag holding TAGGED_PER_TAG papers the user saved, drawn with a fixed seed.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

import numpy as np

from paperboy.papers.model import Paper
from paperboy.readers.model import ReaderSettings

TAGGED_PER_TAG = 5
RECENT_DAYS = 3
TOP = 20


class TfidfSvmRanker:
    """arxiv-sanity-lite's recommendation step over a fixed index of papers."""

    def __init__(self, papers: list[Paper]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer  # dev-only: the benchmark's

        vectorizer = TfidfVectorizer(
            strip_accents="unicode",
            lowercase=True,
            analyzer="word",
            stop_words="english",
            token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
            ngram_range=(1, 2),
            max_features=20_000,
            norm="l2",
            use_idf=True,
            smooth_idf=True,
            sublinear_tf=True,
            max_df=0.1,
            min_df=5,
        )
        documents = [" ".join([paper.title, paper.summary, " ".join(paper.authors)]) for paper in papers]
        self.features = vectorizer.fit_transform(documents).astype(np.float32)
        self.ids = [paper.id for paper in papers]
        newest = max(paper.day for paper in papers)
        self.recent = np.array([newest - paper.day < timedelta(days=RECENT_DAYS) for paper in papers])

    def recommend(self, tags: dict[str, list[int]]) -> list[tuple[str, float, str]]:
        """(paper id, score, winning tag) for the top papers, best first."""
        from sklearn.svm import LinearSVC

        tagged = {index for indices in tags.values() for index in indices}
        best: dict[int, tuple[float, str]] = {}
        for tag, indices in tags.items():
            labels = np.zeros(len(self.ids), dtype=np.float32)
            labels[indices] = 1.0
            model = LinearSVC(class_weight="balanced", C=0.01, tol=1e-6, max_iter=10_000)
            model.fit(self.features, labels)
            scores = 100 * model.decision_function(self.features)
            for index in np.flatnonzero(self.recent):
                if index in tagged:
                    continue
                score = float(scores[index])
                if index not in best or score > best[index][0]:
                    best[index] = (score, tag)
        ranked = sorted(best.items(), key=lambda item: item[1][0], reverse=True)[:TOP]
        return [(self.ids[index], score, tag) for index, (score, tag) in ranked]


def user_tags(
    papers: list[Paper], profiles: list[ReaderSettings], seed: int = 17
) -> list[dict[str, list[int]]]:
    rng = random.Random(seed)
    return [
        {tag: rng.sample(range(len(papers)), TAGGED_PER_TAG) for tag in (settings.topics or ("saved",))}
        for settings in profiles
    ]


def per_user_ms(ranker: TfidfSvmRanker, users: list[dict[str, list[int]]]) -> float:
    """Milliseconds of CPU per user for the recommendation step alone."""
    started = time.process_time()
    for tags in users:
        ranker.recommend(tags)
    return 1000 * (time.process_time() - started) / len(users)
