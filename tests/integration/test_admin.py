"""The operator tool against the local stack: what an operator sees and changes."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from paperboy.admin import Admin, run
from paperboy.papers.store import PaperStore
from paperboy.readers.model import ReaderSettings
from paperboy.semantic import vectors
from paperboy.settings import Settings

FIXTURES = Path(__file__).parents[1] / "fixtures" / "daily_papers"


@pytest.fixture
def stack(stack_pool):
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(FIXTURES)
    with stack_pool.stack(
        domain="papers.example.org",
        start=datetime(2026, 11, 23, 5, tzinfo=UTC),
        fixtures=fixtures,
        prepare=_papers_and_two_readers,
    ) as running:
        yield running


def _papers_and_two_readers(stack):
    stack.fetch()
    stack.add_subscriber("ada@example.org", ReaderSettings(topics=("reinforcement learning",), count=3))
    stack.add_subscriber("bo@example.org", ReaderSettings())


@pytest.fixture
def admin(stack):
    settings = Settings.from_env(stack.functions["SendDigestsFunction"].environment)
    return Admin(settings)


def command(admin, stack, *argv):
    out = io.StringIO()
    status = run(admin, list(argv), out, now=stack.now)
    return status, out.getvalue()


def test_stats_count_readers_by_status_and_digests_sent_today(admin, stack):
    stack.advance(timedelta(hours=4))
    status, out = command(admin, stack, "stats")
    stats = json.loads(out)
    assert status == 0
    assert stats["readers"] == 2 and stats["active"] == 2 and stats["sent_today"] == 2


def test_preview_renders_the_next_digest_without_sending(admin, stack):
    status, out = command(admin, stack, "preview", "ada@example.org")
    assert status == 0
    assert out.startswith("Subject: 3 papers for") and "reinforcement learning" in out.lower()
    assert stack.mailbox.collect() == []


def test_set_and_status_change_a_reader(admin, stack):
    status, out = command(
        admin, stack, "set", "ada@example.org", "topics=robotics, speech", "count=5", "timezone=Europe/Berlin"
    )
    row = json.loads(out)
    assert status == 0 and row["topics"] == "robotics; speech" and row["count"] == 5
    assert row["timezone"] == "Europe/Berlin"
    status, out = command(admin, stack, "status", "bo@example.org", "paused")
    assert json.loads(out)["status"] == "paused"
    assert command(admin, stack, "set", "ada@example.org", "count=99")[0] == 1
    status, out = command(
        admin, stack, "set", "ada@example.org", "topics=generative models (diffusion, GANs)"
    )
    assert status == 0 and json.loads(out)["topics"] == "generative models (diffusion, GANs)"


def test_find_export_and_resend(admin, stack):
    stack.advance(timedelta(hours=4))
    found = json.loads(command(admin, stack, "find", "ada")[1])
    assert [row["email"] for row in found] == ["ada@example.org"]
    exported = command(admin, stack, "export", "--csv")[1].splitlines()
    assert exported[0].startswith("id,email,status") and len(exported) == 3
    before = len(stack.mailbox.collect()) + len(stack.mailbox.delivered)
    status, out = command(admin, stack, "resend", "ada@example.org", date(2026, 11, 23).isoformat())
    assert status == 0 and json.loads(out)["message_id"]
    stack.mailbox.collect()
    assert len(stack.mailbox.delivered) == before + 1
    assert command(admin, stack, "resend", "ada@example.org", "2026-11-01")[0] == 1
    assert command(admin, stack, "show", "nobody@example.org")[0] == 1


def test_backfill_gives_papers_and_readers_stored_before_embedding_their_vectors(corpus, tmp_path):
    fixtures = SourceFixtures()
    for day in ("2026-11-21", "2026-11-22", "2026-11-23"):
        fixtures.hf_days[day] = corpus.write(tmp_path, day, corpus.items(day)[:4])
    start = datetime(2026, 11, 22, 5, tzinfo=UTC)
    with LocalStack(domain="papers.example.org", start=start, fixtures=fixtures) as stack:
        # A deployment from before the Embed function: its stream mappings start after these writes.
        mappings, stack.streams = stack.streams, []
        stack.fetch()
        stack.now += timedelta(days=1)
        stack.fetch()
        stack.add_subscriber("ada@example.org", ReaderSettings(topics=("speech recognition", "robotics")))
        streams = stack.aws.client("dynamodbstreams")
        for mapping in mappings:
            mapping.after = mapping.pending(streams)[-1]["dynamodb"]["SequenceNumber"]
        stack.streams = mappings
        papers = PaperStore(stack.table("PapersTable"))
        assert all(p.vector is None for p in papers.papers_of_day(date(2026, 11, 23)))

        admin = Admin(Settings.from_env(stack.functions["SendDigestsFunction"].environment))
        status, out = command(admin, stack, "backfill", "--days", "2")
        assert status == 0 and json.loads(out) == {"papers": 8, "readers": 1}
        stack.drain_streams()  # on AWS the stream reaches the Embed function within seconds

        for day in (date(2026, 11, 22), date(2026, 11, 23)):
            assert all(p.vector_model == vectors.MODEL for p in papers.papers_of_day(day))
        assert all(p.vector is None for p in papers.papers_of_day(date(2026, 11, 21)))  # older than --days
        ada = stack.subscribers.by_email("ada@example.org")
        assert set(ada.topic_vectors) == {"speech recognition", "robotics"} and ada.version == 0
        # Run again: nothing lacks a vector, nothing is touched.
        assert json.loads(command(admin, stack, "backfill", "--days", "2")[1]) == {"papers": 0, "readers": 0}


def _slot_marks(stack) -> list[dict]:
    table = stack.table("SubscribersTable")
    return [item for item in _scan(table) if item["pk"].startswith("SLOT#")]


def _scan(table) -> list[dict]:
    items, scan = [], {}
    while True:
        page = table.scan(**scan)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_mark_slots_lets_the_planner_find_readers_scheduled_before_slot_marks(admin, stack):
    # A deployment upgraded from a version without slot marks: readers due at 08:00, no marks.
    table = stack.table("SubscribersTable")
    marks = _slot_marks(stack)
    assert marks
    for mark in marks:
        table.delete_item(Key={"pk": mark["pk"], "sk": mark["sk"]})
    stack.advance(timedelta(hours=4))  # to 09:00: the 08:00 run plans nothing
    assert [mail for mail in stack.mailbox.delivered if mail.kind == "digest"] == []
    assert not any(name == "PlanShardFunction" for _, name in stack.invocations)

    status, out = command(admin, stack, "mark-slots")
    assert status == 0 and json.loads(out) == {"readers": 2, "slots": len(_slot_marks(stack))}
    assert {mark["pk"] for mark in _slot_marks(stack)} == {mark["pk"] for mark in marks}
    before = _scan(table)
    assert command(admin, stack, "mark-slots")[1] == out and _scan(table) == before

    stack.advance(timedelta(hours=1))  # the 09:00 run's catch-up plans the 08:00 slots
    digests = sorted(mail.to for mail in stack.mailbox.delivered if mail.kind == "digest")
    assert digests == ["ada@example.org", "bo@example.org"]
