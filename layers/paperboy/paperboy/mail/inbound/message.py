"""Inbound mail: whether a person or a machine wrote it, and the new text of a reply.

Mail is hostile input, so `parse_message` never raises and takes bounded time: at most its first
MAX_RAW bytes are parsed (a large attachment after the text is cut off unread), and a message over
a MIME-structure limit, or whose text is not within those bytes, is not parsed beyond its header;
charsets are taken from an allow-list of mail charsets (Python's codec registry also holds punycode, whose
decoding is quadratic, and other transforms), also inside encoded words and parameters; every header
is read defensively; only text parts are ever decoded (attachments are never touched) and only the
start of the text is looked at. The new text is what the person wrote above the quoted original, in
any client's style (Gmail, Outlook desktop and web, Apple Mail, Thunderbird, mobile clients),
without signatures; an HTML-only reply is turned into text first. Readers who answer below the quote
(mutt, Thunderbird) are read too, but only the lines that follow `>`-quoted lines.
"""

from __future__ import annotations

import email
import email.policy
import re
import unicodedata
from collections.abc import Iterator
from email.errors import InvalidHeaderDefect
from email.header import decode_header, make_header
from email.message import Message
from email.policy import Compat32
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from paperboy.mail.addresses import normalised

# Characters of decoded text looked at: commands need a few lines, and the rest is quotes.
MAX_TEXT = 64 * 1024
# Outlook's HTML opens with tens of KB of style rules before the first visible word.
MAX_HTML = 256 * 1024
# Decoded payload looked at; enough for MAX_HTML characters of UTF-8.
MAX_ENCODED = 1024 * 1024
MAX_PARTS = 100
MAX_RECIPIENTS = 50
MAX_REFERENCES = 20
# Raw bytes a message may have to be read at all: commands need a few KB (SES accepts 40 MB).
MAX_RAW = 1024 * 1024
# The email package's parse time grows with the parts (100,000 empty parts: 9 s) and with nesting
# times lines (every line is matched against every open boundary). Counted on the raw bytes before
# parsing: lines that may be boundary delimiters (they start with "--"), and boundary parameters,
# one per multipart, which bound the depth too.
MAX_DELIMITER_LINES = 1000
MAX_BOUNDARIES = 20
# Lines parsed: the parser's per-line work grows with the nesting (1 MB of empty lines, 20 deep: 5 s).
MAX_LINES = 100_000
# Header bytes parsed of a message too large to read: enough for who sent it and whether a machine did.
MAX_HEAD = 64 * 1024
# Characters kept of any header field. The email package's header parsers are quadratic or worse on
# hostile values (a From of 16 KB of quote marks: 5 s; a Content-Type of 16 KB of `a="b;`: 2.5 s).
# Message ids are only searched for, linearly, and the newest are at the end.
MAX_FIELD = 1000
MAX_ID_FIELD = 8000


class _BoundedPolicy(Compat32):
    """Parsing with header values capped, into compat32 messages: the MIME structure is then found
    with linear string operations, and only the few header fields Paperboy reads are parsed with the
    modern policy (`_parsed`), each at most MAX_FIELD characters."""

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        if name.strip().lower() in ("references", "in-reply-to", "message-id"):
            return name, value[-MAX_ID_FIELD:]
        return name, value[:MAX_FIELD]


_POLICY = _BoundedPolicy()

# Printable ASCII without angle brackets or spaces: safe to echo into our own In-Reply-To/References.
_MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]{1,250}>")


