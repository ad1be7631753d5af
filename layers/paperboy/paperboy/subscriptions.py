"""Changes to a reader's subscription status, shared by the web pages and reply commands.

Every change is read-modify-write under the profile's version, retried when a concurrent change
(a second reply, a click while a digest is being recorded) got there first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from paperboy.readers import Status, Subscriber
from paperboy.schedule import next_due
from paperboy.subscribers import Conflict, SubscriberStore
from paperboy.tokens import Purpose, Signer, parse

_ATTEMPTS = 5


def reader_for_token(
    store: SubscriberStore, signer: Signer, purpose: Purpose, token: str
) -> Subscriber | None:
    """The reader a token was issued to, if it is genuine and not revoked; else None."""
    parts = parse(token)
    if parts is None:
        return None
    reader = store.get(parts[0])
    if reader is None or not signer.verify(purpose, token, reader.token_version):
        return None
    return reader


def change(
    store: SubscriberStore, subscriber_id: str, edit: Callable[[Subscriber], Subscriber]
) -> Subscriber:
    """Apply `edit` to the current reader and save, retrying on concurrent writes."""
    for _ in range(_ATTEMPTS):
        reader = store.get(subscriber_id)
        if reader is None:
            raise LookupError(subscriber_id)
        edited = edit(reader)
        if edited == reader:
            return reader
        try:
            return store.save(edited)
        except Conflict:
            continue
    raise Conflict(subscriber_id)


def rescheduled(reader: Subscriber, now: datetime) -> Subscriber:
    """The reader with next_due recomputed from their settings (after any settings change)."""
    if reader.status is Status.ACTIVE or (reader.status is Status.PAUSED and reader.paused_until):
        # A reader still waiting for an overdue digest (the planner missed its hour) keeps that
        # period: rescheduling from `now` would skip it.
        overdue = reader.next_due is not None and reader.next_due < now and reader.status is Status.ACTIVE
        after = reader.next_due - timedelta(minutes=1) if overdue and reader.next_due else now
        due = next_due(
            reader.settings, after, last_period=reader.last_period, paused_until=reader.paused_until
        )
        return reader.model_copy(update={"next_due": due})
    return reader.model_copy(update={"next_due": None})


def unsubscribe(store: SubscriberStore, subscriber_id: str, now: datetime) -> Subscriber:
    def edit(reader: Subscriber) -> Subscriber:
        if reader.status in (Status.UNSUBSCRIBED, Status.SUPPRESSED):
            return reader
        return reader.model_copy(
            update={"status": Status.UNSUBSCRIBED, "next_due": None, "paused_until": None}
        )

    return change(store, subscriber_id, edit)


def activate(store: SubscriberStore, subscriber_id: str, now: datetime) -> Subscriber:
    """Active again (confirmation, resubscribe, undo, resume). A suppressed address stays suppressed."""

    def edit(reader: Subscriber) -> Subscriber:
        if reader.status is Status.SUPPRESSED or (reader.status is Status.ACTIVE and reader.next_due):
            return reader
        active = reader.model_copy(
            update={
                "status": Status.ACTIVE,
                "paused_until": None,
                "confirmed_at": reader.confirmed_at or now,
            }
        )
        return rescheduled(active, now)

    return change(store, subscriber_id, edit)


def pause(store: SubscriberStore, subscriber_id: str, until: date | None, now: datetime) -> Subscriber:
    def edit(reader: Subscriber) -> Subscriber:
        if reader.status not in (Status.ACTIVE, Status.PAUSED):
            return reader
        return rescheduled(reader.model_copy(update={"status": Status.PAUSED, "paused_until": until}), now)

    return change(store, subscriber_id, edit)
