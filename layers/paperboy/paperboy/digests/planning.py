"""Planning: which readers are due this hour, found through the sparse Due index, shard by shard.

PlanDigests fans an hour out into one `SlotJob` per index slot (an hour's shard) that holds readers,
as the slots' occupancy marks say (a mark is written before any reader enters its slot); each slot is
planned by an invocation of its own (PlanShard), page by page, and hands on what it has not read when
its time runs short, so no slot is bounded by one invocation's timeout and no page is read twice by
a healthy run. A run that dies is redelivered and plans its slot again: the jobs it queues twice are
sent once (each period is claimed before its mail goes out).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from paperboy.readers.schedule import hour_slot, period_of, slots_of_hour
from paperboy.readers.slots import SlotIndex

# A planner that missed runs (an outage) still finds readers due this many hours back; once a day,
# at midnight UTC, it looks two days back, so that no reader stays stuck behind a longer outage.
CATCH_UP_HOURS = 3
DEEP_CATCH_UP_HOURS = 48


class DigestJob(BaseModel):
    """One reader's digest for one period: the message PlanShard puts on the digest queue."""

    subscriber_id: str
    period: date
    due: datetime


class SlotJob(BaseModel):
    """One index slot to plan: the message PlanDigests puts on the plan queue."""

    slot: str
    # Readers due before this instant are queued (the end of the hour being planned).
    before: datetime
    # Where an earlier invocation stopped reading the slot (DynamoDB's LastEvaluatedKey).
    start_key: dict[str, Any] | None = None


class SlotPlan(BaseModel):
    jobs: int = 0
    pages: int = 0
    # Set when the slot was not read to its end: the job to hand on.
    rest: SlotJob | None = None


def hour_end(now: datetime) -> datetime:
    return datetime.strptime(hour_slot(now), "%Y-%m-%dT%H").replace(tzinfo=UTC) + timedelta(hours=1)


def slots_to_plan(now: datetime, claim_safe_age: timedelta = timedelta(hours=1)) -> list[SlotJob]:
    """Every index slot the run at `now` plans: this hour's and the catch-up hours', oldest first.

    The catch-up reaches past the claims' safe age: a sweep that released a claim and died before
    queueing its job again leaves a reader due in the past, and the next runs find them."""
    end = hour_end(now)
    start = end - timedelta(hours=1)
    catch_up = max(CATCH_UP_HOURS, math.ceil(claim_safe_age / timedelta(hours=1)) + 2)
    look_back = max(DEEP_CATCH_UP_HOURS, catch_up) if start.hour == 0 else catch_up
    return [
        SlotJob(slot=slot, before=end)
        for back in range(look_back, -1, -1)
        for slot in slots_of_hour(start - timedelta(hours=back))
    ]


def occupied_slots_to_plan(
    slots_index: SlotIndex, now: datetime, claim_safe_age: timedelta = timedelta(hours=1)
) -> list[SlotJob]:
    """The slots of `slots_to_plan` that may hold readers: those with an occupancy mark. A mark
    left on a slot its readers have moved out of costs an empty PlanShard run, never a reader."""
    slots = slots_to_plan(now, claim_safe_age)
    marked = slots_index.marked_slots([job.slot for job in slots])
    return [job for job in slots if job.slot in marked]


def plan_slot(
    slots_index: SlotIndex,
    job: SlotJob,
    enqueue: Callable[[Sequence[DigestJob]], object],
    *,
    time_left: Callable[[], float],
    reserve_seconds: float = 20.0,
    page_size: int | None = None,
) -> SlotPlan:
    """Queue the slot's due readers page by page; stop early (returning the rest) when fewer than
    `reserve_seconds` are left, so the last page's jobs are queued before the invocation ends."""
    result = SlotPlan()
    start_key = job.start_key
    while True:
        readers, start_key = slots_index.due_page(job.slot, start_key, limit=page_size)
        result.pages += 1
        jobs = [
            DigestJob(subscriber_id=reader.id, due=due, period=period_of(reader.settings, due))
            for reader in readers
            if (due := reader.next_due) is not None and due < job.before
        ]
        if jobs:
            enqueue(jobs)
            result.jobs += len(jobs)
        if start_key is None:
            return result
        if time_left() < reserve_seconds:
            result.rest = job.model_copy(update={"start_key": start_key})
            return result
