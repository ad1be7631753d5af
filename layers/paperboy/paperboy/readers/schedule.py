"""When a reader's next digest is due, in UTC, from their local time, zone and frequency.

A digest period is the reader's local calendar date whose send time the digest is for. The next
due time is always computed from the zone's rules for that date, so daylight-saving shifts and zone
changes move the UTC hour with them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from paperboy.readers.model import Frequency, ReaderSettings

# Readers due in one UTC hour are spread over this many index partitions so that a million
# readers at 08:00 never make one hot DynamoDB partition.
DUE_SHARDS = 8
# next_due looks at no more candidate days than this. The first candidate is at the earliest the
# day before `after`'s local date (that day's delivery can be shifted past midnight by a gap); the
# fourth is at least two days after `after`'s local date, so its wall time is more than 24 hours
# past `after`'s and it is later than `after` unless the zone's offset rose by more than 24 hours
# within three days, which no zone in tzdata has ever done (Pacific/Apia skipped one whole day in
# 2011: exactly 24 hours). Weekly readers need two candidates at most.
MAX_CANDIDATES = 4


def local_delivery(settings: ReaderSettings, day: date) -> datetime:
    """The UTC instant of delivery on local date `day`.

    A wall time skipped by a spring-forward gap is read with the offset in force before the gap
    (PEP 495, fold=0), which moves it forward by exactly the gap's length: 02:30 in New York's
    one-hour gap is 03:30, 23:30 in Nuuk's gap before midnight is 00:30 the next day, and a day
    a zone skipped entirely is delivered 24 hours later."""
    return datetime.combine(day, settings.send_time, settings.zone).astimezone(UTC)


def is_delivery_day(settings: ReaderSettings, day: date) -> bool:
    return settings.frequency is Frequency.DAILY or day.weekday() == settings.weekday


def _delivery_days(settings: ReaderSettings, first: date) -> Iterator[date]:
    """The reader's delivery days from `first` on, in order."""
    weekly = settings.frequency is Frequency.WEEKLY
    day = first + timedelta(days=(settings.weekday - first.weekday()) % 7 if weekly else 0)
    step = timedelta(days=7 if weekly else 1)
    while True:
        yield day
        day += step


def next_due(
    settings: ReaderSettings,
    after: datetime,
    *,
    last_period: date | None = None,
    paused_until: date | None = None,
) -> datetime:
    """The first delivery strictly after `after` whose local date is a new period for the reader.

    Starts at the latest of the day before `after`'s local date, the day after the last period
    and the pause's end, so a pause of any length costs the same few steps."""
    first = after.astimezone(settings.zone).date() - timedelta(days=1)
    if last_period is not None:
        first = max(first, last_period + timedelta(days=1))
    if paused_until is not None:
        first = max(first, paused_until)
    candidates = _delivery_days(settings, first)
    for _ in range(MAX_CANDIDATES - 1):
        due = local_delivery(settings, next(candidates))
        if due > after:
            return due
    # Later than `after` by the argument at MAX_CANDIDATES: no search that can run out.
    return local_delivery(settings, next(candidates))


def period_of(settings: ReaderSettings, due: datetime) -> date:
    """The local date a delivery at `due` belongs to: the local date of `due`, or the day before
    when that day's send time fell into a gap and was shifted past midnight (Nuuk's 23:00 gap).
    Where a zone skipped a whole day, both days deliver at one instant: it is the later day's."""
    day = due.astimezone(settings.zone).date()
    if is_delivery_day(settings, day) and local_delivery(settings, day) == due:
        return day
    before = day - timedelta(days=1)
    shifted = is_delivery_day(settings, before) and local_delivery(settings, before) == due
    return before if shifted else day


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
