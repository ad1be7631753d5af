"""Changes to a reader's subscription status, shared by the web pages and reply commands.

Every change is read-modify-write under the profile's version, retried when a concurrent change
(a second reply, a click while a digest is being recorded) got there first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from paperboy.readers.model import Status, Subscriber
from paperboy.readers.schedule import next_due
from paperboy.readers.store import Conflict, SubscriberStore
from paperboy.readers.tokens import Purpose, Signer, parse

_ATTEMPTS = 5
# The undo on the unsubscribe page is for the person who just pressed the wrong button: they see it
# at once, or on the tab they left open overnight. A day covers that; after it, coming back takes a
# fresh confirmation to the address (one mail), and a page that leaked (a shared screenshot, a proxy
# log) is worth nothing. The token works once: undoing bumps the token version again.
UNDO_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class TokenHolder:
    """The reader a genuine token was issued to, and whether the token still works."""

    reader: Subscriber
    # Issued at the reader's current token version: no unsubscribe or undo has revoked it since.
    current: bool
    # Past the expiry that confirm and undo tokens carry.
    expired: bool

    @property
    def valid(self) -> bool:
        return self.current and not self.expired


def token_holder(
    store: SubscriberStore, signer: Signer, purpose: Purpose, token: str, now: datetime
) -> TokenHolder | None:
    """Who we issued `token` to (even if revoked or expired since); None for a token we never issued."""
    parts = parse(token)
    if parts is None:
        return None
    reader = store.get(parts.subscriber_id)
    if reader is None:
        return None
    version = signer.issued_version(purpose, token, reader.token_version)
    if version is None:
        return None
    return TokenHolder(reader=reader, current=version == reader.token_version, expired=parts.expired(now))


def reader_for_token(
    store: SubscriberStore, signer: Signer, purpose: Purpose, token: str, now: datetime
) -> Subscriber | None:
    """The reader a token was issued to, if it is genuine, not revoked and not expired; else None."""
    holder = token_holder(store, signer, purpose, token, now)
    return holder.reader if holder is not None and holder.valid else None


def change(
    store: SubscriberStore,
    subscriber_id: str,
    edit: Callable[[Subscriber], Subscriber],
    *,
    read: Subscriber | None = None,
) -> Subscriber:
    """Apply `edit` to the current reader and save, retrying on concurrent writes.

    `read`: the reader as the caller has just read it. The first attempt edits that copy instead of
    reading again; the save is conditional on its version, so a copy someone wrote since is refused
    and the next attempt reads the stored one."""
    for attempt in range(_ATTEMPTS):
        reader = read if attempt == 0 and read is not None else store.get(subscriber_id)
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
    """Unsubscribed at once, and every token the reader was ever sent revoked: an old digest's reply
    address, unsubscribe or confirm link can never bring the reader back (only the undo token issued
    at the new version, or a fresh confirmation to the address, can)."""

    def edit(reader: Subscriber) -> Subscriber:
        if reader.status in (Status.UNSUBSCRIBED, Status.SUPPRESSED):
            return reader
        return reader.model_copy(
            update={
                "status": Status.UNSUBSCRIBED,
                "next_due": None,
                "paused_until": None,
                "token_version": reader.token_version + 1,
            }
        )

    return change(store, subscriber_id, edit)


def _activated(reader: Subscriber, now: datetime) -> Subscriber:
    active = reader.model_copy(
        update={"status": Status.ACTIVE, "paused_until": None, "confirmed_at": reader.confirmed_at or now}
    )
    return rescheduled(active, now)


def activate(store: SubscriberStore, subscriber_id: str, now: datetime) -> Subscriber:
    """Active again (confirmation, resume). A suppressed address stays suppressed. Callers bringing
    back an unsubscribed reader must hold proof from the mailbox (a fresh confirmation)."""

    def edit(reader: Subscriber) -> Subscriber:
        if reader.status is Status.SUPPRESSED or (reader.status is Status.ACTIVE and reader.next_due):
            return reader
        return _activated(reader, now)

    return change(store, subscriber_id, edit)


def undo_unsubscribe(store: SubscriberStore, subscriber_id: str, version: int, now: datetime) -> bool:
    """Undo the unsubscribe that issued the undo token at `version`, once: True if it did.

    Only an unsubscribed reader still at that version comes back; the token version moves on, so the
    same token never works twice.
    """

    undone = False  # whether the edit that was last read (and saved) did the undo

    def edit(reader: Subscriber) -> Subscriber:
        nonlocal undone
        undone = reader.status is Status.UNSUBSCRIBED and reader.token_version == version
        if not undone:
            return reader
        return _activated(reader.model_copy(update={"token_version": version + 1}), now)

    change(store, subscriber_id, edit)
    return undone


def pause(store: SubscriberStore, subscriber_id: str, until: date | None, now: datetime) -> Subscriber:
    def edit(reader: Subscriber) -> Subscriber:
        if reader.status not in (Status.ACTIVE, Status.PAUSED):
            return reader
        return rescheduled(reader.model_copy(update={"status": Status.PAUSED, "paused_until": until}), now)

    return change(store, subscriber_id, edit)
