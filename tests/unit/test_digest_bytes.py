"""Digests are pinned byte for byte: a change made for speed must not change what a reader receives.

Each case is a whole digest as SendDigests builds it (rendered, then written as MIME with the
headers of a real send; the digest benchmark times the same function), compared with a stored .eml:
headers, the text part and the HTML part. The cases share one Renderer in a fixed order and are
rendered twice, so a paper card served from the per-container cache (at another number, in another
digest) must come out the same as a fresh one. When a change to the mail is intended, rewrite the
files with `PYTHONPATH=layers/paperboy .venv/bin/python tests/unit/test_digest_bytes.py` and review the
diff.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from benchmarks import digests
from benchmarks.digests import digest_mime

from paperboy.digests.ranking import RankingIndex
from paperboy.mail.outbound import mailer, render
from paperboy.mail.outbound.mailer import quoted_printable
from paperboy.mail.outbound.render import _CARDS, DigestView, Renderer
from paperboy.papers.model import Paper, Pick
from paperboy.papers.sources.hf import parse_items
from paperboy.readers.model import Feedback, Format, Frequency, ReaderSettings

FIXTURES = Path(__file__).parents[1] / "fixtures"
PINNED = FIXTURES / "digest_mail"


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


def rendered_cases() -> Iterator[tuple[str, bytes]]:
    """Every case twice, through one renderer: (name, raw message)."""
    papers = _papers()
    renderer = Renderer()
    for _ in range(2):
        for number, (name, (settings, picks, trending)) in enumerate(_cases(papers).items()):
            yield name, digest_mime(renderer, number, settings, picks, trending)


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


def test_bodies_built_from_card_encodings_are_what_the_encoder_writes_for_any_reader() -> None:
    papers = digests.corpus()
    index, renderer = RankingIndex(papers), Renderer()
    odd = papers[0].model_copy(update={"id": "2611.0\r\n1", "display_title": "A line\rbreak"})
    hostile = ReaderSettings(topics=(f"speech {_CARDS} robots",))
    cases = [(settings, *digests._rank(index, settings, Feedback())) for settings in digests.readers(300)]
    cases += [
        (hostile, [Pick(paper=odd, score=1.0)], []),
        (ReaderSettings(), [Pick(paper=odd, score=1.0)] * 3, []),
    ]
    built = 0
    for number, (settings, picks, trending) in enumerate(cases):
        view = DigestView(
            reader_email=f"reader{number}@example.org",
            domain="papers.example.org",
            local_date=date(2026, 11, 23),
            picks=picks,
            also_trending=trending,
            settings=settings,
            unsubscribe_url="https://u.example.org/unsubscribe/x",
            reply_address="reply+x@papers.example.org",
            quiet=not picks,
        )
        mail = renderer.digest(view)
        for body, encoded in ((mail.text, mail.text_qp), (mail.html, mail.html_qp)):
            if encoded is not None:
                assert body is not None and encoded == quoted_printable(body), number
                built += 1
    assert built > 400


@pytest.mark.usefixtures("fixed_boundary")
def test_a_container_whose_card_cache_fills_up_still_sends_the_pinned_mail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(render, "CARD_COPIES", 4)
    for name, raw in rendered_cases():
        assert raw == (PINNED / f"{name}.eml").read_bytes(), name
