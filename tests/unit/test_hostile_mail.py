"""Hostile inbound mail in bounded time (issue 11, item 6): the review's exact attacks, and fuzzing of
the MIME/reply parser and the command layer with inputs large enough that a quadratic path hangs.

Time is never asserted as a measurement: a hard per-test alarm (`guard`) turns a hang into a
failure, with limits many times what the parser needs now and far below what the attacks took
before (punycode body 7.4 s, 100,000 parts 9.2 s, politeness regex 1.3-2.2 s on this machine)."""

from __future__ import annotations

import codecs
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_commands import COMMAND_VOCABULARY

from paperboy.mail.inbound.commands import CommandKind, apply, parse_commands
from paperboy.mail.inbound.message import (
    MAX_DELIMITER_LINES,
    InboundMessage,
    codec_for,
    html_to_text,
    new_text_of,
    parse_message,
    too_large,
)
from paperboy.readers.model import ReaderSettings

TODAY = date(2026, 11, 23)
HEAD = b"From: Ada <ada@example.com>\r\nTo: reply+t@papers.example.org\r\nSubject: Re: digest\r\n"


class Hung(BaseException):
    """Not an Exception: the code under test catches those, and must not swallow this."""


@contextmanager
def guard(seconds: float) -> Iterator[None]:
    """Fail (not hang) when the block runs longer than `seconds`."""
    fired = []

    def expire(signum, frame):
        fired.append(True)
        raise Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if fired:  # raised where a bare `except:` swallowed it
        pytest.fail(f"still running after {seconds} s")


def _single_line(value: str) -> bool:
    return "\r" not in value and "\n" not in value


# -- the review's attacks -----------------------------------------------------------------------------
def test_a_punycode_body_of_256_kb_is_not_decoded_as_punycode():
    # Decoding these bytes as punycode inserts 256 K characters one by one: 7.4 s (42 s in review).
    body = b"m71h" + b"a" * (256 * 1024)
    raw = HEAD + b"Content-Type: text/plain; charset=punycode\r\n\r\n" + body
    with guard(3):
        message = parse_message(raw)
    assert message.new_text.startswith("m71haaaa")  # read as UTF-8, the fallback


def test_a_message_of_100000_parts_is_refused_before_parsing():
    parts = b"--b\r\n\r\n" * 100_000
    raw = HEAD + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nunsubscribe\r\n" + parts
    with guard(3):
        message = parse_message(raw)
    assert message.too_large == f"more than {MAX_DELIMITER_LINES} MIME parts"
    assert message.new_text == "" and message.from_address == "ada@example.com"


def test_a_20_line_reply_of_politeness_bait_is_read_at_once():
    # Each line: a command word, then 2000 characters the old `[\s,;.!]*\b(please|...)` rescanned.
    lines = [f"{word} {'.' * 1990}x" for word in ("exclude", "topics:", "more", "timezone", "pause")] * 4
    with guard(1):
        parsed = parse_commands("\n".join(lines), today=TODAY)
    assert len(parsed.not_understood) + len(parsed.commands) == 20


@pytest.mark.parametrize(
    "raw",
    [
        # Encoded words and RFC 2231 parameters reach the codec inside the email package.
        HEAD.replace(b"Re: digest", b"=?punycode?q?m71h" + b"a" * 300_000 + b"?="),
        HEAD + b"Content-Type: multipart/mixed; boundary*0*=pu%6Eycode''m71h" + b"a" * 300_000 + b"\r\n\r\n",
        HEAD + b"Content-Type: text/plain; charset*=utf-8''punycode\r\n\r\nm71h" + b"a" * 300_000,
        # The header parsers are quadratic: a 1 MB To took 142 s, 16 KB of quote marks in From 5 s.
        b"To: " + b"a@b.c, " * 140_000 + b"\r\n\r\ncount 5\r\n",
        b"From: " + b'"' * 900_000 + b"\r\n\r\ncount 5\r\n",
        b"Content-Type: text/plain; a=" + b'"b;' * 300_000 + b"\r\n\r\ncount 5\r\n",
        # One line of spaces after "Sent": the reply-header regex split the gap every way.
        HEAD + b"\r\n" + b"Sent" + b" " * 60_000 + b"x\r\n",
        # A million empty lines inside 20 nested multiparts: each line meets every open boundary.
        HEAD
        + b"".join(
            b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(20)
        )
        + b"Content-Type: text/plain\r\n\r\npause\r\n"
        + b"\n" * 990_000,
    ],
    ids=[
        "encoded-word",
        "rfc2231-boundary",
        "rfc2231-charset",
        "to",
        "from",
        "params",
        "sent",
        "nested-lines",
    ],
)
def test_other_hostile_shapes_are_parsed_or_refused_at_once(raw):
    with guard(3):
        message = parse_message(raw)
    assert isinstance(message, InboundMessage)


