"""Bounces and complaints from SES (configuration set -> SNS -> MailEvents) take addresses off the list."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import SUBSCRIBERS_TABLE
from samtranslator.yaml_helper import yaml_parse

from local_stack.lambdas import LocalFunction
from local_stack.template import ROOT, TEMPLATE
from paperboy.mail import events as mail_events
from paperboy.mail.events import Action, Signal
from paperboy.readers.lifecycle import activate
from paperboy.readers.model import ReaderSettings, Status, Subscriber
from paperboy.readers.schedule import next_due
from paperboy.readers.store import SubscriberStore

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
EVENTS = ROOT / "events"
MAIL = {
    "timestamp": "2026-11-28T07:00:59.012Z",
    "source": "digest@papers.example.org",
    "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/papers.example.org",
    "sendingAccountId": "123456789012",
    "messageId": "0100019ac1f0a1b2-5e1c2d3e-aaaa-bbbb-cccc-1234567890ab-000000",
    "destination": ["ada@example.org"],
    "headersTruncated": False,
    "tags": {"ses:configuration-set": ["paperboy"], "kind": ["digest"]},
}


def bounce(
    address: str,
    bounce_type: str = "Permanent",
    sub_type: str = "General",
    feedback: str = "fb-1",
    key: str = "eventType",
) -> dict:
    return {
        key: "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": sub_type,
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": "2026-11-28T07:01:02.669Z",
            "feedbackId": feedback,
            "reportingMTA": "dsn; mta.example.net",
        },
        "mail": {**MAIL, "destination": [address]},
    }


def complaint(address: str, feedback_type: str | None = "abuse", key: str = "eventType") -> dict:
    body: dict = {
        "complainedRecipients": [{"emailAddress": address}],
        "timestamp": "2026-11-28T09:41:02.669Z",
        "feedbackId": "fb-complaint",
        "userAgent": "Yahoo!-Mail-Feedback/2.0",
        "arrivalDate": "2026-11-28T09:40:58.000Z",
    }
    if feedback_type is not None:
        body["complaintFeedbackType"] = feedback_type
    return {key: "Complaint", "complaint": body, "mail": {**MAIL, "destination": [address]}}


def delivery(address: str) -> dict:
    return {
        "eventType": "Delivery",
        "mail": {**MAIL, "destination": [address]},
        "delivery": {
            "timestamp": "2026-11-28T07:01:01.000Z",
            "processingTimeMillis": 1200,
            "recipients": [address],
            "smtpResponse": "250 2.0.0 OK",
            "reportingMTA": "a8-1.smtp-out",
        },
    }


def sns_record(message: dict | str, message_id: str = "95df01b4-ee98-5cb9-9903-4c221d41eb5e") -> dict:
    record = json.loads((EVENTS / "mail_events_bounce.json").read_text())
    record["Records"][0]["Sns"]["MessageId"] = message_id
    record["Records"][0]["Sns"]["Message"] = message if isinstance(message, str) else json.dumps(message)
    return record


def add_reader(store: SubscriberStore, email: str, reader_id: str = "r1") -> Subscriber:
    settings = ReaderSettings()
    reader = Subscriber(
        id=reader_id,
        email=email,
        status=Status.ACTIVE,
        settings=settings,
        created_at=NOW,
        confirmed_at=NOW,
        next_due=next_due(settings, NOW),
    )
    assert store.create(reader)
    return store.get(reader_id)


def due_now(store: SubscriberStore, reader: Subscriber) -> bool:
    """Whether the planner's sparse index still lists the reader."""
    items = store._table.scan(FilterExpression="attribute_exists(due_slot)")["Items"]
    return any(item["pk"] == f"SUB#{reader.id}" for item in items)


# -- permanent bounces -------------------------------------------------------------------------------
def test_a_permanent_bounce_suppresses_the_reader_and_unschedules_every_digest(store, ledger):
    reader = add_reader(store, "gone@example.net")
    assert due_now(store, reader)

    [outcome] = mail_events.handle(store, ledger, json.dumps(bounce("gone@example.net")), NOW)

    assert (outcome.signal, outcome.action) == (Signal.PERMANENT_BOUNCE, Action.SUPPRESSED)
    assert outcome.subscriber_id == reader.id and outcome.detail == "General"
    gone = store.get(reader.id)
    assert gone.status is Status.SUPPRESSED and gone.next_due is None
    assert not due_now(store, gone)
    # Confirming or resubscribing later cannot bring a suppressed address back.
    assert activate(store, reader.id, NOW + timedelta(days=1)).status is Status.SUPPRESSED


