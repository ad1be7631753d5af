"""Outbound mail: MIME built here, sent through SESv2 as Raw content (brief section 4).

SESv2's Simple content drops headers in moto and limits them in SES; raw MIME keeps every header we
set. The message is written by hand, not by the email package: CPython folds a long
List-Unsubscribe (or References) into RFC 2047 encoded-words under its default 78-column policy,
which silently breaks one-click unsubscribe, and at max_line_length=998 it writes a non-ASCII
Subject as one encoded-word far over RFC 2047's 75 characters; it is also the slowest step of a
digest. Here List-Unsubscribe is one verbatim line, the Subject is encoded in words that fit, and
bodies are quoted-printable in lines of at most 76.

Header values never carry CR or LF: free text is collapsed to one line, and addresses, URIs or
list ids that could break a header out raise ValueError before any MIME is built.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import secrets
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field, field_validator

from paperboy.mail.addresses import checked_address, checked_domain

Kind = Literal["digest", "confirm", "welcome", "ack", "help", "goodbye", "notice"]
# SESv2 answers 429 TooManyRequestsException; v1 answers Throttling ("Maximum sending rate
# exceeded." or "Daily message quota exceeded."): both mean the mail did not leave, try later.
_THROTTLED = frozenset(
    {"TooManyRequestsException", "Throttling", "ThrottlingException", "LimitExceededException"}
)
# This mail will never be accepted as it is.
_REJECTED = frozenset({"MessageRejected", "BadRequestException", "InvalidParameterValue"})
# Nothing can be sent until an operator acts (account paused or suspended, identity or
# configuration set missing); the mail did not leave and will go once that is fixed.
_BLOCKED = frozenset(
    {
        "SendingPausedException",
        "AccountSendingPausedException",
        "ConfigurationSetSendingPausedException",
        "AccountSuspendedException",
        "MailFromDomainNotVerifiedException",
        "NotFoundException",
        "ConfigurationSetDoesNotExist",
    }
)
_URI_UNSAFE = re.compile(r'[\r\n<>, \t"]')
_MESSAGE_ID = re.compile(r"^<[!-;=?-~]{1,250}>$")
_URI_SCHEMES = {"url": ("https://", "http://"), "mailto": ("mailto:",)}
REPLY_KINDS = frozenset({"ack", "help", "confirm", "welcome", "goodbye", "notice"})
MAX_SUBJECT = 180
MAX_REFERENCES = 10
# 42 UTF-8 octets are 56 base64 characters: "=?utf-8?b?...?=" stays within RFC 2047's 75.
_ENCODED_WORD_OCTETS = 42
_FOLD_AT = 78
MAX_LINE = 998
QP_LINE_CACHE = 20_000
_QP_LINES: dict[str, bytes] = {}
_PART_HEADERS = b'Content-Type: text/%s; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n'


class SendError(Exception):
    """SES refused the mail: it did not leave."""


class SendThrottled(SendError):
    """SES refused for rate or quota: retry later."""


class SendRejected(SendError):
    """SES refused this mail for good: do not retry it as it is."""


class SendBlocked(SendRejected):
    """SES refuses everything until an operator acts (sending paused, account suspended, identity
    or configuration set missing). A SendRejected for callers that only know that, but the mail
    itself is fine: it can go once the account is fixed."""


def one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    """A header value: all whitespace (CR and LF included) collapsed, control characters dropped."""
    if not text.isprintable():
        text = "".join(ch for ch in text if ch.isprintable() or ch.isspace())
    cleaned = " ".join(text.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


def _checked_uri(value: str, field: str) -> str:
    if _URI_UNSAFE.search(value) or not value.isascii() or not value.isprintable():
        raise ValueError(f"{field}: not a URI safe in a header: {value!r}")
    if not value.lower().startswith(_URI_SCHEMES[field]):
        raise ValueError(f"{field}: expected a {' or '.join(_URI_SCHEMES[field])} URI: {value!r}")
    return value


class OutboundMail(BaseModel):
    to: str
    subject: str
    text: str
    html: str | None = None
    reply_to: str
    kind: Kind
    list_unsubscribe_url: str | None = None
    list_unsubscribe_mailto: str | None = None
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)
    list_id: str | None = None
    # SES message tags, echoed in the configuration set's events (names and values: [A-Za-z0-9_.@-]).
    tags: dict[str, str] = Field(default_factory=dict)
    # The bodies already written as quoted_printable(text) and quoted_printable(html) would write
    # them: the renderer keeps each paper card's encoding for the container hour (RenderedMail).
    text_qp: bytes | None = Field(default=None, repr=False)
    html_qp: bytes | None = Field(default=None, repr=False)

    @field_validator("tags")
    @classmethod
    def _tag_characters(cls, value: dict[str, str]) -> dict[str, str]:
        for text in (*value, *value.values()):
            if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,256}", text):
                raise ValueError(f"not an SES tag name or value: {text!r}")
        return value

    @field_validator("to", "reply_to")
    @classmethod
    def _plain_address(cls, value: str) -> str:
        return checked_address(value)

    @field_validator("list_unsubscribe_url")
    @classmethod
    def _unsubscribe_url(cls, value: str | None) -> str | None:
        return None if value is None else _checked_uri(value, "url")

    @field_validator("list_unsubscribe_mailto")
    @classmethod
    def _unsubscribe_mailto(cls, value: str | None) -> str | None:
        return None if value is None else _checked_uri(value, "mailto")

    @field_validator("list_id")
    @classmethod
    def _list_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", value):
            raise ValueError(f"not a list id (dot-atom such as digest.example.org): {value!r}")
        return value

    # Message ids come from mail we were sent: an odd one is dropped, never a reason to fail a reply.
    @field_validator("in_reply_to")
    @classmethod
    def _message_id(cls, value: str | None) -> str | None:
        return value.strip() if value and _MESSAGE_ID.match(value.strip()) else None

    @field_validator("references")
    @classmethod
    def _message_ids(cls, values: list[str]) -> list[str]:
        kept = [value.strip() for value in values if _MESSAGE_ID.match(value.strip())]
        return list(dict.fromkeys(kept))[-MAX_REFERENCES:]


def _encoded_words(text: str) -> list[str]:
    """RFC 2047 base64 words of at most 75 characters for `text`, never splitting a character."""
    chunks: list[bytes] = [b""]
    for char in text:
        octets = char.encode("utf-8")
        if len(chunks[-1]) + len(octets) > _ENCODED_WORD_OCTETS:
            chunks.append(b"")
        chunks[-1] += octets
    return [f"=?utf-8?b?{base64.b64encode(chunk).decode('ascii')}?=" for chunk in chunks]


def _needs_encoding(word: str) -> bool:
    # A title may itself contain "=?...?=": encode it so that no client decodes it for us.
    return not word.isascii() or "=?" in word


# Readers of one container hour share subjects (the same papers lead their digests).
@functools.lru_cache(maxsize=4096)
def encoded_subject(value: str, *, first_line: int = len("Subject: ")) -> str:
    """The Subject as it goes on the wire: ASCII words as they are, each run of other words as
    encoded-words, folded at 78 columns where possible (a newline and a space mark each fold)."""
    runs: list[tuple[bool, list[str]]] = []
    for word in value.split(" "):
        encode = _needs_encoding(word)
        if runs and runs[-1][0] == encode:
            runs[-1][1].append(word)
        else:
            runs.append((encode, [word]))
    # Unfolding keeps the space between plain words and drops it between encoded-words, so any
    # gap between tokens may be folded without changing the decoded text.
    tokens = [
        token for encode, words in runs for token in (_encoded_words(" ".join(words)) if encode else words)
    ]
    lines = [""]
    width = first_line
    for token in tokens:
        if lines[-1] and width + 1 + len(token) > _FOLD_AT:
            lines.append("")
            width = 1
        if lines[-1]:
            lines[-1] += " "
            width += 1
        lines[-1] += token
        width += len(token)
    return "\n ".join(lines)


def _header(name: str, value: str) -> bytes:
    """One header line, written as is: never folded into encoded-words (RFC 8058 needs
    List-Unsubscribe verbatim), never carrying a line break of its own."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"{name} would carry a line break")
    line = f"{name}: {value}\r\n"
    if len(line) > MAX_LINE or not line.isascii():
        raise ValueError(f"{name} is not a single ASCII header line of at most {MAX_LINE} octets")
    return line.encode("ascii")


