"""The web pages: confirm, unsubscribe, the sign-up form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperboy._exports import lazy

if TYPE_CHECKING:
    from paperboy.web import pages

__all__ = ["pages"]
__getattr__, __dir__ = lazy(__name__, {"pages": ("pages",)})
