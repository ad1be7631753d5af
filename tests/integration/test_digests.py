"""Digests end to end on the local stack: one per reader per period, at their hour, never a paper twice,
through throttling, crashes, redelivery and a planner that fires twice."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import boto3
import pytest

from local_stack import scenario
from local_stack.faults import InjectedCrash
from local_stack.ses_events import EventFaults
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from paperboy.admin import Admin
from paperboy.readers import lifecycle as subscriptions
from paperboy.readers.model import ReaderSettings
from paperboy.settings import Settings

FIXTURES = Path(__file__).parents[1] / "fixtures" / "daily_papers"
SCENARIOS = Path(__file__).parents[1] / "scenarios"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def stack(stack_pool):
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(FIXTURES)
    with stack_pool.stack(
        domain="papers.example.org", start=at("2026-11-23T05:00"), fixtures=fixtures, prepare=LocalStack.fetch
    ) as running:
        yield running


def digests_to(stack: LocalStack, address: str) -> list:
    return [mail for mail in stack.mailbox.delivered if mail.kind == "digest" and mail.to == address]


def paper_ids(stack: LocalStack, address: str) -> list[str]:
    reader = stack.subscribers.by_email(address)
    return [pid for record in stack.ledger.recent_digests(reader.id) for pid in record.paper_ids]


def test_three_readers_over_three_days_each_get_one_digest_a_day_at_their_hour(tmp_path):
    out = tmp_path / "out"
    scenario.run(SCENARIOS / "three_readers.json", out)
    index = json.loads((out / "mail" / "index.json").read_text())
    state = json.loads((out / "state.json").read_text())
    expected_hour = {
        "ada@example.org": (8, "UTC"),
        "bruno@example.de": (7, "Europe/Berlin"),
        "chen@example.com": (6, "America/Los_Angeles"),
    }
    for address, (hour, zone) in expected_hour.items():
        mails = [entry for entry in index if entry["to"] == address]
        assert [entry["kind"] for entry in mails] == ["digest"] * 3, address
        local_days = set()
        for entry in mails:
            sent = datetime.fromisoformat(entry["clock"]).astimezone(__import__("zoneinfo").ZoneInfo(zone))
            assert sent.hour == hour, (address, entry)
            local_days.add(sent.date())
        assert len(local_days) == 3
    for entry in index:
        raw = (out / "mail" / entry["file"]).read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert message["To"] == entry["to"]
    assert {reader["email"]: reader["status"] for reader in state["subscribers"]} == {
        "ada@example.org": "active",
        "bruno@example.de": "active",
        "chen@example.com": "active",
    }


def test_no_paper_is_sent_to_a_reader_twice_across_days(stack):
    stack.add_subscriber("ada@example.org", ReaderSettings(count=10))
    stack.advance(timedelta(days=3))
    ids = paper_ids(stack, "ada@example.org")
    assert len(digests_to(stack, "ada@example.org")) == 3
    assert len(ids) == len(set(ids)) > 10


def test_digest_follows_the_readers_topics_and_exclusions(stack):
    stack.add_subscriber("rl@example.org", ReaderSettings(topics=("reinforcement learning",), count=5))
    stack.add_subscriber("noadv@example.org", ReaderSettings(excludes=("adversarial",), count=25))
    stack.advance(timedelta(hours=4))
    rl_mail = digests_to(stack, "rl@example.org")[0]
    assert "reinforcement learning" in rl_mail.part("plain").lower()
    reader = stack.subscribers.by_email("noadv@example.org")
    titles = stack.ledger.recent_digests(reader.id)[0].paper_titles
    assert titles and not any("adversarial" in title.lower() for title in titles)


def test_a_planner_that_fires_twice_and_a_duplicated_message_send_nothing_twice(stack):
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.now = at("2026-11-23T08:00")
    stack.digest()
    stack.digest()
    reader = stack.subscribers.by_email("ada@example.org")
    queue_url = stack.template.attributes["DigestQueue"]["QueueUrl"]
    job = json.dumps({"subscriber_id": reader.id, "period": "2026-11-23", "due": "2026-11-23T08:00:00Z"})
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=queue_url, MessageBody=job)
    sqs.send_message(QueueUrl=queue_url, MessageBody=job)
    stack.drain_queues()
    assert len(digests_to(stack, "ada@example.org")) == 1


def test_ses_throttling_is_retried_until_the_digest_goes_out_once(stack):
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.faults.add("sesv2.SendEmail", code="TooManyRequestsException", status=429, times=4)
    stack.advance(timedelta(hours=4))
    assert len(digests_to(stack, "ada@example.org")) == 1
    assert stack.faults.rules[0].fired == 4


def test_a_crash_after_sending_and_before_recording_never_sends_a_second_mail(stack):
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.faults.add("dynamodb.TransactWriteItems", when="before", code="InternalServerError", times=10)
    stack.faults.add("sesv2.SendEmail", when="after", times=1)
    stack.advance(timedelta(hours=4))
    assert stack.crashes == 1
    assert len(digests_to(stack, "ada@example.org")) == 1
    stack.faults.clear()
    stack.advance(timedelta(days=1))
    # The reader's schedule caught up: the next day brings exactly one new digest.
    assert len(digests_to(stack, "ada@example.org")) == 2


def test_a_sender_that_dies_before_ses_answers_costs_a_late_digest_not_a_lost_one(stack):
    """The claim is written, the process dies before SendEmail: no Send event ever comes, so the
    hourly sweep releases the claim once it is older than the safe age and the job runs again."""
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.faults.add("dynamodb.PutItem", when="after", times=1)
    stack.advance(timedelta(hours=3, minutes=30))  # 08:00 due, to 08:30
    assert stack.crashes == 1
    assert digests_to(stack, "ada@example.org") == []
    stack.advance(timedelta(hours=2))  # the 09:00 sweep finds the claim an hour old
    [late] = digests_to(stack, "ada@example.org")
    assert late.clock == at("2026-11-23T09:00")
    assert "digest.2026-11-23." in str(late.message["References"])
    stack.advance(timedelta(days=1))
    assert len(digests_to(stack, "ada@example.org")) == 2


def test_a_send_event_that_never_arrives_holds_the_claim_until_the_operator_redrives_it(stack):
    """The mail left, the sender died, and SNS could not deliver the Send event: releasing the claim
    would send a second digest. Nothing is released while an event waits in the dead-letter queue;
    the operator's redrive settles the claim as sent."""
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.faults.add("sesv2.SendEmail", when="after", times=1)
    stack.ses_events.faults = EventFaults(lost=1.0)
    stack.advance(timedelta(hours=4))
    stack.ses_events.faults = EventFaults()
    stack.advance(timedelta(hours=6))
    assert len(digests_to(stack, "ada@example.org")) == 1
    reader = stack.subscribers.by_email("ada@example.org")
    assert stack.ledger.digest(reader.id, date(2026, 11, 23)).open
    settings = Settings.from_env(stack.functions["PlanDigestsFunction"].environment)
    assert Admin(settings).redrive_mail_events(stack.now)["actions"] == {"claim_noted": 1}
    stack.advance(timedelta(hours=1))
    assert stack.subscribers.by_email("ada@example.org").last_period == date(2026, 11, 23)
    stack.advance(timedelta(days=1))
    assert len(digests_to(stack, "ada@example.org")) == 2


