"""Mail in and out: addresses, outbound MIME and rendering, inbound parsing and commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperboy._exports import lazy

if TYPE_CHECKING:
    from paperboy.mail import events
    from paperboy.mail.addresses import normalised, readable
    from paperboy.mail.notices import Action, Result
    from paperboy.mail.optin import OptIn

__all__ = ["Action", "OptIn", "Result", "events", "normalised", "readable"]
__getattr__, __dir__ = lazy(
    __name__,
    {
        "addresses": ("normalised", "readable"),
        "events": ("events",),
        "notices": ("Action", "Result"),
        "optin": ("OptIn",),
    },
)
