"""PlanDigests' work: which readers are due this hour, found through the sparse Due index."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError
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


class Plan(BaseModel):
    jobs: list[DigestJob]
    # Index slots whose query failed. Their readers are not in `jobs`: the run must be retried.
    unread_slots: list[str] = []


class IncompletePlan(Exception):
    """Some index slots could not be read; the jobs found were queued, the run must go again."""

    def __init__(self, unread_slots: list[str]) -> None:
        super().__init__(f"{len(unread_slots)} index slots unread: {', '.join(unread_slots[:5])}")
        self.unread_slots = unread_slots


def plan(store: SubscriberStore, now: datetime) -> Plan:
    """Readers due by the end of this UTC hour, found through the sparse Due index.

    Slot by slot: the midnight sweep reads hundreds of slots, and one failed query must not cost
    the readers found in all the others (a retry of the run then reads every slot again)."""
    hour_start = datetime.strptime(hour_slot(now), "%Y-%m-%dT%H").replace(tzinfo=UTC)
    hour_end = hour_start + timedelta(hours=1)
    jobs: dict[str, DigestJob] = {}
    unread: list[str] = []
    look_back = DEEP_CATCH_UP_HOURS if hour_start.hour == 0 else CATCH_UP_HOURS
    for back in range(look_back, -1, -1):
        for slot in slots_of_hour(hour_start - timedelta(hours=back)):
            try:
                readers = list(store.due([slot]))
            except (ClientError, BotoCoreError):
                unread.append(slot)
                continue
            for reader in readers:
                if reader.next_due is None or reader.next_due >= hour_end:
                    continue
                jobs[reader.id] = DigestJob(
                    subscriber_id=reader.id,
                    due=reader.next_due,
                    period=period_of(reader.settings, reader.next_due),
                )
    return Plan(jobs=list(jobs.values()), unread_slots=unread)