def _charset_labels() -> dict[str, str]:
    """Labels mail really uses (lower case, `_` as `-`) and the codec each is decoded with; where
    clients decode a label with its superset (GB2312, Shift_JIS, EUC-KR), so do we."""
    labels = {
        **dict.fromkeys(("utf-8", "utf8"), "utf-8"),
        **dict.fromkeys(("us-ascii", "ascii", "ansi-x3.4-1968"), "ascii"),
        **dict.fromkeys(("latin1", "latin-1"), "iso8859-1"),
        **{name: name for name in ("utf-16", "utf-16le", "utf-16be", "utf-32", "utf-32le", "utf-32be")},
        "koi8-r": "koi8-r",
        "koi8-u": "koi8-u",
        **dict.fromkeys(("gb2312", "gbk", "x-gbk", "cp936", "gb18030"), "gb18030"),
        **dict.fromkeys(("big5", "x-x-big5", "cp950"), "cp950"),
        **dict.fromkeys(("big5-hkscs", "big5hkscs"), "big5hkscs"),
        **dict.fromkeys(("shift-jis", "sjis", "x-sjis", "ms932", "cp932", "windows-31j"), "cp932"),
        **dict.fromkeys(("euc-jp", "x-euc-jp"), "euc-jp"),
        **dict.fromkeys(("iso-2022-jp", "csiso2022jp"), "iso2022-jp"),
        "iso-2022-jp-2": "iso2022-jp-2",
        **dict.fromkeys(("euc-kr", "ks-c-5601-1987", "cp949", "windows-949"), "cp949"),
        "iso-2022-kr": "iso2022-kr",
        **dict.fromkeys(("tis-620", "windows-874", "cp874"), "cp874"),
        **dict.fromkeys(("macintosh", "x-mac-roman", "mac-roman"), "mac-roman"),
        **dict.fromkeys(("ibm866", "cp866"), "cp866"),
    }
    for number in (*range(1, 12), *range(13, 17)):
        for label in (f"iso-8859-{number}", f"iso8859-{number}"):
            labels[label] = f"iso8859-{number}"
    for number in range(1250, 1259):
        for label in (f"windows-{number}", f"cp{number}", f"x-cp{number}"):
            labels[label] = f"cp{number}"
    return labels


_CHARSETS = _charset_labels()


def codec_for(charset: object) -> str | None:
    """The codec a declared charset is decoded with, or None: an attacker's name never reaches
    Python's codec registry, which also holds punycode, idna, rot13 and the like."""
    if not isinstance(charset, str) or len(charset) > 40:
        return None
    return _CHARSETS.get(charset.strip().strip("\"'").lower().replace("_", "-"))


_ENCODED_WORD_START = re.compile(rb"=\?([^?]*)\?")
# `name*=charset'lang'value` and `name*0*=...`: the email package decodes such a parameter with its
# charset, even while parsing (a boundary), and percent-decodes the charset's name first.
_EXTENDED_PARAMETER = re.compile(rb"\*(?=\s*=)")


def _defused(raw: bytes) -> bytes:
    """The message with every charset the email package would decode with made safe: an encoded
    word's charset (`=?punycode?q?...?=`) is replaced by its allowed codec or `unknown-8bit` (bytes
    kept as they are), and RFC 2231 extended parameters become plain ones (we read none that needs
    a charset). Body text is rewritten too (an `x *= 2` loses its star): finding the headers of
    each part would take the parse this must come before. Linear: each rewrite looks no further
    than the next `?` or `=`."""

    def charset(match: re.Match[bytes]) -> bytes:
        codec = codec_for(match.group(1).partition(b"*")[0].decode("latin-1"))
        return b"=?%s?" % (codec or "unknown-8bit").encode()

    return _EXTENDED_PARAMETER.sub(b" ", _ENCODED_WORD_START.sub(charset, raw))


def too_large(raw: bytes, max_bytes: int = MAX_RAW) -> str | None:
    """Why a message is over a limit parsing it in bounded time needs; None when within them.
    Cheap: counts bytes, never parses."""
    if len(raw) > max_bytes:
        return f"larger than {max_bytes // 1024} KB"
    # The email package ends lines at CR, LF or CRLF.
    delimiters = raw.startswith(b"--") + raw.count(b"\n--") + raw.count(b"\r--")
    if delimiters > MAX_DELIMITER_LINES:
        return f"more than {MAX_DELIMITER_LINES} MIME parts"
    if raw.lower().count(b"boundary") > MAX_BOUNDARIES:
        return f"more than {MAX_BOUNDARIES} multipart sections"
    if raw.count(b"\n") + raw.count(b"\r") - raw.count(b"\r\n") > MAX_LINES:
        return f"more than {MAX_LINES} lines"
    return None


class InboundMessage(BaseModel):
    """What Paperboy needs of one inbound message; every string is single-line except new_text."""

    model_config = ConfigDict(frozen=True)

    from_address: str = ""  # lower-cased addr-spec; '' unless From holds exactly one plain address
    from_name: str = ""
    to: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    subject: str = ""
    message_id: str | None = None
    in_reply_to: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    # Why this message must never be answered (a machine wrote it); None when a person did.
    automated: str | None = None
    # Why the body was not read (over a size or structure limit); None when it was.
    too_large: str | None = None
    new_text: str = ""


