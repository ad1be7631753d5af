"""Pausing by reply, end to end on the local stack: a pause of any length is acknowledged and the
digests come back on the first delivery day on or after the pause's end; a pause that cannot be
kept gets an answer saying why."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from test_inbound import reader, reply, stack, subscribe  # noqa: F401  (stack is the fixture)

from paperboy.readers.model import Status

ADA = "ada@example.org"


def digest_days(running, address: str) -> list[date]:
    mails = running.mailbox.delivered
    return [mail.clock.date() for mail in mails if mail.to == address and mail.kind == "digest"]


def deliver_on(running, day: date) -> None:
    """Run the hourly planner around 08:00 UTC on `day`. The clock jumps there without firing the
    schedules in between: the planner would find nobody, and a month of hours takes minutes."""
    eve = datetime.combine(day, time(7, 30), UTC)
    assert eve >= running.now
    running.now = eve
    running.advance(timedelta(hours=1))


@pytest.mark.parametrize(
    ("frequency", "line", "until", "resumes"),
    [
        # The stack starts on Monday 23 Nov 2026 at 05:00 UTC; digests go out at 08:00 UTC.
        ("daily", "pause 2 weeks", date(2026, 12, 7), date(2026, 12, 7)),
        ("daily", "pause until 2026-12-24", date(2026, 12, 24), date(2026, 12, 24)),
        ("weekly fri", "pause until 2026-12-24", date(2026, 12, 24), date(2026, 12, 25)),  # a Thursday
        ("weekly mon", "pause 2 weeks", date(2026, 12, 7), date(2026, 12, 7)),
        ("weekly wed", "pause 10 days", date(2026, 12, 3), date(2026, 12, 9)),
    ],
)
def test_a_paused_reader_is_answered_and_digests_resume_on_the_right_day(
    stack,  # noqa: F811
    frequency,
    line,
    until,
    resumes,
):
    subscribe(stack, ADA)
    # Quiet-day notes on: the fixture papers are from November, and every period must show as a mail.
    reply(stack, **{"from": ADA, "text": f"{frequency}\nquiet days on"})
    reply(stack, **{"from": ADA, "text": line})
    ada = reader(stack, ADA)
    assert (ada.status, ada.paused_until) == (Status.PAUSED, until)
    assert ada.next_due == datetime.combine(resumes, time(8), UTC)
    ack = stack.mailbox.delivered[-1]
    assert (ack.to, ack.kind) == (ADA, "ack")
    assert f"until {until:%d %b %Y}" in ack.part("plain")

    stack.advance(timedelta(hours=4))  # past today's 08:00: paused
    step = timedelta(days=7 if frequency.startswith("weekly") else 1)
    for day in (resumes - step, resumes, resumes + step):
        deliver_on(stack, day)
    assert digest_days(stack, ADA) == [resumes, resumes + step]
    assert reader(stack, ADA).status == Status.ACTIVE


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("pause until 2026-11-01", "that date has passed"),
        ("pause until 9999-12-31", "at most a year"),
        ("pause 999 weeks", "at most a year"),
    ],
)
def test_a_pause_that_cannot_be_kept_is_answered_and_changes_nothing(stack, line, reason):  # noqa: F811
    subscribe(stack, ADA)
    reply(stack, **{"from": ADA, "text": line})
    ada = reader(stack, ADA)
    assert (ada.status, ada.paused_until) == (Status.ACTIVE, None)
    answer = stack.mailbox.delivered[-1]
    assert answer.to == ADA and reason in answer.part("plain")
