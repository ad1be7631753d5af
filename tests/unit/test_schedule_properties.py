"""The schedule, proved on random readers: every zone in tzdata, any send time, daily or weekly on
any weekday, any last period and any pause end up to years away, at any moment from 1900 to 2100,
many of them around one of the zone's offset changes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from unittest import mock
from zoneinfo import available_timezones

import pytest
from hypothesis import example as explicit
from hypothesis import given, settings
from hypothesis import strategies as st

from paperboy.readers import schedule
from paperboy.readers.model import Frequency, ReaderSettings
from paperboy.readers.schedule import MAX_CANDIDATES, is_delivery_day, local_delivery, next_due, period_of

ZONES = sorted(available_timezones())
FIRST_YEAR, LAST_YEAR = 1900, 2100
DAY = timedelta(days=1)


@cache
def offset_changes(zone: str, year: int) -> tuple[datetime, ...]:
    """The instants (to the minute) in `year` at which the zone's UTC offset changed."""
    tz = ReaderSettings(timezone=zone).zone
    start = datetime(year, 1, 1, tzinfo=UTC)
    days = [start + n * DAY for n in range(367)]
    offsets = [day.astimezone(tz).utcoffset() for day in days]
    changes = []
    for day, offset, then in zip(days, offsets, offsets[1:], strict=False):
        if offset == then:
            continue
        low, high = day, day + DAY
        while high - low > timedelta(minutes=1):
            middle = low + (high - low) / 2
            low, high = (middle, high) if middle.astimezone(tz).utcoffset() == offset else (low, middle)
        changes.append(high)
    return tuple(changes)


@st.composite
def readers(draw: st.DrawFn) -> tuple[ReaderSettings, datetime, date | None, date | None]:
    """A reader's settings, a moment, and their last period and pause end (either may be unset).
    Half the moments fall within days of an offset change, and then half the send times fall
    within 90 minutes of the change's wall time, so gaps and repeated hours are hit often."""
    zone = draw(st.sampled_from(ZONES))
    send_time = time(draw(st.integers(0, 23)), draw(st.integers(0, 59)))
    year = draw(st.integers(FIRST_YEAR + 1, LAST_YEAR - 1))
    changes = offset_changes(zone, year) if draw(st.booleans()) else ()
    if changes:
        change = draw(st.sampled_from(changes))
        now = change + timedelta(minutes=draw(st.integers(-3 * 24 * 60, 4 * 24 * 60)))
        if draw(st.booleans()):
            wall = (change - timedelta(minutes=1)).astimezone(ReaderSettings(timezone=zone).zone)
            send_time = (wall + timedelta(minutes=1 + draw(st.integers(-90, 90)))).time()
    else:
        now = draw(
            st.datetimes(datetime(FIRST_YEAR, 1, 1), datetime(LAST_YEAR, 12, 31), timezones=st.just(UTC))
        )
    reader = ReaderSettings(
        timezone=zone,
        send_time=send_time,
        frequency=draw(st.sampled_from(Frequency)),
        weekday=draw(st.integers(0, 6)),
    )
    today = now.astimezone(reader.zone).date()
    last = draw(st.none() | st.integers(-40, 3).map(lambda days: today + days * DAY))
    pause = draw(st.none() | st.integers(-3, 5 * 366).map(lambda days: today + days * DAY))
    return reader, now, last, pause


@contextmanager
def counted() -> Iterator[mock.Mock]:
    """Counts the candidate days next_due looks at (each costs one local_delivery)."""
    with mock.patch.object(schedule, "local_delivery", wraps=local_delivery) as spy:
        yield spy


def check_one(reader: ReaderSettings, now: datetime, last: date | None, pause: date | None) -> datetime:
    """next_due against the definition: the first delivery after `now` of a new period, not in the
    pause, on a delivery day at the reader's wall time, found in a bounded number of steps."""
    with counted() as spy:
        due = next_due(reader, now, last_period=last, paused_until=pause)
    assert spy.call_count <= MAX_CANDIDATES
    assert due > now
    period = period_of(reader, due)
    assert is_delivery_day(reader, period)
    assert local_delivery(reader, period) == due
    assert last is None or period > last
    assert pause is None or period >= pause
    check_wall_time(reader, period, due)
    # Nothing earlier was due: every new, unpaused delivery day before the period was delivered
    # by `now` already, or shares its instant with `due` (a zone that skipped a whole day).
    floor = max(d for d in (now.astimezone(reader.zone).date() - 3 * DAY, last and last + DAY, pause) if d)
    day = floor
    while day < period:
        if is_delivery_day(reader, day):
            assert local_delivery(reader, day) <= now or local_delivery(reader, day) == due, day
        day += DAY
    return due


