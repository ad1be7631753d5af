"""Inbound mail: who may command, what a reply asks for, and the answer it gets.

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

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from paperboy.digests.ledger import DigestLedger, DigestRecord
from paperboy.mail.addresses import normalised, normalised_domain
from paperboy.mail.inbound import consent
from paperboy.mail.inbound.commands import Command, CommandKind, apply, help_text, parse_commands
from paperboy.mail.inbound.consent import Answer
from paperboy.mail.inbound.message import InboundMessage
from paperboy.mail.inbound.records import InboundRecords
from paperboy.mail.outbound.mailer import Mailer, OutboundMail
from paperboy.mail.outbound.render import NoticeView, Renderer, settings_summary
from paperboy.papers.store import PaperStore
from paperboy.readers import lifecycle as subscriptions
from paperboy.readers.limits import UNKNOWN_MAIL_CLIENT, Limiter
from paperboy.readers.model import MAX_FEEDBACK, Feedback, LikedPaper, ReaderSettings, Status, Subscriber
from paperboy.readers.store import PENDING_LIFETIME, SubscriberStore, pending_expiry
from paperboy.readers.tokens import Links, Purpose, Signer, new_subscriber_id

CONFIRM_LIFETIME = timedelta(hours=48)


class Verdicts(BaseModel):
    """SES's receipt verdicts (`PASS`, `FAIL`, `GRAY`, `PROCESSING_FAILED`, `DISABLED`)."""

    spam: str = "PASS"
    virus: str = "PASS"
    spf: str = "PASS"
    dkim: str = "PASS"
    dmarc: str = "PASS"

    @property
    def hostile(self) -> bool:
        return "FAIL" in (self.spam, self.virus, self.dmarc)

    @property
    def sender_proven(self) -> bool:
        return self.dmarc == "PASS"


class Received(BaseModel):
    """One inbound message as SES received it: envelope recipients, verdicts and the parsed mail."""

    message_id: str
    recipients: list[str]
    verdicts: Verdicts = Field(default_factory=Verdicts)
    message: InboundMessage
    # Who asked, for the sign-up limits (limits.mail_client): the server that handed the mail to SES.
    client: str = UNKNOWN_MAIL_CLIENT


class Action(StrEnum):
    IGNORED = "ignored"
    APPLIED = "applied"
    CONFIRM_REQUESTED = "confirm_requested"
    SUBSCRIBE_STARTED = "subscribe_started"
    ACTIVATED = "activated"
    UNSUBSCRIBED = "unsubscribed"
    HELP = "help"
    RATE_LIMITED = "rate_limited"
    INVALID = "invalid"  # an address the mailer would refuse
    OWN_ADDRESS = "own_address"  # one of Paperboy's own addresses: never signed up, never mailed
    TOO_LARGE = "too_large"
    CANCELLED = "cancelled"  # a refusal answered a confirmation


