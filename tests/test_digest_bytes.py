"""Digests are pinned byte for byte: a change made for speed must not change what a reader receives.

Each case is a whole digest as SendDigests builds it (rendered, then written as MIME with the
headers of a real send), compared with a stored .eml: headers, the text part and the HTML part.
The cases share one Renderer in a fixed order and are rendered twice, so a paper card served from
the per-container cache (at another number, in another digest) must come out the same as a fresh
one. When a change to the mail is intended, rewrite the files with
`PYTHONPATH=layers/paperboy .venv/bin/python tests/test_digest_bytes.py` and review the diff.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from paperboy import mailer
from paperboy.mailer import OutboundMail, build_mime
from paperboy.models import Paper, Pick
from paperboy.readers import Format, Frequency, ReaderSettings
from paperboy.render import DigestView, Renderer
from paperboy.sources.hf import parse_items

FIXTURES = Path(__file__).parent / "fixtures"
PINNED = FIXTURES / "digest_mail"
DOMAIN = "papers.example.org"


def _papers() -> list[Paper]:
    found, _ = parse_items(
        json.loads((FIXTURES / "daily_papers" / "2026-11-23.json").read_text()), date(2026, 11, 23)
    )
    papers = sorted(found, key=lambda paper: (-paper.upvotes, paper.id))
    odd = papers[4].model_copy(
        update={
            "display_title": "L²NAS: <b>Ünïcode</b> & “quotes” — an =?utf-8?q?encoded?= word 🚀",
            "authors": ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Katherine Johnson"),
            "github_url": "https://github.com/example/code",
            "project_url": "javascript:alert(1)",
            "comments": 3,
            "upvotes": 1,
        }
    )
    return [*papers[:4], odd, *papers[5:]]


def _cases(papers: list[Paper]) -> dict[str, tuple[ReaderSettings, list[Pick], list[Pick]]]:
    def picks(chosen: list[Paper], reasons: tuple[str, ...] = ()) -> list[Pick]:
        return [
            Pick(paper=paper, score=1.0, reasons=reasons if n % 2 else ()) for n, paper in enumerate(chosen)
        ]

    topics = ReaderSettings(topics=("speech recognition", "robotics", "diffusion models", "agents"), count=10)
    return {
        "html_topics_trending": (
            topics,
            picks(papers[:10], ("matches: speech recognition", "you liked a similar paper")),
            picks(papers[10:13]),
        ),
        "text_only_weekly": (
            ReaderSettings(
                topics=("robotics",),
                excludes=("crypto",),
                authors=("Ada Lovelace",),
                format=Format.TEXT,
                frequency=Frequency.WEEKLY,
                weekday=4,
                timezone="Europe/Berlin",
                quiet_days=True,
                trending=False,
                count=5,
            ),
            # The same papers as the first digest, at other numbers: cached cards renumbered.
            list(reversed(picks(papers[2:7], ("matches: robotics",)))),
            [],
        ),
        "one_odd_paper": (ReaderSettings(), picks([papers[4]]), []),
        "quiet_day": (ReaderSettings(topics=("speech, audio",), quiet_days=True), [], []),
    }


def _mail(
    renderer: Renderer, number: int, settings: ReaderSettings, picks: list[Pick], trending: list[Pick]
) -> bytes:
    reader = f"r{number}"
    period = date(2026, 11, 23)
    view = DigestView(
        reader_email=f"reader{number}@example.org",
        domain=DOMAIN,
        local_date=period,
        picks=picks,
        also_trending=trending,
        settings=settings,
        unsubscribe_url=f"https://u.example.org/unsubscribe/{reader}.abcdefghijklmnop",
        reply_address=f"reply+{reader}.abcdefghijklmnop@{DOMAIN}",
        quiet=not picks,
    )
    rendered = renderer.digest(view)
    mail = OutboundMail(
        to=view.reader_email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html if settings.format is Format.HTML else None,
        reply_to=view.reply_address,
        kind="digest",
        list_unsubscribe_url=view.unsubscribe_url,
        list_unsubscribe_mailto=f"mailto:unsubscribe+{reader}.abcdefghijklmnop@{DOMAIN}",
        references=[f"<digest.{period.isoformat()}.{reader}@{DOMAIN}>"],
        tags={"subscriber": reader, "period": period.isoformat()},
    )
    return build_mime(mail, sender=f"digest@{DOMAIN}", domain=DOMAIN)


def rendered_cases() -> Iterator[tuple[str, bytes]]:
    """Every case twice, through one renderer: (name, raw message)."""
    papers = _papers()
    renderer = Renderer()
    for _ in range(2):
        for number, (name, (settings, picks, trending)) in enumerate(_cases(papers).items()):
            yield name, _mail(renderer, number, settings, picks, trending)


@pytest.fixture
def fixed_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mailer.secrets, "token_hex", lambda octets: "0" * 2 * octets)


@pytest.mark.usefixtures("fixed_boundary")
def test_every_digest_is_byte_for_byte_the_pinned_mail() -> None:
    seen = set()
    for name, raw in rendered_cases():
        expected = (PINNED / f"{name}.eml").read_bytes()
        assert raw == expected, f"{name}: the mail changed (see this module's docstring)"
        seen.add(name)
    assert seen == {path.stem for path in PINNED.glob("*.eml")}


if __name__ == "__main__":
    mailer.secrets.token_hex = lambda octets: "0" * 2 * octets  # type: ignore[assignment]
    PINNED.mkdir(exist_ok=True)
    for name, raw in rendered_cases():
        (PINNED / f"{name}.eml").write_bytes(raw)
    sys.exit(0)