def check_wall_time(reader: ReaderSettings, period: date, due: datetime) -> None:
    """At the send time on the period's date, or, where that time was skipped, later by the gap."""
    wall = datetime.combine(period, reader.send_time)
    local = due.astimezone(reader.zone).replace(tzinfo=None)
    if local == wall:
        return
    before = wall.replace(tzinfo=reader.zone, fold=0).utcoffset()
    after = wall.replace(tzinfo=reader.zone, fold=1).utcoffset()
    assert before is not None and after is not None
    gap = after - before
    assert timedelta(0) < gap <= DAY, (wall, local)
    assert local == wall + gap
    # ... and the wall time really does not exist in the zone.
    assert (
        wall.replace(tzinfo=reader.zone).astimezone(UTC).astimezone(reader.zone).replace(tzinfo=None) != wall
    )


def example(zone: str, send_time: str, now: str, frequency: str = "daily", weekday: int = 0, **dates):
    reader = ReaderSettings(
        timezone=zone, send_time=time.fromisoformat(send_time), frequency=frequency, weekday=weekday
    )
    moment = datetime.fromisoformat(now).replace(tzinfo=UTC)
    return (reader, moment, dates.get("last"), dates.get("pause"))


# Found before: a gap before midnight in Greenland, a whole skipped day, pauses past two weeks.
EXAMPLES = [
    example("America/Nuuk", "23:30", "2026-03-28T02:00", last=date(2026, 3, 27)),
    example("America/Scoresbysund", "23:00", "2026-03-27T12:00", "weekly", 5),
    example("America/Nuuk", "23:59", "2026-03-29T01:59", last=date(2026, 3, 28)),
    example("Pacific/Apia", "09:00", "2011-12-29T19:00", last=date(2011, 12, 29)),
    example("UTC", "08:00", "2026-11-23T09:00", pause=date(2026, 12, 7)),
    example("Asia/Tokyo", "07:00", "2026-11-23T09:00", "weekly", 3, pause=date(2029, 2, 1)),
]


def with_examples(test):
    for case in EXAMPLES:
        test = explicit(case)(test)
    return test


@settings(max_examples=400, deadline=None)
@with_examples
@given(readers())
def test_next_due_is_the_first_new_delivery_after_now(case):
    check_one(*case)


@settings(max_examples=150, deadline=None)
@with_examples
@given(readers())
def test_feeding_each_digest_back_never_skips_or_repeats_a_period(case):
    """As the sender does: the period just sent becomes last_period, its due time the new `after`."""
    reader, after, last, pause = case
    sent: list[tuple[date, datetime]] = []
    for _ in range(8):
        due = check_one(reader, after, last, pause)
        last, after = period_of(reader, due), due
        sent.append((last, due))
    for (previous, sent_at), (period, due) in pairwise(sent):
        assert previous < period and sent_at < due
        day = previous + DAY
        while day < period:
            # A delivery day between two sent periods shares an instant with one of them.
            assert not is_delivery_day(reader, day) or local_delivery(reader, day) in (sent_at, due), day
            day += DAY


@pytest.mark.parametrize("year", [2026, 2027])
def test_every_zone_every_half_hour_across_this_years_offset_changes(year):
    """The sweep that found Nuuk: daily readers at each half hour, through each offset change."""
    for zone in ZONES:
        for change in offset_changes(zone, year):
            for minutes in range(0, 24 * 60, 30):
                reader = ReaderSettings(timezone=zone, send_time=time(minutes // 60, minutes % 60))
                after, last = change - 2 * DAY, None
                for _ in range(5):
                    due = next_due(reader, after, last_period=last)
                    period = period_of(reader, due)
                    assert last is None or period == last + DAY, (zone, reader.send_time, period)
                    assert local_delivery(reader, period) == due
                    after, last = due, period
