"""Inbound mail: parsing a message, reading commands and consent, the inbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperboy._exports import lazy

if TYPE_CHECKING:
    from paperboy.mail.inbound.inbox import Action, Inbox, Received, Result, Verdicts
    from paperboy.mail.inbound.message import InboundMessage, parse_message

__all__ = ["Action", "InboundMessage", "Inbox", "Received", "Result", "Verdicts", "parse_message"]
__getattr__, __dir__ = lazy(
    __name__,
    {
        "inbox": ("Action", "Inbox", "Received", "Result", "Verdicts"),
        "message": ("InboundMessage", "parse_message"),
    },
)