# -- headers ------------------------------------------------------------------------------------------
def _one_line(text: str, limit: int) -> str:
    """Control and format characters (CR/LF, bidi overrides, zero-width) out, whitespace collapsed."""
    kept = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text[: limit * 4])
    return " ".join(kept.split())[:limit]


def _raw_header(message: Message, name: str) -> str:
    """The first `name` field as it came (capped), encoded words and all."""
    try:
        for key, value in message.raw_items():
            if key.lower() == name.lower():
                return str(value)
    except Exception:  # noqa: S110 - hostile headers: an unreadable one counts as absent
        pass
    return ""


def _parsed(name: str, value: str) -> Any:
    """A header field as the modern policy reads it: encoded words decoded, addresses parsed."""
    return email.policy.default.header_fetch_parse(name, value)


def _header(message: Message, name: str, limit: int = 998) -> str:
    value = _raw_header(message, name)
    try:
        text = str(_parsed(name, value)) if value else ""
    except Exception:
        text = _decoded_words(value)
    return _one_line(text, limit)


def _has(message: Message, name: str) -> bool:
    try:
        return name in message
    except Exception:
        return False


def _raw_headers(message: Message, name: str) -> list[str]:
    try:
        return [_utf8(str(value)) for key, value in message.raw_items() if key.lower() == name.lower()]
    except Exception:
        return []


def _utf8(value: str) -> str:
    """A field as RFC 6532 (SMTPUTF8) mail writes it, raw UTF-8 (`ada@bücher.example`): the parser
    keeps such bytes as surrogates; anything not UTF-8 stays as it came."""
    try:
        return value.encode("ascii", "surrogateescape").decode("utf-8")
    except UnicodeError:
        return value


def _decoded_words(text: str) -> str:
    try:
        return str(make_header(decode_header(text)))
    except Exception:
        return text


def _mailboxes(message: Message, name: str) -> list[tuple[str, str]]:
    """(display name, addr-spec) of every mailbox in every `name` header."""
    try:
        found: list[tuple[str, str]] = []
        for value in _raw_headers(message, name):
            header = _parsed(name, value)
            found.extend((a.display_name, a.addr_spec) for a in header.addresses)
        return found
    except Exception:
        # The policy refuses some hostile headers outright (an encoded CR/LF in a display name).
        return [(_decoded_words(n), a) for n, a in getaddresses(_raw_headers(message, name))]


def _address(spec: str) -> str:
    """The normalised form of an address (see paperboy.mail.addresses), '' for none the mailer takes."""
    try:
        address = normalised(spec)
    except ValueError:
        return ""
    return address if len(address) <= 254 else ""


def _sender(message: Message) -> tuple[str, str]:
    """(address, name) of the one author, only when From parses strictly as exactly one mailbox.
    Several mailboxes (or two From fields) are ambiguous, and DMARC vouches for only one of them;
    a field the parser had to repair (`ada@example.org <mallory@evil.example>` reads as ada with an
    invalid-address defect) names whoever the repair guessed. Either yields no address."""
    fields = _raw_headers(message, "From")
    if len(fields) != 1:
        return "", ""
    try:
        header = _parsed("From", fields[0])
    except Exception:
        # The policy refuses some hostile headers outright (an encoded CR/LF in a display name):
        # the strict parser of the raw field still finds exactly one mailbox, or none.
        pairs = getaddresses(fields)
        if len(pairs) != 1 or not pairs[0][1]:
            return "", ""
        return _address(pairs[0][1]), _one_line(_decoded_words(pairs[0][0]), 100)
    if any(isinstance(defect, InvalidHeaderDefect) for defect in header.defects):
        return "", ""
    if len(header.addresses) != 1 or len(header.groups) != 1 or header.groups[0].display_name:
        return "", ""
    mailbox = header.addresses[0]
    return _address(mailbox.addr_spec), _one_line(mailbox.display_name, 100)


def _recipients(message: Message, name: str) -> list[str]:
    found = (_address(spec) for _, spec in _mailboxes(message, name))
    return list(dict.fromkeys(a for a in found if a))[:MAX_RECIPIENTS]


def _ids(message: Message, name: str) -> list[str]:
    # Raw value: ids need no decoding, and the raw form survives headers the policy can't parse.
    return _MESSAGE_ID.findall(_raw_header(message, name))


