"""Per-reader secrets: the reply address and the links in every mail.

Tokens are HMACs over (purpose, reader id, token version) under the deployment's signing key, so
nothing secret is stored per reader and bumping a reader's token version revokes every link and
reply address they were ever sent. Lower-case base32 survives mail hops that lower-case addresses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paperboy.readers import Subscriber

_MAC_CHARS = 16  # 80 bits: unguessable, and `reply+<id>.<mac>` stays far below 64 octets
_TOKEN = re.compile(r"^([a-z2-7]{10,26})\.([a-z2-7]{16})$")


class Purpose(StrEnum):
    REPLY = "reply"
    UNSUBSCRIBE = "unsubscribe"
    CONFIRM = "confirm"


class Signer:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the signing key must be at least 32 bytes")
        self._key = key

    def _mac(self, purpose: Purpose, subscriber_id: str, version: int) -> str:
        message = f"{purpose}|{subscriber_id}|{version}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.b32encode(digest).decode().lower()[:_MAC_CHARS]

    def token(self, purpose: Purpose, subscriber_id: str, version: int) -> str:
        return f"{subscriber_id}.{self._mac(purpose, subscriber_id, version)}"

    def verify(self, purpose: Purpose, token: str, version: int) -> bool:
        """Whether `token` is this reader's current token for `purpose` (constant-time)."""
        parts = parse(token)
        if parts is None:
            return False
        subscriber_id, mac = parts
        return hmac.compare_digest(mac, self._mac(purpose, subscriber_id, version))


def parse(token: str) -> tuple[str, str] | None:
    """(reader id, mac) of a well-formed token; None for anything else. Proves nothing by itself."""
    match = _TOKEN.match(token.strip().lower())
    return (match.group(1), match.group(2)) if match else None


def new_subscriber_id(random_bytes: bytes) -> str:
    """A reader id from 10 random bytes: 16 lower-case base32 characters."""
    return base64.b32encode(random_bytes[:10]).decode().lower()


@dataclass
class Links:
    """Addresses and URLs that carry a reader's tokens."""

    signer: Signer
    domain: str
    web_base_url: str

    def reply_address(self, reader: Subscriber) -> str:
        return f"reply+{self.signer.token(Purpose.REPLY, reader.id, reader.token_version)}@{self.domain}"

    def unsubscribe_url(self, reader: Subscriber) -> str:
        token = self.signer.token(Purpose.UNSUBSCRIBE, reader.id, reader.token_version)
        return f"{self.web_base_url.rstrip('/')}/unsubscribe/{token}"

    def unsubscribe_mailto(self, reader: Subscriber) -> str:
        token = self.signer.token(Purpose.UNSUBSCRIBE, reader.id, reader.token_version)
        return f"mailto:unsubscribe+{token}@{self.domain}?subject=unsubscribe"

    def confirm_url(self, reader: Subscriber) -> str:
        token = self.signer.token(Purpose.CONFIRM, reader.id, reader.token_version)
        return f"{self.web_base_url.rstrip('/')}/confirm/{token}"
