"""Replies that answer a question we asked: a pending reader's reply to their sign-up confirmation,
and a reply at `confirm+NONCE@` to "apply these commands?" or "come back?".

Only a yes confirms (`paperboy.mail.inbound.consent` reads which); a no cancels and is answered
briefly; anything else changes nothing and is asked again, within the limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from paperboy.mail.inbound import consent
from paperboy.mail.inbound.applying import Applier
from paperboy.mail.inbound.catalogue import settings_of
from paperboy.mail.inbound.commands import parse_commands
from paperboy.mail.inbound.consent import Answer
from paperboy.mail.inbound.received import Received, reader_today
from paperboy.mail.inbound.records import InboundRecords
from paperboy.mail.notices import Action, Result
from paperboy.mail.optin import OptIn
from paperboy.readers import lifecycle
from paperboy.readers.model import Status, Subscriber
from paperboy.readers.store import SubscriberStore, pending_expiry


@dataclass
class Confirmations:
    store: SubscriberStore
    records: InboundRecords
    optin: OptIn
    applier: Applier

    def pending_commands(self, received: Received, nonce: str, now: datetime) -> Result:
        """A reply at `confirm+NONCE@`: it applies the commands waiting there only when it comes from
        the reader's own address, the reader is as they were when asked (same token version, same
        status), and it says yes. A yes or a no uses the nonce up; an unclear reply is asked again."""
        pending = self.records.pending_commands(nonce, now)
        if pending is None:
            return Result(action=Action.IGNORED, reason="unknown, used or expired confirmation")
        reader = self.store.get(pending.subscriber_id)
        if reader is None:
            return Result(action=Action.IGNORED, reason="reader gone")
        message = received.message
        if message.from_address != reader.email:
            return Result(
                action=Action.IGNORED, reason="confirmation from an address other than the reader's"
            )
        if not pending.holds_for(reader):
            return Result(action=Action.IGNORED, reason="confirmation revoked: the reader changed since")
        reply = consent.read(message.new_text, today=reader_today(reader, now))
        comes_back = reader.status is Status.UNSUBSCRIBED
        if reply.answer is Answer.UNCLEAR:
            wanted = "your Paperboy subscription" if comes_back else "the change to your Paperboy digest"
            reply_to = f"confirm+{nonce}@{self.optin.notices.links.domain}"
            return self._ask_again(received, reader, now, wanted=wanted, reply_to=reply_to)
        if not self.records.use_pending_commands(nonce):
            return Result(action=Action.IGNORED, reason="confirmation used concurrently")
        if reply.answer is Answer.NO:
            stays = ": you stay unsubscribed, and no digest will come." if comes_back else "."
            return self._refused(reader, f"You said no, so nothing was changed{stays}")
        proven = received.verdicts.sender_proven
        shown = message if proven else None
        if comes_back:
            # The confirmation went to the stored address after the unsubscribe: a fresh opt-in.
            return self.optin.confirmed(reader, now, shown)
        parsed = parse_commands("\n".join(pending.lines), today=reader_today(reader, now))
        return self.applier.apply(reader, parsed.commands, [], shown, now, echo=proven)

    def sign_up(self, received: Received, reader: Subscriber, now: datetime) -> Result:
        """A reply to a pending reader's confirmation: a yes activates (a verified sender's commands
        in it apply too), a no cancels the sign-up, anything else is asked again."""
        message = received.message
        reply = consent.read(message.new_text, today=reader_today(reader, now))
        if reply.answer is Answer.NO:
            # Unsubscribing revokes the confirm link and this reply address as well.
            lifecycle.unsubscribe(self.store, reader.id, now)
            return self._refused(
                reader,
                "You said no, so your Paperboy sign-up is cancelled: no digest will come to this address.",
            )
        expires = pending_expiry(reader)
        if expires is not None and expires <= now:
            # Refused; the way to start again is a new confirmation to the stored address (within
            # the confirmation limits), never to whoever wrote.
            result = self.optin.start(reader.email, reader.settings, now, client=received.client)
            return result.model_copy(
                update={"reason": "pending subscription expired: confirmation sent again"}
            )
        if reply.answer is Answer.UNCLEAR:
            return self._ask_again(received, reader, now, wanted="your Paperboy subscription")
        commanding = received.verdicts.sender_proven and message.from_address == reader.email
        return self.optin.confirmed(reader, now, message, settings_of(reply.commands) if commanding else None)

    def _refused(self, reader: Subscriber, outcome: str) -> Result:
        """A short answer to a "no": what did not happen, and nothing the sender wrote."""
        kind = self.optin.notices.send(
            reader,
            "notice",
            None,
            subject="Cancelled: nothing was changed",
            paragraphs=[
                outcome,
                "Thank you for telling us. If it was a mistake, you can sign up again at any "
                f"time by writing to subscribe@{self.optin.notices.links.domain}.",
            ],
        )
        return Result(action=Action.CANCELLED, reason="the reply refused", mails=[kind])

    def _ask_again(
        self,
        received: Received,
        reader: Subscriber,
        now: datetime,
        *,
        wanted: str,
        reply_to: str | None = None,
    ) -> Result:
        """A reply to a confirmation that says neither yes nor no: nothing happens, and the reader
        is asked again in our words (counted against the limits: a chatty autoresponder stops)."""
        result = self.optin.notices.send_limited(
            reader,
            received.client,
            now,
            "notice",
            reply_to=reply_to,
            subject="Please answer yes or no",
            paragraphs=[
                f"We could not tell from your reply whether you want {wanted}, so nothing changed.",
                "Reply “yes” to confirm, or “no” if you did not ask for it.",
            ],
        )
        return result.model_copy(update={"reason": result.reason or "the reply said neither yes nor no"})
