"""Inbound mail: who may command, what a reply asks for, and the answer it gets.

Trust, in order (brief section 4):
- automated mail (bounces, auto-replies, list traffic) is never answered and changes nothing;
- a spam, virus or DMARC FAIL verdict changes nothing;
- `reply+TOKEN@` must carry a genuine token. A pending reader's reply to its confirmation
  activates it (the token proves the mailbox got the mail). An active reader's commands apply only
  when From is the reader's address and DMARC passed; from the reader's address without a DMARC
  pass, the reader is asked to confirm at their stored address; from anyone else, nothing changes
  for the reader and the sender may be offered a subscription of their own;
- `confirm+NONCE@` applies the commands a reader was asked to confirm;
- `unsubscribe+TOKEN@` (the List-Unsubscribe mailto) unsubscribes the token's reader;
- `subscribe@` starts a double opt-in for the From address, with any settings in the body.
Confirmation mail to any address is limited to a few per day.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from paperboy import subscriptions
from paperboy.commands import Command, CommandKind, apply, help_text, parse_commands
from paperboy.mailer import Mailer, OutboundMail
from paperboy.profiles import moved_profile
from paperboy.readers import MAX_FEEDBACK, Feedback, LikedPaper, ReaderSettings, Status, Subscriber
from paperboy.render import NoticeView, Renderer, settings_summary
from paperboy.replies import InboundMessage
from paperboy.store import PaperStore
from paperboy.subscribers import DigestRecord, SubscriberStore
from paperboy.tokens import Links, Purpose, Signer, new_subscriber_id

CONFIRMATIONS_PER_DAY = 3
PENDING_LIFETIME = timedelta(days=7)
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


class Action(StrEnum):
    IGNORED = "ignored"
    APPLIED = "applied"
    CONFIRM_REQUESTED = "confirm_requested"
    SUBSCRIBE_STARTED = "subscribe_started"
    ACTIVATED = "activated"
    UNSUBSCRIBED = "unsubscribed"
    HELP = "help"
    RATE_LIMITED = "rate_limited"


class Result(BaseModel):
    action: Action
    reason: str = ""
    mails: list[str] = Field(default_factory=list)  # kinds of mail sent


def _local(address: str) -> tuple[str, str, str]:
    """(base, tag, domain) of `base+tag@domain`, lower-cased."""
    local, _, domain = address.strip().lower().rpartition("@")
    base, _, tag = local.partition("+")
    return base, tag, domain


@dataclass
class Inbox:
    store: SubscriberStore
    papers: PaperStore
    renderer: Renderer
    mailer: Mailer
    links: Links
    signer: Signer

    def handle(self, received: Received, now: datetime) -> Result:
        message = received.message
        if message.automated:
            return Result(action=Action.IGNORED, reason=f"automated: {message.automated}")
        if received.verdicts.hostile:
            return Result(action=Action.IGNORED, reason="spam, virus or DMARC verdict FAIL")
        if message.from_address.endswith(f"@{self.links.domain}"):
            return Result(action=Action.IGNORED, reason="mail from our own domain (loop guard)")
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

    # -- replies to a reader's token address ------------------------------------------------------
    def _reply(self, received: Received, token: str, now: datetime) -> Result:
        reader = subscriptions.reader_for_token(self.store, self.signer, Purpose.REPLY, token)
        if reader is None:
            return Result(action=Action.IGNORED, reason="unknown or revoked reply token")
        message = received.message
        if reader.status is Status.PENDING:
            return self._activate(reader, message, now)
        if message.from_address != reader.email:
            return self._stranger(received, now)
        parsed = parse_commands(message.new_text, today=self._today(reader, now))
        if not received.verdicts.sender_proven and parsed.commands:
            return self._ask_to_confirm(reader, parsed.commands, message, now)
        return self._apply(reader, parsed.commands, parsed.not_understood, message, now)

    def _apply(
        self,
        reader: Subscriber,
        commands: list[Command],
        not_understood: list[str],
        message: InboundMessage | None,
        now: datetime,
    ) -> Result:
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
                        paragraphs=[
                            "You are unsubscribed: no more digests will come.",
                            "Changed your mind? Reply “subscribe” to this mail, or write to "
                            f"subscribe@{self.links.domain}.",
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
            mails.append(self._send(reader, "help", message, not_understood=not_understood, with_help=True))
            return Result(action=Action.HELP, mails=mails)
        kind = "ack" if changes else ("help" if wants_help else "ack")
        mails.append(
            self._send(
                reader,
                kind,
                message,
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
        records = [r for r in self.store.recent_digests(reader.id) if r.paper_ids]
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
        self, reader: Subscriber, commands: list[Command], message: InboundMessage, now: datetime
    ) -> Result:
        if not self._may_confirm(reader, now):
            return Result(action=Action.RATE_LIMITED, reason="confirmations for this address today")
        nonce = secrets.token_hex(12)
        # One line can hold several commands ("time 7:30 CET"): store each line once.
        command_lines = list(dict.fromkeys(c.line for c in commands))
        self.store.put_pending_commands(nonce, reader.id, command_lines, now + CONFIRM_LIFETIME)
        lines = [f"  {line}" for line in command_lines]
        kind = self._send(
            reader,
            "confirm",
            message,
            reply_to=f"confirm+{nonce}@{self.links.domain}",
            paragraphs=[
                "We got these instructions for your Paperboy digest but could not "
                "verify that they came from you:",
                *lines,
                "Reply to this mail (any text) within 48 hours to apply them. "
                "If it was not you, ignore this mail: nothing changes.",
            ],
        )
        return Result(action=Action.CONFIRM_REQUESTED, mails=[kind])

    def _confirmed(self, received: Received, nonce: str, now: datetime) -> Result:
        pending = self.store.take_pending_commands(nonce, now)
        if pending is None:
            return Result(action=Action.IGNORED, reason="unknown, used or expired confirmation")
        reader = self.store.get(pending.subscriber_id)
        if reader is None:
            return Result(action=Action.IGNORED, reason="reader gone")
        parsed = parse_commands("\n".join(pending.lines), today=self._today(reader, now))
        return self._apply(reader, parsed.commands, [], received.message, now)

    def _activate(self, reader: Subscriber, message: InboundMessage, now: datetime) -> Result:
        if self._expired(reader, now):
            return Result(action=Action.IGNORED, reason="pending subscription expired")
        active = subscriptions.activate(self.store, reader.id, now)
        return Result(action=Action.ACTIVATED, mails=[self.welcome(active, message)])

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
        if not message.from_address:
            return Result(action=Action.IGNORED, reason="no sender address")
        parsed = parse_commands(message.new_text, today=now.date())
        settings, _ = apply(ReaderSettings(), [c for c in parsed.commands if c.kind not in _NOT_SETTINGS])
        # A command whose value could not be used is named in the confirmation, not dropped silently.
        return self.start_subscription(
            message.from_address, settings, now, message, not_understood=parsed.rejected
        )

    def start_subscription(
        self,
        address: str,
        settings: ReaderSettings,
        now: datetime,
        message: InboundMessage | None = None,
        *,
        not_understood: list[str] | None = None,
    ) -> Result:
        """Double opt-in for `address` (a mail to subscribe@, the web form, a stranger's reply)."""
        address = address.strip().lower()
        existing = self.store.by_email(address)
        if existing is not None and existing.status is Status.SUPPRESSED:
            return Result(action=Action.IGNORED, reason="address suppressed after bounces or complaints")
        if existing is not None and existing.status in (Status.ACTIVE, Status.PAUSED):
            if not self._may_confirm(existing, now):
                return Result(action=Action.RATE_LIMITED)
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
            if not self.store.create(reader, expires_at=now + PENDING_LIFETIME):
                return Result(action=Action.IGNORED, reason="address taken concurrently")
        if not self._may_confirm(reader, now):
            return Result(action=Action.RATE_LIMITED)
        reader = self.store.get(reader.id) or reader
        return Result(
            action=Action.SUBSCRIBE_STARTED,
            mails=[
                self._send(
                    reader,
                    "confirm",
                    message,
                    link=("Confirm my subscription", self.links.confirm_url(reader)),
                    not_understood=not_understood,
                    paragraphs=[
                        "Someone (hopefully you) asked to get Paperboy's daily digest of trending "
                        "machine-learning papers at this address.",
                        "To confirm, reply to this mail (any text will do) or press the button below. "
                        "If it was not you, ignore this mail and nothing happens.",
                    ],
                )
            ],
        )

    def _stranger(self, received: Received, now: datetime) -> Result:
        """A reply from someone other than the reader (a forwarded digest): the reader's settings stay
        as they are; a proven sender who is not a reader yet may get an offer of their own."""
        sender = received.message.from_address
        if not sender or not received.verdicts.sender_proven or self.store.by_email(sender) is not None:
            return Result(action=Action.IGNORED, reason="reply from an address other than the reader's")
        result = self.start_subscription(sender, ReaderSettings(), now, received.message)
        return result.model_copy(update={"reason": "offered a subscription to a forwarded digest's reader"})

    def _mailto_unsubscribe(self, token: str, now: datetime) -> Result:
        reader = subscriptions.reader_for_token(self.store, self.signer, Purpose.UNSUBSCRIBE, token)
        if reader is None:
            return Result(action=Action.IGNORED, reason="unknown unsubscribe token")
        subscriptions.unsubscribe(self.store, reader.id, now)
        return Result(action=Action.UNSUBSCRIBED)

    # -- helpers ------------------------------------------------------------------------------------
    def _today(self, reader: Subscriber, now: datetime) -> date:
        return now.astimezone(reader.settings.zone).date()

    def _expired(self, reader: Subscriber, now: datetime) -> bool:
        return reader.created_at + PENDING_LIFETIME < now

    def _may_confirm(self, reader: Subscriber, now: datetime) -> bool:
        return self.store.count_confirmation(reader.id, now, limit=CONFIRMATIONS_PER_DAY)

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
    ) -> str:
        current = self.store.get(reader.id) or reader
        view = NoticeView(
            subject=_subject(kind, message),
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
            unsubscribe_url=self.links.unsubscribe_url(current)
            if current.status is not Status.PENDING
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
