"""Inbound mail as SES delivers it: raw MIME stored by the receipt rule's S3 action, then the rule's
Lambda action invoked with the receipt event. Also builds the replies a mail client would send."""

from __future__ import annotations

import email.policy
import hashlib
import ipaddress
import re
import uuid
from datetime import datetime
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

VERDICT_NAMES = ("spf", "dkim", "dmarc", "spam", "virus")
_HEADER_LINE = re.compile(rb"^([!-9;-~]+):", re.MULTILINE)


class InboundSpec(BaseModel):
    """The `email` and `reply` steps' fields (brief section 6)."""

    model_config = ConfigDict(extra="forbid")

    from_: str = Field(alias="from")
    to: str | None = None
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    eml: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    verdicts: dict[str, str] = Field(default_factory=dict)
    to_latest_of: str | None = None
    # The IP address the sending server connects from (SES names it in the Received header it
    # adds); by default each sender address has a server of its own.
    client: str | None = None

    @field_validator("client")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise ValueError(f"client must be an IPv4 or IPv6 address, not {value!r}") from None
        return value

    def verdict_statuses(self) -> dict[str, str]:
        unknown = set(self.verdicts) - set(VERDICT_NAMES)
        if unknown:
            raise ValueError(f"unknown verdicts {sorted(unknown)}; known: {', '.join(VERDICT_NAMES)}")
        return {name: self.verdicts.get(name, "PASS").upper() for name in VERDICT_NAMES}


def compose(
    spec: InboundSpec,
    *,
    to: str,
    now: datetime,
    subject: str,
    in_reply_to: str | None = None,
    references: str | None = None,
    quoted: str | None = None,
    quoted_from: str = "",
    quoted_date: datetime | None = None,
) -> bytes:
    """A plain message as a mail client would write it (optionally quoting the original, Gmail style)."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = spec.from_
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{uuid.uuid4().hex}@{spec.from_.rpartition('@')[2] or 'example.org'}>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = references or in_reply_to
    for name, value in spec.headers.items():
        message[name] = value
    text = spec.text or ""
    if quoted is not None:
        when = format_datetime(quoted_date or now)
        quote = "\n".join(f"> {line}" if line else ">" for line in quoted.splitlines())
        text = f"{text}\n\nOn {when}, {quoted_from} wrote:\n{quote}\n"
    message.set_content(text)
    if spec.html is not None:
        message.add_alternative(spec.html, subtype="html")
    return message.as_bytes()


def readdress(raw: bytes, *, to: str, in_reply_to: str, references: str) -> bytes:
    """A raw message with To, In-Reply-To and References replaced; every other byte kept."""
    separator = re.search(rb"\r?\n\r?\n", raw)
    head, body = (raw[: separator.start()], raw[separator.start() :]) if separator else (raw, b"")
    newline = b"\r\n" if b"\r\n" in head else b"\n"
    kept: list[bytes] = []
    skipping = False
    for line in head.split(newline):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        match = _HEADER_LINE.match(line)
        skipping = bool(match and match.group(1).lower() in (b"to", b"in-reply-to", b"references"))
        if not skipping:
            kept.append(line)
    added = [
        f"To: {to}".encode(),
        f"In-Reply-To: {in_reply_to}".encode(),
        f"References: {references}".encode(),
    ]
    return newline.join([*kept, *added]) + body


def headers_of(raw: bytes) -> Message:
    """Only the header, as SES reads it: a hostile body (100,000 parts, deep nesting) must reach
    the function, not stall or crash the stack that delivers it."""
    return BytesParser(policy=email.policy.default).parsebytes(raw, headersonly=True)


def server_ip(sender: str) -> str:
    """The address a sender's mail server connects from when a step names none: one per sender."""
    digest = hashlib.sha256(sender.lower().encode()).digest()
    return f"10.{digest[0]}.{digest[1]}.{digest[2]}"


def ses_event(
    *,
    message_id: str,
    source: str,
    recipients: list[str],
    verdicts: dict[str, str],
    function_arn: str,
    raw: bytes,
    now: datetime,
    client: str,
) -> dict[str, Any]:
    """The SES receipt event a Lambda action delivers (no body; the body is in S3). SES puts its own
    Return-Path and Received (naming the connecting server's IP) above the message's headers."""
    parsed = headers_of(raw)
    ip = ipaddress.ip_address(client)
    literal = f"IPv6:{ip}" if ip.version == 6 else str(ip)
    received = (
        f"from mx.sender.example (mx.sender.example [{literal}]) by inbound-smtp.us-east-1.amazonaws.com "
        f"with SMTP id {message_id} for {recipients[0] if recipients else ''}; {format_datetime(now)}"
    )
    headers = [
        {"name": "Return-Path", "value": f"<{source}>"},
        {"name": "Received", "value": received},
        *({"name": name, "value": str(value)} for name, value in parsed.items()),
    ]
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {
                        "timestamp": stamp,
                        "source": source,
                        "messageId": message_id,
                        "destination": [address for _, address in getaddresses([str(parsed.get("To", ""))])],
                        "headersTruncated": False,
                        "headers": headers,
                        "commonHeaders": {
                            "from": [str(parsed.get("From", ""))],
                            "subject": str(parsed.get("Subject", "")),
                        },
                    },
                    "receipt": {
                        "timestamp": stamp,
                        "processingTimeMillis": 420,
                        "recipients": recipients,
                        **{f"{name}Verdict": {"status": status} for name, status in verdicts.items()},
                        "action": {"type": "Lambda", "functionArn": function_arn, "invocationType": "Event"},
                    },
                },
            }
        ]
    }