def test_only_mail_charsets_reach_a_codec():
    for name in ("UTF-8", " utf_8 ", "ISO-8859-1", "windows-1252", "Shift_JIS", "ks_c_5601-1987", "GB2312"):
        assert codec_for(name) is not None, name
    for name in (
        "punycode",
        "idna",
        "rot13",
        "rot_13",
        "uu",
        "base64",
        "zlib",
        "utf-7",
        "unicode_escape",
        "raw-unicode-escape",
        "undefined",
        "hex",
        "punycode   ",
        "x-unknown",
        "",
        None,
        "a" * 100,
    ):
        assert codec_for(name) is None, name
    # Every codec the allow-list names exists and is a text encoding.
    for label in ("utf-16le", "big5", "euc-jp", "iso-2022-jp", "koi8-u", "iso-8859-15", "cp1258", "tis-620"):
        assert codecs.lookup(codec_for(label))._is_text_encoding


def test_a_message_just_over_the_byte_limit_is_refused_by_its_length_alone():
    assert too_large(b"x" * 100, max_bytes=100) is None
    assert too_large(b"x" * 101, max_bytes=100) == "larger than 0 KB"


# -- fuzzing ------------------------------------------------------------------------------------------
# A little over what InboundMail reads (1 MB + 1 byte), so both sides of the limit are fuzzed.
LIMIT = 1_100_000
CHARSETS = st.sampled_from(
    [
        "utf-8",
        "punycode",
        "idna",
        "utf-7",
        "rot13",
        "uu",
        "base64",
        "zlib",
        "unicode_escape",
        "utf-16",
        "iso-2022-jp",
        "x-unknown",
        "PUNYCODE  ",
        "pu%6Eycode",
        "",
        '"',
        "utf-8'en'",
    ]
)
UNITS = st.sampled_from(
    [
        b"!",
        b" ",
        b"\t",
        b"\r\n",
        b"\n",
        b"\r",
        b"-",
        b"--",
        b"\r\n--b",
        b"=",
        b"*=",
        b"?",
        b"=?",
        b'"',
        b"(",
        b"<",
        b">",
        b",",
        b";",
        b":",
        b"a",
        b"\xff",
        b"=?utf-8?q?a?=",
        b"\r\n ",
        b'a="b;',
        b"@",
        b"\\",
        b".",
        b"_",
    ]
)