@pytest.mark.parametrize("sub_type", ["General", "NoEmail", "Suppressed", "OnAccountSuppressionList"])
def test_every_permanent_subtype_suppresses(store, sub_type, ledger):
    reader = add_reader(store, "gone@example.net")
    [outcome] = mail_events.handle(store, ledger, bounce("gone@example.net", sub_type=sub_type), NOW)
    assert outcome.action is Action.SUPPRESSED
    assert store.get(reader.id).status is Status.SUPPRESSED


def test_the_literal_sns_record_in_events_suppresses_its_recipient(store, ledger):
    record = json.loads((EVENTS / "mail_events_bounce.json").read_text())
    reader = add_reader(store, "Gone@Example.net")
    [outcome] = mail_events.handle(store, ledger, record["Records"][0]["Sns"]["Message"], NOW)
    assert outcome.action is Action.SUPPRESSED
    assert store.get(reader.id).status is Status.SUPPRESSED


def test_suppressing_twice_changes_nothing_the_second_time(store, ledger):
    reader = add_reader(store, "gone@example.net")
    mail_events.handle(store, ledger, bounce("gone@example.net"), NOW)
    version = store.get(reader.id).version
    [again] = mail_events.handle(store, ledger, bounce("gone@example.net"), NOW)
    assert again.action is Action.ALREADY_SUPPRESSED
    assert store.get(reader.id).version == version


# -- complaints --------------------------------------------------------------------------------------
def test_a_complaint_suppresses_even_an_unsubscribed_reader(store, ledger):
    reader = add_reader(store, "ada@example.org")
    [outcome] = mail_events.handle(store, ledger, complaint("ada@example.org"), NOW)
    assert (outcome.signal, outcome.action, outcome.detail) == (Signal.COMPLAINT, Action.SUPPRESSED, "abuse")
    assert store.get(reader.id).status is Status.SUPPRESSED

    other = add_reader(store, "bob@example.org", "r2")
    store.save(other.model_copy(update={"status": Status.UNSUBSCRIBED, "next_due": None}))
    [outcome] = mail_events.handle(store, ledger, complaint("bob@example.org", feedback_type=None), NOW)
    assert outcome.action is Action.SUPPRESSED and outcome.detail == "unspecified"
    assert store.get(other.id).status is Status.SUPPRESSED


def test_the_literal_complaint_record_suppresses(store, ledger):
    record = json.loads((EVENTS / "mail_events_complaint.json").read_text())
    reader = add_reader(store, "ada@example.com")
    [outcome] = mail_events.handle(store, ledger, record["Records"][0]["Sns"]["Message"], NOW)
    assert outcome.action is Action.SUPPRESSED
    assert store.get(reader.id).status is Status.SUPPRESSED


def test_not_spam_feedback_does_not_suppress(store, ledger):
    reader = add_reader(store, "ada@example.org")
    [outcome] = mail_events.handle(store, ledger, complaint("ada@example.org", feedback_type="not-spam"), NOW)
    assert (outcome.signal, outcome.action) == (Signal.NOT_SPAM, Action.IGNORED)
    assert store.get(reader.id) == reader


# -- transient bounces -------------------------------------------------------------------------------
def test_transient_bounces_are_counted_and_the_fifth_in_a_row_suppresses(store, ledger):
    reader = add_reader(store, "full@example.org")
    for n in range(1, 5):
        [outcome] = mail_events.handle(
            store, ledger, bounce("full@example.org", "Transient", "MailboxFull", f"fb-{n}"), NOW
        )
        assert (outcome.signal, outcome.action, outcome.transient_bounces) == (
            Signal.TRANSIENT_BOUNCE,
            Action.COUNTED,
            n,
        )
        assert store.get(reader.id).status is Status.ACTIVE
    [fifth] = mail_events.handle(
        store, ledger, bounce("full@example.org", "Transient", "MailboxFull", "fb-5"), NOW
    )
    assert fifth.action is Action.SUPPRESSED and fifth.transient_bounces == 5
    suppressed = store.get(reader.id)
    assert suppressed.status is Status.SUPPRESSED and suppressed.next_due is None


