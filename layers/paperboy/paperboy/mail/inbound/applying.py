"""Applying a reader's commands, once the Inbox decided who may give them, and the answer.

A verified reader's commands apply at once (effects from the catalogue, settings in one write) and
the answer may quote their subject and the lines not understood. An unverified sender's commands
are held for the reader to confirm at their stored address: the mail names what the commands would
do in our words (the catalogue's), never their lines.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from paperboy.digests.ledger import DigestLedger
from paperboy.mail.inbound.catalogue import CATALOGUE, apply, asks_to, save_settings, settings_of
from paperboy.mail.inbound.effects import Applying
from paperboy.mail.inbound.records import InboundRecords
from paperboy.mail.notices import Action, Notices, Result
from paperboy.papers.store import PaperStore
from paperboy.readers.model import Subscriber
from paperboy.readers.store import SubscriberStore

if TYPE_CHECKING:
    from paperboy.mail.inbound.commands import Command
    from paperboy.mail.inbound.message import InboundMessage
    from paperboy.papers.lookup import PaperLookup

CONFIRM_LIFETIME = timedelta(hours=48)
# Greetings, thanks and a signed name around commands are not worth an "I did not understand".
_PLEASANTRY = re.compile(
    r"(?i:^(hi|hello|hey|dear|thanks?|thank you|cheers|best|regards|kind regards|yours|ok|okay)\b)"
    r"|^[A-Z][a-z]+\.?$"
)


@dataclass
class Applier:
    store: SubscriberStore
    records: InboundRecords
    ledger: DigestLedger
    papers: PaperStore
    notices: Notices
    # arXiv's API, for papers a reader names that are not stored (`like`, `me:`); None: not reachable.
    lookup: PaperLookup | None = None

    def apply(
        self,
        reader: Subscriber,
        commands: list[Command],
        not_understood: list[str],
        message: InboundMessage | None,
        now: datetime,
        *,
        echo: bool,
    ) -> Result:
        """Apply commands in order and answer. `echo`: the sender is verified, so the answer may
        quote its subject and the lines it did not understand. An unsubscribe ends the reply: what
        follows it does not apply."""
        applying = Applying(
            store=self.store,
            ledger=self.ledger,
            papers=self.papers,
            reader=reader,
            message=message,
            now=now,
            lookup=self.lookup,
        )
        acted = False
        for command in commands:
            act = CATALOGUE[command.kind].act
            if act is not None:
                act(applying, command)
                acted = True
            if applying.unsubscribed:
                return self._goodbye(reader, message, echo=echo)
        # Until an effect has written, the reader read for this message is the stored one: neither
        # the settings' save nor the answer needs to read it again.
        stored = None if acted else reader
        settings_commands = settings_of(commands)
        if settings_commands:
            _, described = apply(reader.settings, settings_commands)
            saved = save_settings(self.store, reader.id, settings_commands, now, read=stored)
            stored = None if acted else saved
            applying.changes.extend(described)
        return self._answer(applying, not_understood if echo else [], echo=echo, stored=stored)

    def _answer(
        self, applying: Applying, not_understood: list[str], *, echo: bool, stored: Subscriber | None
    ) -> Result:
        reader, message, changes = applying.reader, applying.message, applying.changes
        listed = applying.listed
        if not changes and not listed and not applying.show_settings and not applying.show_help:
            mail = self.notices.send(
                reader,
                "help",
                message,
                echo=echo,
                not_understood=not_understood,
                with_help=True,
                stored=stored,
            )
            return Result(action=Action.HELP, mails=[mail])
        mail = self.notices.send(
            reader,
            "help" if applying.show_help and not changes else "ack",
            message,
            echo=echo,
            stored=stored,
            changes=changes,
            listed=listed,
            not_understood=[line for line in not_understood if not _PLEASANTRY.match(line)],
            with_help=applying.show_help or bool(not_understood),
        )
        return Result(action=Action.APPLIED if changes or listed else Action.HELP, mails=[mail])

    def _goodbye(self, reader: Subscriber, message: InboundMessage | None, *, echo: bool) -> Result:
        mail = self.notices.send(
            reader,
            "goodbye",
            message,
            echo=echo,
            paragraphs=[
                "You are unsubscribed: no more digests will come.",
                "Changed your mind? Reply “subscribe” to this mail, or write to "
                f"subscribe@{self.notices.links.domain}: we will first send a confirmation "
                "to this address, and your digest starts again when you confirm it.",
            ],
        )
        return Result(action=Action.UNSUBSCRIBED, mails=[mail])

    def ask_to_confirm(
        self, reader: Subscriber, commands: list[Command], client: str, now: datetime
    ) -> Result:
        """The sender is not verified: ask the reader, at their stored address, to confirm. The mail
        names what the commands would do in our own words, never the sender's lines."""
        # The wording first: nothing is counted or stored for a mail we could not write.
        wanted = asks_to(commands)
        limited = self.notices.limited(reader.email, client, now)
        if limited is not None:
            return limited
        nonce = secrets.token_hex(12)
        # One line can hold several commands ("time 7:30 CET"): store each line once.
        command_lines = list(dict.fromkeys(c.line for c in commands))
        self.records.put_pending_commands(nonce, reader, command_lines, now + CONFIRM_LIFETIME)
        kind = self.notices.send(
            reader,
            "confirm",
            None,
            reply_to=f"confirm+{nonce}@{self.notices.links.domain}",
            paragraphs=[
                "We got a mail for your Paperboy digest that we could not verify came from you. It asks to:",
                *[f"  • {change}" for change in wanted],
                "Reply “yes” to this mail within 48 hours to apply it. "
                "If it was not you, reply “no” or ignore this mail: nothing changes.",
            ],
        )
        return Result(action=Action.CONFIRM_REQUESTED, mails=[kind])

    def unverified_help(self, reader: Subscriber, client: str, now: datetime) -> Result:
        """A mail with no command from the reader's address that DMARC did not verify: a fixed
        answer (whoever wrote it may not be the reader), counted against the limits."""
        return self.notices.send_limited(
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
