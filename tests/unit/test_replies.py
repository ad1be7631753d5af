"""Inbound messages: the reply corpus (one hand-written .eml per mail client and per hostile case),
quote and signature stripping, HTML-only replies, automated mail, and parsing that never raises."""

from __future__ import annotations

import base64
import email.message
import json
import os
import time
import unicodedata
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperboy.mail.inbound.commands import CommandKind, parse_commands
from paperboy.mail.inbound.message import MAX_TEXT, InboundMessage, html_to_text, new_text_of, parse_message

CORPUS = Path(__file__).parents[1] / "fixtures" / "replies"
EXPECTED: dict[str, dict] = {
    name: case
    for name, case in json.loads((CORPUS / "expected.json").read_text()).items()
    if name.endswith(".eml")
}
TODAY = date(2026, 11, 23)


def _single_line(value: str) -> bool:
    return not any(unicodedata.category(ch)[0] == "C" or ch in "\u2028\u2029" for ch in value)


def _command_fields(command) -> dict:
    fields = command.model_dump(mode="json", exclude={"line"})
    if fields["send_time"]:
        fields["send_time"] = fields["send_time"][:5]
    return fields


# -- the corpus ---------------------------------------------------------------------------------------
def test_every_message_in_the_corpus_has_an_expected_outcome():
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message_parses_as_expected(name):
    case = EXPECTED[name]
    message = parse_message((CORPUS / name).read_bytes())
    if case["automated"] is None:
        assert message.automated is None
    else:
        assert message.automated is not None and case["automated"] in message.automated
    assert message.from_address == case["from_address"]
    for field in ("from_name", "subject", "message_id", "in_reply_to", "to", "cc"):
        if field in case:
            assert getattr(message, field) == case[field], field
    assert message.new_text.split("\n") == (case["new_text"] or [""])


