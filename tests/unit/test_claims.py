"""Settling digest claims: SES's Send events and the hourly sweep close the window between claiming a
period and SES's answer, so a sender that dies there costs a late digest, never a lost or second one."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from paperboy.digests.claims import SAFE_AGE, sweep
from paperboy.digests.ledger import DigestLedger, DigestRecord, DigestStatus
from paperboy.digests.planning import DigestJob
from paperboy.mail import events as mail_events
from paperboy.mail.events import Action, Signal
from paperboy.readers.model import ReaderSettings, Status, Subscriber
from paperboy.readers.schedule import next_due, shard_of
from paperboy.readers.store import SubscriberStore

CLAIMED = datetime(2026, 11, 23, 8, 0, 5, tzinfo=UTC)
PERIOD = date(2026, 11, 23)


def _reader(store: SubscriberStore, number: int = 1) -> Subscriber:
    settings = ReaderSettings(topics=("speech",))
    reader = Subscriber(
        id=f"reader{number:04d}",
        email=f"r{number}@example.org",
        status=Status.ACTIVE,
        settings=settings,
        created_at=CLAIMED - timedelta(days=3),
        next_due=next_due(settings, CLAIMED - timedelta(hours=1)),
    )
    assert store.create(reader)
    return reader


def _claim(ledger: DigestLedger, reader: Subscriber, at: datetime = CLAIMED) -> DigestRecord:
    record = DigestRecord(
        subscriber_id=reader.id,
        period=PERIOD,
        status=DigestStatus.CLAIMED,
        claimed_at=at,
        paper_ids=["2611.00001", "2611.00002"],
        paper_titles=["One", "Two"],
    )
    assert ledger.claim_digest(record)
    return record


def _send_event(reader: Subscriber, at: datetime, kind: str = "Send", period: date = PERIOD) -> str:
    body = {"Send": {"send": {}}, "Reject": {"reject": {"reason": "Bad content"}}}[kind]
    return json.dumps(
        {
            "eventType": kind,
            "mail": {
                "timestamp": at.isoformat().replace("+00:00", "Z"),
                "messageId": "0100019ac1f0a1b2-ses",
                "destination": [reader.email],
                "tags": {
                    "ses:configuration-set": ["paperboy"],
                    "kind": ["digest"],
                    "subscriber": [reader.id],
                    "period": [period.isoformat()],
                },
            },
            **body,
        }
    )


def _sweep(ledger: DigestLedger, store: SubscriberStore, now: datetime) -> tuple[object, list[DigestJob]]:
    queued: list[DigestJob] = []
    return sweep(ledger, store, queued.extend, now), queued


def test_a_claim_whose_mail_left_is_recorded_as_sent_and_the_reader_moves_on(
    store: SubscriberStore, ledger: DigestLedger
) -> None:
    reader = _reader(store)
    _claim(ledger, reader)
    [outcome] = mail_events.handle(
        store, ledger, _send_event(reader, CLAIMED + timedelta(seconds=1)), CLAIMED
    )
    assert (outcome.signal, outcome.action) == (Signal.SEND, Action.CLAIM_NOTED)
    # Too young: the sender may still be waiting for SES.
    report, queued = _sweep(ledger, store, CLAIMED + SAFE_AGE / 2)
    assert (report.open_claims, report.settled_sent, queued) == (1, 0, [])
    report, queued = _sweep(ledger, store, CLAIMED + SAFE_AGE + timedelta(minutes=1))
    assert (report.settled_sent, report.released, queued) == (1, 0, [])
    record = ledger.digest(reader.id, PERIOD)
    assert record.status is DigestStatus.SENT and record.message_id == "0100019ac1f0a1b2-ses"
    moved = store.get(reader.id)
    assert moved.last_period == PERIOD and moved.next_due > CLAIMED
    assert moved.recent_papers[-2:] == ["2611.00001", "2611.00002"]
    assert list(ledger.open_claims()) == []


def test_a_claim_nothing_settles_is_released_and_its_job_queued_again(
    store: SubscriberStore, ledger: DigestLedger
) -> None:
    reader = _reader(store)
    _claim(ledger, reader)
    report, queued = _sweep(ledger, store, CLAIMED + SAFE_AGE + timedelta(minutes=1))
    assert report.released == 1
    assert [(job.subscriber_id, job.period) for job in queued] == [(reader.id, PERIOD)]
    assert ledger.digest(reader.id, PERIOD) is None
    assert store.get(reader.id).last_period is None  # the period is still to be sent
    # A second sweep finds nothing: the job is queued once.
    assert _sweep(ledger, store, CLAIMED + SAFE_AGE * 3)[1] == []


def test_a_refused_mail_settles_its_claim_as_rejected_without_a_resend(
    store: SubscriberStore, ledger: DigestLedger
) -> None:
    reader = _reader(store)
    _claim(ledger, reader)
    [outcome] = mail_events.handle(store, ledger, _send_event(reader, CLAIMED, kind="Reject"), CLAIMED)
    assert outcome.signal is Signal.REFUSED
    report, queued = _sweep(ledger, store, CLAIMED + SAFE_AGE * 2)
    assert (report.settled_rejected, queued) == (1, [])
    assert ledger.digest(reader.id, PERIOD).status is DigestStatus.REJECTED


def test_an_event_later_than_the_safe_age_finds_no_claim_and_says_so(
    store: SubscriberStore, ledger: DigestLedger
) -> None:
    reader = _reader(store)
    _claim(ledger, reader)
    _sweep(ledger, store, CLAIMED + SAFE_AGE + timedelta(minutes=1))
    [outcome] = mail_events.handle(store, ledger, _send_event(reader, CLAIMED), CLAIMED + SAFE_AGE * 2)
    assert outcome.action is Action.NO_CLAIM


def test_an_event_of_an_earlier_mail_never_settles_a_newer_claim(
    store: SubscriberStore, ledger: DigestLedger
) -> None:
    """The resend's claim is younger than the first mail: that mail's late event is not its proof."""
    reader = _reader(store)
    _claim(ledger, reader, at=CLAIMED + timedelta(hours=2))
    [outcome] = mail_events.handle(store, ledger, _send_event(reader, CLAIMED), CLAIMED + timedelta(hours=2))
    assert outcome.action is Action.NO_CLAIM
    assert ledger.digest(reader.id, PERIOD).open


def test_an_event_noted_twice_changes_nothing_more(store: SubscriberStore, ledger: DigestLedger) -> None:
    reader = _reader(store)
    _claim(ledger, reader)
    event = _send_event(reader, CLAIMED + timedelta(seconds=2))
    for _ in range(2):
        mail_events.handle(store, ledger, event, CLAIMED)
    report, queued = _sweep(ledger, store, CLAIMED + SAFE_AGE * 2)
    assert (report.settled_sent, report.stuck_claims, queued) == (1, 1, [])
    assert ledger.digest(reader.id, PERIOD).status is DigestStatus.SENT


def test_sends_of_other_mail_are_not_claims(store: SubscriberStore, ledger: DigestLedger) -> None:
    reader = _reader(store)
    event = json.loads(_send_event(reader, CLAIMED))
    event["mail"]["tags"] = {"kind": ["confirm"]}
    [outcome] = mail_events.handle(store, ledger, json.dumps(event), CLAIMED)
    assert outcome.action is Action.IGNORED


def test_the_hourly_sweep_reads_every_shard_s_open_claims_in_one_request(
    store: SubscriberStore, ledger: DigestLedger
) -> None:
    readers = [_reader(store, number) for number in range(1, 25)]
    for reader in readers:
        _claim(ledger, reader)
    assert len({shard_of(reader.id) for reader in readers}) > 1
    reads: list[str] = []

    def count(model: Any, **_: Any) -> None:
        if model.name in ("Query", "Scan"):
            reads.append(model.name)

    events = ledger._table.meta.client.meta.events
    events.register("before-call.dynamodb", count)
    try:
        report, queued = _sweep(ledger, store, CLAIMED + SAFE_AGE / 2)
    finally:
        events.unregister("before-call.dynamodb", count)
    assert report.open_claims == len(readers) and queued == []
    assert reads == ["Scan"]
