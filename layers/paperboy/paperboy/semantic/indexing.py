"""Gives every paper and every reader's topics a sentence vector, from the tables' change streams.

A paper is embedded (title + abstract) when a change shows it without a vector of the current
model; a reader's topics when a change shows a topic without one, or vectors of topics the reader no
longer has; a reader's liked papers (`like`, `me:`) when a change shows one without a vector: the
paper's stored vector is copied, or its stored text embedded (a paper just looked up on arXiv may not
have its own vector yet; the title alone when the row has expired).
The vectors are written back with conditions that never undo a concurrent change, and
the write itself comes back on the stream showing nothing left to do: it is skipped, so there is no
loop. Everything one batch needs is embedded in one call to the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from paperboy.papers.store import PaperStore, paper_from_item
from paperboy.readers.table import PROFILE
from paperboy.readers.vectors import TopicVectorStore
from paperboy.semantic.embedding import paper_text
from paperboy.semantic.vectors import MODEL, pack

Embed = Callable[[Sequence[str]], np.ndarray]


class Change(BaseModel):
    """One stream record: the table it came from and the item as it is after the change."""

    sequence: str
    table: Literal["papers", "subscribers"]
    # NEW_IMAGE with plain values (bytes for binary); None for a deletion.
    image: dict[str, Any] | None = None


@dataclass
class Outcome:
    papers: int = 0
    readers: int = 0
    texts: int = 0
    # Changes needing nothing (already embedded, the Embed function's own writes, digest rows).
    skipped: int = 0
    # Vectors not written because the item changed or went away meanwhile; a later change covers it.
    superseded: int = 0
    # Sequence numbers whose write failed: the stream retries from the earliest.
    failed: list[str] = field(default_factory=list)


@dataclass
class _PaperJob:
    paper_id: str
    text: str
    sequences: list[str]


@dataclass
class _ReaderJob:
    subscriber_id: str
    topics: tuple[str, ...]
    kept: dict[str, bytes]
    missing: list[str]
    sequences: list[str]


@dataclass
class _LikesJob:
    subscriber_id: str
    # Liked paper id -> its stored vector (bytes) or the text to embed (str).
    missing: dict[str, bytes | str]
    gone: list[str]
    sequences: list[str]


def paper_needs_vector(image: dict[str, Any]) -> bool:
    return "title" in image and (image.get("vector") is None or image.get("vector_model") != MODEL)


def reader_vectors(image: dict[str, Any]) -> tuple[tuple[str, ...], dict[str, bytes], list[str]]:
    """(topics, vectors still valid, topics lacking one) of a reader's PROFILE item."""
    topics = tuple(str(topic) for topic in (image.get("settings") or {}).get("topics") or ())
    stored = (image.get("topic_vectors") or {}) if image.get("vector_model") == MODEL else {}
    kept = {topic: bytes(stored[topic]) for topic in topics if topic in stored}
    return topics, kept, [topic for topic in topics if topic not in kept]


