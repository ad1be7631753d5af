"""Ranking for a reader's liked papers (`like`, `me:`; issue 17): papers near them, with the reason,
and never a liked paper itself."""

from __future__ import annotations

import pytest
from test_ranking import LIDAR, LIDAR_TOO, corpus, made_up, mentions, with_vectors

from paperboy.digests.ranking import RankingIndex, rank
from paperboy.readers.model import Feedback, LikedPaper, ReaderSettings
from paperboy.semantic import vectors
from paperboy.semantic.embedding import paper_text

# Liked, and older than the candidates: looked up on arXiv, known to ranking by its vector only.
LIKED = made_up(
    800,
    "PointPillars: Fast Encoders for Object Detection from Point Clouds",
    "Object detection in point clouds from lidar sensors for autonomous driving, encoding the point "
    "cloud in vertical columns (pillars) for a 2D detection network.",
)


@pytest.fixture(scope="module")
def world(embedder):
    """Forty corpus papers about none of it, and two made-up LiDAR papers."""
    others = [paper for paper in corpus() if not mentions(r"point|cloud|lidar|3d|laser", paper)][:40]
    return with_vectors(embedder, [LIDAR, LIDAR_TOO, *others])


@pytest.fixture(scope="module")
def liked(embedder) -> tuple[LikedPaper, dict[str, bytes]]:
    (vector,) = embedder.embed([paper_text(LIKED)])
    return LikedPaper(id=LIKED.id, title=LIKED.title), {LIKED.id: vectors.pack(vector)}


def test_a_reader_without_topics_gets_papers_near_their_likes_not_the_trending_list(world, liked):
    like, like_vectors = liked
    picks = rank(RankingIndex(world), ReaderSettings(), Feedback(), likes=(like,), like_vectors=like_vectors)
    assert [pick.paper.id for pick in picks][:2] in ([LIDAR.id, LIDAR_TOO.id], [LIDAR_TOO.id, LIDAR.id])
    assert picks[0].reasons == ('like "PointPillars: Fast Encoders for Object Detection…" you liked',)
    assert not any(reason.startswith("trending") for pick in picks for reason in pick.reasons)
    # Without likes, the same reader gets the trending list.
    plain = rank(RankingIndex(world), ReaderSettings(), Feedback())
    assert plain[0].reasons[0].startswith("trending")


def test_a_liked_paper_is_never_sent_back(world, liked, embedder):
    like, like_vectors = liked
    candidates = [*world, *with_vectors(embedder, [LIKED])]
    picks = rank(
        RankingIndex(candidates), ReaderSettings(), Feedback(), likes=(like,), like_vectors=like_vectors
    )
    topics = rank(
        RankingIndex(candidates),
        ReaderSettings(topics=("object detection",)),
        Feedback(),
        likes=(like,),
        like_vectors=like_vectors,
    )
    assert picks and LIKED.id not in {pick.paper.id for pick in [*picks, *topics]}


def test_with_topics_a_paper_near_a_like_joins_the_topic_matches(world, liked):
    like, like_vectors = liked
    settings = ReaderSettings(topics=("speech recognition",))
    without = rank(RankingIndex(world), settings, Feedback())
    both = rank(RankingIndex(world), settings, Feedback(), likes=(like,), like_vectors=like_vectors)
    assert LIDAR.id not in {pick.paper.id for pick in without}
    near = [pick for pick in both if pick.paper.id in (LIDAR.id, LIDAR_TOO.id)]
    assert near and all(pick.reasons[-1].endswith("you liked") for pick in near)
    # The topic's own matches stay.
    assert {pick.paper.id for pick in without} <= {pick.paper.id for pick in both}


def test_a_like_not_embedded_yet_is_matched_by_its_title_words(world):
    like = LikedPaper(id="2103.99999", title="Detecting pedestrians in laser range scans")
    picks = rank(RankingIndex(world), ReaderSettings(), Feedback(), likes=(like,))
    assert picks[0].paper.id == LIDAR_TOO.id
    assert picks[0].reasons == ('like "Detecting pedestrians in laser range scans" you liked',)
