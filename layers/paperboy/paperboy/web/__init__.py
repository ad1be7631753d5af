"""The web pages (confirm, unsubscribe, the sign-up form) and the routes that answer requests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperboy._exports import lazy

if TYPE_CHECKING:
    from paperboy.web import pages
    from paperboy.web.routes import Routes

__all__ = ["Routes", "pages"]
__getattr__, __dir__ = lazy(__name__, {"pages": ("pages",), "routes": ("Routes",)})
