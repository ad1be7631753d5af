"""A digest of two or more topics in one section per topic (issue 17): each paper once, under its
best topic, sections in the order of their best paper, numbered as shown; text and HTML alike."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from paperboy.digests import sections
from paperboy.digests.ranking import RankingIndex, rank
from paperboy.mail.outbound.mailer import quoted_printable
from paperboy.mail.outbound.render import DigestView, Renderer
from paperboy.papers.sources.hf import parse_items
from paperboy.readers.model import Feedback, ReaderSettings

FIXTURES = Path(__file__).parents[1] / "fixtures" / "daily_papers"
TOPICS = ("reinforcement learning", "speech <recognition> & audio", "3D point clouds")


def index() -> RankingIndex:
    papers = []
    for path in sorted(FIXTURES.glob("*.json")):
        papers.extend(parse_items(json.loads(path.read_text()), date.fromisoformat(path.stem))[0])
    return RankingIndex(papers)


def test_each_paper_goes_once_under_its_best_topic_and_sections_follow_their_best_paper():
    candidates = index()
    settings = ReaderSettings(topics=TOPICS, authors=("Nobody Known",), count=12)
    picks = rank(candidates, settings, Feedback())
    grouped = sections.sectioned(candidates, picks, settings, {})
    shown = [pick for _, group in grouped for pick in group]
    assert sorted(p.paper.id for p in shown) == sorted(p.paper.id for p in picks)
    assert len({topic for topic, _ in grouped}) == len(grouped) >= 2
    assert all(topic in TOPICS or topic == sections.OTHERS for topic, _ in grouped)
    # In the order of each section's best paper (its place in the ranked list).
    firsts = [picks.index(group[0]) for _, group in grouped]
    assert firsts == sorted(firsts) and firsts[0] == 0
    for topic, group in grouped:
        _, per_topic = candidates.relevance(list(TOPICS), {})
        scores = dict(per_topic)
        for pick in group:
            number = candidates.number_of(pick.paper.id)
            assert scores[topic][number] == max(values[number] for values in scores.values())


def test_sections_are_wanted_with_two_topics_and_sections_on_only():
    assert sections.wanted(ReaderSettings(topics=TOPICS[:2]))
    assert not sections.wanted(ReaderSettings(topics=TOPICS[:1]))
    assert not sections.wanted(ReaderSettings(topics=TOPICS, sections=False))


def test_the_digest_shows_each_sections_heading_before_its_papers_numbered_as_shown():
    candidates = index()
    settings = ReaderSettings(topics=TOPICS, count=12)
    picks = rank(candidates, settings, Feedback())
    grouped = sections.sectioned(candidates, picks, settings, {})
    ordered = [pick for _, group in grouped for pick in group]
    view = DigestView(
        reader_email="ada@example.org",
        domain="papers.example.org",
        local_date=date(2026, 11, 23),
        picks=ordered,
        sections=[(topic, len(group)) for topic, group in grouped],
        settings=settings,
        unsubscribe_url="https://u.example.org/unsubscribe/x",
        reply_address="reply+x@papers.example.org",
    )
    mail = Renderer().digest(view)
    text = mail.text
    places = [text.index(f"== {topic} ==") for topic, _ in grouped]
    assert places == sorted(places)
    for (_, group), place in zip(grouped, places, strict=True):
        first = ordered.index(group[0]) + 1
        assert text.index(f"\n{first}. ", place) > place
    assert [line.split(".")[0] for line in text.splitlines() if line[:1].isdigit() and ". " in line[:4]] == [
        str(n) for n in range(1, len(ordered) + 1)
    ]
    assert mail.html is not None
    assert "speech &lt;recognition&gt; &amp; audio</h2>" in mail.html
    assert "<recognition>" not in mail.html
    # The parts built from the cards' encodings are what the encoder writes for the whole part.
    assert mail.text_qp == quoted_printable(mail.text)
    assert mail.html_qp == quoted_printable(mail.html)
