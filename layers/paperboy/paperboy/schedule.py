"""When a reader's next digest is due, in UTC, from their local time, zone and frequency.

A digest period is the reader's local calendar date of delivery. The next due time is always
computed from the zone's rules for that date, so daylight-saving shifts and zone changes move the
UTC hour with them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

from paperboy.readers import Frequency, ReaderSettings

# Readers due in one UTC hour are spread over this many index partitions so that a million
# readers at 08:00 never make one hot DynamoDB partition.
DUE_SHARDS = 8
_SEARCH_DAYS = 15


def local_delivery(settings: ReaderSettings, day: date) -> datetime:
    """The UTC instant of delivery on local date `day`; a time skipped by DST moves forward."""
    zone = settings.zone
    wall = datetime.combine(day, settings.send_time, zone)
    instant = wall.astimezone(UTC)
    # A wall time inside a spring-forward gap does not round-trip; deliver at the shifted time.
    return (
        instant
        if instant.astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None)
        else (wall + timedelta(hours=1)).astimezone(UTC)
    )


def next_due(
    settings: ReaderSettings,
    after: datetime,
    *,
    last_period: date | None = None,
    paused_until: date | None = None,
) -> datetime:
    """The first delivery strictly after `after` whose local date is a new period for the reader."""
    start = after.astimezone(settings.zone).date() - timedelta(days=1)
    for offset in range(_SEARCH_DAYS):
        day = start + timedelta(days=offset)
        if last_period is not None and day <= last_period:
            continue
        if paused_until is not None and day < paused_until:
            continue
        if settings.frequency is Frequency.WEEKLY and day.weekday() != settings.weekday:
            continue
        due = local_delivery(settings, day)
        if due > after:
            return due
    raise AssertionError("a delivery day always exists within two weeks")  # pragma: no cover


def period_of(settings: ReaderSettings, due: datetime) -> date:
    """The local date a delivery at `due` belongs to."""
    return due.astimezone(settings.zone).date()


def hour_slot(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def shard_of(subscriber_id: str) -> int:
    """A reader's stable index shard."""
    return int(hashlib.sha256(subscriber_id.encode()).hexdigest()[:8], 16) % DUE_SHARDS


def due_slot(subscriber_id: str, due: datetime) -> str:
    """The sparse-index partition a reader sits in: their due UTC hour plus a stable shard."""
    return f"{hour_slot(due)}#{shard_of(subscriber_id)}"


def slots_of_hour(moment: datetime) -> list[str]:
    hour = hour_slot(moment)
    return [f"{hour}#{shard}" for shard in range(DUE_SHARDS)]