def test_an_operator_redrive_that_dies_half_way_finishes_when_run_again_and_applies_nothing_twice(stack):
    """The operator's redrive dies right after an event's write, before the message is deleted (on
    AWS: a lost connection, a closed laptop), twice. Running it again at once finishes the job: every
    event applied, the bounce counted once, the queue empty, each reader one digest."""
    settings = Settings.from_env(stack.functions["PlanDigestsFunction"].environment)
    bounce = {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": "Transient",
            "bounceSubType": "MailboxFull",
            "bouncedRecipients": [{"emailAddress": "ada@example.org"}],
            "feedbackId": "feedback-1",
        },
        "mail": {"messageId": "earlier-mail", "destination": ["ada@example.org"]},
    }
    boto3.client("sqs").send_message(
        QueueUrl=settings.mail_events_dlq_url, MessageBody=json.dumps({"Message": json.dumps(bounce)})
    )
    for address in ("ada@example.org", "bob@example.org"):
        stack.add_subscriber(address, ReaderSettings())
    stack.faults.add("sesv2.SendEmail", when="after", times=2)
    stack.ses_events.faults = EventFaults(lost=1.0)
    stack.advance(timedelta(hours=4))
    stack.ses_events.faults = EventFaults()
    operator = Admin(settings)
    stack.faults.add("dynamodb.PutItem", when="after", times=1)  # the bounce counted, then death
    with pytest.raises(InjectedCrash):
        operator.redrive_mail_events(stack.now)
    stack.faults.add("dynamodb.UpdateItem", when="after", times=1)  # the first claim noted, then death
    with pytest.raises(InjectedCrash):
        operator.redrive_mail_events(stack.now)
    assert operator.redrive_mail_events(stack.now)["actions"] == {"claim_noted": 2}
    assert operator.redrive_mail_events(stack.now)["events"] == 0
    assert stack.subscribers.by_email("ada@example.org").transient_bounces == 1
    stack.advance(timedelta(hours=1))
    for address in ("ada@example.org", "bob@example.org"):
        assert stack.subscribers.by_email(address).last_period == date(2026, 11, 23)
        assert len(digests_to(stack, address)) == 1


def test_a_slot_planner_that_dies_midway_is_run_again_and_nobody_gets_two_digests(stack):
    readers = [f"reader{n}@example.org" for n in range(12)]
    for address in readers:
        stack.add_subscriber(address, ReaderSettings())
    # Every slot's planner dies right after queueing its first batch, once each.
    stack.faults.add("sqs.SendMessageBatch", when="after", times=8, function="PlanShardFunction")
    stack.strict = False
    stack.advance(timedelta(hours=4))
    assert stack.crashes >= 1
    for address in readers:
        assert len(digests_to(stack, address)) == 1, address


