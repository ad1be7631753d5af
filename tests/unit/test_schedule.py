"""When digests are due: local hours, time zones, daylight saving, weekly readers."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from paperboy.readers.model import ReaderSettings
from paperboy.readers.schedule import due_slot, next_due, period_of, slots_of_hour


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_daily_reader_is_due_at_their_local_hour():
    berlin = ReaderSettings(timezone="Europe/Berlin", send_time=time(7, 30))
    assert next_due(berlin, at("2026-11-23T03:00")) == at("2026-11-23T06:30")
    assert next_due(berlin, at("2026-11-23T06:30")) == at("2026-11-24T06:30")


def test_daylight_saving_moves_the_utc_hour_not_the_local_one():
    berlin = ReaderSettings(timezone="Europe/Berlin", send_time=time(8, 0))
    assert next_due(berlin, at("2026-03-28T12:00")) == at("2026-03-29T06:00")  # CEST begins
    assert next_due(berlin, at("2026-03-27T12:00")) == at("2026-03-28T07:00")
    assert next_due(berlin, at("2026-10-24T12:00")) == at("2026-10-25T07:00")  # CET again


def test_a_time_skipped_by_daylight_saving_is_delivered_just_after():
    new_york = ReaderSettings(timezone="America/New_York", send_time=time(2, 30))
    assert next_due(new_york, at("2026-03-08T00:00")) == at("2026-03-08T07:30")


def test_a_sent_period_is_never_due_again():
    reader = ReaderSettings()
    assert next_due(reader, at("2026-11-23T07:00"), last_period=date(2026, 11, 23)) == at("2026-11-24T08:00")


def test_changing_time_zone_after_todays_digest_waits_for_tomorrow():
    los_angeles = ReaderSettings(timezone="America/Los_Angeles", send_time=time(8, 0))
    # Sent at 08:00 UTC on the 23rd; at 10:00 UTC the reader moves to LA, where it is still the 23rd.
    assert next_due(los_angeles, at("2026-11-23T10:00"), last_period=date(2026, 11, 23)) == at(
        "2026-11-24T16:00"
    )


def test_weekly_readers_get_their_weekday_only():
    friday = ReaderSettings(frequency="weekly", weekday=4)
    assert next_due(friday, at("2026-11-23T09:00")) == at("2026-11-27T08:00")


def test_pause_until_skips_the_paused_days():
    reader = ReaderSettings()
    assert next_due(reader, at("2026-11-23T09:00"), paused_until=date(2026, 12, 1)) == at("2026-12-01T08:00")


def test_period_is_the_local_date_of_delivery():
    tokyo = ReaderSettings(timezone="Asia/Tokyo", send_time=time(7, 0))
    assert period_of(tokyo, at("2026-11-22T22:00")) == date(2026, 11, 23)


def test_due_slots_spread_one_hour_over_shards():
    moment = at("2026-11-23T08:00")
    slots = slots_of_hour(moment)
    assert len(set(slots)) == len(slots) > 1
    assert due_slot("reader-1", at("2026-11-23T08:30")) in slots


def deliveries(settings: ReaderSettings, after: datetime, count: int) -> list[tuple[date, datetime]]:
    """The next `count` (period, due) pairs, each fed back as the planner and sender would."""
    found: list[tuple[date, datetime]] = []
    last = None
    for _ in range(count):
        due = next_due(settings, after, last_period=last)
        last, after = period_of(settings, due), due
        found.append((last, due))
    return found


@pytest.mark.parametrize("zone", ["America/Nuuk", "America/Scoresbysund"])
@pytest.mark.parametrize("send_time", [time(23, 0), time(23, 30), time(23, 59)])
def test_a_gap_just_before_midnight_shifts_the_digest_into_the_next_day_and_skips_none(zone, send_time):
    # Both zones spring forward at 01:00 UTC on 29 Mar 2026: 23:00 on the 28th becomes 00:00.
    reader = ReaderSettings(timezone=zone, send_time=send_time)
    found = deliveries(reader, at("2026-03-27T12:00"), 3)
    assert [period for period, _ in found] == [date(2026, 3, 27), date(2026, 3, 28), date(2026, 3, 29)]
    minute = send_time.minute
    assert [due for _, due in found] == [
        at(f"2026-03-28T01:{minute:02}"),  # 23:xx at UTC-2
        at(f"2026-03-29T01:{minute:02}"),  # 23:xx skipped: 00:xx on the 29th at UTC-1
        at(f"2026-03-30T00:{minute:02}"),  # 23:xx at UTC-1
    ]


def test_a_weekly_digest_shifted_past_midnight_belongs_to_its_weekday():
    saturday = ReaderSettings(timezone="America/Nuuk", send_time=time(23, 30), frequency="weekly", weekday=5)
    due = next_due(saturday, at("2026-03-27T12:00"))
    assert due == at("2026-03-29T01:30")  # Sunday 00:30 local
    assert period_of(saturday, due) == date(2026, 3, 28)
    assert next_due(saturday, due, last_period=date(2026, 3, 28)) == at("2026-04-05T00:30")


def test_a_gap_shifts_the_digest_by_its_own_length():
    # Lord Howe Island springs forward by half an hour, 02:00 to 02:30.
    lord_howe = ReaderSettings(timezone="Australia/Lord_Howe", send_time=time(2, 15))
    assert next_due(lord_howe, at("2026-10-03T00:00")) == at("2026-10-03T15:45")  # 02:45 local


def test_a_day_the_zone_skipped_gets_no_second_digest():
    # Samoa skipped 30 Dec 2011: its digest and the 31st's fall on one instant, sent once.
    apia = ReaderSettings(timezone="Pacific/Apia", send_time=time(9, 0))
    assert deliveries(apia, at("2011-12-29T00:00"), 3) == [
        (date(2011, 12, 29), at("2011-12-29T19:00")),
        (date(2011, 12, 31), at("2011-12-30T19:00")),
        (date(2012, 1, 1), at("2011-12-31T19:00")),
    ]


@pytest.mark.parametrize("frequency", ["daily", "weekly"])
@pytest.mark.parametrize("weekday", range(7))
@pytest.mark.parametrize("days", [8, 10, 13, 14, 15, 31, 366, 3 * 365])
def test_a_pause_of_any_length_resumes_on_the_first_delivery_day_from_its_end(frequency, weekday, days):
    reader = ReaderSettings(frequency=frequency, weekday=weekday)
    now = at("2026-11-23T09:00")  # a Monday, after the day's digest
    until = now.date() + timedelta(days=days)
    wait = (weekday - until.weekday()) % 7 if frequency == "weekly" else 0
    expected = datetime.combine(until + timedelta(days=wait), time(8), UTC)
    assert next_due(reader, now, paused_until=until) == expected
    assert next_due(reader, now, last_period=now.date(), paused_until=until) == expected
