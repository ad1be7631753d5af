"""The Embed function: every stored paper and every reader's topics get a vector, from the tables'
streams, without clobbering concurrent changes and without reacting to its own writes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError
from conftest import template_table
from samtranslator.yaml_helper import yaml_parse

from local_stack import scenario
from local_stack.sources import SourceFixtures
from local_stack.streams import passes
from local_stack.template import TEMPLATE
from paperboy.papers.model import Paper
from paperboy.papers.store import PaperStore
from paperboy.readers.model import LikedPaper, ReaderSettings, Status, Subscriber
from paperboy.readers.store import SubscriberStore
from paperboy.semantic import vectors
from paperboy.semantic.embedding import paper_text
from paperboy.semantic.indexing import Change, VectorIndexer

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")
FIXTURES = Path(__file__).parents[1] / "fixtures" / "daily_papers"
DOMAIN = "papers.example.org"
BODY = yaml_parse(TEMPLATE.read_text())


# -- on the local stack: fetch, subscribe, change topics ---------------------------------------
@pytest.fixture
def stack(stack_pool, corpus, tmp_path):
    fixtures = SourceFixtures()
    for day in ("2026-11-22", "2026-11-23"):
        fixtures.hf_days[day] = corpus.write(tmp_path, day, corpus.items(day)[:6])
    with stack_pool.stack(
        domain=DOMAIN, start=datetime(2026, 11, 23, 5, 0, tzinfo=UTC), fixtures=fixtures
    ) as running:
        yield running


def _rows(stack, logical):
    table = stack.table(logical)
    items, page = [], table.scan()
    items.extend(page["Items"])
    while "LastEvaluatedKey" in page:
        page = table.scan(ExclusiveStartKey=page["LastEvaluatedKey"])
        items.extend(page["Items"])
    return items


def test_a_fetch_gives_every_new_paper_its_vector_once(stack, embedder):
    stack.fetch()
    embed = stack.functions["EmbedFunction"]
    papers = _rows(stack, "PapersTable")
    assert len(papers) == 12
    assert all(row.get("vector_model") == vectors.MODEL for row in papers)
    stored = PaperStore(stack.table("PapersTable"))
    paper = stored.get(papers[0]["id"])
    (expected,) = embedder.embed([paper_text(paper)])
    assert float(vectors.unpack(paper.vector) @ expected) > 0.999
    # Later fetches refresh votes of embedded papers: the filter keeps those (and the function's
    # own writes) from invoking it.
    after_first = embed.invocations
    stack.advance(timedelta(hours=2))
    assert embed.invocations == after_first
    assert not stack.dead_letters


def _email(stack, **fields):
    scenario.FILE_STEPS["email"](stack, fields, Path())


def _reply(stack, **fields):
    scenario.FILE_STEPS["reply"](stack, fields, Path())


def test_a_readers_topics_get_vectors_when_they_change(stack):
    _email(
        stack,
        **{"from": "ada@example.org", "to": f"subscribe@{DOMAIN}", "text": "topics: speech recognition"},
    )
    _reply(stack, **{"from": "ada@example.org", "text": "yes"})
    ada = stack.subscribers.by_email("ada@example.org")
    assert set(ada.topic_vectors) == {"speech recognition"}
    assert ada.vector_model == vectors.MODEL
    _reply(stack, **{"from": "ada@example.org", "text": "add topic 3D point clouds"})
    ada = stack.subscribers.by_email("ada@example.org")
    assert set(ada.topic_vectors) == set(ada.settings.topics) == {"speech recognition", "3D point clouds"}
    near = vectors.unpack(ada.topic_vectors["3D point clouds"])
    assert near @ vectors.unpack(ada.topic_vectors["speech recognition"]) < 0.5
    _reply(stack, **{"from": "ada@example.org", "text": "remove topic speech recognition"})
    ada = stack.subscribers.by_email("ada@example.org")
    assert set(ada.topic_vectors) == set(ada.settings.topics) == {"3D point clouds"}
    assert ada.topic_vectors["3D point clouds"] == vectors.pack(near)
    assert not stack.dead_letters


def test_the_stream_filters_are_the_ones_lambda_would_apply():
    events = BODY["Resources"]["EmbedFunction"]["Properties"]["Events"]
    papers = events["Papers"]["Properties"]["FilterCriteria"]["Filters"]
    readers = events["Readers"]["Properties"]["FilterCriteria"]["Filters"]
    new_paper = {"eventName": "INSERT", "dynamodb": {"NewImage": {"id": {"S": "1"}}}}
    embedded = {"eventName": "MODIFY", "dynamodb": {"NewImage": {"id": {"S": "1"}, "vector": {"B": "AA=="}}}}
    expired = {"eventName": "REMOVE", "dynamodb": {"Keys": {"id": {"S": "1"}}}}
    assert passes(papers, new_paper) and not passes(papers, embedded) and not passes(papers, expired)
    profile = {"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": "SUB#1"}, "sk": {"S": "PROFILE"}}}}
    digest = {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "SUB#1"}, "sk": {"S": "DIGEST#x"}}}}
    assert passes(readers, profile) and not passes(readers, digest)


# -- the indexer on its own --------------------------------------------------------------------
@pytest.fixture
def papers(aws) -> PaperStore:
    return PaperStore(template_table("PapersTable", "papers"))


class Model:
    """Deterministic stand-in vectors (one per distinct text), counting what it is asked."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts):
        self.calls.append(list(texts))
        rows = [np.random.default_rng(sum(map(ord, text))).standard_normal(vectors.DIM) for text in texts]
        return vectors.normalise(np.array(rows))