# -- automated mail -----------------------------------------------------------------------------------
_AUTOMATED_LOCAL = re.compile(r"(mailer-daemon|postmaster)")
_NO_REPLY_LOCAL = re.compile(r"(no-?reply|do-?not-?reply|bounces?)([+._-].*)?")
_AUTO_SUBJECT = re.compile(
    r"(automatic reply|auto(matic)?[ -]?reply|auto[ -]?response|out of (the )?office|ooo\b|"
    r"abwesenheit|automatische antwort|réponse automatique|respuesta automática|risposta automatica|"
    r"afwezig|frånvaro)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver(able|ed)|delivery status notification|mail delivery (failed|subsystem)|"
    r"returned mail|delivery failure|failure notice|unzustellbar|non remis)",
    re.IGNORECASE,
)


def _local_part(address: str) -> str:
    return address.rpartition("@")[0].lower() if "@" in address else address.lower()


def _automated(message: Message, from_address: str, envelope_sender: str | None) -> str | None:
    """Why answering this message could start a mail loop or backscatter; None for a person."""
    try:
        content_type = message.get_content_type()
    except Exception:
        content_type = ""
    if content_type in ("multipart/report", "message/delivery-status"):
        return "delivery status report"
    if _has(message, "X-Failed-Recipients"):
        return "delivery status report"
    auto_submitted = _header(message, "Auto-Submitted", 100).lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return "auto-submitted"
    if any(_has(message, h) for h in ("X-Autoreply", "X-Autorespond", "X-Autogenerated", "X-Auto-Reply")):
        return "auto-reply header"
    for name in ("Precedence", "X-Precedence"):
        precedence = _header(message, name, 100).lower()
        if precedence in ("bulk", "junk", "list", "auto_reply", "auto-reply"):
            return f"precedence: {precedence}"
    if any(_has(message, h) for h in ("List-Id", "List-Post", "List-Unsubscribe", "Mailing-List")):
        return "list mail"
    return_path = _header(message, "Return-Path", 300)
    if return_path.replace(" ", "") == "<>" or (
        envelope_sender is not None and envelope_sender.strip().strip("<>").strip() == ""
    ):
        return "null return path"
    senders = (_local_part(from_address), _local_part(_one_line(envelope_sender or "", 300).strip("<>")))
    if any(_AUTOMATED_LOCAL.fullmatch(local) for local in senders if local):
        return "mailer-daemon"
    # Only From: ESPs' VERP envelopes (bounces+...@) also carry mail that people wrote.
    if _NO_REPLY_LOCAL.fullmatch(senders[0]):
        return "no-reply sender"
    subject = _header(message, "Subject", 300)
    if _AUTO_SUBJECT.match(subject):
        return "auto-reply subject"
    if _BOUNCE_SUBJECT.match(subject):
        return "delivery failure subject"
    return None


# -- body ---------------------------------------------------------------------------------------------
def _leaves(message: Message) -> Iterator[Message]:
    """Non-multipart parts in document order; attached messages (message/rfc822) are not entered:
    a forwarded mail is not what the person wrote."""
    stack = [message]
    seen = 0
    while stack and seen < MAX_PARTS:
        part = stack.pop()
        seen += 1
        if part.is_multipart():
            payload = part.get_payload()
            if part.get_content_maintype() == "multipart" and isinstance(payload, list):
                stack.extend(reversed(payload))
            continue
        yield part


def _text_parts(message: Message) -> tuple[Message | None, Message | None]:
    """The first inline text/plain and text/html parts; nothing else is ever decoded."""
    plain = html = None
    try:
        for part in _leaves(message):
            try:
                content_type = part.get_content_type()
                attached = part.get_content_disposition() == "attachment"
            except Exception:
                attached = True  # an unreadable part is skipped like an attachment
            if attached:
                continue
            if content_type == "text/plain" and plain is None:
                plain = part
            elif content_type == "text/html" and html is None:
                html = part
            if plain is not None and html is not None:
                break
    except Exception:  # noqa: S110 - a broken MIME tree: use what was found before it
        pass
    return plain, html


