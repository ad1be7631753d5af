"""Settling a period's claim: recording what happened to its mail and moving the reader on.

A digest is claim -> SES -> record. When the sender dies between the claim and SES's answer, only SES
knows whether the mail left: every digest carries tags naming its reader and period, and the
configuration set publishes a Send event for each mail it accepts, which MailEvents notes on the claim.
The hourly sweep settles claims older than a safe age: a Send event seen -> recorded as sent; a refusal
-> recorded as rejected; nothing -> the claim is released and the job queued again, so the reader
gets that period's digest late, once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from paperboy.digests.ledger import DigestLedger, DigestRecord, DigestStatus
from paperboy.digests.planning import DigestJob
from paperboy.readers.model import Status, Subscriber
from paperboy.readers.schedule import next_due
from paperboy.readers.store import Conflict, SubscriberStore

_SAVE_ATTEMPTS = 4
# SES publishes a Send event within seconds of accepting a mail, and a sender is dead long before
# this (SendDigests' timeout is two minutes): an hour leaves room for a slow MailEvents.
SAFE_AGE = timedelta(hours=1)


def complete_period(
    ledger: DigestLedger, store: SubscriberStore, reader: Subscriber, record: DigestRecord, now: datetime
) -> None:
    """Record the period's outcome and schedule the reader's next period, in one transaction."""
    for _ in range(_SAVE_ATTEMPTS):
        if reader.last_period is not None and reader.last_period >= record.period:
            return
        upcoming = next_due(reader.settings, now, last_period=record.period, paused_until=reader.paused_until)
        try:
            ledger.complete_digest(reader, record, upcoming)
            return
        except Conflict:
            # A reply changed the reader meanwhile: schedule from their new settings.
            fresh = store.get(reader.id)
            if fresh is None:
                return
            reader = fresh
    raise Conflict(reader.id)


def settled(record: DigestRecord) -> DigestRecord | None:
    """The record as SES's events settle it: sent, rejected, or None while nothing is known."""
    if record.status is not DigestStatus.CLAIMED:
        return record
    if record.ses_refused:
        return record.model_copy(update={"status": DigestStatus.REJECTED})
    if record.ses_sent_at is not None:
        return record.model_copy(
            update={
                "status": DigestStatus.SENT,
                "message_id": record.ses_message_id,
                "sent_at": record.ses_sent_at,
            }
        )
    return None


class Sweep(BaseModel):
    open_claims: int = 0
    # Open claims older than twice the safe age: the sweep has failed to settle them before.
    stuck_claims: int = 0
    settled_sent: int = 0
    settled_rejected: int = 0
    released: int = 0
    # Not released because SES events wait in MailEvents' dead-letter queue: one of them may be the
    # Send that proves the mail left, so releasing could send a second digest.
    held: int = 0
    # Changed between the read and the release (a late event, a redelivered job): the next run decides.
    raced: int = 0
    # Could not be settled this run (a DynamoDB error, a reader changing under it): the next run tries.
    failed: int = 0


def sweep(
    ledger: DigestLedger,
    store: SubscriberStore,
    requeue: Callable[[Sequence[DigestJob]], object],
    now: datetime,
    *,
    safe_age: timedelta = SAFE_AGE,
    undelivered_events: Callable[[], int] = lambda: 0,
) -> Sweep:
    """Settle every claim older than `safe_age`; jobs of released claims go to `requeue`.

    No claim is released while `undelivered_events()` says SES events are waiting to be redriven:
    readers then wait (the stuck-claims alarm fires) rather than risk a second mail."""
    report = Sweep()
    hold = undelivered_events() > 0
    jobs: list[DigestJob] = []
    claims = ledger.open_claims()
    while True:
        try:
            record = next(claims, None)
        except (ClientError, BotoCoreError):
            # The index could not be read to its end: what was read is settled, the rest next run.
            report.failed += 1
            break
        if record is None:
            break
        report.open_claims += 1
        age = now - record.claimed_at
        if age < safe_age:
            continue
        report.stuck_claims += age >= 2 * safe_age
        try:
            _settle(ledger, store, record, now, report, jobs, hold=hold)
        except (ClientError, BotoCoreError, Conflict):
            # One claim's trouble must not keep the others waiting; it stays open for the next run.
            report.failed += 1
    if jobs:
        requeue(jobs)
    return report


def _settle(
    ledger: DigestLedger,
    store: SubscriberStore,
    record: DigestRecord,
    now: datetime,
    report: Sweep,
    jobs: list[DigestJob],
    *,
    hold: bool,
) -> None:
    outcome = settled(record)
    if outcome is None:
        if hold:
            report.held += 1
            return
        if not ledger.release_open_claim(record):
            report.raced += 1
            return
        report.released += 1
        reader = store.get(record.subscriber_id)
        if reader is not None and reader.status in (Status.ACTIVE, Status.PAUSED):
            jobs.append(
                DigestJob(
                    subscriber_id=record.subscriber_id, period=record.period, due=reader.next_due or now
                )
            )
        return
    reader = store.get(record.subscriber_id)
    if reader is None or (reader.last_period is not None and reader.last_period >= outcome.period):
        ledger.save_digest(outcome)
    else:
        complete_period(ledger, store, reader, outcome, now)
    if outcome.status is DigestStatus.REJECTED:
        report.settled_rejected += 1
    else:
        report.settled_sent += 1
