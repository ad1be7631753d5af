"""Finding the links a person would click in a mail Paperboy sent."""

from __future__ import annotations

import email
import email.policy
import re

_HREF = re.compile(r'href="(https?://[^"]+)"')
_URL = re.compile(r"https?://\S+")
_PATHS = {"unsubscribe": "/unsubscribe/", "confirm": "/confirm/"}


def mail_link(raw: bytes, link: str) -> str | None:
    """The first `link` URL ("unsubscribe" or "confirm") in the mail's HTML or text part."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    path = _PATHS[link]
    for subtype in ("html", "plain"):
        part = message.get_body(preferencelist=(subtype,))
        if part is None or part.get_content_subtype() != subtype:
            continue
        content = part.get_content()
        candidates = _HREF.findall(content) if subtype == "html" else _URL.findall(content)
        for url in candidates:
            if path in url:
                return url.replace("&amp;", "&").rstrip(").,>")
    return None


_UNDO = re.compile(r'<form method="post" action="(/resubscribe/[^"]+)"')


def undo_link(page: str, base_url: str) -> str | None:
    """The URL the undo button of a Web page posts to."""
    match = _UNDO.search(page)
    return f"{base_url.rstrip('/')}{match.group(1)}" if match else None