def _decode(data: bytes, charset: str | None, *, cut: bool) -> str:
    """The allowed codec of the declared charset if it fits, else UTF-8, else Windows-1252; never
    fails. `cut`: data was cut off at our size cap, possibly inside a character."""
    for candidate in (charset, "utf-8", "windows-1252"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except UnicodeDecodeError as error:
            # A payload we cut mid-character is still in this charset.
            if cut and error.start >= len(data) - 4:
                return data.decode(candidate, "replace")
        except (LookupError, ValueError, TypeError):
            continue
    return data.decode("latin-1")


def _param(part: Message, name: str) -> str:
    try:
        value = part.get_param(name)
    except Exception:
        return ""
    return value.lower() if isinstance(value, str) else ""


def _part_bytes(part: Message) -> bytes:
    """The part's content as bytes, transfer encoding undone (leniently: stray characters and
    missing padding in base64 are forgiven), looking at MAX_ENCODED at most. Only decode=True is
    safe: without it, a payload with 8-bit bytes is decoded whole with the declared charset."""
    data = part.get_payload(decode=True)
    return data[:MAX_ENCODED] if isinstance(data, bytes) else b""


def _part_text(part: Message, limit: int) -> str:
    try:
        data = _part_bytes(part)
    except Exception:
        return ""
    try:
        charset = codec_for(part.get_param("charset"))
    except Exception:
        charset = None
    text = _decode(data[: limit * 4], charset, cut=len(data) > limit * 4)[:limit]
    if _param(part, "format") == "flowed":
        text = _unflow(text, delsp=_param(part, "delsp") == "yes")
    return text


def _unflow(text: str, *, delsp: bool) -> str:
    """RFC 3676: join soft-broken lines (ending in a space) so a long command stays one line."""
    out: list[str] = []
    paragraph: str | None = None
    depth = 0

    def flush() -> None:
        if paragraph is not None:
            out.append((">" * depth + " " if depth else "") + paragraph)

    for line in text.replace("\r\n", "\n").split("\n"):
        quotes = len(line) - len(line.lstrip(">"))
        content = line[quotes:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        if paragraph is not None and quotes != depth:
            flush()
            paragraph = None
        paragraph = content if paragraph is None else paragraph + content
        depth = quotes
        if content.endswith(" ") and content != "-- ":
            if delsp:
                paragraph = paragraph[:-1]
            continue
        flush()
        paragraph = None
    flush()
    return "\n".join(out)


class _HtmlText(HTMLParser):
    """HTML to text, dropping quoted originals the way clients mark them.

    A dropped quote leaves a single `>` line behind, so that the text stage still knows a quote
    was there (and can read an answer written below it). Outlook's reply marker ends everything:
    what follows is the unquoted original.
    """

    _VOID = frozenset(
        {
            "br",
            "hr",
            "img",
            "meta",
            "link",
            "input",
            "area",
            "base",
            "col",
            "embed",
            "param",
            "source",
            "track",
            "wbr",
        }
    )
    _BLOCK = frozenset(
        {
            "p",
            "div",
            "li",
            "tr",
            "table",
            "ul",
            "ol",
            "dl",
            "dt",
            "dd",
            "pre",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "section",
            "article",
            "header",
            "footer",
            "address",
            "center",
            "main",
            "nav",
            "aside",
            "figure",
            "figcaption",
            "blockquote",
            "form",
        }
    )
    _HIDDEN = frozenset({"style", "script", "head", "title", "template", "noscript", "xml"})
    _QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "protonmail_quote", "moz-cite-prefix", "zmail_extra")
    _SIGNATURE_CLASSES = ("gmail_signature", "moz-signature")
    _MAX_DEPTH = 512

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.size = 0
        self.done = False
        self._open: list[tuple[str, bool]] = []  # (tag, whether its content is dropped)
        self._dropping = 0
        self._pre = 0

    def _emit(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size > MAX_TEXT:
            self.done = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        values = {name: (value or "").lower() for name, value in attrs}
        element_id, classes = values.get("id", ""), values.get("class", "")
        style = values.get("style", "").replace(" ", "")
        if (
            "appendonsend" in element_id
            or "divrplyfwdmsg" in element_id
            or (tag == "div" and "border-top:solid#" in style and ("#e1e1e1" in style or "#b5c4df" in style))
        ):
            self.done = True
            return
        if tag == "body":
            # Browsers close an unclosed <head> here; without this its drop would swallow the body.
            self.handle_endtag("head")
        if tag in self._VOID:
            if not self._dropping and tag in ("br", "hr"):
                self._emit("\n")
            return
        quote = tag == "blockquote" or any(c in classes for c in self._QUOTE_CLASSES)
        drop = quote or tag in self._HIDDEN or any(c in classes for c in self._SIGNATURE_CLASSES)
        if drop and not self._dropping and quote:
            self._emit("\n>\n")
        if len(self._open) < self._MAX_DEPTH:
            self._open.append((tag, drop))
            self._dropping += drop
        if not self._dropping:
            if tag in self._BLOCK:
                self._emit("\n")
            elif tag in ("td", "th"):
                self._emit(" ")
            if tag == "pre":
                self._pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in self._VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.done:
            return
        if tag in self._VOID:
            if tag == "br" and not self._dropping:
                self._emit("\n")
            return
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                for closed, dropped in self._open[index:]:
                    self._dropping -= dropped
                    if closed == "pre" and not self._dropping and self._pre:
                        self._pre -= 1
                del self._open[index:]
                if not self._dropping and tag in self._BLOCK:
                    self._emit("\n")
                return

    def handle_data(self, data: str) -> None:
        if self.done or self._dropping:
            return
        self._emit(data if self._pre else re.sub(r"[ \t\r\n\f]+", " ", data))


def html_to_text(html: str) -> str:
    """Visible text of an HTML mail body, quotes and signatures left out, one line per block."""
    parser = _HtmlText()
    try:
        parser.feed(html[:MAX_HTML])
        parser.close()
    except Exception:  # noqa: S110 - html.parser may choke on hostile markup: keep what was read
        pass
    lines = "".join(parser.parts).replace("\xa0", " ").split("\n")
    out: list[str] = []
    for line in (line.strip() for line in lines):
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _cut_part(message: Message) -> Message:
    """The part a message cut short ends in: the last one in document order. Every part before it
    was closed by a boundary line inside what was read."""
    part = message
    for _ in range(MAX_PARTS):
        payload = part.get_payload()
        if not (part.get_content_maintype() == "multipart" and isinstance(payload, list) and payload):
            break
        part = payload[-1]
    return part


def _body_text(message: Message, *, cut: bool, max_bytes: int) -> tuple[str, str | None]:
    """The new text, and why it is out of reach (None when it is not). Of a message cut at
    max_bytes, the part the cut falls in is never decoded: only text whose part ended before the
    cut is read, so a large attachment after the text costs nothing."""
    unread = _cut_part(message) if cut else None
    plain, html = _text_parts(message)
    for part, read in ((plain, lambda p: _part_text(p, MAX_TEXT)), (html, _html_part_text)):
        if part is None:
            continue
        if part is unread:
            return "", f"its text runs past the first {max_bytes // 1024} KB"
        text = new_text_of(read(part))
        if text:
            return text, None
    return "", f"no text in its first {max_bytes // 1024} KB" if cut else None


def _html_part_text(part: Message) -> str:
    return html_to_text(_part_text(part, MAX_HTML))


# -- the new text -------------------------------------------------------------------------------------
Marker = Literal["quote", "original", "signature"]

_ATTRIBUTIONS = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"on\b.{1,300}\bwrote\s*:",  # Gmail, Apple Mail, Thunderbird, Yahoo, mutt
        r"am\b.{1,300}\bschrieb\b.{0,300}:",
        r"le\b.{1,300}\ba écrit\s*:",
        r"el\b.{1,300}\bescribió\s*:",
        r"il\b.{1,300}\bha scritto\s*:",
        r"op\b.{1,300}\bschreef\b.{0,300}:",
        r"(em|no dia)\b.{1,300}\bescreveu\s*:",
        r"den\b.{1,300}\bskrev\b.{0,300}:",
        r"(w dniu|dnia)\b.{1,300}\bnapisał(a)?\s*:",
    )
]
# One line only, never joined with the line above: they have no leading word to anchor them.
_LOOSE_ATTRIBUTIONS = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # A date or an address: "2026-11-23 8:00 GMT+01:00, Paperboy wrote:".
        r"(?=.*[\d@]).{1,300}\b(wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev)\s*:",
        # Lotus Notes: "Paperboy <digest@...> wrote on 23/11/2026 08:00:00:".
        r".{1,300}\bwrote on \d.{1,60}:",
    )
]
_ATTRIBUTION_START = re.compile(r"(on|am|le|el|il|op|em|no dia|den|w dniu|dnia)\b", re.IGNORECASE)
_ORIGINAL = re.compile(
    r"-{2,}\s*(original message|ursprüngliche nachricht|originalnachricht|message d'origine|"
    r"mensaje original|messaggio originale|oorspronkelijk bericht|originalmeddelande|mensagem original|"
    r"原始邮件|原始郵件|元のメッセージ)"
    r"\s*-{2,}"
    r"|-{2,}\s*(forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|"
    r"messaggio inoltrato|doorgestuurd bericht)\s*-{2,}"
    r"|begin forwarded message\s*:|anfang der weitergeleiteten nachricht\s*:"
    r"|_{8,}"
    # The cut line Paperboy's own mail can carry.
    r"|.{0,40}\b(reply|write) above this line\b.{0,40}",
    re.IGNORECASE,
)
# `\s*(?:\*\s*)?`, never `\s*\*?\s*`: two runs of spaces that can split a long gap any way would
# make a line of spaces without a colon take quadratic time (a second per 16 KB line).
_HEADER_FROM = re.compile(
    r"\*?(from|de|von|van|da|från|fra|od|от|发件人|寄件者|差出人|보낸 사람)\s*(?:\*\s*)?:\s*(?:\*\s*)?\S.*",
    re.IGNORECASE,
)
_HEADER_OTHER = re.compile(
    r"\*?(sent|date|to|cc|subject|envoyé|à|objet|gesendet|datum|an|betreff|enviado|fecha|para|asunto|"
    r"inviato|data|a|oggetto|verzonden|aan|onderwerp|skickat|till|ämne|wysłane|do|temat|"
    r"отправлено|кому|тема|发送时间|收件人|主题|送信日時|件名)\s*(?:\*\s*)?:",
    re.IGNORECASE,
)
_SIGNATURES = re.compile(
    r"sent from (my )?.{1,60}|sent (with|via|using) .{1,60}|get outlook for\b.{0,80}"
    r"|von meinem .{1,40} gesendet\.?|gesendet von .{1,40}|envoyé de mon .{1,40}|enviado desde mi .{1,40}"
    r"|inviato da(l mio)? .{1,40}|verzonden (met|vanaf) .{1,40}|skickat från .{1,40}",
    re.IGNORECASE,
)


