"""Mail in and out: addresses, outbound MIME and rendering, inbound parsing and commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperboy._exports import lazy

if TYPE_CHECKING:
    from paperboy.mail import events
    from paperboy.mail.addresses import normalised, readable

__all__ = ["events", "normalised", "readable"]
__getattr__, __dir__ = lazy(__name__, {"addresses": ("normalised", "readable"), "events": ("events",)})