def reader_likes(image: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(liked papers lacking a vector, vectors of papers no longer liked) of a reader's PROFILE item."""
    liked = list(dict.fromkeys(str(like.get("id")) for like in image.get("likes") or () if like.get("id")))
    model = image.get("vector_model")
    stored = set(image.get("like_vectors") or {}) if model in (None, "", MODEL) else set()
    return [paper for paper in liked if paper not in stored], sorted(stored - set(liked))


class VectorIndexer:
    def __init__(self, papers: PaperStore, subscribers: TopicVectorStore, embed: Embed) -> None:
        self._papers = papers
        self._subscribers = subscribers
        # Called only when a batch has something to embed: the model loads on first use.
        self._embed = embed

    def apply(self, changes: Sequence[Change]) -> Outcome:
        outcome = Outcome()
        paper_jobs, reader_jobs, likes_jobs = self._plan(changes, outcome)
        texts = list(
            dict.fromkeys(
                [job.text for job in paper_jobs.values()]
                + [topic for job in reader_jobs.values() for topic in job.missing]
                + [text for job in likes_jobs for text in job.missing.values() if isinstance(text, str)]
            )
        )
        # A reader who only removed topics needs a write but no model.
        vectors = dict(zip(texts, (pack(row) for row in self._embed(texts)), strict=True)) if texts else {}
        outcome.texts = len(texts)
        for job in paper_jobs.values():
            try:
                stored = self._papers.set_vector(job.paper_id, vectors[job.text], MODEL)
            except (ClientError, BotoCoreError):  # reported for this record: the stream retries it
                outcome.failed.extend(job.sequences)
                continue
            outcome.papers += stored
            outcome.superseded += not stored
        for job in reader_jobs.values():
            fresh = {**job.kept, **{topic: vectors[topic] for topic in job.missing}}
            ordered = {topic: fresh[topic] for topic in job.topics}
            try:
                stored = self._subscribers.set_topic_vectors(job.subscriber_id, job.topics, ordered, MODEL)
            except (ClientError, BotoCoreError):  # reported for this record: the stream retries it
                outcome.failed.extend(job.sequences)
                continue
            outcome.readers += stored
            outcome.superseded += not stored
        for likes in likes_jobs:
            found = {
                paper: known if isinstance(known, bytes) else vectors[known]
                for paper, known in likes.missing.items()
            }
            try:
                stored = self._subscribers.set_like_vectors(likes.subscriber_id, found, likes.gone, MODEL)
            except (ClientError, BotoCoreError):  # reported for this record: the stream retries it
                outcome.failed.extend(likes.sequences)
                continue
            if likes.subscriber_id not in reader_jobs:
                outcome.readers += stored
            outcome.superseded += not stored
        return outcome

    def _plan(
        self, changes: Sequence[Change], outcome: Outcome
    ) -> tuple[dict[str, _PaperJob], dict[str, _ReaderJob], list[_LikesJob]]:
        """What the batch needs, from the latest image of each item (earlier ones are superseded)."""
        latest: dict[tuple[str, str], tuple[Change, list[str]]] = {}
        for change in changes:
            key = _item_key(change)
            if key is None:
                outcome.skipped += 1
                continue
            sequences = latest.get(key, (change, []))[1]
            latest[key] = (change, [*sequences, change.sequence])
        papers: dict[str, _PaperJob] = {}
        readers: dict[str, _ReaderJob] = {}
        likes: list[_LikesJob] = []
        for (table, item_id), (change, sequences) in latest.items():
            image = change.image or {}
            if table == "papers" and paper_needs_vector(image):
                papers[item_id] = _PaperJob(item_id, paper_text(paper_from_item(image)), sequences)
                continue
            if table == "subscribers":
                topics, kept, missing = reader_vectors(image)
                stale = set(image.get("topic_vectors") or {}) - set(kept)
                lacking, gone = reader_likes(image)
                if lacking or gone:
                    titles = {str(like.get("id")): str(like.get("title") or "") for like in image["likes"]}
                    wanted = {paper: self._liked(paper, titles.get(paper, paper)) for paper in lacking}
                    likes.append(_LikesJob(item_id, wanted, gone, sequences))
                if missing or stale:
                    readers[item_id] = _ReaderJob(item_id, topics, kept, missing, sequences)
                    continue
                if lacking or gone:
                    continue
            outcome.skipped += len(sequences)
        return papers, readers, likes

    def _liked(self, paper_id: str, title: str) -> bytes | str:
        """A liked paper's stored vector, else the text to embed for it."""
        paper = self._papers.get(paper_id)
        if paper is None:
            return title
        if paper.vector is not None and paper.vector_model == MODEL:
            return paper.vector
        return paper_text(paper)


def _item_key(change: Change) -> tuple[str, str] | None:
    image = change.image
    if not image:
        return None
    if change.table == "papers":
        return ("papers", str(image["id"])) if "id" in image else None
    if image.get("sk") != PROFILE or not str(image.get("pk", "")).startswith("SUB#"):
        return None
    return ("subscribers", str(image["pk"]).removeprefix("SUB#"))