def _tidy(line: str) -> str:
    """Tabs and no-break spaces as spaces; invisible format characters (zero-width, BOM) out."""
    cleaned = []
    for ch in line:
        category = unicodedata.category(ch)
        if ch == "\t" or category in ("Zs", "Zl", "Zp"):
            cleaned.append(" ")
        elif category[0] != "C":
            cleaned.append(ch)
    return "".join(cleaned).rstrip()


def _header_block(lines: list[str], start: int) -> bool:
    """An unquoted `From: ... Sent: ... To: ... Subject:` block (Outlook) starts here; GMX and
    web.de put the date first (`Gesendet: ...` then `Von: ...`)."""
    if _HEADER_OTHER.match(lines[start].strip()) and start + 1 < len(lines):
        return not _HEADER_OTHER.match(lines[start + 1].strip()) and _header_block(lines, start + 1)
    if not _HEADER_FROM.fullmatch(lines[start].strip()):
        return False
    following = [line.strip() for line in lines[start + 1 : start + 8] if line.strip()][:5]
    headers = sum(1 for line in following if _HEADER_OTHER.match(line))
    return headers >= 2 or (headers >= 1 and "@" in lines[start])


def _attribution(lines: list[str], start: int) -> int:
    """How many lines an `On <date>, <name> wrote:` line spans from here (Gmail wraps a long one
    over two lines, Outlook for Mac over three); 0 if none starts here."""
    first = lines[start].strip()
    if len(first) > 400:
        return 0
    if any(pattern.fullmatch(first) for pattern in (*_ATTRIBUTIONS, *_LOOSE_ATTRIBUTIONS)):
        return 1
    if not _ATTRIBUTION_START.match(first):
        return 0
    joined = first
    for span in (2, 3):
        following = lines[start + span - 1].strip() if start + span <= len(lines) else ""
        if not following:
            break
        joined = f"{joined} {following}"
        if len(joined) > 400:
            break
        if any(pattern.fullmatch(joined) for pattern in _ATTRIBUTIONS):
            # "On Monday I'm away" just above a one-line attribution is the person's own line.
            rest = " ".join(line.strip() for line in lines[start + 1 : start + span])
            return 0 if any(pattern.fullmatch(rest) for pattern in _ATTRIBUTIONS) else span
    return 0