def _paper(paper_id: str, title: str = "A paper") -> Paper:
    return Paper(
        id=paper_id,
        title=title,
        display_title=title,
        summary="About things.",
        day=date(2026, 11, 24),
        source="hf_daily_papers",
    )


NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)


def _paper_change(store: PaperStore, paper_id: str, sequence: str) -> Change:
    row = store._table.get_item(Key={"id": paper_id})["Item"]
    return Change(
        sequence=sequence, table="papers", image={k: getattr(v, "value", v) for k, v in row.items()}
    )


def _reader_change(store: SubscriberStore, sequence: str, subscriber_id: str = "r1") -> Change:
    row = store._table.get_item(Key={"pk": f"SUB#{subscriber_id}", "sk": "PROFILE"})["Item"]
    return Change(sequence=sequence, table="subscribers", image=row)


def test_papers_are_embedded_once_in_one_model_call(papers, store, topic_vectors):
    for paper_id in ("1", "2"):
        papers.upsert(_paper(paper_id, f"Paper {paper_id}"), NOW)
    model = Model()
    indexer = VectorIndexer(papers, topic_vectors, model)
    changes = [
        _paper_change(papers, "1", "10"),
        _paper_change(papers, "2", "11"),
        _paper_change(papers, "1", "12"),
    ]
    outcome = indexer.apply(changes)
    assert (outcome.papers, outcome.texts, outcome.failed) == (2, 2, [])
    assert len(model.calls) == 1
    # The write comes back on the stream: nothing left to do, and the model is not asked again.
    again = indexer.apply([_paper_change(papers, "1", "13"), _paper_change(papers, "2", "14")])
    assert (again.papers, again.skipped, len(model.calls)) == (0, 2, 1)


def test_a_vector_of_another_model_is_replaced(papers, store, topic_vectors):
    papers.upsert(_paper("1"), NOW)
    papers.set_vector("1", vectors.pack(np.ones(vectors.DIM)), "some-older-model")
    outcome = VectorIndexer(papers, topic_vectors, Model()).apply([_paper_change(papers, "1", "10")])
    assert outcome.papers == 1
    assert papers.get("1").vector_model == vectors.MODEL


def test_a_paper_that_expired_meanwhile_is_not_written_back(papers, store, topic_vectors):
    papers.upsert(_paper("1"), NOW)
    change = _paper_change(papers, "1", "10")
    papers._table.delete_item(Key={"id": "1"})
    outcome = VectorIndexer(papers, topic_vectors, Model()).apply([change])
    assert (outcome.papers, outcome.superseded, outcome.failed) == (0, 1, [])
    assert papers.get("1") is None