def test_undetermined_bounces_count_like_transient_ones(store, ledger):
    reader = add_reader(store, "odd@example.org")
    [outcome] = mail_events.handle(
        store, ledger, bounce("odd@example.org", "Undetermined", "Undetermined", "fb-u"), NOW
    )
    assert (outcome.signal, outcome.action) == (Signal.TRANSIENT_BOUNCE, Action.COUNTED)
    assert store.get(reader.id).transient_bounces == 1


def test_a_redelivered_sns_message_is_counted_once(store, ledger):
    reader = add_reader(store, "full@example.org")
    message = json.dumps(bounce("full@example.org", "Transient", "MailboxFull", "fb-same"))
    first = mail_events.handle(store, ledger, message, NOW)
    second = mail_events.handle(store, ledger, message, NOW + timedelta(minutes=5))
    assert [o.action for o in first + second] == [Action.COUNTED, Action.DUPLICATE]
    assert store.get(reader.id).transient_bounces == 1


def test_a_redelivered_bounce_without_ids_is_counted_once_and_a_different_one_counts(store, ledger):
    """No feedbackId and no mail id (a hand-made or truncated event): the event itself is its key,
    so a redrive that applies it again after dying half way counts it once."""
    reader = add_reader(store, "full@example.org")

    def anonymous(timestamp: str) -> str:
        event = bounce("full@example.org", "Transient", "MailboxFull", "")
        event["bounce"]["timestamp"] = timestamp
        event["mail"] = {"destination": ["full@example.org"]}
        return json.dumps(event)

    first = anonymous("2026-11-28T07:01:02Z")
    outcomes = [
        *mail_events.handle(store, ledger, first, NOW),
        *mail_events.handle(store, ledger, first, NOW),
        *mail_events.handle(store, ledger, anonymous("2026-11-29T07:01:02Z"), NOW),
    ]
    assert [o.action for o in outcomes] == [Action.COUNTED, Action.DUPLICATE, Action.COUNTED]
    assert store.get(reader.id).transient_bounces == 2


def test_a_delivery_resets_the_count_so_only_consecutive_bounces_suppress(store, ledger):
    reader = add_reader(store, "full@example.org")
    for n in range(4):
        mail_events.handle(
            store, ledger, bounce("full@example.org", "Transient", "MailboxFull", f"fb-{n}"), NOW
        )
    [reset] = mail_events.handle(store, ledger, delivery("full@example.org"), NOW)
    assert (reset.signal, reset.action, reset.transient_bounces) == (Signal.DELIVERY, Action.RESET, 0)
    # A late duplicate of a bounce counted before the reset still counts nothing.
    [late] = mail_events.handle(
        store, ledger, bounce("full@example.org", "Transient", "MailboxFull", "fb-3"), NOW
    )
    assert late.action is Action.DUPLICATE
    for n in range(4, 8):
        [outcome] = mail_events.handle(
            store, ledger, bounce("full@example.org", "Transient", "General", f"fb-{n}"), NOW
        )
    assert outcome.action is Action.COUNTED
    assert store.get(reader.id).status is Status.ACTIVE and store.get(reader.id).transient_bounces == 4


def test_a_delivery_to_a_reader_without_bounces_writes_nothing(store, ledger):
    reader = add_reader(store, "ada@example.org")
    [outcome] = mail_events.handle(store, ledger, delivery("ada@example.org"), NOW)
    assert outcome.action is Action.UNCHANGED
    assert store.get(reader.id).version == reader.version


def test_the_list_of_counted_bounces_stays_bounded(store, ledger):
    reader = add_reader(store, "full@example.org")
    for n in range(mail_events.COUNTED_BOUNCES + 5):
        mail_events.handle(
            store, ledger, bounce("full@example.org", "Transient", "MailboxFull", f"fb-{n}"), NOW
        )
        mail_events.handle(store, ledger, delivery("full@example.org"), NOW)
    counted = store.get(reader.id).counted_bounces
    assert (
        len(counted) == mail_events.COUNTED_BOUNCES and counted[-1] == f"fb-{mail_events.COUNTED_BOUNCES + 4}"
    )


