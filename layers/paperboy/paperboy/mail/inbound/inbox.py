"""Inbound mail: who may command. The Inbox routes each message by its recipient and its sender's
standing; commands are applied by `applying`, answers to our questions read by `confirmations`,
sign-ups go through `paperboy.mail.optin`, and every answer is a `paperboy.mail.notices` mail.

Trust, in order (brief section 4):
- automated mail (bounces, auto-replies, list traffic) is never answered and changes nothing;
- a spam, virus or DMARC FAIL verdict changes nothing;
- From must parse strictly as exactly one address, or nobody sent the mail;
- one Message-ID from one sender is handled once, whatever SES message ids it arrives under;
- `reply+TOKEN@` must carry a genuine token. A pending reader's yes to its confirmation activates
  it (the token proves the mailbox got the mail), until the sign-up expires; a no cancels it
  (`paperboy.mail.inbound.consent` reads which). An
  unsubscribed reader's tokens change nothing: at most the reader's own `subscribe` gets a fresh
  confirmation sent to the stored address. An active reader's commands apply only
  when From is the reader's address and DMARC passed; from the reader's address without a DMARC
  pass, the reader is asked to confirm at their stored address; from anyone else, nothing changes
  for the reader and the sender may be offered a subscription of their own;
- `confirm+NONCE@` applies the commands a reader was asked to confirm, once, on a yes from the
  reader's own address while the reader's token version and status are as they were when asked;
- `unsubscribe+TOKEN@` (the List-Unsubscribe mailto) unsubscribes the token's reader;
- `subscribe@` starts a double opt-in for the From address, with any settings in the body (only
  when DMARC verified the sender).
Mail nobody verifiably asked for (confirmations, answers to a sender DMARC did not verify) is
counted against the limits of `paperboy.readers.limits` before anything is written or sent, and carries
nothing the sender wrote: no subject, no lines, no topics, no message ids.
A message too large to read changes nothing; only a reader whose commands would have applied
is told so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from paperboy.digests.ledger import DigestLedger
from paperboy.mail.inbound.applying import Applier
from paperboy.mail.inbound.catalogue import apply, brings_back, settings_of
from paperboy.mail.inbound.commands import CommandKind, parse_commands
from paperboy.mail.inbound.confirmations import Confirmations
from paperboy.mail.inbound.received import Received, Verdicts, reader_today
from paperboy.mail.inbound.records import InboundRecords
from paperboy.mail.notices import Action, Result
from paperboy.mail.optin import OptIn
from paperboy.papers.store import PaperStore
from paperboy.readers import lifecycle as subscriptions
from paperboy.readers.model import ReaderSettings, Status, Subscriber
from paperboy.readers.store import SubscriberStore
from paperboy.readers.tokens import Purpose, Signer

# The InboundMail handler's names for what it reads and what it gets back.
__all__ = ["Action", "Inbox", "Received", "Result", "Verdicts"]


def _local(address: str) -> tuple[str, str, str]:
    """(base, tag, domain) of `base+tag@domain`, lower-cased."""
    local, _, domain = address.strip().lower().rpartition("@")
    base, _, tag = local.partition("+")
    return base, tag, domain


@dataclass
class Inbox:
    store: SubscriberStore
    records: InboundRecords
    ledger: DigestLedger
    papers: PaperStore
    signer: Signer
    optin: OptIn
    applier: Applier = field(init=False)
    confirmations: Confirmations = field(init=False)

    def __post_init__(self) -> None:
        self.applier = Applier(
            store=self.store,
            records=self.records,
            ledger=self.ledger,
            papers=self.papers,
            notices=self.optin.notices,
            lookup=self.optin.lookup,
        )
        self.confirmations = Confirmations(
            store=self.store, records=self.records, optin=self.optin, applier=self.applier
        )

    def handle(self, received: Received, now: datetime) -> Result:
        message = received.message
        if message.too_large:
            return self._too_large(received, now)
        if message.automated:
            return Result(action=Action.IGNORED, reason=f"automated: {message.automated}")
        if received.verdicts.hostile:
            return Result(action=Action.IGNORED, reason="spam, virus or DMARC verdict FAIL")
        if not message.from_address:
            # From must parse strictly as exactly one address: anything else names nobody we could
            # act for or answer (`ada@example.org <mallory@evil.example>` is not ada).
            return Result(action=Action.IGNORED, reason="no single sender address")
        if self.optin.ours(message.from_address):
            return Result(action=Action.IGNORED, reason="mail from our own address (loop guard)")
        if message.message_id and not self.records.first_delivery(
            message.from_address, message.message_id, received.message_id, now
        ):
            # One message delivered twice under two SES ids (once per recipient, a resend) is one
            # set of commands: "more 2" must not move the profile twice.
            return Result(action=Action.IGNORED, reason="this Message-ID was already handled")
        for recipient in received.recipients:
            base, tag, domain = _local(recipient)
            if domain != self.optin.notices.links.domain:
                continue
            if base == "reply" and tag:
                return self._reply(received, tag, now)
            if base == "confirm" and tag:
                return self.confirmations.pending_commands(received, tag, now)
            if base == "unsubscribe" and tag:
                return self._mailto_unsubscribe(tag, now)
            if base == "subscribe":
                return self._subscribe(received, now)
        return Result(action=Action.IGNORED, reason="no Paperboy address among the recipients")

    def _too_large(self, received: Received, now: datetime) -> Result:
        """Nothing in it is applied. Only a reader who may command (their own address, DMARC passed,
        to their reply address) hears why, so they can send it again shorter; anyone else's
        oversized mail gets no answer, or we would be a reflector for it."""
        message = received.message
        reason = f"too large: {message.too_large}"
        reader = self._commanding_reader(received, now)
        if reader is None:
            return Result(action=Action.TOO_LARGE, reason=f"{reason}; not answered")
        kind = self.optin.notices.send(
            reader,
            "notice",
            message,
            subject="Your message to Paperboy was too large to read",
            paragraphs=[
                # Our own words (replies.too_large), never the sender's.
                f"Your message was too large for Paperboy to read ({message.too_large}), "
                "so nothing was changed.",
                "Please reply again with just your instructions, without attachments.",
            ],
        )
        return Result(action=Action.TOO_LARGE, reason=reason, mails=[kind])

    def _commanding_reader(self, received: Received, now: datetime) -> Subscriber | None:
        """The reader whose commands this message could carry: not a machine's, not hostile, from
        the reader's own address with DMARC passed, to that reader's genuine reply address."""
        message = received.message
        if message.automated or received.verdicts.hostile or not received.verdicts.sender_proven:
            return None
        if self.optin.ours(message.from_address):
            return None
        for recipient in received.recipients:
            base, tag, domain = _local(recipient)
            if domain == self.optin.notices.links.domain and base == "reply" and tag:
                reader = subscriptions.reader_for_token(self.store, self.signer, Purpose.REPLY, tag, now)
                if reader is None or reader.email != message.from_address:
                    return None
                # Unsubscribed: they asked for no more mail, and a reply changes no setting of
                # theirs; bounced or complained: never mailed again, whatever they send.
                return None if reader.status in (Status.UNSUBSCRIBED, Status.SUPPRESSED) else reader
        return None

    def _reply(self, received: Received, token: str, now: datetime) -> Result:
        holder = subscriptions.token_holder(self.store, self.signer, Purpose.REPLY, token, now)
        if holder is None:
            return Result(action=Action.IGNORED, reason="unknown reply token")
        reader = holder.reader
        if reader.status in (Status.UNSUBSCRIBED, Status.SUPPRESSED):
            return self._reply_after_unsubscribe(received, reader, now)
        if not holder.current:
            return Result(action=Action.IGNORED, reason="revoked reply token")
        message = received.message
        if reader.status is Status.PENDING:
            return self.confirmations.sign_up(received, reader, now)
        if message.from_address != reader.email:
            return self._stranger(received, now)
        parsed = parse_commands(message.new_text, today=reader_today(reader, now))
        if not received.verdicts.sender_proven:
            if parsed.commands:
                return self.applier.ask_to_confirm(reader, parsed.commands, received.client, now)
            return self.applier.unverified_help(reader, received.client, now)
        return self.applier.apply(reader, parsed.commands, parsed.not_understood, message, now, echo=True)

    def _subscribe(self, received: Received, now: datetime) -> Result:
        message = received.message
        proven = received.verdicts.sender_proven
        settings, rejected = ReaderSettings(), []
        liked_ids: tuple[str, ...] = ()
        # Settings from a sender DMARC did not verify would reach the address's owner in our mail.
        if proven:
            parsed = parse_commands(message.new_text, today=now.date())
            settings, _ = apply(settings, settings_of(parsed.commands))
            # A command whose value could not be used is named in the confirmation, not dropped silently.
            rejected = parsed.rejected
            liked_ids = tuple(
                dict.fromkeys(i for c in parsed.commands if c.kind is CommandKind.LIKE for i in c.terms)
            )
        result = self.optin.start(
            message.from_address,
            settings,
            now,
            message if proven else None,
            client=received.client,
            not_understood=rejected,
        )
        if liked_ids and result.action is Action.SUBSCRIBE_STARTED:
            # `like` lines seed the new reader's profile.
            self.optin.seed_likes(message.from_address, liked_ids, now)
        return result

    def _stranger(self, received: Received, now: datetime) -> Result:
        """A reply from someone other than the reader (a forwarded digest): the reader's settings stay
        as they are; a proven sender who is not a reader yet may get an offer of their own."""
        sender = received.message.from_address
        if not sender or not received.verdicts.sender_proven or self.store.by_email(sender) is not None:
            return Result(action=Action.IGNORED, reason="reply from an address other than the reader's")
        result = self.optin.start(sender, ReaderSettings(), now, received.message, client=received.client)
        return result.model_copy(update={"reason": "offered a subscription to a forwarded digest's reader"})

    def _reply_after_unsubscribe(self, received: Received, reader: Subscriber, now: datetime) -> Result:
        """Mail to any reply address of an unsubscribed reader changes nothing. The reader's own
        `subscribe` gets a fresh confirmation to the stored address (within the confirmation limits);
        anyone else is a stranger to a forwarded mail."""
        message = received.message
        if reader.status is Status.SUPPRESSED:
            return Result(action=Action.IGNORED, reason="address suppressed after bounces or complaints")
        if message.from_address != reader.email:
            return self._stranger(received, now)
        parsed = parse_commands(message.new_text, today=reader_today(reader, now))
        if not brings_back(parsed.commands):
            return Result(action=Action.IGNORED, reason="reader unsubscribed: nothing changes")
        limited = self.optin.notices.limited(reader.email, received.client, now)
        if limited is not None:
            return limited
        # Nothing of the inbound mail goes out: it may not come from the reader at all.
        result = self.optin.offer_resubscription(reader, now, None)
        return result.model_copy(update={"reason": "unsubscribed reader asked back: confirmation sent"})

    def _mailto_unsubscribe(self, token: str, now: datetime) -> Result:
        holder = subscriptions.token_holder(self.store, self.signer, Purpose.UNSUBSCRIBE, token, now)
        if holder is None:
            return Result(action=Action.IGNORED, reason="unknown unsubscribe token")
        if holder.reader.status in (Status.UNSUBSCRIBED, Status.SUPPRESSED):
            return Result(action=Action.UNSUBSCRIBED, reason="already unsubscribed")
        if not holder.current:
            return Result(action=Action.IGNORED, reason="revoked unsubscribe token")
        subscriptions.unsubscribe(self.store, holder.reader.id, now)
        return Result(action=Action.UNSUBSCRIBED)
