"""Replies with a large attachment (issue 14, item 2): InboundMail reads at most INBOUND_MAX_BYTES of
the raw message; the first text part inside that range is read and its commands applied, whatever
follows it. Only when the text itself is out of reach is the message refused as too large.

The shapes are those of real clients: Gmail, Outlook and Apple Mail put the text first (inside a
multipart/alternative, inside multipart/mixed), the iPhone sends a base64 text part then an inline
photo, and a multipart/related may hold an inline image before the text. The end-to-end tests
(a reply with a 5 MB attachment through the local stack) are in test_inbound.py."""

from __future__ import annotations

import base64
import os
import quopri
from collections.abc import Callable

import pytest
from test_replies import decoding_spy

from paperboy.mail.inbound.message import MAX_RAW, parse_message

DOMAIN = "papers.example.org"
ATTACHMENT = 5 * 1024 * 1024  # a screenshot or a PDF: five times what is read
QUOTED = (
    "On Mon, 23 Nov 2026 at 09:00, Paperboy <digest@papers.example.org> wrote:\r\n"
    "> Your papers for Monday\r\n"
    '> Reply "unsubscribe" to stop.\r\n'
)


def _head(sender: str, content_type: str) -> str:
    return (
        f"From: Ada Lovelace <{sender}>\r\nTo: Paperboy <reply+t@{DOMAIN}>\r\n"
        "Subject: Re: Your papers for Monday\r\nDate: Mon, 23 Nov 2026 10:12:00 +0000\r\n"
        f"Message-ID: <{os.urandom(8).hex()}@example.org>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: {content_type}\r\n\r\n"
    )


def _base64(data: bytes) -> str:
    return base64.encodebytes(data).decode().replace("\n", "\r\n")


def _qp(text: str) -> str:
    return quopri.encodestring(text.encode()).decode().replace("\n", "\r\n")


def _binary(size: int) -> bytes:
    return os.urandom(size)


def gmail(sender: str, command: str, size: int = ATTACHMENT) -> bytes:
    plain = f"{command}\r\n\r\n{QUOTED}"
    html = f'<div dir="ltr">{command}</div><br><div class="gmail_quote">{QUOTED}</div>'
    return (
        _head(sender, 'multipart/mixed; boundary="000000000000a1b2c3"')
        + "--000000000000a1b2c3\r\n"
        + 'Content-Type: multipart/alternative; boundary="000000000000a1b2c1"\r\n\r\n'
        + f'--000000000000a1b2c1\r\nContent-Type: text/plain; charset="UTF-8"\r\n\r\n{plain}\r\n'
        + f'--000000000000a1b2c1\r\nContent-Type: text/html; charset="UTF-8"\r\n\r\n{html}\r\n'
        + "--000000000000a1b2c1--\r\n"
        + '--000000000000a1b2c3\r\nContent-Type: application/pdf; name="paper.pdf"\r\n'
        + 'Content-Disposition: attachment; filename="paper.pdf"\r\nContent-Transfer-Encoding: base64\r\n'
        + "Content-ID: <f_m1a2b3c40>\r\nX-Attachment-Id: f_m1a2b3c40\r\n\r\n"
        + _base64(_binary(size))
        + "--000000000000a1b2c3--\r\n"
    ).encode()


def outlook(sender: str, command: str, size: int = ATTACHMENT) -> bytes:
    original = (
        "________________________________\r\nFrom: Paperboy <digest@papers.example.org>\r\n"
        "Sent: Monday, November 23, 2026 9:00 AM\r\nTo: Ada Lovelace <ada@example.org>\r\n"
        'Subject: Your papers for Monday\r\n\r\nReply "unsubscribe" to stop.\r\n'
    )
    html = (
        f'<html><body><div class="WordSection1"><p class="MsoNormal">{command}</p></div>'
        '<div id="divRplyFwdMsg"><b>From:</b> Paperboy</div>unsubscribe</body></html>'
    )
    mixed, alternative = "_004_DB9PR10MB5Ab1_", "_000_DB9PR10MB5Ab1_"
    return (
        _head(sender, f'multipart/mixed; boundary="{mixed}"')
        + f'--{mixed}\r\nContent-Type: multipart/alternative; boundary="{alternative}"\r\n\r\n'
        + f'--{alternative}\r\nContent-Type: text/plain; charset="us-ascii"\r\n'
        + f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{_qp(command + '\r\n\r\n' + original)}\r\n"
        + f'--{alternative}\r\nContent-Type: text/html; charset="us-ascii"\r\n'
        + f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{_qp(html)}\r\n"
        + f"--{alternative}--\r\n\r\n"
        + f'--{mixed}\r\nContent-Type: application/pdf; name="report.pdf"\r\n'
        + "Content-Description: report.pdf\r\n"
        + f'Content-Disposition: attachment; filename="report.pdf"; size={size};\r\n'
        + '\tcreation-date="Mon, 23 Nov 2026 10:11:00 GMT"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + _base64(_binary(size))
        + f"\r\n--{mixed}--\r\n"
    ).encode()