class FailingPapers(PaperStore):
    def set_vector(self, paper_id, vector, model):
        if paper_id == "2":
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem")
        return super().set_vector(paper_id, vector, model)


def test_a_failed_write_is_reported_for_its_records_only(papers, store, topic_vectors):
    for paper_id in ("1", "2"):
        papers.upsert(_paper(paper_id, f"Paper {paper_id}"), NOW)
    failing = FailingPapers(papers._table)
    changes = [_paper_change(papers, "1", "10"), _paper_change(papers, "2", "11")]
    outcome = VectorIndexer(failing, topic_vectors, Model()).apply(changes)
    assert (outcome.papers, outcome.failed) == (1, ["11"])
    assert papers.get("1").vector is not None and papers.get("2").vector is None


def _reader(topics) -> Subscriber:
    return Subscriber(
        id="r1",
        email="r1@example.org",
        status=Status.ACTIVE,
        settings=ReaderSettings(topics=topics),
        created_at=NOW,
    )


def test_reader_vectors_fill_missing_topics_and_drop_removed_ones(papers, store, topic_vectors):
    store.create(_reader(("speech recognition", "robotics")))
    model = Model()
    indexer = VectorIndexer(papers, topic_vectors, model)
    assert indexer.apply([_reader_change(store, "1")]).readers == 1
    first = store.get("r1")
    store.save(first.model_copy(update={"settings": ReaderSettings(topics=("robotics", "medical imaging"))}))
    assert indexer.apply([_reader_change(store, "2")]).readers == 1
    reader = store.get("r1")
    assert list(reader.topic_vectors) == ["robotics", "medical imaging"]
    assert reader.topic_vectors["robotics"] == first.topic_vectors["robotics"]
    assert model.calls == [["speech recognition", "robotics"], ["medical imaging"]]
    assert indexer.apply([_reader_change(store, "3")]).skipped == 1
    assert reader.version == 1  # only the command's save moved the version


def test_reader_vectors_never_overwrite_topics_changed_meanwhile(papers, store, topic_vectors):
    store.create(_reader(("speech recognition",)))
    change = _reader_change(store, "1")
    current = store.get("r1")
    store.save(current.model_copy(update={"settings": ReaderSettings(topics=("medical imaging",))}))
    outcome = VectorIndexer(papers, topic_vectors, Model()).apply([change])
    assert (outcome.readers, outcome.superseded, outcome.failed) == (0, 1, [])
    assert store.get("r1").topic_vectors == {}
    # The save is on the stream too, and that record gets the right vectors.
    assert VectorIndexer(papers, topic_vectors, Model()).apply([_reader_change(store, "2")]).readers == 1
    assert set(store.get("r1").topic_vectors) == {"medical imaging"}


def test_digest_records_and_deletions_need_nothing(papers, store, topic_vectors):
    model = Model()
    changes = [
        Change(sequence="1", table="subscribers", image={"pk": "SUB#r1", "sk": "DIGEST#2026-11-24"}),
        Change(sequence="2", table="papers", image=None),
    ]
    assert VectorIndexer(papers, topic_vectors, model).apply(changes).skipped == 2
    assert model.calls == []


def test_removing_a_topic_prunes_its_vector_without_the_model(papers, store, topic_vectors):
    store.create(_reader(("speech recognition", "robotics")))
    model = Model()
    indexer = VectorIndexer(papers, topic_vectors, model)
    indexer.apply([_reader_change(store, "1")])
    reader = store.get("r1")
    store.save(reader.model_copy(update={"settings": ReaderSettings(topics=("robotics",))}))
    assert indexer.apply([_reader_change(store, "2")]).readers == 1
    assert store.get("r1").topic_vectors == {"robotics": reader.topic_vectors["robotics"]}
    assert len(model.calls) == 1


