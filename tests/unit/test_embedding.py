"""The sentence model and the stored vectors: real embeddings, compact storage, round trips."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from conftest import template_table

from paperboy.papers.model import Paper
from paperboy.papers.store import PaperStore
from paperboy.readers.model import ReaderSettings, Status, Subscriber
from paperboy.readers.store import SubscriberStore
from paperboy.readers.vectors import TopicVectorStore
from paperboy.semantic import vectors
from paperboy.semantic.embedding import Embedder, paper_text

LIDAR = Paper(
    id="2611.20001",
    title="Self-supervised pre-training of LiDAR scans for outdoor scene understanding",
    display_title="Self-supervised pre-training of LiDAR scans",
    summary=(
        "We learn representations from unlabeled LiDAR sweeps collected by autonomous vehicles and "
        "fine-tune them for semantic segmentation and object detection of outdoor scenes."
    ),
    day=date(2026, 11, 24),
    source="hf_daily_papers",
)


def test_a_paper_is_closer_to_its_field_than_to_an_unrelated_one(embedder: Embedder) -> None:
    paper, near, far = embedder.embed([paper_text(LIDAR), "3D point clouds", "speech recognition"])
    assert paper @ near > paper @ far + 0.15


def test_a_sentence_long_interest_lands_near_its_papers(embedder: Embedder, corpus) -> None:
    interest = (
        "I work on compressing deep neural networks — pruning, quantization and knowledge "
        "distillation — so that large pretrained models can run efficiently on edge devices"
    )
    rows = [item["paper"] for day in corpus.days for item in corpus.items(day)][:40]
    texts = [f"{row['title']}. {row['summary']}" for row in rows]
    papers = embedder.embed(texts)
    (query,) = embedder.embed([interest])
    best = rows[int(np.argmax(papers @ query))]["title"].lower()
    assert any(word in best for word in ("quantiz", "compress", "prun", "distill", "efficien")), best


def test_vectors_are_unit_length_and_in_the_order_of_the_texts(embedder: Embedder) -> None:
    texts = ["a much longer text about graph neural networks and knowledge graphs", "GNN", "speech"]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([text]) for text in texts])
    assert together.shape == (3, vectors.DIM)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # Batching pads shorter texts: the attention mask must keep padding out of the mean.
    assert np.all(np.sum(together * alone, axis=1) > 0.9999)


def test_no_texts_no_vectors(embedder: Embedder) -> None:
    assert embedder.embed([]).shape == (0, vectors.DIM)


def test_paper_text_is_title_then_abstract() -> None:
    assert paper_text(LIDAR).startswith("Self-supervised pre-training of LiDAR scans for outdoor scene")
    assert "semantic segmentation" in paper_text(LIDAR)
    assert paper_text(LIDAR.model_copy(update={"summary": ""})) == LIDAR.title


# -- packing ------------------------------------------------------------------------------------
def test_packed_vectors_agree_with_the_float_vectors(embedder: Embedder, corpus) -> None:
    rows = [item["paper"] for item in corpus.items(corpus.days[0])]
    floats = embedder.embed([f"{row['title']}. {row['summary']}" for row in rows])
    packed = [vectors.pack(row) for row in floats]
    assert {len(data) for data in packed} == {vectors.DIM}
    restored = vectors.matrix(packed)
    assert restored.dtype == np.float32
    assert np.min(np.sum(restored * floats, axis=1)) >= 0.999
    assert np.allclose(np.linalg.norm(restored, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors.unpack(packed[0]), restored[0])


def test_packing_rejects_what_it_cannot_store() -> None:
    with pytest.raises(ValueError, match="384"):
        vectors.pack(np.ones(10))
    with pytest.raises(ValueError, match="non-finite"):
        vectors.pack(np.full(vectors.DIM, np.nan))
    with pytest.raises(ValueError, match="384"):
        vectors.unpack(b"\x01\x02")
    assert vectors.matrix([]).shape == (0, vectors.DIM)
    assert not np.any(vectors.unpack(vectors.pack(np.zeros(vectors.DIM))))


# -- persisted with the paper and the reader ----------------------------------------------------
@pytest.fixture
def papers(aws) -> PaperStore:
    return PaperStore(template_table("PapersTable", "papers"))


def _packed(seed: int) -> bytes:
    return vectors.pack(np.random.default_rng(seed).standard_normal(vectors.DIM))


def test_a_paper_vector_round_trips_and_survives_a_refetch(papers: PaperStore) -> None:
    now = datetime(2026, 11, 24, 9, tzinfo=UTC)
    papers.upsert(LIDAR, now)
    assert papers.get(LIDAR.id).vector is None
    vector = _packed(1)
    assert papers.set_vector(LIDAR.id, vector, vectors.MODEL)
    stored = papers.get(LIDAR.id)
    assert stored.vector == vector
    assert stored.vector_model == vectors.MODEL
    # The hourly refetch refreshes votes without touching the vector.
    papers.upsert(LIDAR.model_copy(update={"upvotes": 40}), now)
    (refetched,) = papers.papers_of_day(LIDAR.day)
    assert (refetched.upvotes, refetched.vector) == (40, vector)
    assert "vector" in refetched.model_dump_json()  # base64 in JSON, not an encoding error


def test_a_vector_for_a_paper_that_is_gone_is_not_stored(papers: PaperStore) -> None:
    assert not papers.set_vector("2611.99999", _packed(2), vectors.MODEL)
    assert papers.get("2611.99999") is None


def _reader(topics: tuple[str, ...]) -> Subscriber:
    return Subscriber(
        id="r1",
        email="r1@example.org",
        status=Status.ACTIVE,
        settings=ReaderSettings(topics=topics),
        created_at=datetime(2026, 11, 24, tzinfo=UTC),
    )


def test_topic_vectors_round_trip_through_the_profile(
    store: SubscriberStore, topic_vectors: TopicVectorStore
) -> None:
    topics = ("generative models (diffusion, GANs, flows)", "3D point clouds")
    assert store.create(_reader(topics))
    stored = {topic: _packed(index) for index, topic in enumerate(topics)}
    assert topic_vectors.set_topic_vectors("r1", topics, stored, vectors.MODEL)
    reader = store.get("r1")
    assert reader.topic_vectors == stored
    assert reader.vector_model == vectors.MODEL
    assert reader.version == 0  # a command holding version 0 can still save
    saved = store.save(reader.model_copy(update={"status": Status.PAUSED}))
    assert store.get("r1").topic_vectors == stored
    assert saved.version == 1


def test_topic_vectors_are_not_written_over_changed_topics(
    store: SubscriberStore, topic_vectors: TopicVectorStore
) -> None:
    assert store.create(_reader(("speech recognition",)))
    reader = store.get("r1")
    store.save(reader.model_copy(update={"settings": ReaderSettings(topics=("medical imaging",))}))
    stale = {"speech recognition": _packed(3)}
    assert not topic_vectors.set_topic_vectors("r1", ("speech recognition",), stale, vectors.MODEL)
    assert store.get("r1").topic_vectors == {}
    assert not topic_vectors.set_topic_vectors("nobody", (), {}, vectors.MODEL)
