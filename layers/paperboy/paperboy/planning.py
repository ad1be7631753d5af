"""PlanDigests' work: which readers are due this hour, found through the sparse Due index."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel

from paperboy.schedule import hour_slot, period_of, slots_of_hour
from paperboy.subscribers import SubscriberStore

# A planner that missed runs (an outage) still finds readers due this many hours back; once a day,
# at midnight UTC, it looks two days back, so that no reader stays stuck behind a longer outage.
CATCH_UP_HOURS = 3
DEEP_CATCH_UP_HOURS = 48


class DigestJob(BaseModel):
    """One reader's digest for one period: the message PlanDigests puts on the queue."""

    subscriber_id: str
    period: date
    due: datetime


def plan(store: SubscriberStore, now: datetime) -> list[DigestJob]:
    """Readers due by the end of this UTC hour, found through the sparse Due index."""
    hour_start = datetime.strptime(hour_slot(now), "%Y-%m-%dT%H").replace(tzinfo=UTC)
    hour_end = hour_start + timedelta(hours=1)
    jobs: dict[str, DigestJob] = {}
    look_back = DEEP_CATCH_UP_HOURS if hour_start.hour == 0 else CATCH_UP_HOURS
    for back in range(look_back, -1, -1):
        for reader in store.due(slots_of_hour(hour_start - timedelta(hours=back))):
            if reader.next_due is None or reader.next_due >= hour_end:
                continue
            jobs[reader.id] = DigestJob(
                subscriber_id=reader.id,
                due=reader.next_due,
                period=period_of(reader.settings, reader.next_due),
            )
    return list(jobs.values())
