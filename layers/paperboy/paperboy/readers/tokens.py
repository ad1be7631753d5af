"""Per-reader secrets: the reply address and the links in every mail.

Tokens are HMACs over (purpose, reader id, token version) under the deployment's signing key, so
nothing secret is stored per reader and bumping a reader's token version revokes every link and
reply address they were ever sent. Lower-case base32 survives mail hops that lower-case addresses.

Links that must not outlive their use (the confirm button, the undo on the unsubscribe page) also
sign an expiry, written into the token as Unix seconds: `<id>.<expiry>.<mac>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paperboy.readers.model import Subscriber

_MAC_CHARS = 16  # 80 bits: unguessable, and `reply+<id>.<mac>` stays far below 64 octets
_TOKEN = re.compile(r"^([a-z2-7]{10,26})(?:\.([0-9]{1,12}))?\.([a-z2-7]{16})$")
# How many earlier token versions still count as "genuine but revoked" (an old digest's link after
# an unsubscribe): enough for years of unsubscribe/undo, and a bounded number of HMACs per request.
_VERSIONS_RECOGNISED = 64


class Purpose(StrEnum):
    REPLY = "reply"
    UNSUBSCRIBE = "unsubscribe"
    CONFIRM = "confirm"
    UNDO = "undo"


# Purposes whose tokens carry a signed expiry; a token of these purposes without one is refused.
EXPIRING = frozenset({Purpose.CONFIRM, Purpose.UNDO})


@dataclass(frozen=True)
class ParsedToken:
    """The parts of a well-formed token. Proves nothing until the MAC is verified."""

    subscriber_id: str
    expires: int | None
    mac: str

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and self.expires <= now.timestamp()


class Signer:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the signing key must be at least 32 bytes")
        self._key = key

    def _mac(self, purpose: Purpose, subscriber_id: str, version: int, expires: int | None) -> str:
        message = f"{purpose}|{subscriber_id}|{version}"
        if expires is not None:
            message += f"|{expires}"
        digest = hmac.new(self._key, message.encode(), hashlib.sha256).digest()
        return base64.b32encode(digest).decode().lower()[:_MAC_CHARS]

    def token(
        self, purpose: Purpose, subscriber_id: str, version: int, expires: datetime | None = None
    ) -> str:
        if (expires is not None) != (purpose in EXPIRING):
            raise ValueError(f"{purpose} tokens {'need' if purpose in EXPIRING else 'take no'} expiry")
        if expires is None:
            return f"{subscriber_id}.{self._mac(purpose, subscriber_id, version, None)}"
        seconds = int(expires.timestamp())
        return f"{subscriber_id}.{seconds}.{self._mac(purpose, subscriber_id, version, seconds)}"

    def genuine(self, purpose: Purpose, token: str, version: int) -> bool:
        """Whether we issued `token` for `purpose` at this token version, expired or not."""
        parts = parse(token)
        if parts is None or (parts.expires is not None) != (purpose in EXPIRING):
            return False
        expected = self._mac(purpose, parts.subscriber_id, version, parts.expires)
        return hmac.compare_digest(parts.mac, expected)

    def verify(self, purpose: Purpose, token: str, version: int, now: datetime | None = None) -> bool:
        """Whether `token` is this reader's current, unexpired token for `purpose` (constant-time).
        Expiring purposes need `now`."""
        parts = parse(token)
        if parts is None or not self.genuine(purpose, token, version):
            return False
        return parts.expires is None or (now is not None and not parts.expired(now))

    def issued_version(self, purpose: Purpose, token: str, current: int) -> int | None:
        """The token version `token` was issued at (the current one or a recent earlier one), or None
        when we never issued it. A version below `current` means it was revoked."""
        for version in range(current, max(current - _VERSIONS_RECOGNISED, 0), -1):
            if self.genuine(purpose, token, version):
                return version
        return None


def parse(token: str) -> ParsedToken | None:
    """The parts of a well-formed token; None for anything else. Proves nothing by itself."""
    match = _TOKEN.match(token.strip().lower())
    if not match:
        return None
    expires = int(match.group(2)) if match.group(2) else None
    return ParsedToken(subscriber_id=match.group(1), expires=expires, mac=match.group(3))


def new_subscriber_id(random_bytes: bytes) -> str:
    """A reader id from 10 random bytes: 16 lower-case base32 characters."""
    return base64.b32encode(random_bytes[:10]).decode().lower()


def expiry_of(token: str) -> datetime | None:
    """The expiry written in a token (unverified: only for choosing which refusal to show)."""
    parts = parse(token)
    return datetime.fromtimestamp(parts.expires, UTC) if parts and parts.expires is not None else None


@dataclass
class Links:
    """Addresses and URLs that carry a reader's tokens."""

    signer: Signer
    domain: str
    web_base_url: str

    def reply_address(self, reader: Subscriber) -> str:
        return f"reply+{self.signer.token(Purpose.REPLY, reader.id, reader.token_version)}@{self.domain}"

    def unsubscribe_token(self, reader: Subscriber) -> str:
        return self.signer.token(Purpose.UNSUBSCRIBE, reader.id, reader.token_version)

    def unsubscribe_url(self, reader: Subscriber) -> str:
        return f"{self.web_base_url.rstrip('/')}/unsubscribe/{self.unsubscribe_token(reader)}"

    def unsubscribe_mailto(self, reader: Subscriber) -> str:
        return f"mailto:unsubscribe+{self.unsubscribe_token(reader)}@{self.domain}?subject=unsubscribe"

    def confirm_url(self, reader: Subscriber, expires: datetime) -> str:
        token = self.signer.token(Purpose.CONFIRM, reader.id, reader.token_version, expires)
        return f"{self.web_base_url.rstrip('/')}/confirm/{token}"