@pytest.mark.parametrize("name", sorted(n for n, case in EXPECTED.items() if "commands" in case))
def test_corpus_message_yields_the_expected_commands(name):
    case = EXPECTED[name]
    parsed = parse_commands(parse_message((CORPUS / name).read_bytes()).new_text, today=TODAY)
    assert len(parsed.commands) == len(case["commands"])
    for command, expected in zip(parsed.commands, case["commands"], strict=True):
        fields = _command_fields(command)
        assert {key: fields[key] for key in expected} == expected
    if "not_understood" in case:
        assert parsed.not_understood == case["not_understood"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_quoted_footer_never_unsubscribes(name):
    # Every digest quoted in the corpus carries "unsubscribe"; only a reader's own line may count.
    message = parse_message((CORPUS / name).read_bytes())
    kinds = [c.kind for c in parse_commands(message.new_text, today=TODAY).commands]
    typed = any(line.strip().lower() == "unsubscribe" for line in EXPECTED[name]["new_text"])
    assert (CommandKind.UNSUBSCRIBE in kinds) == typed


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_header_values_are_single_line(name):
    message = parse_message((CORPUS / name).read_bytes())
    values = [
        message.from_address,
        message.from_name,
        message.subject,
        *message.to,
        *message.cc,
        *message.in_reply_to,
        *message.references,
        message.message_id or "",
    ]
    assert all(_single_line(value) for value in values)


# -- new text: plain text --------------------------------------------------------------------------
GMAIL = """count 5

On Mon, 23 Nov 2026 at 08:00, Paperboy <digest@papers.example.org> wrote:

> Your papers
> unsubscribe
"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (GMAIL, "count 5"),
        # Gmail wraps a long attribution, either before the address or before "wrote:".
        (
            "more 2\n\nOn Mon, 23 Nov 2026 at 08:00, Paperboy <\n"
            "digest@papers.example.org> wrote:\n> unsubscribe",
            "more 2",
        ),
        (
            "more 2\nOn Mon, 23 Nov 2026 at 08:00, Paperboy <digest@papers.example.org>\n"
            "wrote:\n\n> unsubscribe",
            "more 2",
        ),
        # Apple Mail, Thunderbird, Yahoo, mutt attributions.
        ("daily\n\nOn 23 Nov 2026, at 08:00, Paperboy <digest@papers.example.org> wrote:\n\n> stop", "daily"),
        ("daily\n\nOn 11/23/26 8:00 AM, Paperboy wrote:\n> stop", "daily"),
        (
            "daily\nOn Monday, November 23, 2026 at 08:00:00 AM GMT, Paperboy <d@p.example> wrote:\nstop",
            "daily",
        ),
        # Localised attributions.
        ("daily\n\nAm 23.11.26 um 08:00 schrieb Paperboy:\n> stop", "daily"),
        ("daily\n\nLe lun. 23 nov. 2026 à 08:00, Paperboy <d@p.example> a écrit :\n> stop", "daily"),
        ("daily\n\nEl lun, 23 nov 2026 a las 8:00, Paperboy (<d@p.example>) escribió:\n> stop", "daily"),
        ("daily\n\nOp ma 23 nov 2026 om 08:00 schreef Paperboy <d@p.example>:\n> stop", "daily"),
        # Outlook desktop: no quote marks at all, just a header block.
        (
            "count 3\n\nFrom: Paperboy <digest@papers.example.org>\nSent: Monday, November 23, 2026 8:00 AM\n"
            "To: Ada\nSubject: Your papers\n\nunsubscribe",
            "count 3",
        ),
        (
            "count 3\n\n*From:* Paperboy <digest@papers.example.org>\n*Sent:* Monday\n"
            "*To:* Ada\n\nunsubscribe",
            "count 3",
        ),
        (
            "count 3\n\nDe : Paperboy <digest@papers.example.org>\nEnvoyé : lundi 23 novembre 2026 08:00\n"
            "À : Ada\nObjet : Your papers\n\nunsubscribe",
            "count 3",
        ),
        (
            "count 3\n\nVon: Paperboy <digest@papers.example.org>\nGesendet: Montag\n"
            "An: Ada\nBetreff: x\n\nstop",
            "count 3",
        ),
        ("count 3\n-----Original Message-----\nFrom: Paperboy\nunsubscribe", "count 3"),
        # GMX and web.de put the date above the sender.
        (
            "count 3\n\nGesendet: Montag, 23. November 2026 um 08:00 Uhr\nVon: Paperboy <d@p.example>\n"
            "An: ada@gmx.de\nBetreff: x\n\nstop",
            "count 3",
        ),
        (
            "count 3\n\n差出人: Paperboy <d@p.example>\n送信日時: 2026年11月23日 8:00\n件名: x\n\nstop",
            "count 3",
        ),
        ("count 3\n\nPaperboy <digest@papers.example.org> wrote on 23/11/2026 08:00:00:\n\nstop", "count 3"),
        (
            "count 3\n\n------- Original Message -------\nOn Monday, November 23rd, 2026, x wrote:",
            "count 3",
        ),
        ("count 3\n----- Original Message -----\nunsubscribe", "count 3"),
        ("count 3\n-----Ursprüngliche Nachricht-----\nunsubscribe", "count 3"),
        ("count 3\n________________________________\nFrom: Paperboy\nunsubscribe", "count 3"),
        ("count 3\n---------- Forwarded message ---------\nFrom: Paperboy\nunsubscribe", "count 3"),
        ("count 3\n\nBegin forwarded message:\n\nunsubscribe", "count 3"),
        ("count 3\n\n— reply above this line —\nunsubscribe", "count 3"),
        # Signatures and mobile footers.
        ("less 1\n-- \nStop by our lab", "less 1"),
        ("less 1\n--\nStop by our lab", "less 1"),
        ("Pause\n\nSent from my iPhone\n\n> On 23 Nov 2026, at 08:00, Paperboy wrote:\n> stop", "Pause"),
        ("resume\n\nSent from my Galaxy\n\n-------- Original message --------\nstop", "resume"),
        (
            "resume\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n________________________________\nstop",
            "resume",
        ),
        ("resume\nVon meinem iPhone gesendet\nstop", "resume"),
        ("resume\nEnvoyé de mon iPad\nstop", "resume"),
        ("resume\nSent with Proton Mail secure email.\nstop", "resume"),
        # Invisible characters and odd line ends do not hide a quote.
        (
            "count 2\r\n\r\n\u200bOn Mon, 23 Nov 2026 at 08:00, Paperboy <d@p.example> wrote:\r\n> stop",
            "count 2",
        ),
        ("count 2\r\r> stop", "count 2"),
        ("\ufeffcount\u00a02\n> stop", "count 2"),
        # Nothing written: nothing read.
        ("On Mon, 23 Nov 2026 at 08:00, Paperboy <d@p.example> wrote:\n> unsubscribe\n", ""),
        ("", ""),
    ],
)
def test_new_text_stops_at_quotes_originals_and_signatures(body, expected):
    assert new_text_of(body) == expected


def test_new_text_keeps_a_person_s_line_just_above_a_one_line_attribution():
    body = "On Monday I'm away\nOn Mon, 23 Nov 2026 at 08:00, Paperboy <d@p.example> wrote:\n> stop"
    assert new_text_of(body) == "On Monday I'm away"


def test_a_two_line_join_is_not_taken_for_an_attribution_when_the_first_line_is_the_reader_s():
    body = "count 5\nPaperboy <digest@papers.example.org> wrote:\n> stop"
    assert new_text_of(body) == "count 5"


def test_answers_below_and_between_quotes_are_read_when_nothing_is_above():
    body = "On Mon, Paperboy wrote:\n> 1. A paper\n\nmore 1\n\n> 2. Another\n>\nless 2\n\n-- \nken\n"
    assert new_text_of(body) == "more 1\n\nless 2"


def test_unquoted_text_right_after_an_attribution_is_never_read():
    # A client we do not know that pastes the original unquoted under an attribution: our own footer
    # would come back as commands.
    body = "On Mon, 23 Nov 2026 at 08:00, Paperboy <d@p.example> wrote:\nunsubscribe\n> x\nmore 1"
    assert new_text_of(body) == ""


def test_only_the_first_64_kb_of_text_are_looked_at():
    body = "x\n" * (MAX_TEXT // 2 + 10) + "unsubscribe\n"
    assert "unsubscribe" not in new_text_of(body)


# -- new text: HTML ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<div dir="ltr">more 2<br>count 5</div><div class="gmail_quote"><div class="gmail_attr">On Mon, '
            "Paperboy wrote:</div><blockquote>unsubscribe</blockquote></div>",
            "more 2\ncount 5\n\n>",
        ),
        ('<p>more 2</p><blockquote type="cite">stop</blockquote><p>less 3</p>', "more 2\n\n>\n\nless 3"),
        (
            '<div>daily</div><div id="appendonsend"></div><hr>'
            '<div id="divRplyFwdMsg"><b>From:</b> x</div>stop',
            "daily",
        ),
        ('<div>daily</div><div id="x_divRplyFwdMsg">From: x</div>stop', "daily"),
        (
            '<p>daily</p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
            "<p><b>From:</b> Paperboy</p></div><p>stop</p>",
            "daily",
        ),
        ('<p>daily</p><div class="yahoo_quoted">On Monday, Paperboy wrote: stop</div>', "daily\n\n>"),
        ('<p>daily</p><div class="gmail_signature">Stop by our lab</div>', "daily"),
        (
            "<html><head><title>stop</title><style>p{color:red}</style></head><body><p>time&nbsp;7:30</p>"
            "<script>stop()</script></body></html>",
            "time 7:30",
        ),
        # An unclosed <head> does not swallow the body (browsers close it at <body>).
        ("<html><head><meta charset=utf-8><body><p>count 4</p>", "count 4"),
        ("<pre>count 4\n  more 1</pre>", "count 4\nmore 1"),
        ("<table><tr><td>count</td><td>4</td></tr></table>", "count 4"),
        ("count<br/>4<br>5", "count\n4\n5"),
        ("<p>a &amp; b &lt;c&gt;</p>", "a & b <c>"),
        ("<div><div><p>deep</div></div></div></p>", "deep"),
    ],
)
def test_html_to_text_drops_quotes_and_keeps_line_breaks(html, expected):
    assert html_to_text(html) == expected


def test_an_html_only_reply_gives_the_same_new_text_as_its_plain_twin():
    html = (
        '<div dir="ltr">topics: speech, robotics<div>count 5</div></div><br><div class="gmail_quote">'
        '<div class="gmail_attr">On Mon, 23 Nov 2026 at 08:00, Paperboy &lt;d@p.example&gt; wrote:</div>'
        "<blockquote>stop</blockquote></div>"
    )
    message = EmailMessage()
    message["From"] = "ada@example.com"
    message.set_content(html, subtype="html")
    assert parse_message(message.as_bytes()).new_text == "topics: speech, robotics\ncount 5"


def test_html_is_used_when_the_plain_part_is_empty():
    message = EmailMessage()
    message["From"] = "ada@example.com"
    message.set_content("\n")
    message.add_alternative("<p>count 6</p>", subtype="html")
    assert parse_message(message.as_bytes()).new_text == "count 6"


# -- MIME and charsets ----------------------------------------------------------------------------------
def _mail(
    body: bytes, content_type: str = "text/plain; charset=utf-8", encoding: str = "8bit", extra: str = ""
) -> bytes:
    head = (
        f"From: Ada <ada@example.com>\r\nTo: reply+t@papers.example.org\r\nSubject: Re: x\r\n{extra}"
        f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n"
    )
    return head.encode() + body


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (_mail("topics: Über, naïve\n".encode()), "topics: Über, naïve"),
        (_mail("topics: Über\n".encode("latin-1"), "text/plain; charset=iso-8859-1"), "topics: Über"),
        (_mail("topics: Über\n".encode("latin-1"), "text/plain; charset=utf-8"), "topics: Über"),
        (_mail("topics: Über\n".encode(), "text/plain; charset=x-unknown"), "topics: Über"),
        (_mail("topics: Über\n".encode(), "text/plain; charset=zlib"), "topics: Über"),
        (_mail("topics: Über\n".encode(), 'text/plain; charset="../../etc/passwd"'), "topics: Über"),
        (_mail(b"topics: =C3=9Cber=\n, x\n", encoding="quoted-printable"), "topics: Über, x"),
        (
            _mail(base64.encodebytes("count 5\n".encode("utf-16")), "text/plain; charset=utf-16", "base64"),
            "count 5",
        ),
        # A damaged base64 payload (stray characters, cut padding) still decodes.
        (_mail(b"Y291bnQ*gNQ\n", encoding="base64"), "count 5"),
        (_mail(b"count 5\n", "text/plain"), "count 5"),
        (_mail(b"count 5\n", "text"), "count 5"),
    ],
)
def test_charsets_and_transfer_encodings_are_decoded_or_degrade_gracefully(raw, expected):
    assert parse_message(raw).new_text == expected


def test_format_flowed_lines_are_joined():
    raw = _mail(
        b"topics: one, two, \r\nthree\r\n> quoted \r\n> more\r\n", "text/plain; charset=utf-8; format=flowed"
    )
    assert parse_message(raw).new_text == "topics: one, two, three"
    raw = _mail(b"topics: one, tw \r\no\r\n", "text/plain; charset=utf-8; format=flowed; delsp=yes")
    assert parse_message(raw).new_text == "topics: one, two"


def decoding_spy(monkeypatch) -> list[str]:
    """The content type of every part whose payload is decoded from now on, in order."""
    decoded: list[str] = []
    original = email.message.Message.get_payload

    def spy(self, i=None, decode=False):
        if decode:
            decoded.append(self.get_content_type())
        return original(self, i, decode)

    monkeypatch.setattr(email.message.Message, "get_payload", spy)
    return decoded


def test_attachments_are_never_decoded_and_a_big_one_costs_little(monkeypatch):
    message = EmailMessage()
    message["From"] = "Ada <ada@example.com>"
    message["To"] = "reply+t@papers.example.org"
    message["Subject"] = "Re: papers"
    message.set_content("count 5\n\nOn Mon, Paperboy wrote:\n> stop\n")
    # 700 KB of PDF is 950 KB of base64: just under the limit of what is read at all.
    message.add_attachment(os.urandom(700_000), maintype="application", subtype="pdf", filename="paper.pdf")
    message.add_attachment("unsubscribe\n", subtype="plain", filename="notes.txt")
    raw = message.as_bytes()
    decoded = decoding_spy(monkeypatch)
    started = time.perf_counter()
    parsed = parse_message(raw)
    elapsed = time.perf_counter() - started
    assert parsed.new_text == "count 5"
    assert decoded == ["text/plain"]  # the reply's own text, not the PDF, not the attached notes
    assert elapsed < 2.0


def test_a_text_part_after_a_big_attachment_is_found():
    message = EmailMessage()
    message["From"] = "ada@example.com"
    message.make_mixed()
    attachment = EmailMessage()
    attachment.set_content(os.urandom(700_000), maintype="application", subtype="octet-stream")
    attachment.add_header("Content-Disposition", "attachment", filename="data.bin")
    text = EmailMessage()
    text.set_content("pause 1 week\n")
    message.attach(attachment)
    message.attach(text)
    assert parse_message(message.as_bytes()).new_text == "pause 1 week"


def test_a_huge_text_part_is_read_only_at_its_start():
    body = b"count 5\n" + b"filler line of a very long reply\n" * 30_000  # ~1 MB
    started = time.perf_counter()
    parsed = parse_message(_mail(body))
    assert time.perf_counter() - started < 5.0
    assert parsed.new_text.startswith("count 5")
    assert len(parsed.new_text) <= MAX_TEXT


def test_an_attached_message_is_not_the_reply():
    inner = EmailMessage()
    inner["From"] = "digest@papers.example.org"
    inner.set_content("unsubscribe\n")
    outer = EmailMessage()
    outer["From"] = "ada@example.com"
    outer.set_content("count 2\n")
    outer.add_attachment(inner)
    assert parse_message(outer.as_bytes()).new_text == "count 2"
    only_inner = EmailMessage()
    only_inner["From"] = "ada@example.com"
    only_inner.make_mixed()
    only_inner.add_attachment(inner)
    assert parse_message(only_inner.as_bytes()).new_text == ""


# -- headers ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("from_header", "address", "name"),
    [
        ("Ada Lovelace <Ada.Lovelace@Example.COM>", "ada.lovelace@example.com", "Ada Lovelace"),
        ("ada@example.com", "ada@example.com", ""),
        ("=?utf-8?q?J=C3=BCrgen?= <j@example.de>", "j@example.de", "Jürgen"),
        ('"Lovelace, Ada" <ada@example.com>', "ada@example.com", "Lovelace, Ada"),
        ("Ada <ada@example.com>, Eve <eve@example.net>", "", ""),
        ("undisclosed-recipients:;", "", ""),
        ("not an address", "", ""),
        ("<<<@>>>", "", ""),
        ('"a b"@example.com', "", ""),
        ("ada@localhost", "", ""),
        ("", "", ""),
    ],
)
def test_from_needs_exactly_one_plain_address(from_header, address, name):
    parsed = parse_message(f"From: {from_header}\r\nSubject: x\r\n\r\nhi\r\n".encode())
    assert (parsed.from_address, parsed.from_name) == (address, name)


def test_two_from_fields_give_no_sender():
    raw = b"From: ada@example.com\r\nFrom: eve@example.net\r\n\r\nunsubscribe\r\n"
    assert parse_message(raw).from_address == ""


def test_message_ids_are_kept_only_when_safe_to_echo():
    refs = " ".join(f"<id{i}@example.com>" for i in range(40))
    raw = (
        f"From: ada@example.com\r\nMessage-ID: <a@b>\r\nIn-Reply-To: <ok@x> <with space@x> junk\r\n"
        f"References: {refs}\r\n\r\nhi\r\n"
    ).encode()
    parsed = parse_message(raw)
    assert parsed.message_id == "<a@b>"
    assert parsed.in_reply_to == ["<ok@x>"]
    assert parsed.references == [f"<id{i}@example.com>" for i in range(20, 40)]  # the newest


def test_recipients_are_lower_cased_and_deduplicated():
    raw = (
        b"From: a@example.com\r\nTo: Paperboy <Reply+T@Papers.Example.org>, reply+t@papers.example.org\r\n"
        b"Cc: B <b@example.com>, bad@@x\r\n\r\nhi\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.to == ["reply+t@papers.example.org"]
    assert parsed.cc == ["b@example.com"]


def test_encoded_line_breaks_in_headers_end_up_as_spaces():
    raw = (
        b"From: =?utf-8?q?Ada=0D=0ABcc=3A_x=40y=2Ez?= <ada@example.com>\r\n"
        b"Subject: =?utf-8?q?hi=0D=0ABcc=3A_x=40y=2Ez=E2=80=AE?=\r\n\r\nhi\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.from_address == "ada@example.com"
    assert parsed.from_name == "Ada Bcc: x@y.z"
    assert parsed.subject == "hi Bcc: x@y.z"


# -- automated mail -------------------------------------------------------------------------------------
def _with(headers: str, sender: str = "Ada <ada@example.com>", subject: str = "Re: Your papers") -> bytes:
    return f"From: {sender}\r\nSubject: {subject}\r\n{headers}\r\ncount 5\r\n".encode()


@pytest.mark.parametrize(
    ("raw", "envelope", "reason"),
    [
        (_with("Auto-Submitted: auto-replied\r\n"), None, "auto-submitted"),
        (_with("Auto-Submitted: auto-generated; owner-email=x@y\r\n"), None, "auto-submitted"),
        (_with("X-Autoreply: yes\r\n"), None, "auto-reply header"),
        (_with("X-Autorespond: yes\r\n"), None, "auto-reply header"),
        (_with("Precedence: bulk\r\n"), None, "precedence: bulk"),
        (_with("Precedence: junk\r\n"), None, "precedence: junk"),
        (_with("Precedence: list\r\n"), None, "precedence: list"),
        (_with("List-Id: <x.lists.example.org>\r\n"), None, "list mail"),
        (_with("List-Unsubscribe: <mailto:leave@example.org>\r\n"), None, "list mail"),
        (_with("Return-Path: <>\r\n"), None, "null return path"),
        (_with(""), "", "null return path"),
        (_with(""), "<>", "null return path"),
        (_with("", sender="MAILER-DAEMON@mx.example.org"), None, "mailer-daemon"),
        (_with("", sender="postmaster@example.org"), None, "mailer-daemon"),
        (_with(""), "MAILER-DAEMON@mx.example.org", "mailer-daemon"),
        (_with("", sender="no-reply@service.example.com"), None, "no-reply sender"),
        (_with("", sender="noreply+abc@service.example.com"), None, "no-reply sender"),
        (_with("", subject="Automatic reply: Your papers"), None, "auto-reply subject"),
        (_with("", subject="Out of Office: Your papers"), None, "auto-reply subject"),
        (_with("", subject="Abwesenheitsnotiz: Your papers"), None, "auto-reply subject"),
        (_with("", subject="Undeliverable: Your papers"), None, "delivery failure subject"),
        (_with("X-Failed-Recipients: x@example.com\r\n"), None, "delivery status report"),
        (
            _with("Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n"),
            None,
            "delivery status report",
        ),
    ],
)
def test_machines_are_recognised(raw, envelope, reason):
    assert parse_message(raw, envelope_sender=envelope).automated == reason


@pytest.mark.parametrize(
    ("raw", "envelope"),
    [
        (_with("Auto-Submitted: no\r\n"), None),
        (_with(""), "ada@example.com"),
        # BATV/SRS-mangled and ESP (VERP) envelopes carry mail people wrote.
        (_with(""), "prvs=0a1b2c3d4=ada@example.com"),
        (_with(""), "bounces+12345-ada=example.com@em.example.net"),
        (_with("X-Auto-Response-Suppress: All\r\n"), None),  # Outlook sets this on ordinary mail too
        (_with("", subject="Re: Out of office tools for robots"), None),
    ],
)
def test_people_are_not_taken_for_machines(raw, envelope):
    assert parse_message(raw, envelope_sender=envelope).automated is None


# -- never raises -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff" * 100,
        b"From: \r\n\r\n",
        b"Content-Type: multipart/mixed\r\n\r\nno boundary",
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n--b--',
        b"Content-Type: text/plain; charset=\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!",
        b'Content-Type: text/plain; charset="utf-8\r\n\r\nunterminated quote',
        b"Content-Type: text/html\r\n\r\n<![CDATA[<!--<<<<>>>><!doctype <a <b",
        b"Content-Type: text/html\r\n\r\n<![if !supportLists]>x<![endif]><!-- unclosed",
        b"From: =?utf-8?b?////?= <a@b.c>\r\nSubject: =?x-unknown?q?=FF?=\r\n\r\n",
        b"Content-Type: multipart/alternative; boundary=x\r\n\r\n" + b"--x\r\nContent-Type: multipart/mixed; "
        b"boundary=x\r\n\r\n" * 300,
        b"Message-ID: " + b"<" * 10000 + b"\r\n\r\n",
        b"To: " + b"a@b.c, " * 5000 + b"\r\n\r\n",
    ],
)
def test_malformed_messages_never_raise(raw):
    assert isinstance(parse_message(raw), InboundMessage)


_FRAGMENTS = st.sampled_from(
    [
        b"From: Ada <ada@example.com>\r\n",
        b"From: =?utf-8?q?=0D=0A?= <a@b.c>\r\n",
        b"To: a@b.c, <>, @@\r\n",
        b"Subject: =?utf-8?b?4oCU?=\r\n",
        b"Content-Type: multipart/alternative; boundary=b\r\n",
        b"Content-Type: text/html; charset=x-junk\r\n",
        b"Content-Type: text/plain; format=flowed; delsp=yes\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: quoted-printable\r\n",
        b"Content-Disposition: attachment\r\n",
        b"Auto-Submitted: no\r\n",
        b"References: <a@b> <c\r\n",
        b"\r\n",
        b"--b\r\n",
        b"--b--\r\n",
        b"> quoted\r\n",
        b"On Mon, X wrote:\r\n",
        b"From: x@y\r\nSent: now\r\n",
        b"<blockquote><div class=gmail_quote>",
        b"</div></blockquote>",
        b"=C3=\r\n",
        b"\xff\xfe\x00",
        b"-- \r\n",
        b"count 5\r\n",
        b"unsubscribe\r\n",
        b"\r\n ",
        b"\t",
    ]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_parse_message_never_raises_on_arbitrary_bytes(raw):
    message = parse_message(raw)
    assert all(_single_line(v) for v in (message.from_address, message.from_name, message.subject))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_FRAGMENTS, st.binary(max_size=40)), max_size=40))
def test_parse_message_never_raises_on_mail_shaped_bytes(pieces):
    message = parse_message(b"".join(pieces), envelope_sender="")
    assert message.automated is not None  # the null envelope alone makes it a machine's
    assert all(
        _single_line(v) for v in (message.from_name, message.subject, *message.to, *message.references)
    )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=3000))
def test_new_text_of_and_html_to_text_never_raise(text):
    assert isinstance(new_text_of(text), str)
    assert isinstance(html_to_text(text), str)
    assert isinstance(html_to_text(f"<div class='gmail_quote'><p>{text}<blockquote>{text}"), str)
