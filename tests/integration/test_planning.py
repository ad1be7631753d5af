"""Planning: an hour fans out into index slots, each planned page by page by an invocation of its own."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_stack.sources import SourceFixtures
from paperboy.digests.planning import (
    CATCH_UP_HOURS,
    DEEP_CATCH_UP_HOURS,
    DigestJob,
    SlotJob,
    occupied_slots_to_plan,
    plan_slot,
    slots_to_plan,
)
from paperboy.readers.model import ReaderSettings, Status, Subscriber
from paperboy.readers.schedule import DUE_SHARDS, due_slot, next_due
from paperboy.readers.slots import SLOT_MARK_LIFETIME, SlotIndex
from paperboy.readers.store import SubscriberStore

CREATED = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _readers(store: SubscriberStore, count: int, send_time: time = time(7, 0)) -> list[Subscriber]:
    made = []
    for number in range(count):
        settings = ReaderSettings(topics=("speech",), send_time=send_time)
        reader = Subscriber(
            id=f"r{send_time.hour:02d}{number:04d}",
            email=f"reader{send_time.hour}-{number}@example.org",
            status=Status.ACTIVE,
            settings=settings,
            created_at=CREATED,
            confirmed_at=CREATED,
            next_due=next_due(settings, CREATED),  # 2026-11-23 at send_time UTC
        )
        assert store.create(reader)
        made.append(reader)
    return made


def _plan_hour(slots: SlotIndex, now: datetime, **options: Any) -> list[DigestJob]:
    queued: list[DigestJob] = []
    for slot in occupied_slots_to_plan(slots, now):
        rest: SlotJob | None = slot
        while rest is not None:
            rest = plan_slot(slots, rest, queued.extend, time_left=lambda: 300.0, **options).rest
    return queued


def test_an_hour_fans_out_into_its_shards_and_the_catch_up_hours() -> None:
    slots = slots_to_plan(datetime(2026, 11, 23, 7, 10, tzinfo=UTC))
    assert len(slots) == (CATCH_UP_HOURS + 1) * DUE_SHARDS
    assert {s.slot for s in slots} >= {f"2026-11-23T07#{shard}" for shard in range(DUE_SHARDS)}
    assert {s.before for s in slots} == {datetime(2026, 11, 23, 8, 0, tzinfo=UTC)}
    midnight = slots_to_plan(datetime(2026, 11, 24, 0, 5, tzinfo=UTC))
    assert len(midnight) == (DEEP_CATCH_UP_HOURS + 1) * DUE_SHARDS


def test_each_due_reader_is_queued_once_and_readers_due_later_are_not(
    store: SubscriberStore, slots: SlotIndex
) -> None:
    due = _readers(store, 30)
    _readers(store, 5, send_time=time(9, 0))
    queued = _plan_hour(slots, datetime(2026, 11, 23, 7, 10, tzinfo=UTC))
    assert sorted(job.subscriber_id for job in queued) == sorted(r.id for r in due)
    assert {job.period.isoformat() for job in queued} == {"2026-11-23"}


def test_a_slot_read_in_pieces_queues_every_reader_exactly_once(
    store: SubscriberStore, slots: SlotIndex
) -> None:
    """An invocation short of time hands the rest of its slot on: nothing lost, nothing twice."""
    readers = _readers(store, 60)
    slot = due_slot(readers[0].id, readers[0].next_due)
    in_slot = {r.id for r in readers if due_slot(r.id, r.next_due) == slot}
    queued: list[DigestJob] = []
    job: SlotJob | None = SlotJob(slot=slot, before=datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    invocations = 0
    while job is not None:
        invocations += 1
        clock = iter([300.0, 5.0])  # the first page leaves plenty, the second almost nothing
        planned = plan_slot(
            slots, job, queued.extend, time_left=lambda clock=clock: next(clock, 5.0), page_size=2
        )
        job = planned.rest
    assert invocations > 1
    assert Counter(j.subscriber_id for j in queued) == Counter(in_slot)


def test_an_unreadable_slot_fails_its_own_message_only(store: SubscriberStore, slots: SlotIndex) -> None:
    readers = _readers(store, 10)
    broken = due_slot(readers[0].id, readers[0].next_due)

    def hook(params: dict[str, Any], **_: Any) -> None:
        if f'"{broken}"'.encode() in params["body"]:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "Query")

    store._table.meta.client.meta.events.register("before-call.dynamodb.Query", hook)
    with pytest.raises(ClientError):
        plan_slot(slots, SlotJob(slot=broken, before=CREATED.replace(day=24)), list, time_left=lambda: 300.0)
    other = next(r for r in readers if due_slot(r.id, r.next_due) != broken)
    queued: list[DigestJob] = []
    plan_slot(
        slots,
        SlotJob(slot=due_slot(other.id, other.next_due), before=CREATED.replace(day=24)),
        queued.extend,
        time_left=lambda: 300.0,
    )
    assert other.id in {job.subscriber_id for job in queued}


def test_the_midnight_sweep_finds_readers_left_behind_by_a_long_outage(
    store: SubscriberStore, slots: SlotIndex
) -> None:
    readers = _readers(store, 10)
    # Every run between 07:00 and midnight was lost: the hourly catch-up no longer reaches 07:00.
    assert _plan_hour(slots, datetime(2026, 11, 23, 23, 5, tzinfo=UTC)) == []
    swept = _plan_hour(slots, datetime(2026, 11, 24, 0, 5, tzinfo=UTC))
    assert sorted(job.subscriber_id for job in swept) == [r.id for r in readers]
    assert DEEP_CATCH_UP_HOURS >= 24


def test_only_slots_that_hold_readers_are_planned(store: SubscriberStore, slots: SlotIndex) -> None:
    readers = _readers(store, 3) + _readers(store, 2, send_time=time(9, 0))
    occupied = {due_slot(r.id, r.next_due) for r in readers}
    at_seven = occupied_slots_to_plan(slots, datetime(2026, 11, 23, 7, 10, tzinfo=UTC))
    assert {job.slot for job in at_seven} == {s for s in occupied if s.startswith("2026-11-23T07")}
    # The deep look-back at midnight reads every hour of two days, and still only the marked slots.
    midnight = occupied_slots_to_plan(slots, datetime(2026, 11, 24, 0, 5, tzinfo=UTC))
    assert {job.slot for job in midnight} == occupied
    assert timedelta(hours=DEEP_CATCH_UP_HOURS + 1) < SLOT_MARK_LIFETIME


def test_a_reader_whose_write_died_after_marking_is_still_found_and_a_stale_mark_costs_an_empty_run(
    store: SubscriberStore,
    slots: SlotIndex,
) -> None:
    (reader,) = _readers(store, 1)
    moved = reader.model_copy(update={"next_due": reader.next_due + timedelta(hours=2)})

    def die_on_put(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "PutItem")

    # The move to 09:00 dies after the new slot is marked: the reader stays at 07:00 and is planned.
    store._table.meta.client.meta.events.register("before-call.dynamodb.PutItem", die_on_put)
    with pytest.raises(ClientError):
        store.save(moved)
    store._table.meta.client.meta.events.unregister("before-call.dynamodb.PutItem", die_on_put)
    assert [j.subscriber_id for j in _plan_hour(slots, datetime(2026, 11, 23, 7, 10, tzinfo=UTC))] == [
        reader.id
    ]
    stale = due_slot(reader.id, moved.next_due)
    nine = occupied_slots_to_plan(slots, datetime(2026, 11, 23, 9, 10, tzinfo=UTC))
    assert stale in {job.slot for job in nine}
    assert (
        plan_slot(
            slots, SlotJob(slot=stale, before=CREATED.replace(day=24)), list, time_left=lambda: 300.0
        ).jobs
        == 0
    )


def test_a_day_of_the_schedule_invokes_plan_shard_only_for_occupied_slots(
    stack_pool, corpus, tmp_path
) -> None:
    """Three readers over a day of the local stack's schedule: PlanShard runs for their slots, by
    the hour's own run, the catch-up runs after it and the midnight look-back; not for every slot."""
    fixtures = SourceFixtures()
    for day in ("2026-11-23", "2026-11-24", "2026-11-25"):
        fixtures.hf_days[day] = corpus.write(tmp_path, day, corpus.items(day)[:2])
    start = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
    with stack_pool.stack(domain="papers.example.org", start=start, fixtures=fixtures) as stack:
        readers = [
            stack.add_subscriber("ada@example.org", ReaderSettings(send_time=time(7, 0))),
            stack.add_subscriber(
                "bruno@example.de", ReaderSettings(send_time=time(7, 30), timezone="Europe/Berlin")
            ),
            stack.add_subscriber("chen@example.com", ReaderSettings(send_time=time(18, 0))),
        ]
        stack.advance(timedelta(hours=24))
        plan_shards = sum(1 for _, name in stack.invocations if name == "PlanShardFunction")
        digests = Counter(mail.to for mail in stack.mailbox.delivered if mail.kind == "digest")
    occupied = {due_slot(r.id, r.next_due) for r in readers}
    assert len(occupied) == 3
    assert digests == Counter(r.email for r in readers)
    assert plan_shards == len(occupied) * (1 + CATCH_UP_HOURS + 1)