# -- what is ignored ---------------------------------------------------------------------------------
def test_an_unknown_address_is_ignored_and_reported(store, ledger):
    [outcome] = mail_events.handle(store, ledger, bounce("stranger@example.net"), NOW)
    assert (outcome.signal, outcome.action) == (Signal.PERMANENT_BOUNCE, Action.UNKNOWN_RECIPIENT)
    assert outcome.email == "stranger@example.net" and outcome.subscriber_id is None
    assert list(store.all()) == []


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "not json",
        "[]",
        "null",
        "42",
        '{"eventType": 7}',
        "{}",
        '{"eventType": "Bounce"}',
        '{"eventType": "Bounce", "bounce": {"bounceType": "Sideways", '
        '"bouncedRecipients": [{"emailAddress": "a@b"}]}}',
        '{"eventType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": []}}',
        '{"eventType": "Complaint", "complaint": "abuse"}',
        '{"eventType": "Open", "open": {}}',
        '{"notificationType": "AmazonSnsSubscriptionSucceeded", "message": "ok"}',
        '{"eventType": "Send", "send": {}, "mail": {"messageId": "m1"}}',
        '{"eventType": "Reject", "reject": {"reason": "Bad content"}}',
        '{"eventType": "DeliveryDelay", "deliveryDelay": {"delayType": "MailboxFull", "delayedRecipients": '
        '[{"emailAddress": "ada@example.org"}], "expirationTime": "2026-11-29T07:00:00Z"}}',
        '{"eventType": "Bounce", "bounce": {"bounceType": "Permanent", '
        '"bouncedRecipients": [{"emailAddress": "x"}]}}',
        b"\xff\xfe",
        "[" * 100_000,
    ],
)
def test_junk_and_unused_events_are_ignored_without_an_exception(store, junk, ledger):
    reader = add_reader(store, "ada@example.org")
    outcomes = mail_events.handle(store, ledger, junk, NOW)
    assert outcomes and all(o.action is Action.IGNORED for o in outcomes)
    assert all(o.detail for o in outcomes)
    assert store.get(reader.id) == reader


def test_identity_notifications_are_read_like_published_events(store, ledger):
    gone = add_reader(store, "gone@example.net", "r1")
    angry = add_reader(store, "angry@example.org", "r2")
    full = add_reader(store, "full@example.org", "r3")
    notification = bounce("gone@example.net", key="notificationType")
    for field in ("headersTruncated", "tags"):  # identity notifications carry neither
        notification["mail"].pop(field)
    assert mail_events.handle(store, ledger, notification, NOW)[0].action is Action.SUPPRESSED
    assert (
        mail_events.handle(store, ledger, complaint("angry@example.org", key="notificationType"), NOW)[
            0
        ].action
        is Action.SUPPRESSED
    )
    transient = bounce("full@example.org", "Transient", "General", "fb-x", key="notificationType")
    assert mail_events.handle(store, ledger, transient, NOW)[0].action is Action.COUNTED
    assert store.get(gone.id).status is Status.SUPPRESSED
    assert store.get(angry.id).status is Status.SUPPRESSED
    assert store.get(full.id).transient_bounces == 1


def test_a_bounce_naming_several_recipients_handles_each(store, ledger):
    ada = add_reader(store, "ada@example.org", "r1")
    message = bounce("ada@example.org")
    message["bounce"]["bouncedRecipients"] += [
        {"emailAddress": "Stranger <stranger@example.net>"},
        {"emailAddress": "ADA@example.org"},
    ]
    outcomes = mail_events.handle(store, ledger, message, NOW)
    assert [(o.email, o.action) for o in outcomes] == [
        ("ada@example.org", Action.SUPPRESSED),
        ("stranger@example.net", Action.UNKNOWN_RECIPIENT),
    ]
    assert store.get(ada.id).status is Status.SUPPRESSED