def quoted_printable(text: str) -> bytes:
    """A UTF-8 body as quoted-printable lines of at most 76 characters (RFC 2045), CRLF-ended.

    Quoted-printable works line by line, so each distinct line is encoded once per container:
    digests share most of their lines (the same papers, the same footer), and binascii's encoder
    was otherwise the largest cost of sending a digest.
    """
    # One line seen before (a text of several lines is never a key: keys have no line ends).
    known = _QP_LINES.get(text)
    if known is not None:
        return known
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    # Looked up in one pass at C speed; only the lines this container has not seen go through Python.
    encoded = list(map(_QP_LINES.get, lines))
    if None in encoded:
        for place, known in enumerate(encoded):
            if known is None:
                encoded[place] = _encoded_line(lines[place])
    return b"\r\n".join(encoded)  # type: ignore[arg-type]


def _encoded_line(line: str) -> bytes:
    encoded = binascii.b2a_qp(line.encode("utf-8") + b"\n", istext=True)[:-1].replace(b"\n", b"\r\n")
    if len(_QP_LINES) >= QP_LINE_CACHE:
        _QP_LINES.clear()
    _QP_LINES[line] = encoded
    return encoded


def build_mime(mail: OutboundMail, *, sender: str, domain: str) -> bytes:
    """The raw message: the headers of brief section 4, a text part and (when given) an HTML part.

    Written here rather than by the email package: its header registry and generator took 3-5 ms a
    digest (parse every header, refold it, encode the HTML line by line), more than ranking and
    rendering together, and it folds long List-Unsubscribe and References values into
    encoded-words unless told otherwise. Every value below is fixed, a checked address, a checked
    URI or message id, or one_line text, so there is nothing left for it to guard.
    """
    return b"".join([*_head(mail, sender=sender, domain=domain), *_body(mail)])