def _marker(lines: list[str], start: int) -> tuple[Marker, int] | None:
    """What begins at lines[start] and how many lines it spans, if it ends the new text."""
    stripped = lines[start].strip()
    if not stripped:
        return None
    if stripped.startswith(">"):
        return "quote", 1
    if stripped == "--" or _SIGNATURES.fullmatch(stripped):
        return "signature", 1
    if _ORIGINAL.fullmatch(stripped) or _header_block(lines, start):
        return "original", 1
    span = _attribution(lines, start)
    return ("quote", span) if span else None


def _trimmed(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n ")


def new_text_of(body_text: str) -> str:
    """The text the person wrote: above the quoted original and the signature, or, when nothing is
    above, the lines they answered below `>`-quoted lines (bottom-posting, interleaving)."""
    text = body_text[:MAX_TEXT].replace("\r\n", "\n").replace("\r", "\n")
    lines = [_tidy(line) for line in text.split("\n")]
    index = 0
    found: tuple[Marker, int] | None = None
    while index < len(lines):
        found = _marker(lines, index)
        if found is not None:
            break
        index += 1
    top = _trimmed(lines[:index])
    if top or found is None or found[0] != "quote":
        return top
    return _below_quotes(lines, index)


def _below_quotes(lines: list[str], index: int) -> str:
    """Unquoted lines that follow `>` lines, up to a signature or an unquoted original. Text right
    after an attribution with no `>` before it is an unquoted original (or a client we do not
    know): nothing is read then, since it may be our own help text."""
    kept: list[str] = []
    after_quote = False
    while index < len(lines):
        line = lines[index]
        found = _marker(lines, index)
        if found is not None and found[0] != "quote":
            break
        if found is not None:
            after_quote = line.strip().startswith(">")
            index += found[1]
            continue
        if line.strip() and not after_quote:
            return ""
        if after_quote and (line.strip() or (kept and kept[-1].strip())):
            kept.append(line)
        index += 1
    return _trimmed(kept)


# -- the message --------------------------------------------------------------------------------------
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def _head(raw: bytes) -> bytes:
    """The header block alone (at most MAX_HEAD bytes), a message of its own with an empty body."""
    end = _HEADER_END.search(raw[:MAX_HEAD])
    return raw[: end.start() if end else MAX_HEAD] + b"\r\n\r\n"


def parse_message(
    raw: bytes, *, envelope_sender: str | None = None, max_bytes: int = MAX_RAW
) -> InboundMessage:
    """The parts of a raw RFC 5322 message Paperboy acts on. Never raises; a message that cannot be
    read at all is reported as automated, so nobody answers it. `raw` may be cut just past
    `max_bytes` (a ranged read): then its first max_bytes are parsed, and the text is read when its
    part ends within them. Of a message over a structure limit (see `too_large`), whose header
    alone is over max_bytes or whose text is out of reach, only the header is read: the sender and
    whether a machine wrote it, no text."""
    cut = len(raw) > max_bytes
    raw = raw[:max_bytes]
    refused = too_large(raw, max_bytes)
    if refused is None and cut and not _HEADER_END.search(raw):
        refused = f"its header alone is over {max_bytes // 1024} KB"
    try:
        message = email.message_from_bytes(_defused(_head(raw) if refused else raw), policy=_POLICY)
    except Exception:
        return InboundMessage(automated="unreadable message", too_large=refused)
    try:
        address, name = _sender(message)
        automated = _automated(message, address, envelope_sender)
        new_text = ""
        if refused is None:
            try:
                new_text, refused = _body_text(message, cut=cut, max_bytes=max_bytes)
            except Exception:
                new_text = ""
        message_ids = _ids(message, "Message-ID")
        return InboundMessage(
            from_address=address,
            from_name=name,
            to=_recipients(message, "To"),
            cc=_recipients(message, "Cc"),
            subject=_header(message, "Subject", 300),
            message_id=message_ids[0] if message_ids else None,
            in_reply_to=_ids(message, "In-Reply-To")[:MAX_REFERENCES],
            # The newest references are last; they are the ones that find the digest replied to.
            references=_ids(message, "References")[-MAX_REFERENCES:],
            automated=automated,
            too_large=refused,
            new_text=new_text,
        )
    except Exception:
        return InboundMessage(automated="unreadable message", too_large=refused)
