"""The double opt-in, shared by inbound mail (subscribe@, a stranger's reply, a pending reader's yes)
and the Web function (the subscribe form, the confirm link): an address gets digests only after its
mailbox confirmed. Imports no mail parser.

A sign-up is checked (an address mail can be sent to, not one of ours) and counted against the
sign-up limits before anything is written or sent. An unsubscribed address stays unsubscribed until
its mailbox confirms; a suppressed one (bounces, complaints) is never mailed again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from paperboy.mail.addresses import normalised, normalised_domain
from paperboy.mail.inbound.catalogue import save_settings
from paperboy.mail.inbound.records import InboundRecords
from paperboy.mail.notices import Action, Notices, Result
from paperboy.papers.sources.arxiv_api import MAX_IDS
from paperboy.readers import lifecycle
from paperboy.readers.likes import liked
from paperboy.readers.model import ReaderSettings, Status, Subscriber
from paperboy.readers.store import PENDING_LIFETIME, SubscriberStore, pending_expiry
from paperboy.readers.tokens import new_subscriber_id

if TYPE_CHECKING:
    from paperboy.mail.inbound.commands import Command
    from paperboy.mail.inbound.message import InboundMessage
    from paperboy.papers.lookup import PaperLookup


@dataclass
class OptIn:
    store: SubscriberStore
    records: InboundRecords
    notices: Notices
    # Papers a new reader names (subscribe@'s `like` lines, the form's papers); None: not looked up.
    lookup: PaperLookup | None = None

    def seed_likes(self, address: str, ids: tuple[str, ...], now: datetime) -> None:
        """Like the papers a reader named when signing up, on the pending reader (never on a reader
        already subscribed, whose settings a sign-up does not change either). Called once the
        sign-up passed the limits: a flood of sign-ups never becomes a flood of arXiv requests."""
        if self.lookup is None or not ids:
            return
        reader = self.store.by_email(normalised(address))
        if reader is None or reader.status is not Status.PENDING:
            return
        papers = self.lookup.by_ids(ids[:MAX_IDS], now).papers
        if papers:
            lifecycle.change(self.store, reader.id, lambda current: liked(current, papers))

    def ours(self, address: str) -> bool:
        """An address of Paperboy's own (`address` normalised): any at the mail domain, whose every
        address the receipt rule hands to InboundMail, and the sender, wherever it lives."""
        domain = address.rpartition("@")[2]
        own_domain = normalised_domain(self.notices.links.domain)
        return domain == own_domain or address == normalised(self.notices.mailer.sender)

    def start(
        self,
        address: str,
        settings: ReaderSettings,
        now: datetime,
        message: InboundMessage | None = None,
        *,
        client: str,
        not_understood: list[str] | None = None,
    ) -> Result:
        """Double opt-in for `address` (a mail to subscribe@, the web form, a stranger's reply),
        asked for by `client`. `message` is the verified mail that asked, if any (its ids thread the
        answer); `not_understood`: lines of it whose values could not be used, named in the mail."""
        try:
            address = normalised(address)
        except ValueError:
            return Result(action=Action.INVALID, reason="not an address mail can be sent to")
        if self.ours(address):
            return Result(action=Action.OWN_ADDRESS, reason="one of Paperboy's own addresses")
        limited = self.notices.limited(address, client, now)
        if limited is not None:
            return limited
        existing = self.store.by_email(address)
        if existing is not None and existing.status is Status.SUPPRESSED:
            return Result(action=Action.IGNORED, reason="address suppressed after bounces or complaints")
        if existing is not None and existing.status in (Status.ACTIVE, Status.PAUSED):
            return self._already_subscribed(existing, message)
        if existing is not None and existing.status is Status.UNSUBSCRIBED:
            return self.offer_resubscription(existing, now, message)
        reader = self._pending(existing, address, settings, now)
        if reader is None:
            return Result(action=Action.IGNORED, reason="address taken concurrently")
        expires = pending_expiry(reader) or now + PENDING_LIFETIME
        mail = self._confirmation(reader, message, expires, not_understood=not_understood)
        return Result(action=Action.SUBSCRIBE_STARTED, mails=[mail])

    def _already_subscribed(self, reader: Subscriber, message: InboundMessage | None) -> Result:
        mail = self.notices.send(
            reader,
            "notice",
            message,
            paragraphs=[
                "You are already subscribed to Paperboy. Your settings are below; reply to change them."
            ],
            with_help=True,
        )
        return Result(action=Action.HELP, mails=[mail])

    def _pending(
        self, existing: Subscriber | None, address: str, settings: ReaderSettings, now: datetime
    ) -> Subscriber | None:
        """The address as a pending reader, its sign-up starting now (an earlier unconfirmed sign-up
        starts again, keeping its settings unless new ones came); None if another sign-up for the
        address was created at the same time."""
        if existing is not None:
            reader = lifecycle.change(
                self.store,
                existing.id,
                lambda r: r.model_copy(
                    update={
                        "status": Status.PENDING,
                        "settings": settings if settings != ReaderSettings() else r.settings,
                        "created_at": now,
                        "next_due": None,
                    }
                ),
            )
        else:
            reader = Subscriber(
                id=new_subscriber_id(secrets.token_bytes(10)),
                email=address,
                status=Status.PENDING,
                settings=settings,
                created_at=now,
            )
            if not self.store.create(reader):
                return None
        return self.store.get(reader.id) or reader

    def offer_resubscription(
        self, reader: Subscriber, now: datetime, message: InboundMessage | None
    ) -> Result:
        """An unsubscribed address stays unsubscribed until its mailbox confirms: a stranger's form
        post or a forwarded mail changes nothing, and may at most send it a confirmation (the caller
        has counted it against the sign-up limits)."""
        nonce = secrets.token_hex(12)
        expires = now + PENDING_LIFETIME
        self.records.put_pending_commands(nonce, reader, ["subscribe"], expires)
        domain = self.notices.links.domain
        mail = self._confirmation(reader, message, expires, reply_to=f"confirm+{nonce}@{domain}")
        return Result(action=Action.SUBSCRIBE_STARTED, mails=[mail])

    def _confirmation(
        self,
        reader: Subscriber,
        message: InboundMessage | None,
        expires: datetime,
        reply_to: str | None = None,
        not_understood: list[str] | None = None,
    ) -> str:
        return self.notices.send(
            reader,
            "confirm",
            message,
            reply_to=reply_to,
            not_understood=not_understood,
            link=("Confirm my subscription", self.notices.links.confirm_url(reader, expires)),
            paragraphs=[
                "Someone (hopefully you) asked to get Paperboy's daily digest of trending "
                "machine-learning papers at this address.",
                "To confirm, reply “yes” to this mail or press the button below "
                f"before {expires:%d %b %Y %H:%M} UTC. "
                "If it was not you, reply “no” or ignore this mail, and nothing happens.",
            ],
        )

    def confirmed(
        self,
        reader: Subscriber,
        now: datetime,
        message: InboundMessage | None = None,
        settings: list[Command] | None = None,
    ) -> Result:
        """The mailbox said yes (a reply, the confirm link): the reader is active, with the settings
        the yes carried (only a verified sender's), and welcomed."""
        active = lifecycle.activate(self.store, reader.id, now)
        if settings:
            active = save_settings(self.store, reader.id, settings, now)
        return Result(action=Action.ACTIVATED, mails=[self.notices.welcome(active, message)])