def _head(mail: OutboundMail, *, sender: str, domain: str) -> list[bytes]:
    """The header lines: addresses and subject, list and auto-reply headers, threading, MIME."""
    headers = [
        ("From", f"Paperboy <{checked_address(sender)}>"),
        ("To", mail.to),
        ("Reply-To", f"Paperboy <{mail.reply_to}>"),
    ]
    subject = encoded_subject(one_line(mail.subject)).replace("\n ", "\r\n ")
    head = [b"".join(_header(name, value) for name, value in headers), f"Subject: {subject}\r\n".encode()]
    headers = [("List-Id", f"Paperboy <{mail.list_id or f'digest.{checked_domain(domain)}'}>")]
    uris = [uri for uri in (mail.list_unsubscribe_url, mail.list_unsubscribe_mailto) if uri]
    if uris:
        headers.append(("List-Unsubscribe", ", ".join(f"<{uri}>" for uri in uris)))
        if mail.list_unsubscribe_url:
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    # RFC 3834: a mail answering the reader's own message is a reply; everything else is generated.
    replying = mail.kind in REPLY_KINDS and mail.in_reply_to is not None
    headers.append(("Auto-Submitted", "auto-replied" if replying else "auto-generated"))
    if mail.kind == "digest":
        headers.append(("Precedence", "bulk"))
    headers.append(("X-Auto-Response-Suppress", "OOF, AutoReply"))
    if mail.in_reply_to:
        headers.append(("In-Reply-To", mail.in_reply_to))
    head.append(b"".join(_header(name, value) for name, value in headers))
    if mail.references:
        # Folded between ids (never inside one) when long: ten ids can pass 998 octets.
        references = " ".join(mail.references)
        if len(references) + len("References: ") > _FOLD_AT:
            references = "\r\n ".join(mail.references)
        head.append(f"References: {references}\r\n".encode("ascii"))
    head.append(b"MIME-Version: 1.0\r\n")
    return head


def _body(mail: OutboundMail) -> list[bytes]:
    """The text part alone, or text and HTML as multipart/alternative (the content type's header
    line comes first: it ends the head)."""
    text_part = _PART_HEADERS % b"plain"
    text_body = quoted_printable(mail.text) if mail.text_qp is None else mail.text_qp
    if mail.html is None:
        return [text_part, b"\r\n", text_body]
    html_part = _PART_HEADERS % b"html"
    # "=_" never occurs in quoted-printable text (a "=" is always followed by hex or a line end).
    boundary = f"=_paperboy_{secrets.token_hex(12)}".encode("ascii")
    return [
        b'Content-Type: multipart/alternative; boundary="' + boundary + b'"\r\n\r\n',
        b"--" + boundary + b"\r\n" + text_part + b"\r\n",
        text_body,
        b"\r\n--" + boundary + b"\r\n" + html_part + b"\r\n",
        quoted_printable(mail.html) if mail.html_qp is None else mail.html_qp,
        b"\r\n--" + boundary + b"--\r\n",
    ]


class Mailer:
    """Sends through SESv2 (Raw content, the configuration set, a `kind` tag for events).

    It never retries: a SendThrottled goes back to the caller, who knows whether to wait, requeue
    or give up. (The boto3 client's own retry configuration still applies underneath.)
    """

    def __init__(self, client: Any, *, sender: str, domain: str, configuration_set: str | None) -> None:
        self._client = client
        self._sender = sender
        self._domain = domain
        self._configuration_set = configuration_set

    @property
    def sender(self) -> str:
        """The From address of every mail (one of Paperboy's own addresses)."""
        return self._sender

    def send(self, mail: OutboundMail) -> str:
        """The SES message id. Raises SendThrottled, SendRejected (SendBlocked) when SES refused
        the mail; any other ClientError as it came."""
        request: dict[str, Any] = {
            "FromEmailAddress": checked_address(self._sender),
            "Destination": {"ToAddresses": [mail.to]},
            "Content": {"Raw": {"Data": build_mime(mail, sender=self._sender, domain=self._domain)}},
            "EmailTags": [
                {"Name": name, "Value": value} for name, value in {**mail.tags, "kind": mail.kind}.items()
            ],
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            return str(self._client.send_email(**request)["MessageId"])
        except ClientError as error:
            details = error.response.get("Error", {})
            code = str(details.get("Code", ""))
            message = f"{code}: {details.get('Message', '')}"
            if code in _THROTTLED:
                raise SendThrottled(message) from error
            if code in _BLOCKED:
                raise SendBlocked(message) from error
            if code in _REJECTED:
                raise SendRejected(message) from error
            raise
