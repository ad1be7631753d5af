"""When digests are due: local hours, time zones, daylight saving, weekly readers."""

from datetime import UTC, date, datetime, time

from paperboy.readers import ReaderSettings
from paperboy.schedule import due_slot, next_due, period_of, slots_of_hour


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