def apple_mail(sender: str, command: str, size: int = ATTACHMENT) -> bytes:
    """Apple Mail's HTML reply with an attachment: the plain twin first, then the HTML split around
    the attachment inside a multipart/mixed."""
    outer, inner = "Apple-Mail=_1F3C2D4E-5A6B", "Apple-Mail=_9E8D7C6B-5A4F"
    attribution = "On 23 Nov 2026, at 09:00, Paperboy <digest@papers.example.org> wrote:"
    plain = f"{command}\r\n\r\n> {attribution}\r\n> …\r\n"
    return (
        _head(sender, f'multipart/alternative; boundary="{outer}"')
        + f"\r\n--{outer}\r\nContent-Transfer-Encoding: quoted-printable\r\n"
        + f"Content-Type: text/plain;\r\n\tcharset=utf-8\r\n\r\n{_qp(plain)}\r\n"
        + f'--{outer}\r\nContent-Type: multipart/mixed;\r\n\tboundary="{inner}"\r\n\r\n'
        + f"\r\n--{inner}\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html;\r\n"
        + f"\tcharset=utf-8\r\n\r\n{_qp(f'<html><body><div>{command}</div></body></html>')}\r\n"
        + f"--{inner}\r\nContent-Disposition: inline;\r\n\tfilename=Screenshot.png\r\n"
        + 'Content-Type: image/png;\r\n\tx-unix-mode=0644;\r\n\tname="Screenshot.png"\r\n'
        + "Content-Transfer-Encoding: base64\r\n\r\n"
        + _base64(_binary(size))
        + f"\r\n--{inner}\r\nContent-Transfer-Encoding: 7bit\r\nContent-Type: text/html;\r\n"
        + "\tcharset=us-ascii\r\n\r\n<html><body><blockquote>unsubscribe</blockquote></body></html>\r\n"
        + f"--{inner}--\r\n\r\n--{outer}--\r\n"
    ).encode()


def iphone(sender: str, command: str, size: int = ATTACHMENT) -> bytes:
    """iOS Mail: a base64 text part, the photo inline, then the rest of the text in a second part."""
    boundary = "Apple-Mail-3F2A1B0C-9D8E-4F7A-B6C5-D4E3F2A1B0C9"
    text = f"{command}\n\nSent from my iPhone\n\n> On 23 Nov 2026, at 09:00, Paperboy wrote:\n> …\n"
    return (
        _head(sender, f"multipart/mixed; boundary={boundary}")
        + f"\r\n--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        + "Content-Transfer-Encoding: base64\r\n\r\n"
        + _base64(text.encode())
        + f"--{boundary}\r\nContent-Type: image/jpeg; name=IMG_0042.jpeg; x-apple-part-url=A1B2C3\r\n"
        + "Content-Disposition: inline; filename=IMG_0042.jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _base64(_binary(size))
        + f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n"
        + "Content-Transfer-Encoding: 7bit\r\n\r\n"
        + "\r\n\r\n> unsubscribe\r\n"
        + f"--{boundary}--\r\n"
    ).encode()


def related(sender: str, command: str, size: int = ATTACHMENT, logo: int = 40_000) -> bytes:
    """A signature logo inline before the text (multipart/related), a large PDF after it."""
    mixed, rel, alternative = "mixed-7f3a", "related-7f3a", "alternative-7f3a"
    return (
        _head(sender, f'multipart/mixed; boundary="{mixed}"')
        + f'--{mixed}\r\nContent-Type: multipart/related; boundary="{rel}";\r\n'
        + ' type="multipart/alternative"\r\n\r\n'
        + f"--{rel}\r\nContent-Type: image/png; name=logo.png\r\nContent-ID: <logo@example.org>\r\n"
        + "Content-Disposition: inline; filename=logo.png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _base64(_binary(logo))
        + f'--{rel}\r\nContent-Type: multipart/alternative; boundary="{alternative}"\r\n\r\n'
        + f"--{alternative}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        + f"Content-Transfer-Encoding: base64\r\n\r\n{_base64(f'{command}\r\n\r\n{QUOTED}'.encode())}"
        + f"--{alternative}\r\nContent-Type: text/html; charset=utf-8\r\n"
        + "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        + f'<p>{command}</p><img src="cid:logo@example.org">\r\n'
        + f"--{alternative}--\r\n--{rel}--\r\n"
        + f'--{mixed}\r\nContent-Type: application/pdf; name="scan.pdf"\r\n'
        + 'Content-Disposition: attachment; filename="scan.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + _base64(_binary(size))
        + f"--{mixed}--\r\n"
    ).encode()