@st.composite
def amplified(draw, max_size: int = 1_100_000) -> bytes:
    """A short unit repeated up to a megabyte: huge lines, many lines, long runs for regexes."""
    unit = draw(st.one_of(UNITS, UNITS, st.binary(min_size=1, max_size=6)))
    # Mostly long runs: a quadratic path shows only on large inputs.
    scale = draw(st.sampled_from([1, 100, max_size // 10, max_size]))
    return unit * max(1, draw(st.integers(scale // 2, scale)) // len(unit))


@st.composite
def header(draw) -> bytes:
    name = draw(
        st.sampled_from(
            [
                b"From",
                b"To",
                b"Cc",
                b"Subject",
                b"Content-Type",
                b"Content-Disposition",
                b"Content-Transfer-Encoding",
                b"References",
                b"Auto-Submitted",
                b"X-Junk",
            ]
        )
    )
    value = draw(
        st.one_of(
            st.binary(max_size=80),
            st.builds(lambda c, v: b"=?" + c.encode() + b"?q?" + v + b"?=", CHARSETS, amplified(20_000)),
            st.builds(
                lambda c, v: b"text/plain; charset=" + c.encode() + b"; x*=" + c.encode() + b"''" + v,
                CHARSETS,
                amplified(20_000),
            ),
            amplified(50_000),
        )
    )
    return name + b": " + value + b"\r\n"


@st.composite
def mime(draw, depth: int = 0) -> bytes:
    """A message or part: headers, then a text body, or a multipart of nested parts."""
    headers = b"".join(draw(st.lists(header(), max_size=4)))
    if depth < 25 and draw(st.booleans()):
        boundary = b"b%d" % depth
        parts = draw(st.lists(mime(depth + 1), min_size=0, max_size=3))
        joined = b"".join(b"--" + boundary + b"\r\n" + part for part in parts)
        # Many parts from few: repeated, but never past what the handler would read.
        repeat = min(draw(st.sampled_from([1, 1, 2, 500, 2000])), LIMIT // max(1, len(joined)) + 1)
        body = (joined * repeat)[:LIMIT] + b"--" + boundary + b"--\r\n"
        kind = draw(st.sampled_from([b"multipart/mixed", b"multipart/alternative", b"message/rfc822"]))
        return headers + b"Content-Type: " + kind + b"; boundary=" + boundary + b"\r\n\r\n" + body
    charset = draw(CHARSETS).encode()
    encoding = draw(st.sampled_from([b"8bit", b"base64", b"quoted-printable", b"x-uuencode"]))
    content = draw(st.sampled_from([b"text/plain", b"text/html"]))
    body = draw(st.one_of(st.binary(max_size=200), amplified(300_000)))
    return (
        headers
        + b"Content-Type: "
        + content
        + b"; charset="
        + charset
        + b"\r\nContent-Transfer-Encoding: "
        + encoding
        + b"\r\n\r\nunsubscribe\r\n"
        + body
    )


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(mime(), st.one_of(st.none(), st.text(max_size=40)))
def test_the_parser_answers_any_hostile_mail_at_once(raw, envelope):
    with guard(5):
        message = parse_message(raw[:LIMIT], envelope_sender=envelope)
    assert all(
        _single_line(v) for v in (message.from_address, message.from_name, message.subject, *message.to)
    )
    assert all(_single_line(v) for v in (*message.references, *message.in_reply_to, message.message_id or ""))
    assert (message.too_large is None) or message.new_text == ""


MARKERS = st.sampled_from(
    [
        "",
        "From",
        "Sent",
        "Von",
        "On",
        "Am",
        "Le",
        "-----",
        "_____",
        ">",
        "*From*",
        "wrote",
        "On 1 Jan",
        "--",
        "Sent from my",
        "<blockquote>",
        "<div class=gmail_quote>",
        "<pre>",
        "&#",
        "<!--",
        "<",
        "topics:",
        "pause ",
    ]
)


@FUZZ
@given(MARKERS, amplified(70_000), MARKERS, st.integers(1, 3))
def test_the_reply_text_stage_answers_huge_lines_at_once(prefix, filler, suffix, lines):
    text = "\n".join([prefix + filler.decode("utf-8", "replace") + suffix] * lines)
    with guard(5):
        assert isinstance(new_text_of(text), str)
        assert isinstance(html_to_text(text), str)


# The command vocabulary plus the list markers and typos a hostile reply mixes in.
COMMAND_WORDS = st.sampled_from(
    [
        *COMMAND_VOCABULARY,
        "pause until",
        "exclude",
        "categories",
        "1.",
        "- ",
        "* ",
        "unsubcribe",
        "pasue",
        "?",
        "end",
    ]
)


# Long runs of one character, just within the 2000 characters a command line may have.
RUNS = st.builds(
    lambda unit, count, end: unit * count + end,
    st.sampled_from([".", ",", ";", "!", " ", "?", "-", ":", "a", "1", "#", " and", "/"]),
    st.integers(500, 1900),
    st.sampled_from(["", "x", "please", "."]),
)


LINE = st.tuples(COMMAND_WORDS, st.one_of(RUNS, st.text(max_size=60), amplified(2100)))


@FUZZ
@given(LINE, st.lists(LINE, max_size=6), st.booleans())
def test_the_command_layer_answers_any_lines_at_once(worst, others, first):
    lines = [
        word + " " + (rest.decode("utf-8", "replace") if isinstance(rest, bytes) else rest)
        for word, rest in (worst, *others)
    ]
    # The 20 lines read may all be the worst one.
    text = "\n".join([*lines[1:], *[lines[0]] * 20] if not first else [*[lines[0]] * 20, *lines[1:]])
    # At most 20 lines of at most 2000 characters: well under 100 ms of work now.
    with guard(1):
        parsed = parse_commands(text, today=TODAY)
        settings_after, changes = apply(ReaderSettings(), parsed.commands)
    assert len(parsed.commands) + len(parsed.not_understood) <= 2 * 20  # a line may give two commands
    assert all(_single_line(line) and len(line) < 400 for line in parsed.not_understood)
    assert all(_single_line(change) for change in changes)
    assert isinstance(settings_after, ReaderSettings)
    assert all(isinstance(c.kind, CommandKind) and _single_line(c.line) for c in parsed.commands)