def test_liked_papers_get_the_papers_vectors_or_their_text_embedded(papers, store, topic_vectors):
    """`like`: a stored paper's vector is copied without the model; a paper stored just now (looked up
    on arXiv, not embedded yet) has its text embedded; an unliked paper's vector goes."""
    embedded = vectors.pack(vectors.normalise(np.ones((1, vectors.DIM)))[0])
    papers.upsert(_paper("2611.1", "Embedded paper"), NOW)
    papers.set_vector("2611.1", embedded, vectors.MODEL)
    papers.upsert(_paper("2103.00020", "Just looked up"), NOW)
    likes = (LikedPaper(id="2611.1", title="Embedded paper"), LikedPaper(id="2103.00020", title="Just"))
    store.create(_reader(()).model_copy(update={"likes": likes}))
    model = Model()
    indexer = VectorIndexer(papers, topic_vectors, model)
    assert indexer.apply([_reader_change(store, "1")]).readers == 1
    reader = store.get("r1")
    assert reader.like_vectors["2611.1"] == embedded
    assert model.calls == [[paper_text(papers.get("2103.00020"))]]
    assert reader.like_vectors["2103.00020"] == vectors.pack(Model()(model.calls[0])[0])
    # Its own write comes back on the stream: nothing to do.
    assert indexer.apply([_reader_change(store, "2")]).skipped == 1
    store.save(reader.model_copy(update={"likes": likes[:1]}))
    assert indexer.apply([_reader_change(store, "3")]).readers == 1
    assert set(store.get("r1").like_vectors) == {"2611.1"}
    assert len(model.calls) == 1  # pruning needs no model


EVENTS = Path(__file__).resolve().parents[2] / "events"


def _sample(name: str, stack, logical: str) -> dict:
    """A sample event of events/, pointed at the local stack's table (binary values stay base64)."""
    event = json.loads((EVENTS / name).read_text())
    for record in event["Records"]:
        table = record["eventSourceARN"].split(":table/", 1)[1].split("/", 1)[0]
        record["eventSourceARN"] = record["eventSourceARN"].replace(
            table, stack.template.attributes[logical]["Ref"]
        )
    return event


def test_the_sample_events_as_lambda_delivers_them(stack):
    stack.streams = []  # the rows below reach the function only through the sample events
    papers = PaperStore(stack.table("PapersTable"))
    paper = json.loads((EVENTS / "embed_new_paper.json").read_text())["Records"][0]["dynamodb"]["NewImage"]
    papers.upsert(_paper(paper["id"]["S"], paper["title"]["S"]), NOW)
    store = stack.subscribers
    store.create(_reader(("speech recognition", "3D point clouds")))
    embed = stack.functions["EmbedFunction"]

    assert embed.invoke(_sample("embed_new_paper.json", stack, "PapersTable")) == {"batchItemFailures": []}
    assert papers.get(paper["id"]["S"]).vector_model == vectors.MODEL

    event = _sample("embed_topics_changed.json", stack, "SubscribersTable")
    assert embed.invoke(event) == {"batchItemFailures": []}
    kept = base64.b64decode(
        event["Records"][0]["dynamodb"]["NewImage"]["topic_vectors"]["M"]["speech recognition"]["B"]
    )
    reader = store.get("r1")
    assert reader.topic_vectors["speech recognition"] == kept  # decoded, not re-embedded
    assert set(reader.topic_vectors) == {"speech recognition", "3D point clouds"}


def test_the_local_stack_creates_each_tables_stream_as_the_template_declares(stack):
    dynamodb = boto3.client("dynamodb")
    for logical in ("PapersTable", "SubscribersTable"):
        declared = BODY["Resources"][logical]["Properties"]["StreamSpecification"]
        table = dynamodb.describe_table(TableName=stack.template.attributes[logical]["Ref"])["Table"]
        assert table["StreamSpecification"] == {"StreamEnabled": True, **declared}
        assert table["LatestStreamArn"] == stack.template.attributes[logical]["StreamArn"]
    mapped = {(m.function, m.stream_arn) for m in stack.streams}
    assert mapped == {
        ("EmbedFunction", stack.template.attributes["PapersTable"]["StreamArn"]),
        ("EmbedFunction", stack.template.attributes["SubscribersTable"]["StreamArn"]),
    }
