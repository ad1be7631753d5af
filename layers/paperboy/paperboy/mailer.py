"""Outbound mail: MIME built here, sent through SESv2 as Raw content (brief section 4).

SESv2's Simple content drops headers in moto and limits them in SES; raw MIME keeps every header we
set. CPython folds a long List-Unsubscribe into RFC 2047 encoded-words under its default 78-column
policy, which breaks one-click unsubscribe, so messages are serialised with max_line_length=998 and
bodies are quoted-printable.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field, field_validator

_THROTTLED = frozenset({"TooManyRequestsException", "Throttling", "ThrottlingException"})
_REJECTED = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "AccountSuspendedException",
        "SendingPausedException",
        "BadRequestException",
        "NotFoundException",
    }
)
_ADDRESS = re.compile(r"^[^@\s<>,;:\"()\[\]\\]{1,64}@[A-Za-z0-9.-]{1,253}$")
_MESSAGE_ID = re.compile(r"^<[^<>\s]{1,250}>$")
# Kinds answering a reader's own mail; everything else is a bulk list message.
REPLY_KINDS = frozenset({"ack", "help", "confirm", "welcome", "goodbye", "notice"})
MAX_SUBJECT = 180
# 45 bytes encode to 60 base64 characters: "=?utf-8?b?" + 60 + "?=" stays within 75 (RFC 2047).
_WORD_BYTES = 45


class SendThrottled(Exception):
    """SES refused for rate: retry later (the mail did not leave)."""


class SendRejected(Exception):
    """SES refused this mail for good (the mail did not leave)."""


def one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    """A header value: all whitespace (CR and LF included) collapsed, control characters dropped."""
    cleaned = " ".join("".join(ch for ch in text if ch.isprintable() or ch.isspace()).split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


def checked_address(value: str) -> str:
    if not _ADDRESS.match(value or ""):
        raise ValueError(f"not a plain email address: {value!r}")
    return value


class OutboundMail(BaseModel):
    to: str
    subject: str
    text: str
    html: str | None = None
    reply_to: str
    kind: str
    list_unsubscribe_url: str | None = None
    list_unsubscribe_mailto: str | None = None
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)
    list_id: str | None = None

    @field_validator("to", "reply_to")
    @classmethod
    def _plain_address(cls, value: str) -> str:
        return checked_address(value)

    @field_validator("list_unsubscribe_url", "list_unsubscribe_mailto")
    @classmethod
    def _no_header_breaks(cls, value: str | None) -> str | None:
        if value is not None and (any(ch in value for ch in "\r\n<>, ") or not value.isascii()):
            raise ValueError(f"not a safe header URI: {value!r}")
        return value

    @field_validator("in_reply_to")
    @classmethod
    def _message_id(cls, value: str | None) -> str | None:
        return value if value and _MESSAGE_ID.match(value.strip()) else None

    @field_validator("references")
    @classmethod
    def _message_ids(cls, values: list[str]) -> list[str]:
        return [value.strip() for value in values if _MESSAGE_ID.match(value.strip())][-10:]


def _header(name: str, value: str) -> bytes:
    """One header line. Values are single-line by construction (one_line, checked addresses); a
    non-ASCII value becomes RFC 2047 encoded-words, folded under 78 columns."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"{name} would carry a line break")
    if not value.isascii():
        value = _encoded_words(value)
    line = f"{name}: {value}\r\n"
    if len(line) > 998:
        raise ValueError(f"{name} is longer than a mail header may be")
    return line.encode("ascii")


def _encoded_words(value: str) -> str:
    """RFC 2047 base64 encoded-words, each at most 75 characters, never splitting a character."""
    words, chunk = [], b""
    for character in value:
        encoded = character.encode("utf-8")
        if len(chunk) + len(encoded) > _WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode()}?=" for word in words)


def build_mime(mail: OutboundMail, *, sender: str, domain: str) -> bytes:
    """The raw message. Headers are written here rather than by the email package: its header
    registry took 2-3 ms a message (parse, then fold), and every value is either fixed, a checked
    address, or one_line text, so there is nothing left for it to guard."""
    headers = [
        ("From", f"Paperboy <{checked_address(sender)}>"),
        ("To", mail.to),
        ("Reply-To", f"Paperboy <{mail.reply_to}>"),
        ("Subject", one_line(mail.subject)),
        ("List-Id", f"Paperboy <{one_line(mail.list_id or f'digest.{domain}', 200)}>"),
    ]
    uris = [uri for uri in (mail.list_unsubscribe_url, mail.list_unsubscribe_mailto) if uri]
    if uris:
        # One line, never folded into encoded-words: mail clients must read it verbatim (RFC 8058).
        headers.append(("List-Unsubscribe", ", ".join(f"<{uri}>" for uri in uris)))
        if mail.list_unsubscribe_url:
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    if mail.kind in REPLY_KINDS and mail.in_reply_to:
        headers.append(("Auto-Submitted", "auto-replied"))
    else:
        headers.append(("Auto-Submitted", "auto-generated"))
        if mail.kind == "digest":
            headers.append(("Precedence", "bulk"))
    headers.append(("X-Auto-Response-Suppress", "OOF, AutoReply"))
    if mail.in_reply_to:
        headers.append(("In-Reply-To", mail.in_reply_to))
    if mail.references:
        headers.append(("References", " ".join(mail.references)))
    headers.append(("MIME-Version", "1.0"))
    head = b"".join(_header(name, value) for name, value in headers)
    if mail.html is None:
        return (head + b'Content-Type: text/plain; charset="utf-8"\r\n'
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + _qp(mail.text))
    boundary = f"=_paperboy_{secrets.token_hex(12)}"
    body = [head, f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode()]
    for subtype, text in (("plain", mail.text), ("html", mail.html)):
        body += [f'--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\n'
                 "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode(), _qp(text), b"\r\n"]
    body.append(f"--{boundary}--\r\n".encode())
    return b"".join(body)


def _qp(text: str) -> bytes:
    """A utf-8 body, quoted-printable by binascii's C encoder. The email package's generator took
    3-5 ms to encode and write one digest's HTML, more than ranking and rendering it; the headers
    still go through the email package, which is what guards their encoding."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(normalised, istext=True).replace(b"\n", b"\r\n")


class Mailer:
    """Sends through SESv2 (Raw content, the configuration set, a `kind` tag for events)."""

    def __init__(self, client: Any, *, sender: str, domain: str, configuration_set: str | None) -> None:
        self._client = client
        self._sender = sender
        self._domain = domain
        self._configuration_set = configuration_set

    def send(self, mail: OutboundMail) -> str:
        """The SES message id. Raises SendThrottled or SendRejected when SES refused the mail."""
        request: dict[str, Any] = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [mail.to]},
            "Content": {"Raw": {"Data": build_mime(mail, sender=self._sender, domain=self._domain)}},
            "EmailTags": [{"Name": "kind", "Value": mail.kind}],
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            return str(self._client.send_email(**request)["MessageId"])
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _THROTTLED:
                raise SendThrottled(code) from error
            if code in _REJECTED:
                raise SendRejected(f"{code}: {error.response.get('Error', {}).get('Message', '')}") from error
            raise