def test_permanent_ses_rejection_ends_in_the_dead_letter_queue(stack):
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.faults.add("sesv2.SendEmail", code="MessageRejected", status=400, times=100)
    stack.advance(timedelta(hours=4))
    assert digests_to(stack, "ada@example.org") == []
    dlq = stack.template.attributes["DigestDeadLetterQueue"]["QueueUrl"]
    waiting = boto3.client("sqs").get_queue_attributes(
        QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert int(waiting["Attributes"]["ApproximateNumberOfMessages"]) == 1


def test_a_reader_who_changes_time_zone_mid_day_gets_one_digest_that_day(stack):
    reader = stack.add_subscriber("ada@example.org", ReaderSettings(send_time=time(8, 0)))
    stack.advance(timedelta(hours=5))  # 10:00 UTC: today's digest went out at 08:00
    assert len(digests_to(stack, "ada@example.org")) == 1

    def move_to_los_angeles(current):
        moved = current.model_copy(
            update={"settings": current.settings.model_copy(update={"timezone": "America/Los_Angeles"})}
        )
        return subscriptions.rescheduled(moved, stack.now)

    subscriptions.change(stack.subscribers, reader.id, move_to_los_angeles)
    stack.advance(timedelta(hours=14))  # to 00:00 UTC on the 24th, past 08:00 in LA on the 23rd
    assert len(digests_to(stack, "ada@example.org")) == 1
    stack.advance(timedelta(hours=17))  # 17:00 UTC on the 24th: 09:00 in LA
    mails = digests_to(stack, "ada@example.org")
    assert len(mails) == 2
    assert mails[1].clock == at("2026-11-24T16:00")


def test_unsubscribing_with_one_click_stops_the_next_digest(stack):
    stack.add_subscriber("ada@example.org", ReaderSettings())
    stack.advance(timedelta(hours=4))
    mail = digests_to(stack, "ada@example.org")[0]
    url = mail.message["List-Unsubscribe"].split(",")[0].strip().strip("<>")
    status, page = stack.request(
        "POST", url, b"List-Unsubscribe=One-Click", {"content-type": "application/x-www-form-urlencoded"}
    )
    assert status == 200 and "unsubscribed" in page
    stack.advance(timedelta(days=2))
    assert len(digests_to(stack, "ada@example.org")) == 1
    assert stack.subscribers.by_email("ada@example.org").status == "unsubscribed"


def test_digests_are_read_once_per_container_per_hour(stack):
    for number in range(12):
        stack.add_subscriber(f"reader{number}@example.org", ReaderSettings(count=3))
    stack.advance(timedelta(hours=4))
    sender = stack.functions["SendDigestsFunction"]._module.SENDER
    assert sum(1 for mail in stack.mailbox.delivered if mail.kind == "digest") == 12
    # One hour of sending, one look-back window: three days read once, not once per reader.
    assert sender.pool.reads == 3


def test_a_topic_reader_sees_also_trending_below_the_picks_never_twice_and_can_turn_it_off(stack):
    stack.add_subscriber("rl@example.org", ReaderSettings(topics=("reinforcement learning",), count=5))
    stack.add_subscriber(
        "quiet@example.org", ReaderSettings(topics=("reinforcement learning",), trending=False)
    )
    stack.add_subscriber("all@example.org", ReaderSettings(count=5))
    stack.advance(timedelta(hours=4))
    reader = stack.subscribers.by_email("rl@example.org")
    record = stack.ledger.recent_digests(reader.id)[0]
    assert len(record.paper_ids) == 5 and len(record.trending_ids) == 3
    assert not set(record.trending_ids) & set(record.paper_ids)
    text = digests_to(stack, "rl@example.org")[0].part("plain")
    section = text.split("Also trending (", 1)[1]
    titles = {p["id"]: p["title"] for day in stack.papers_by_day().values() for p in day}
    assert all(titles[paper_id] in section for paper_id in record.trending_ids)
    # Not numbered: "more 6" is not one of them.
    assert "6. " not in section and "Also trending" in (
        digests_to(stack, "rl@example.org")[0].part("html") or ""
    )
    # Shown once: the next day's section has others.
    stack.advance(timedelta(days=1))
    second = stack.ledger.recent_digests(reader.id)[0]
    assert second.period > record.period and not set(second.trending_ids) & set(record.trending_ids)
    # Off by choice, and never for a reader whose picks are the trending papers already.
    for address in ("quiet@example.org", "all@example.org"):
        assert "Also trending (" not in digests_to(stack, address)[0].part("plain")
        assert stack.ledger.recent_digests(stack.subscribers.by_email(address).id)[0].trending_ids == []
