"""How well PyPI reply parsers cut the reply corpus, next to paperboy.mail.inbound.message (a one-off
check, not a test: the libraries are not project dependencies).

    .venv/bin/pip install mail-parser-reply email-reply-parser
    PYTHONPATH=layers/paperboy .venv/bin/python tests/compare_reply_parsers.py

Every parser gets the same decoded body (our MIME decoding; HTML-only mail as our HTML-to-text,
since both libraries read plain text only), so only the cutting of quotes and signatures is
compared. A case is right when the non-blank lines, stripped, equal the expected new text; and,
what matters to Paperboy, when its output yields the expected commands.
"""

from __future__ import annotations

import email
import email.policy
import json
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path

from paperboy.mail.inbound.commands import parse_commands
from paperboy.mail.inbound.message import (
    MAX_HTML,
    MAX_TEXT,
    _part_text,
    _text_parts,
    html_to_text,
    new_text_of,
)

CORPUS = Path(__file__).parent / "fixtures" / "replies"
TODAY = date(2026, 11, 23)


def body_of(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    plain, html = _text_parts(message)
    if plain is not None:
        return _part_text(plain, MAX_TEXT)
    return html_to_text(_part_text(html, MAX_HTML)) if html is not None else ""


def lines(text: str | None) -> list[str]:
    """Non-blank lines, stripped, without invisible characters (zero-width, bidi) and without the
    lone `>` our HTML-to-text leaves where a quote was (the libraries never see HTML)."""
    visible = (
        "".join(ch for ch in line if unicodedata.category(ch) != "Cf").strip()
        for line in (text or "").splitlines()
    )
    return [line for line in visible if line and line != ">"]


def commands_of(parse: Callable[[str], str | None], body: str) -> list[dict]:
    try:
        text = parse(body) or ""
    except Exception:
        text = ""
    return [c.model_dump(mode="json", exclude={"line"}) for c in parse_commands(text, today=TODAY).commands]


def expected_commands(case: dict) -> list[dict]:
    # The corpus test checks these against expected.json; here they are the reference.
    return commands_of(lambda _: "\n".join(case["new_text"]), "")


def parsers() -> dict[str, Callable[[str], str | None]]:
    found: dict[str, Callable[[str], str | None]] = {"paperboy.mail.inbound.message": new_text_of}
    try:
        from mailparser_reply import EmailReplyParser as MailParserReply

        languages = ["en", "de", "fr", "es", "it", "nl", "sv", "pl", "zh", "ja"]
        reader = MailParserReply(languages=languages)

        def latest_body(text: str) -> str | None:
            # parse_reply() keeps signatures; the latest reply's .body drops them, as we do.
            replies = reader.read(text).replies
            return replies[0].body if replies else None

        found["mail-parser-reply 1.36"] = latest_body
    except ImportError:
        pass
    try:
        from email_reply_parser import EmailReplyParser

        found["email-reply-parser 0.5.12"] = EmailReplyParser.parse_reply
    except ImportError:
        pass
    return found


def main() -> None:
    cases = json.loads((CORPUS / "expected.json").read_text())
    expected = {name: case for name, case in cases.items() if name.endswith(".eml")}
    bodies = {name: body_of((CORPUS / name).read_bytes()) for name in sorted(expected)}
    for label, parse in parsers().items():
        wrong = []
        for name, body in bodies.items():
            try:
                got = parse(body)
            except Exception as error:  # a library crash counts as a miss
                got = f"<{type(error).__name__}>"
            if lines(got) != lines("\n".join(expected[name]["new_text"])):
                wrong.append(name)
        print(f"{label}: new text {len(bodies) - len(wrong)}/{len(bodies)} right")
        for name in wrong:
            print(f"    wrong: {name}")
        with_commands = [name for name in bodies if "commands" in expected[name]]
        commands_wrong = [
            name
            for name in with_commands
            if commands_of(parse, bodies[name]) != expected_commands(expected[name])
        ]
        print(f"{label}: commands {len(with_commands) - len(commands_wrong)}/{len(with_commands)} right")
        for name in commands_wrong:
            print(f"    wrong: {name}")


if __name__ == "__main__":
    main()
