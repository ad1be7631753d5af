"""Answers to people: what handling their mail or form did (`Result`), and the short mails that say
so (confirmations, welcomes, acknowledgements, help, goodbyes).

Mail nobody verifiably asked for (confirmations, answers to a sender DMARC did not verify) is
counted against the limits of `paperboy.readers.limits` before anything is written or sent, and
carries nothing the sender wrote: only a verified sender's answer may quote its subject.
Imports no mail parser: the Web function's subscribe form sends these too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from paperboy.mail.inbound.catalogue import help_text, settings_summary
from paperboy.mail.outbound.mailer import Mailer, OutboundMail
from paperboy.mail.outbound.render import NoticeView, RenderedMail, Renderer
from paperboy.readers.likes import in_force
from paperboy.readers.limits import Limiter
from paperboy.readers.model import Status, Subscriber
from paperboy.readers.store import SubscriberStore
from paperboy.readers.tokens import Links

if TYPE_CHECKING:
    from paperboy.mail.inbound.message import InboundMessage


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
    shown = in_force(reader)
    return [
        status,
        *settings_summary(reader.settings),
        *([f"Papers you liked: {len(shown)}"] if shown else []),
    ]


def _paragraphs(
    paragraphs: list[str] | None,
    changes: list[str] | None,
    not_understood: list[str] | None,
    listed: list[str] | None = None,
) -> list[str]:
    return [
        *(paragraphs or []),
        *(["Done:", *[f"• {c}" for c in changes]] if changes else []),
        # What a command asked to see (`likes`, `more like 2`, the papers `me:` found).
        *(listed or []),
        *(["I did not understand:", *[f"  {line}" for line in not_understood]] if not_understood else []),
    ]


@dataclass
class Notices:
    store: SubscriberStore
    renderer: Renderer
    mailer: Mailer
    links: Links
    limiter: Limiter

    def send(
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
        listed: list[str] | None = None,
        stored: Subscriber | None = None,
    ) -> str:
        """Send a notice to the reader as stored now (`stored`, when the caller has it, or read).
        Only with `echo` (a verified sender) may its subject quote the message's; `message` threads
        the answer (In-Reply-To, References)."""
        current = stored or self.store.get(reader.id) or reader
        view = NoticeView(
            subject=subject or _subject(kind, message if echo else None),
            paragraphs=_paragraphs(paragraphs, changes, not_understood, listed),
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
        self.mailer.send(self._mail(current, kind, rendered, message, reply_to, view.unsubscribe_url))
        return kind

    def _mail(
        self,
        reader: Subscriber,
        kind: str,
        rendered: RenderedMail,
        message: InboundMessage | None,
        reply_to: str | None,
        unsubscribe_url: str | None,
    ) -> OutboundMail:
        in_reply_to = message.message_id if message else None
        return OutboundMail(
            to=reader.email,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            reply_to=reply_to or self.links.reply_address(reader),
            kind=kind,
            list_unsubscribe_url=unsubscribe_url,
            list_unsubscribe_mailto=self.links.unsubscribe_mailto(reader) if unsubscribe_url else None,
            in_reply_to=in_reply_to,
            references=[*(message.references if message else []), *([in_reply_to] if in_reply_to else [])],
        )

    def welcome(self, reader: Subscriber, message: InboundMessage | None = None) -> str:
        return self.send(
            reader,
            "welcome",
            message,
            with_help=True,
            paragraphs=[
                "Welcome to Paperboy! Your first digest comes at your next delivery time.",
                "Change anything by replying to any Paperboy mail.",
            ],
        )

    def limited(self, address: str, client: str, now: datetime) -> Result | None:
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

    def send_limited(
        self, reader: Subscriber, client: str, now: datetime, kind: str, **fields: Any
    ) -> Result:
        """A fixed answer nobody verifiably asked for, sent only within the limits."""
        limited = self.limited(reader.email, client, now)
        if limited is not None:
            return limited
        return Result(action=Action.HELP, mails=[self.send(reader, kind, None, **fields)])
