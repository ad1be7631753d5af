"""Outbound mail: rendering digests and notices, MIME, sending through SES."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperboy._exports import lazy

if TYPE_CHECKING:
    from paperboy.mail.outbound.mailer import Mailer, OutboundMail, SendBlocked, SendRejected, SendThrottled
    from paperboy.mail.outbound.render import DigestView, NoticeView, RenderedMail, Renderer

__all__ = [
    "DigestView",
    "Mailer",
    "NoticeView",
    "OutboundMail",
    "RenderedMail",
    "Renderer",
    "SendBlocked",
    "SendRejected",
    "SendThrottled",
]
__getattr__, __dir__ = lazy(
    __name__,
    {
        "mailer": ("Mailer", "OutboundMail", "SendBlocked", "SendRejected", "SendThrottled"),
        "render": ("DigestView", "NoticeView", "RenderedMail", "Renderer"),
    },
)
