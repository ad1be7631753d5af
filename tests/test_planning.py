"""PlanDigests' planning: who is due this hour, and what one unreadable index slot costs."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from botocore.exceptions import ClientError

from paperboy.planning import DEEP_CATCH_UP_HOURS, plan
from paperboy.readers import ReaderSettings, Status, Subscriber
from paperboy.schedule import due_slot, next_due
from paperboy.subscribers import SubscriberStore

CREATED = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _readers(store: SubscriberStore, count: int) -> list[Subscriber]:
    made = []
    for number in range(count):
        settings = ReaderSettings(topics=("speech",), send_time=time(7, 0))
        reader = Subscriber(
            id=f"r{number:03d}",
            email=f"reader{number}@example.org",
            status=Status.ACTIVE,
            settings=settings,
            created_at=CREATED,
            confirmed_at=CREATED,
            next_due=next_due(settings, CREATED),  # 2026-11-23 07:00 UTC
        )
        assert store.create(reader)
        made.append(reader)
    return made


def _failing_query(store: SubscriberStore, slots: set[str]) -> None:
    """DynamoDB answering 500 (after the SDK's own retries) for the queries of these index slots."""

    def hook(params: dict[str, Any], **_: Any) -> None:
        if any(f'"{slot}"'.encode() in params["body"] for slot in slots):
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "Query")

    store._table.meta.client.meta.events.register("before-call.dynamodb.Query", hook)


def test_one_unreadable_slot_costs_only_its_own_readers_and_is_reported(store: SubscriberStore) -> None:
    readers = _readers(store, 40)
    broken = due_slot(readers[0].id, readers[0].next_due)
    _failing_query(store, {broken})
    planned = plan(store, datetime(2026, 11, 23, 7, 10, tzinfo=UTC))
    unplanned = {r.id for r in readers if due_slot(r.id, r.next_due) == broken}
    assert planned.unread_slots == [broken]
    assert {job.subscriber_id for job in planned.jobs} == {r.id for r in readers} - unplanned
    assert 0 < len(unplanned) < len(readers)


def test_the_midnight_sweep_finds_readers_left_behind_by_a_long_outage(store: SubscriberStore) -> None:
    readers = _readers(store, 10)
    # Every run between 07:00 and midnight was lost: the hourly catch-up no longer reaches 07:00.
    assert plan(store, datetime(2026, 11, 23, 23, 5, tzinfo=UTC)).jobs == []
    swept = plan(store, datetime(2026, 11, 24, 0, 5, tzinfo=UTC))
    assert sorted(job.subscriber_id for job in swept.jobs) == [r.id for r in readers]
    assert swept.unread_slots == []
    assert DEEP_CATCH_UP_HOURS >= 24