class Result(BaseModel):
    action: Action
    reason: str = ""
    mails: list[str] = Field(default_factory=list)  # kinds of mail sent
    # RATE_LIMITED: the limit reached, and the seconds until its window ends.
    limit: str | None = None
    retry_after: int = 0


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
    renderer: Renderer
    mailer: Mailer
    links: Links
    signer: Signer
    limiter: Limiter

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
        if self._ours(message.from_address):
            return Result(action=Action.IGNORED, reason="mail from our own address (loop guard)")
        if message.message_id and not self.records.first_delivery(
            message.from_address, message.message_id, received.message_id, now
        ):
            # One message delivered twice under two SES ids (once per recipient, a resend) is one
            # set of commands: "more 2" must not move the profile twice.
            return Result(action=Action.IGNORED, reason="this Message-ID was already handled")
        for recipient in received.recipients:
            base, tag, domain = _local(recipient)
            if domain != self.links.domain:
                continue
            if base == "reply" and tag:
                return self._reply(received, tag, now)
            if base == "confirm" and tag:
                return self._confirmed(received, tag, now)
            if base == "unsubscribe" and tag:
                return self._mailto_unsubscribe(tag, now)
            if base == "subscribe":
                return self._subscribe(received, now)
        return Result(action=Action.IGNORED, reason="no Paperboy address among the recipients")

    # -- mail over the parsing limits -------------------------------------------------------------
    def _too_large(self, received: Received, now: datetime) -> Result:
        """Nothing in it is applied. Only a reader who may command (their own address, DMARC passed,
        to their reply address) hears why, so they can send it again shorter; anyone else's
        oversized mail gets no answer, or we would be a reflector for it."""
        message = received.message
        reason = f"too large: {message.too_large}"
        reader = self._commanding_reader(received, now)
        if reader is None:
            return Result(action=Action.TOO_LARGE, reason=f"{reason}; not answered")
        kind = self._send(
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
        if self._ours(message.from_address):
            return None
        for recipient in received.recipients:
            base, tag, domain = _local(recipient)
            if domain == self.links.domain and base == "reply" and tag:
                reader = subscriptions.reader_for_token(self.store, self.signer, Purpose.REPLY, tag, now)
                if reader is None or reader.email != message.from_address:
                    return None
                # Unsubscribed: they asked for no more mail, and a reply changes no setting of
                # theirs; bounced or complained: never mailed again, whatever they send.
                return None if reader.status in (Status.UNSUBSCRIBED, Status.SUPPRESSED) else reader
        return None

    # -- replies to a reader's token address ------------------------------------------------------
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
            return self._activate(received, reader, now)
        if message.from_address != reader.email:
            return self._stranger(received, now)
        parsed = parse_commands(message.new_text, today=self._today(reader, now))
        if not received.verdicts.sender_proven:
            if parsed.commands:
                return self._ask_to_confirm(reader, parsed.commands, received.client, now)
            return self._unverified_help(reader, received.client, now)
        return self._apply(reader, parsed.commands, parsed.not_understood, message, now, echo=True)

    def _apply(
        self,
        reader: Subscriber,
        commands: list[Command],
        not_understood: list[str],
        message: InboundMessage | None,
        now: datetime,
        *,
        echo: bool,
    ) -> Result:
        """Apply commands and answer. `echo`: the sender is verified, so the answer may quote its
        subject and the lines it did not understand."""
        if not echo:
            not_understood = []
        changes: list[str] = []
        mails: list[str] = []
        wants_settings = wants_help = False
        for command in commands:
            kind = command.kind
            if kind in (CommandKind.UNSUBSCRIBE,):
                subscriptions.unsubscribe(self.store, reader.id, now)
                mails.append(
                    self._send(
                        reader,
                        "goodbye",
                        message,
                        echo=echo,
                        paragraphs=[
                            "You are unsubscribed: no more digests will come.",
                            "Changed your mind? Reply “subscribe” to this mail, or write to "
                            f"subscribe@{self.links.domain}: we will first send a confirmation "
                            "to this address, and your digest starts again when you confirm it.",
                        ],
                    )
                )
                return Result(action=Action.UNSUBSCRIBED, mails=mails)
            if kind is CommandKind.SUBSCRIBE or kind is CommandKind.RESUME:
                subscriptions.activate(self.store, reader.id, now)
                changes.append("digests are on")
            elif kind is CommandKind.PAUSE:
                subscriptions.pause(self.store, reader.id, command.until, now)
                changes.append(
                    f"paused until {command.until:%d %b %Y}"
                    if command.until
                    else "paused until you reply “resume”"
                )
            elif kind in (CommandKind.MORE, CommandKind.LESS):
                changes.append(self._feedback(reader, command, message, now))
            elif kind is CommandKind.SETTINGS:
                wants_settings = True
            elif kind is CommandKind.HELP:
                wants_help = True
        settings_commands = [c for c in commands if c.kind not in _NOT_SETTINGS]
        if settings_commands:

            def edit(current: Subscriber) -> Subscriber:
                settings, _ = apply(current.settings, settings_commands)
                return subscriptions.rescheduled(current.model_copy(update={"settings": settings}), now)

            _, described = apply(reader.settings, settings_commands)
            subscriptions.change(self.store, reader.id, edit)
            changes.extend(described)
        if not changes and not wants_settings and not wants_help:
            mails.append(
                self._send(reader, "help", message, echo=echo, not_understood=not_understood, with_help=True)
            )
            return Result(action=Action.HELP, mails=mails)
        kind = "ack" if changes else ("help" if wants_help else "ack")
        mails.append(
            self._send(
                reader,
                kind,
                message,
                echo=echo,
                changes=changes,
                not_understood=[line for line in not_understood if not _PLEASANTRY.match(line)],
                with_help=wants_help or bool(not_understood),
            )
        )
        return Result(action=Action.APPLIED if changes else Action.HELP, mails=mails)

    def _feedback(
        self, reader: Subscriber, command: Command, message: InboundMessage | None, now: datetime
    ) -> str:
        record = self._digest_replied_to(reader, message)
        number = command.number or 0
        if record is None or not 1 <= number <= len(record.paper_ids):
            return f"“{command.line}”: there is no paper #{number} in the digest you replied to"
        paper_id = record.paper_ids[number - 1]
        title = record.paper_titles[number - 1] if number <= len(record.paper_titles) else paper_id
        stored = self.papers.get(paper_id)
        liked = LikedPaper(id=paper_id, title=title, keywords=stored.keywords if stored else ())
        more = command.kind is CommandKind.MORE
        vector = stored.vector if stored is not None else None

        def edit(current: Subscriber) -> Subscriber:
            kept_more = tuple(p for p in current.feedback.more if p.id != paper_id)
            kept_less = tuple(p for p in current.feedback.less if p.id != paper_id)
            feedback = Feedback(
                more=((*kept_more, liked) if more else kept_more)[-MAX_FEEDBACK:],
                less=(kept_less if more else (*kept_less, liked))[-MAX_FEEDBACK:],
            )
            update: dict[str, object] = {"feedback": feedback}
            if vector is not None:
                # Imported here: numpy is needed only by a rating, not by every cold start that imports this.
                from paperboy.semantic.profiles import moved_profile

                update["profile_vector"] = moved_profile(current.profile_vector, vector, more=more)
            return current.model_copy(update=update)

        subscriptions.change(self.store, reader.id, edit)
        # Say what the next digest will do differently: papers close in meaning (by the paper's
        # vector) or, for a paper not embedded yet, papers sharing its title's words.
        how = "close in meaning to it" if vector is not None else "sharing its title's words"
        moves = "rank higher" if more else "rank lower"
        return (
            f"{'more' if more else 'fewer'} papers like #{number} “{title}”: "
            f"from your next digest, papers {how} {moves}"
        )

    def _digest_replied_to(self, reader: Subscriber, message: InboundMessage | None) -> DigestRecord | None:
        records = [r for r in self.ledger.recent_digests(reader.id) if r.paper_ids]
        if message is not None:
            referenced = {
                ref.strip("<>").split("@")[0] for ref in (*message.in_reply_to, *message.references)
            }
            for record in records:
                if record.message_id and record.message_id in referenced:
                    return record
                if f"digest.{record.period.isoformat()}.{reader.id}" in referenced:
                    return record
        return records[0] if records else None

    # -- confirmations ------------------------------------------------------------------------------
    def _ask_to_confirm(
        self, reader: Subscriber, commands: list[Command], client: str, now: datetime
    ) -> Result:
        """The sender is not verified: ask the reader, at their stored address, to confirm. The mail
        names what the commands would do in our own words, never the sender's lines."""
        # The wording first: nothing is counted or stored for a mail we could not write.
        wanted = dict.fromkeys(_UNVERIFIED_CHANGES[c.kind] for c in commands)
        limited = self._limited(reader.email, client, now)
        if limited is not None:
            return limited
        nonce = secrets.token_hex(12)
        # One line can hold several commands ("time 7:30 CET"): store each line once.
        command_lines = list(dict.fromkeys(c.line for c in commands))
        self.records.put_pending_commands(nonce, reader, command_lines, now + CONFIRM_LIFETIME)
        kind = self._send(
            reader,
            "confirm",
            None,
            reply_to=f"confirm+{nonce}@{self.links.domain}",
            paragraphs=[
                "We got a mail for your Paperboy digest that we could not verify came from you. It asks to:",
                *[f"  • {change}" for change in wanted],
                "Reply “yes” to this mail within 48 hours to apply it. "
                "If it was not you, reply “no” or ignore this mail: nothing changes.",
            ],
        )
        return Result(action=Action.CONFIRM_REQUESTED, mails=[kind])

    def _unverified_help(self, reader: Subscriber, client: str, now: datetime) -> Result:
        """A mail with no command from the reader's address that DMARC did not verify: a fixed
        answer (whoever wrote it may not be the reader), counted against the limits."""
        return self._limited_answer(
            reader,
            client,
            now,
            "help",
            with_help=True,
            paragraphs=[
                "We got a mail for your Paperboy digest that we could not verify came from you, "
                "and it changed nothing. To change your digest, reply with one of the commands below.",
            ],
        )

    def _limited_answer(
        self, reader: Subscriber, client: str, now: datetime, kind: str, **fields: Any
    ) -> Result:
        """A fixed answer nobody verifiably asked for, sent only within the limits."""
        limited = self._limited(reader.email, client, now)
        if limited is not None:
            return limited
        return Result(action=Action.HELP, mails=[self._send(reader, kind, None, **fields)])

    def _confirmed(self, received: Received, nonce: str, now: datetime) -> Result:
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
        reply = consent.read(message.new_text, today=self._today(reader, now))
        comes_back = reader.status is Status.UNSUBSCRIBED
        if reply.answer is Answer.UNCLEAR:
            return self._ask_again(
                received,
                reader,
                now,
                wanted="your Paperboy subscription" if comes_back else "the change to your Paperboy digest",
                reply_to=f"confirm+{nonce}@{self.links.domain}",
            )
        if not self.records.use_pending_commands(nonce):
            return Result(action=Action.IGNORED, reason="confirmation used concurrently")
        if reply.answer is Answer.NO:
            return self._refused(
                reader,
                "You said no, so nothing was changed"
                + (": you stay unsubscribed, and no digest will come." if comes_back else "."),
            )
        proven = received.verdicts.sender_proven
        shown = message if proven else None
        parsed = parse_commands("\n".join(pending.lines), today=self._today(reader, now))
        if comes_back:
            # The confirmation went to the stored address after the unsubscribe: a fresh opt-in.
            active = subscriptions.activate(self.store, reader.id, now)
            return Result(action=Action.ACTIVATED, mails=[self.welcome(active, shown)])
        return self._apply(reader, parsed.commands, [], shown, now, echo=proven)

    def _activate(self, received: Received, reader: Subscriber, now: datetime) -> Result:
        """A reply to a pending reader's confirmation: a yes activates (a verified sender's commands
        in it apply too), a no cancels the sign-up, anything else is asked again."""
        message = received.message
        proven = received.verdicts.sender_proven
        reply = consent.read(message.new_text, today=self._today(reader, now))
        if reply.answer is Answer.NO:
            # Unsubscribing revokes the confirm link and this reply address as well.
            subscriptions.unsubscribe(self.store, reader.id, now)
            return self._refused(
                reader,
                "You said no, so your Paperboy sign-up is cancelled: no digest will come to this address.",
            )
        if self._expired(reader, now):
            # Refused; the way to start again is a new confirmation to the stored address (within
            # the confirmation limits), never to whoever wrote.
            result = self.start_subscription(reader.email, reader.settings, now, client=received.client)
            return result.model_copy(
                update={"reason": "pending subscription expired: confirmation sent again"}
            )
        if reply.answer is Answer.UNCLEAR:
            return self._ask_again(received, reader, now, wanted="your Paperboy subscription")
        active = subscriptions.activate(self.store, reader.id, now)
        wanted = [c for c in reply.commands if c.kind not in _NOT_SETTINGS]
        if wanted and proven and message.from_address == reader.email:

            def edit(current: Subscriber) -> Subscriber:
                settings, _ = apply(current.settings, wanted)
                return subscriptions.rescheduled(current.model_copy(update={"settings": settings}), now)

            active = subscriptions.change(self.store, reader.id, edit)
        return Result(action=Action.ACTIVATED, mails=[self.welcome(active, message)])

    def _refused(self, reader: Subscriber, outcome: str) -> Result:
        """A short answer to a "no": what did not happen, and nothing the sender wrote."""
        kind = self._send(
            reader,
            "notice",
            None,
            subject="Cancelled: nothing was changed",
            paragraphs=[
                outcome,
                "Thank you for telling us. If it was a mistake, you can sign up again at any "
                f"time by writing to subscribe@{self.links.domain}.",
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
        result = self._limited_answer(
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

    def welcome(self, reader: Subscriber, message: InboundMessage | None = None) -> str:
        return self._send(
            reader,
            "welcome",
            message,
            with_help=True,
            paragraphs=[
                "Welcome to Paperboy! Your first digest comes at your next delivery time.",
                "Change anything by replying to any Paperboy mail.",
            ],
        )

    # -- subscribing --------------------------------------------------------------------------------
    def _subscribe(self, received: Received, now: datetime) -> Result:
        message = received.message
        proven = received.verdicts.sender_proven
        settings, rejected = ReaderSettings(), []
        # Settings from a sender DMARC did not verify would reach the address's owner in our mail.
        if proven:
            parsed = parse_commands(message.new_text, today=now.date())
            settings, _ = apply(settings, [c for c in parsed.commands if c.kind not in _NOT_SETTINGS])
            # A command whose value could not be used is named in the confirmation, not dropped silently.
            rejected = parsed.rejected
        return self.start_subscription(
            message.from_address,
            settings,
            now,
            message if proven else None,
            client=received.client,
            not_understood=rejected,
        )

    def start_subscription(
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
        asked for by `client`. The address is checked and the limits counted before anything is
        written or sent. `message` is the verified mail that asked, if any (its ids thread the answer)."""
        try:
            address = normalised(address)
        except ValueError:
            return Result(action=Action.INVALID, reason="not an address mail can be sent to")
        if self._ours(address):
            return Result(action=Action.OWN_ADDRESS, reason="one of Paperboy's own addresses")
        limited = self._limited(address, client, now)
        if limited is not None:
            return limited
        existing = self.store.by_email(address)
        if existing is not None and existing.status is Status.SUPPRESSED:
            return Result(action=Action.IGNORED, reason="address suppressed after bounces or complaints")
        if existing is not None and existing.status in (Status.ACTIVE, Status.PAUSED):
            return Result(
                action=Action.HELP,
                mails=[
                    self._send(
                        existing,
                        "notice",
                        message,
                        paragraphs=[
                            "You are already subscribed to Paperboy. Your settings are below; "
                            "reply to change them.",
                        ],
                        with_help=True,
                    )
                ],
            )
        if existing is not None and existing.status is Status.UNSUBSCRIBED:
            return self._offer_resubscription(existing, now, message)
        if existing is not None:
            reader = subscriptions.change(
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
                return Result(action=Action.IGNORED, reason="address taken concurrently")
        reader = self.store.get(reader.id) or reader
        expires = pending_expiry(reader) or now + PENDING_LIFETIME
        return Result(
            action=Action.SUBSCRIBE_STARTED,
            mails=[self._confirmation(reader, message, expires, not_understood=not_understood)],
        )

    def _offer_resubscription(
        self, reader: Subscriber, now: datetime, message: InboundMessage | None
    ) -> Result:
        """An unsubscribed address stays unsubscribed until its mailbox confirms: a stranger's form
        post or a forwarded mail changes nothing, and may at most send it a confirmation (the caller
        has counted it against the sign-up limits)."""
        nonce = secrets.token_hex(12)
        expires = now + PENDING_LIFETIME
        self.records.put_pending_commands(nonce, reader, ["subscribe"], expires)
        mail = self._confirmation(reader, message, expires, reply_to=f"confirm+{nonce}@{self.links.domain}")
        return Result(action=Action.SUBSCRIBE_STARTED, mails=[mail])

    def _confirmation(
        self,
        reader: Subscriber,
        message: InboundMessage | None,
        expires: datetime,
        reply_to: str | None = None,
        not_understood: list[str] | None = None,
    ) -> str:
        return self._send(
            reader,
            "confirm",
            message,
            reply_to=reply_to,
            not_understood=not_understood,
            link=("Confirm my subscription", self.links.confirm_url(reader, expires)),
            paragraphs=[
                "Someone (hopefully you) asked to get Paperboy's daily digest of trending "
                "machine-learning papers at this address.",
                "To confirm, reply “yes” to this mail or press the button below "
                f"before {expires:%d %b %Y %H:%M} UTC. "
                "If it was not you, reply “no” or ignore this mail, and nothing happens.",
            ],
        )

    def _stranger(self, received: Received, now: datetime) -> Result:
        """A reply from someone other than the reader (a forwarded digest): the reader's settings stay
        as they are; a proven sender who is not a reader yet may get an offer of their own."""
        sender = received.message.from_address
        if not sender or not received.verdicts.sender_proven or self.store.by_email(sender) is not None:
            return Result(action=Action.IGNORED, reason="reply from an address other than the reader's")
        result = self.start_subscription(
            sender, ReaderSettings(), now, received.message, client=received.client
        )
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
        parsed = parse_commands(message.new_text, today=self._today(reader, now))
        if not any(c.kind in (CommandKind.SUBSCRIBE, CommandKind.RESUME) for c in parsed.commands):
            return Result(action=Action.IGNORED, reason="reader unsubscribed: nothing changes")
        limited = self._limited(reader.email, received.client, now)
        if limited is not None:
            return limited
        # Nothing of the inbound mail goes out: it may not come from the reader at all.
        result = self._offer_resubscription(reader, now, None)
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

    # -- helpers ------------------------------------------------------------------------------------
    def _ours(self, address: str) -> bool:
        """An address of Paperboy's own (`address` normalised): any at the mail domain, whose every
        address the receipt rule hands to InboundMail, and the sender, wherever it lives."""
        domain = address.rpartition("@")[2]
        return domain == normalised_domain(self.links.domain) or address == normalised(self.mailer.sender)

    def _today(self, reader: Subscriber, now: datetime) -> date:
        return now.astimezone(reader.settings.zone).date()

    def _expired(self, reader: Subscriber, now: datetime) -> bool:
        expires = pending_expiry(reader)
        return expires is not None and expires <= now

    def _limited(self, address: str, client: str, now: datetime) -> Result | None:
        """None when a mail to `address` asked for by `client` is within every limit (and is now
        counted); else the answer: refused by a limit, or an address the mailer would refuse."""
        try:
            refused = self.limiter.take(address, client, now)
        except ValueError:
            return Result(action=Action.INVALID, reason="not an address mail can be sent to")
        if refused is None:
            return None
        return Result(
            action=Action.RATE_LIMITED,
            reason=f"{refused.limit.value} limit reached",
            limit=refused.limit.value,
            retry_after=max(1, int(refused.retry_after.total_seconds())),
        )

    def _send(
        self,
        reader: Subscriber,
        kind: str,
        message: InboundMessage | None,
        *,
        paragraphs: list[str] | None = None,
        changes: list[str] | None = None,
        not_understood: list[str] | None = None,
        with_help: bool = False,
        reply_to: str | None = None,
        link: tuple[str, str] | None = None,
        echo: bool = False,
        subject: str | None = None,
    ) -> str:
        """Send a notice to the reader. Only with `echo` (a verified sender) may its subject quote
        the message's; `message` threads the answer (In-Reply-To, References)."""
        current = self.store.get(reader.id) or reader
        view = NoticeView(
            subject=subject or _subject(kind, message if echo else None),
            paragraphs=[
                *(paragraphs or []),
                *(["Done:", *[f"• {c}" for c in changes]] if changes else []),
                *(
                    ["I did not understand:", *[f"  {line}" for line in not_understood]]
                    if not_understood
                    else []
                ),
            ],
            settings_lines=_settings_lines(current),
            action=link,
            help_text=help_text(self.links.domain) if with_help else None,
            # Only mail to a subscribed reader offers an unsubscribe (a confirmation or a goodbye has
            # nothing to stop).
            unsubscribe_url=self.links.unsubscribe_url(current)
            if current.status in (Status.ACTIVE, Status.PAUSED)
            else None,
        )
        rendered = self.renderer.notice(kind, view)
        in_reply_to = message.message_id if message else None
        self.mailer.send(
            OutboundMail(
                to=current.email,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                reply_to=reply_to or self.links.reply_address(current),
                kind=kind,
                list_unsubscribe_url=view.unsubscribe_url,
                list_unsubscribe_mailto=self.links.unsubscribe_mailto(current)
                if view.unsubscribe_url
                else None,
                in_reply_to=in_reply_to,
                references=[
                    *(message.references if message else []),
                    *([in_reply_to] if in_reply_to else []),
                ],
            )
        )
        return kind


# Greetings, thanks and a signed name around commands are not worth an "I did not understand".
_PLEASANTRY = re.compile(
    r"(?i:^(hi|hello|hey|dear|thanks?|thank you|cheers|best|regards|kind regards|yours|ok|okay)\b)"
    r"|^[A-Z][a-z]+\.?$"
)
_NOT_SETTINGS = frozenset(
    {
        CommandKind.UNSUBSCRIBE,
        CommandKind.SUBSCRIBE,
        CommandKind.PAUSE,
        CommandKind.RESUME,
        CommandKind.MORE,
        CommandKind.LESS,
        CommandKind.SETTINGS,
        CommandKind.HELP,
    }
)
# What a command would do, in our words: the confirmation an unverified sender causes quotes nothing
# the sender wrote (a topic can be any text: "topics: cheap pills at example.com").
_UNVERIFIED_CHANGES = {
    CommandKind.UNSUBSCRIBE: "unsubscribe you",
    CommandKind.SUBSCRIBE: "start your digest again",
    CommandKind.PAUSE: "pause your digest",
    CommandKind.RESUME: "resume your digest",
    CommandKind.TOPICS_SET: "change your topics",
    CommandKind.TOPIC_ADD: "change your topics",
    CommandKind.TOPIC_REMOVE: "change your topics",
    CommandKind.EXCLUDE_ADD: "change what you exclude",
    CommandKind.EXCLUDE_REMOVE: "change what you exclude",
    CommandKind.CATEGORIES_SET: "change your arXiv categories",
    CommandKind.FOLLOW: "change the authors you follow",
    CommandKind.UNFOLLOW: "change the authors you follow",
    CommandKind.MORE: "record your feedback on papers",
    CommandKind.LESS: "record your feedback on papers",
    CommandKind.COUNT: "change how many papers you get",
    CommandKind.TIME: "change your delivery time",
    CommandKind.TIMEZONE: "change your time zone",
    CommandKind.DAILY: "change how often your digest comes",
    CommandKind.WEEKLY: "change how often your digest comes",
    CommandKind.FORMAT: "change your mail format",
    CommandKind.QUIET_DAYS: "change your quiet-day notes",
    CommandKind.TRENDING: "show or hide the “Also trending” section",
    CommandKind.SETTINGS: "show your settings",
    CommandKind.HELP: "show the commands",
}
_SUBJECTS = {
    "confirm": "Please confirm your Paperboy subscription",
    "welcome": "Welcome to Paperboy",
    "ack": "Done: your Paperboy settings",
    "help": "Paperboy: how to change your digest",
    "goodbye": "You are unsubscribed from Paperboy",
    "notice": "Your Paperboy subscription",
}


def _subject(kind: str, message: InboundMessage | None) -> str:
    if message is not None and message.subject and kind in ("ack", "help", "goodbye"):
        original = " ".join(message.subject.split())[:150]
        return original if original.lower().startswith("re:") else f"Re: {original}"
    return _SUBJECTS.get(kind, _SUBJECTS["notice"])


def _settings_lines(reader: Subscriber) -> list[str]:
    until = f" until {reader.paused_until:%d %b %Y}" if reader.paused_until else ""
    status = f"Status: {reader.status.value}{until}"
    return [status, *settings_summary(reader.settings)]