CLIENTS: dict[str, Callable[..., bytes]] = {
    "gmail": gmail,
    "outlook": outlook,
    "apple_mail": apple_mail,
    "iphone": iphone,
    "related": related,
}


def read_as_inbound_mail(raw: bytes, limit: int = MAX_RAW) -> bytes:
    """What InboundMail's ranged GET returns: the first limit + 1 bytes."""
    return raw[: limit + 1]


# -- the parser ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_the_text_before_a_large_attachment_is_read(client):
    raw = CLIENTS[client]("ada@example.org", "pause")
    assert len(raw) > 5 * MAX_RAW
    message = parse_message(read_as_inbound_mail(raw))
    assert message.too_large is None
    assert message.new_text == "pause"
    assert message.from_address == "ada@example.org"


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_a_small_attachment_gives_the_same_text_as_a_large_one(client):
    raw = CLIENTS[client]("ada@example.org", "count 5", size=2_000)
    message = parse_message(raw)
    assert (message.too_large, message.new_text) == (None, "count 5")


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_the_part_cut_off_by_the_range_is_never_decoded(client, monkeypatch):
    decoded = decoding_spy(monkeypatch)
    message = parse_message(read_as_inbound_mail(CLIENTS[client]("ada@example.org", "pause")))
    assert message.new_text == "pause"
    assert decoded == ["text/plain"]  # not the image, not the PDF


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_wherever_the_range_ends_the_text_is_read_in_full_or_the_mail_is_refused(client):
    """The limit swept over every stretch of the message: inside the header, the text, the
    attachment's header and its body. Never a partial text, never a failed parse."""
    raw = CLIENTS[client]("ada@example.org", "pause", size=6_000)
    # The first text part is complete once the header of the part after it begins.
    text_end = raw.index(b"Content-Type", raw.index(b"text/plain"))
    header_end = raw.index(b"\r\n\r\n") + 4
    for limit in range(40, len(raw) + 40, 37):
        message = parse_message(read_as_inbound_mail(raw, limit), max_bytes=limit)
        assert message.new_text in ("", "pause"), limit
        assert (message.too_large is None) == (message.new_text == "pause"), limit
        if limit >= text_end:
            assert message.new_text == "pause", limit
        if limit >= header_end:
            assert message.from_address == "ada@example.org", limit


def test_an_inline_image_larger_than_the_limit_before_the_text_puts_the_text_out_of_reach():
    raw = related("ada@example.org", "pause", size=2_000, logo=2 * MAX_RAW)
    message = parse_message(read_as_inbound_mail(raw))
    assert message.new_text == ""
    assert message.too_large == "no text in its first 1024 KB"
    assert message.from_address == "ada@example.org"


def test_a_text_longer_than_the_limit_is_refused():
    head = _head("ada@example.org", "text/plain; charset=utf-8")
    raw = (head + "pause\r\n" + "filler line of an enormous reply\r\n" * 40_000).encode()
    message = parse_message(read_as_inbound_mail(raw))
    assert (message.too_large, message.new_text) == ("its text runs past the first 1024 KB", "")


def test_a_text_part_cut_by_the_limit_is_refused_even_after_an_attachment():
    """Text after the attachment (Apple Mail's trailing part) is cut: the first text part is."""
    boundary = "b1"
    raw = (
        _head("ada@example.org", f"multipart/mixed; boundary={boundary}")
        + f"--{boundary}\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _base64(_binary(500_000))
        + f"--{boundary}\r\nContent-Type: text/plain\r\n\r\npause\r\n"
        + "filler\r\n" * 100_000
        + f"--{boundary}--\r\n"
    ).encode()
    message = parse_message(read_as_inbound_mail(raw))
    assert (message.too_large, message.new_text) == ("its text runs past the first 1024 KB", "")


def test_a_header_larger_than_the_limit_is_refused_but_names_its_sender():
    head = _head("ada@example.org", "text/plain")
    raw = ("X-Padding: " + "x" * 900 + "\r\n") * 1200 + head + "pause\r\n"
    message = parse_message(read_as_inbound_mail(raw.encode()))
    assert (message.too_large, message.new_text) == ("its header alone is over 1024 KB", "")


def test_an_empty_text_with_a_large_attachment_is_refused_rather_than_answered_with_help():
    raw = gmail("ada@example.org", "")
    message = parse_message(read_as_inbound_mail(raw))
    assert (message.too_large, message.new_text) == ("no text in its first 1024 KB", "")
