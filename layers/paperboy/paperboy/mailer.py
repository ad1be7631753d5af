"""Outbound mail: MIME built here, sent through SESv2 as Raw content (brief section 4).

SESv2's Simple content drops headers in moto and limits them in SES; raw MIME keeps every header we
set. CPython folds a long List-Unsubscribe into RFC 2047 encoded-words under its default 78-column
policy, which breaks one-click unsubscribe, so messages are serialised with max_line_length=998 and
bodies are quoted-printable.
"""

from __future__ import annotations

import re
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field, field_validator

_POLICY = policy.SMTP.clone(max_line_length=998)
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


def build_mime(mail: OutboundMail, *, sender: str, domain: str) -> bytes:
    message = EmailMessage(policy=_POLICY)
    message["From"] = Address("Paperboy", addr_spec=checked_address(sender))
    message["To"] = mail.to
    message["Reply-To"] = Address("Paperboy", addr_spec=mail.reply_to)
    message["Subject"] = one_line(mail.subject)
    message["List-Id"] = f"Paperboy <{one_line(mail.list_id or f'digest.{domain}', 200)}>"
    if mail.list_unsubscribe_url or mail.list_unsubscribe_mailto:
        uris = [uri for uri in (mail.list_unsubscribe_url, mail.list_unsubscribe_mailto) if uri]
        message["List-Unsubscribe"] = ", ".join(f"<{uri}>" for uri in uris)
        if mail.list_unsubscribe_url:
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if mail.kind in REPLY_KINDS and mail.in_reply_to:
        message["Auto-Submitted"] = "auto-replied"
    else:
        message["Auto-Submitted"] = "auto-generated"
        if mail.kind == "digest":
            message["Precedence"] = "bulk"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    if mail.in_reply_to:
        message["In-Reply-To"] = mail.in_reply_to
    if mail.references:
        message["References"] = " ".join(mail.references)
    message.set_content(mail.text, charset="utf-8", cte="quoted-printable")
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message.as_bytes(policy=_POLICY)


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