# -- the Lambda handler ------------------------------------------------------------------------------
@pytest.fixture
def function(store):
    log = io.StringIO()
    handler = LocalFunction(
        logical_id="MailEventsFunction",
        code_dir=ROOT / "functions" / "mail_events",
        handler_name="app.handler",
        environment={
            "SUBSCRIBERS_TABLE": SUBSCRIBERS_TABLE,
            "POWERTOOLS_SERVICE_NAME": "paperboy",
            "POWERTOOLS_METRICS_NAMESPACE": "Paperboy",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        events={},
        memory=512,
        arn="arn:aws:lambda:us-east-1:123456789012:function:mail-events",
        log=log,
    )
    return handler, log


def emitted_metrics(log: io.StringIO) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in log.getvalue().splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            for definition in document["_aws"]["CloudWatchMetrics"]:
                for metric in definition["Metrics"]:
                    value = document[metric["Name"]]
                    found[metric["Name"]] = found.get(metric["Name"], 0) + sum(
                        value if isinstance(value, list) else [value]
                    )
    return found


def test_the_handler_reads_the_literal_sns_records_and_emits_metrics(store, function):
    handler, log = function
    gone = add_reader(store, "gone@example.net", "r1")
    ada = add_reader(store, "ada@example.com", "r2")
    for name in ("mail_events_bounce.json", "mail_events_complaint.json"):
        handler.invoke(json.loads((EVENTS / name).read_text()))
    assert store.get(gone.id).status is Status.SUPPRESSED
    assert store.get(ada.id).status is Status.SUPPRESSED
    assert emitted_metrics(log) == {"BouncesPermanent": 1, "Complaints": 1, "SuppressedReaders": 2}


def test_the_delivery_sample_clears_a_transient_bounce_count(store, function):
    handler, _ = function
    reader = add_reader(store, "reader@example.net")
    handler.invoke(sns_record(bounce("reader@example.net", "Transient", "MailboxFull", "fb-9")))
    assert store.get(reader.id).transient_bounces == 1
    delivered = handler.invoke(json.loads((EVENTS / "mail_events_delivery.json").read_text()))
    assert delivered == {"outcomes": ["delivery:reset"]}
    assert store.get(reader.id).transient_bounces == 0


def test_the_handler_counts_transient_bounces_and_shrugs_at_junk(store, function, caplog):
    handler, log = function
    full = add_reader(store, "full@example.org")
    message = bounce("full@example.org", "Transient", "MailboxFull", "fb-1")
    first = handler.invoke(sns_record(message))
    again = handler.invoke(sns_record(message))  # SNS delivering the same message twice
    junk = handler.invoke(sns_record("<html>oops</html>", "junk-1"))
    unknown = handler.invoke(sns_record(bounce("stranger@example.net")))
    assert first == {"outcomes": ["transient_bounce:counted"]}
    assert again == {"outcomes": ["transient_bounce:duplicate"]}
    assert junk == {"outcomes": ["other:ignored"]}
    assert unknown == {"outcomes": ["permanent_bounce:unknown_recipient"]}
    assert store.get(full.id).transient_bounces == 1
    assert emitted_metrics(log) == {
        "BouncesTransient": 2,
        "MailEventsIgnored": 1,
        "BouncesPermanent": 1,
        "MailEventsUnknownRecipient": 1,
    }
    logged = [record.__dict__ for record in caplog.records if record.getMessage() == "mail event"]
    # A reader is logged by id only; an address only when no reader has it.
    assert [(entry.get("subscriber_id"), entry.get("email")) for entry in logged] == [
        (full.id, None),
        (full.id, None),
        (None, None),
        (None, "stranger@example.net"),
    ]


# -- end to end, once template.yaml declares MailEventsFunction ---------------------------------------
def _declares_mail_events() -> bool:
    return "MailEventsFunction" in yaml_parse(TEMPLATE.read_text()).get("Resources", {})


@pytest.mark.skipif(
    not _declares_mail_events(), reason="template.yaml does not declare MailEventsFunction yet"
)
def test_a_bounced_reader_gets_no_more_digests_on_the_local_stack(stack_pool):
    from local_stack.sources import SourceFixtures
    from local_stack.stack import LocalStack

    fixtures = SourceFixtures()
    fixtures.add_hf_directory(Path(__file__).parents[1] / "fixtures" / "daily_papers")
    with stack_pool.stack(
        domain="papers.example.org",
        start=datetime(2026, 11, 23, 5, 0, tzinfo=UTC),
        fixtures=fixtures,
        prepare=LocalStack.fetch,
    ) as stack:
        stack.add_subscriber("gone@example.net", ReaderSettings())
        stack.advance(timedelta(hours=4))
        digests = [m for m in stack.mailbox.delivered if m.to == "gone@example.net" and m.kind == "digest"]
        assert len(digests) == 1
        event = copy.deepcopy(json.loads((EVENTS / "mail_events_bounce.json").read_text()))
        stack.invoke("MailEventsFunction", event)
        assert stack.subscribers.by_email("gone@example.net").status is Status.SUPPRESSED
        stack.advance(timedelta(days=2))
        assert [
            m for m in stack.mailbox.delivered if m.to == "gone@example.net" and m.kind == "digest"
        ] == digests
