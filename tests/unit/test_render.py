"""Digest and notice mail as a reader sees it: numbered papers, links, footer, safe HTML, clean text."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment
from markupsafe import Markup, escape

from paperboy.mail.inbound.commands import parse_commands
from paperboy.mail.outbound import render
from paperboy.mail.outbound.render import (
    DigestView,
    NoticeView,
    Renderer,
    authors_line,
    inline_template_css,
    summary_of,
)
from paperboy.papers.model import Paper, Pick
from paperboy.papers.sources.hf import parse_items
from paperboy.papers.titles import display_title
from paperboy.readers.model import Format, Frequency, ReaderSettings

FIXTURES = Path(__file__).parents[1] / "fixtures" / "daily_papers"
DAY = date(2026, 11, 28)
UNSUBSCRIBE = "https://abc123.lambda-url.us-east-1.on.aws/unsubscribe/01jd3hz78qk5.k7x2mfrgg3dfmzxw4q5e"
REPLY = "reply+01jd3hz78qk5.mfrgg3dfmzxw4@papers.example.org"
HOSTILE = "<script>alert('x')</script> & \"Quotes\" <b>bold</b>"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.fixture(scope="module")
def papers() -> list[Paper]:
    found, _ = parse_items(json.loads((FIXTURES / "2026-11-23.json").read_text()), date(2026, 11, 23))
    return sorted(found, key=lambda paper: -paper.upvotes)


def paper(**fields) -> Paper:
    defaults = {
        "id": "2611.00001",
        "title": "A Paper",
        "display_title": "A Paper",
        "summary": "An abstract. It has sentences.",
        "day": date(2026, 11, 27),
        "source": "hf",
        "upvotes": 12,
    }
    return Paper(**(defaults | fields))


def view(picks: list[Pick], **fields) -> DigestView:
    defaults = {
        "reader_email": "ada@example.org",
        "domain": "papers.example.org",
        "local_date": DAY,
        "picks": picks,
        "settings": ReaderSettings(topics=("speech recognition", "robotics")),
        "unsubscribe_url": UNSUBSCRIBE,
        "reply_address": REPLY,
    }
    return DigestView(**(defaults | fields))


def picks_of(papers: list[Paper], count: int = 10) -> list[Pick]:
    return [
        Pick(paper=p, score=1.0, reasons=("matches: speech recognition",) if n % 2 else ())
        for n, p in enumerate(papers[:count])
    ]


class _Collect(HTMLParser):
    """What a mail client would act on: tags, their attributes, and the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> _Collect:
    collector = _Collect()
    collector.feed(html)
    return collector


def visible_text(html: str) -> str:
    body = html[html.index("<body") :]
    return " ".join(" ".join(parsed(body).text).split())


def test_a_digest_numbers_every_paper_with_its_title_authors_votes_and_links(renderer, papers):
    picks = picks_of(papers)
    picks[1] = picks[1].model_copy(
        update={
            "paper": picks[1].paper.model_copy(
                update={
                    "authors": ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Katherine Johnson"),
                    "github_url": "https://github.com/example/code",
                    "project_url": "https://example.org/project",
                    "comments": 3,
                }
            )
        }
    )
    mail = renderer.digest(view(picks))
    assert mail.html is not None
    text, page = mail.text, visible_text(mail.html)
    for number, pick in enumerate(picks, start=1):
        assert f"\n{number}. {pick.paper.display_title}\n" in text
        assert pick.paper.paper_url in text and pick.paper.arxiv_url in text and pick.paper.pdf_url in text
        assert f"{number} {pick.paper.display_title}" in page
        assert f"Why: {pick.reason}" in text and f"Why: {pick.reason}" in page
    second = picks[1].paper
    assert "Ada Lovelace, Alan Turing, Grace Hopper et al." in text
    assert "Katherine Johnson" not in text
    assert f"▲ {second.upvotes} upvotes · 3 comments" in text
    assert "Code: https://github.com/example/code" in text
    assert "Project page: https://example.org/project" in text
    hrefs = [attrs.get("href") for tag, attrs in parsed(mail.html).tags if tag == "a"]
    for url in (second.paper_url, second.arxiv_url, second.pdf_url, "https://github.com/example/code"):
        assert url in hrefs
    # The title itself links to the paper page.
    title_link = rf'<a href="{re.escape(second.paper_url)}"[^>]*>{re.escape(second.display_title)}</a>'
    assert re.search(title_link, mail.html)


def test_numbers_follow_the_digest_not_the_first_digest_a_paper_appeared_in(renderer, papers):
    first = renderer.digest(view(picks_of(papers, 3)))
    reordered = renderer.digest(view(list(reversed(picks_of(papers, 3)))))
    assert f"\n1. {papers[0].display_title}\n" in first.text
    assert f"\n3. {papers[0].display_title}\n" in reordered.text
    assert f"3 {papers[0].display_title}" in visible_text(reordered.html or "")


def test_summaries_prefer_the_ai_summary_and_otherwise_cut_the_abstract_short():
    assert summary_of("Short abstract.") == "Short abstract."
    long = " ".join(["This is a sentence about speech recognition models."] * 12)
    cut = summary_of(long)
    assert len(cut) <= 220 and cut.endswith(".") and cut.count(".") <= 2
    no_stop = " ".join(["word"] * 200)
    cut = summary_of(no_stop)
    assert len(cut) <= 220 and cut.endswith("word…")
    abbreviated = summary_of("We use e.g. transformers. Then more. And more. " * 10)
    assert abbreviated.startswith("We use e.g. transformers. Then more.")
    renderer = Renderer()
    with_ai = paper(summary=long, ai_summary="One line from the hub.")
    mail = renderer.digest(view([Pick(paper=with_ai, score=1.0)]))
    assert "One line from the hub." in mail.text and "This is a sentence" not in mail.text


def test_authors_are_shortened_after_three():
    assert authors_line(("A", "B", "C")) == "A, B, C"
    assert authors_line(("A", "B", "C", "D")) == "A, B, C et al."
    assert authors_line(()) == ""


@pytest.mark.parametrize("where", ["title", "summary", "reason", "topic", "author"])
def test_markup_in_any_field_is_inert_in_html_and_readable_in_text(where):
    fields = {"display_title": "Plain title", "summary": "Plain summary.", "authors": ("Ada",)}
    reasons: tuple[str, ...] = ("matches: speech",)
    topics: tuple[str, ...] = ("speech",)
    if where == "title":
        fields["display_title"] = HOSTILE
    elif where == "summary":
        fields["summary"] = HOSTILE
    elif where == "author":
        fields["authors"] = (HOSTILE,)
    elif where == "reason":
        reasons = (f"matches: {HOSTILE}",)
    else:
        topics = (HOSTILE,)
    pick = Pick(paper=paper(**fields), score=1.0, reasons=reasons)
    mail = Renderer().digest(view([pick], settings=ReaderSettings(topics=topics)))
    assert mail.html is not None
    tags = {tag for tag, _ in parsed(mail.html).tags}
    assert "script" not in tags and "b" not in tags
    assert "<script>" not in mail.html and "<b>" not in mail.html
    assert str(escape(HOSTILE)) in mail.html
    # The reader sees the characters, not entities, in both parts.
    assert HOSTILE in visible_text(mail.html)
    assert HOSTILE in mail.text and "&amp;" not in mail.text and "&lt;" not in mail.text
    assert "\r" not in mail.subject and "\n" not in mail.subject


def test_only_web_links_from_a_source_become_links():
    hostile = paper(github_url="javascript:alert(1)", project_url='https://ok.example.org/"onmouseover="x')
    mail = Renderer().digest(view([Pick(paper=hostile, score=1.0)]))
    assert "javascript:" not in (mail.html or "") and "javascript:" not in mail.text
    assert "onmouseover" not in (mail.html or "")
    assert "Code:" not in mail.text and "Project page:" not in mail.text


def test_latex_titles_show_as_readers_expect(renderer):
    title = display_title("L$^{2}$NAS: Learning to Optimize Neural Architectures via $\\alpha$-Search")
    assert title.startswith("L²NAS: ")
    mail = renderer.digest(view([Pick(paper=paper(title="raw", display_title=title), score=1.0)]))
    assert f"1. {title}" in mail.text
    assert title in visible_text(mail.html or "")
    assert "$" not in mail.subject and "L²NAS" in mail.subject


def test_the_subject_says_what_is_inside_on_one_short_line(renderer, papers):
    picks = picks_of(papers, 7)
    subject = renderer.digest(view(picks)).subject
    assert subject.startswith(f"7 papers for 28 Nov: {papers[0].display_title}")
    assert subject.endswith("…") and len(subject) <= 120
    one = renderer.digest(view(picks[:1])).subject
    assert one == f"1 paper for 28 Nov: {papers[0].display_title}"
    broken = paper(display_title="Line one\r\nBcc: victim@example.org\nthird\tline")
    subject = renderer.digest(view([Pick(paper=broken, score=1.0)])).subject
    assert "\r" not in subject and "\n" not in subject and "\t" not in subject
    assert subject == "1 paper for 28 Nov: Line one Bcc: victim@example.org third line"
    huge = paper(display_title="Enormous " * 40)
    subject = renderer.digest(view([Pick(paper=huge, score=1.0)] * 2)).subject
    assert len(subject) <= 120 and subject.endswith("Enormous…")


def test_plain_text_readers_get_no_html_part(renderer, papers):
    settings = ReaderSettings(format=Format.TEXT)
    mail = renderer.digest(view(picks_of(papers, 3), settings=settings))
    assert mail.html is None
    assert "1. " in mail.text and "plain text only" in mail.text


def test_the_footer_has_reply_commands_settings_and_a_visible_unsubscribe_link(renderer, papers):
    settings = ReaderSettings(
        topics=("speech",),
        excludes=("medical",),
        authors=("Yann LeCun",),
        categories=("cs.CL",),
        frequency=Frequency.WEEKLY,
        weekday=4,
        quiet_days=True,
    )
    mail = renderer.digest(view(picks_of(papers, 5), settings=settings))
    assert "Reply with: more 2 · less 3 · topics: speech, robotics · pause 1 week · unsubscribe · help" in (
        mail.text
    )
    for line in (
        "Your topics: speech",
        "Never shown: medical",
        "You follow: Yann LeCun",
        "Your arXiv categories: cs.CL",
        "Your schedule: 10 papers, weekly on Fridays at 08:00 (UTC), HTML and plain text",
        "Your quiet-day notes: on",
    ):
        assert line in mail.text and line in visible_text(mail.html or "")
    assert f"Unsubscribe with one click: {UNSUBSCRIBE}" in mail.text
    anchors = [attrs for tag, attrs in parsed(mail.html or "").tags if tag == "a"]
    assert any(attrs.get("href") == UNSUBSCRIBE for attrs in anchors)
    # The digest's own text, quoted back by a mail client that does not mark quotes, commands nothing.
    for line in mail.text.splitlines():
        assert parse_commands(line, today=DAY).commands == [], line


def test_feedback_examples_name_papers_the_digest_has(renderer, papers):
    assert "Reply with: more 1 · less 1 ·" in renderer.digest(view(picks_of(papers, 1))).text


def test_a_quiet_day_note_says_nothing_new_and_how_to_stop_these_notes(renderer):
    mail = renderer.digest(view([], quiet=True, settings=ReaderSettings(quiet_days=True)))
    assert mail.subject == "No new papers for you on 28 Nov"
    assert "Nothing new matched your interests today" in mail.text
    assert '"quiet days off"' in mail.text and "more 2" not in mail.text
    assert "Nothing new matched your interests today" in visible_text(mail.html or "")


def test_html_is_self_contained_styled_inline_and_free_of_scripts_and_remote_images(renderer, papers):
    html = renderer.digest(view(picks_of(papers))).html or ""
    tags = parsed(html).tags
    assert not [tag for tag, _ in tags if tag in ("script", "img", "link", "iframe", "object")]
    assert html.count('style="') > 40
    assert 'name="viewport"' in html
    # What is left in <style> is only what cannot be inlined: the small-screen media query.
    styles = re.findall(r"<style>(.*?)</style>", html, re.DOTALL)
    assert styles and all(block.strip().startswith("@media") for block in styles)
    assert "max-width:640px" in html and "overflow-wrap:anywhere" in html


def test_text_part_reads_cleanly(renderer, papers):
    text = renderer.digest(view(picks_of(papers))).text
    assert "\n\n\n" not in text and "{{" not in text and "{%" not in text
    assert all(line == line.rstrip() for line in text.splitlines() if line != "-- ")
    assert "\n-- \n" in text  # a signature separator: clients leave the footer out of replies


def test_css_is_inlined_into_template_source_with_loops_and_conditions_intact():
    source = """<html><head><style>.a { color: red; } .b { margin: 0; }
    @media (max-width: 480px) { .a { color: blue !important; } }</style></head>
    <body>{% for x in xs %}<p class="a b" data-n="{{ loop.index }}">{{ x }}
    {%- if x > 1 and x < 9 %}!{% endif %}</p>
    {% endfor %}{# a comment with <tags> #}<a class="b" href="{{ url }}">go</a></body></html>"""
    inlined = inline_template_css("test.html", source)
    assert "{% for x in xs %}" in inlined and "{%- if x > 1 and x < 9 %}" in inlined
    assert "{# a comment with <tags> #}" in inlined and 'href="{{ url }}"' in inlined
    # Only classes that a kept media query uses stay; the rest became style attributes.
    assert '<p class="a" data-n="{{ loop.index }}" style="color:red;margin:0">{{ x }}' in inlined
    assert '<a href="{{ url }}" style="margin:0">' in inlined
    rendered = (
        Environment(autoescape=True).from_string(inlined).render(xs=[1, 2], url="https://x.example/?a=1&b=2")
    )
    assert 'data-n="2"' in rendered and "2!</p>" in rendered and "1</p>" in rendered
    assert 'href="https://x.example/?a=1&amp;b=2"' in rendered


def test_css_inlining_refuses_a_template_whose_tags_the_html_parser_would_move():
    moved = "<html><body><table>{% for row in rows %}<tr><td>{{ row }}</td></tr>{% endfor %}</table></body>"
    with pytest.raises(ValueError, match="moved or dropped jinja tags"):
        inline_template_css("table.html", moved)


def test_notices_escape_paragraphs_and_show_settings_action_and_help(renderer):
    notice = NoticeView(
        subject="Done: your\nPaperboy settings",
        paragraphs=["Topics are now: speech", HOSTILE, "  line one\n  line two"],
        settings_lines=["Topics: speech", "Papers per digest: 5"],
        action=("Confirm my subscription", "https://abc123.lambda-url.us-east-1.on.aws/confirm/tok?a=1&b=2"),
        help_text="Reply with one command per line:\n  more 2\n  unsubscribe",
        unsubscribe_url=UNSUBSCRIBE,
    )
    mail = renderer.notice("ack", notice)
    assert mail.subject == "Done: your Paperboy settings"
    assert mail.html is not None
    assert "<script>" not in mail.html and "script" not in {tag for tag, _ in parsed(mail.html).tags}
    assert HOSTILE in visible_text(mail.html) and HOSTILE in mail.text
    assert "Settings now in force:\n  Topics: speech\n  Papers per digest: 5" in mail.text
    assert "Confirm my subscription: https://abc123.lambda-url.us-east-1.on.aws/confirm/tok?a=1&b=2" in (
        mail.text
    )
    assert 'href="https://abc123.lambda-url.us-east-1.on.aws/confirm/tok?a=1&amp;b=2"' in mail.html
    assert "  more 2" in mail.text and f"Unsubscribe with one click: {UNSUBSCRIBE}" in mail.text
    bare = renderer.notice("confirm", NoticeView(subject="Please confirm", paragraphs=["Reply to confirm."]))
    assert "Unsubscribe" not in bare.text and "Settings now in force" not in bare.text
    assert "Unsubscribe" not in (bare.html or "")


def test_every_day_of_a_year_is_named_in_english_in_the_date_line_and_the_subject(renderer, papers):
    day = date(2026, 1, 1)
    while day.year == 2026:
        mail = renderer.digest(view([], local_date=day))
        assert mail.text.startswith(f"Paperboy · {day:%A} {day.day} {day:%B %Y}\n")
        assert mail.subject == f"No new papers for you on {day.day} {day:%b}"
        day += timedelta(days=1)


def test_a_page_filled_in_from_its_frame_is_what_jinja_renders_for_every_reader(papers, monkeypatch):
    """The page around the cards is rendered once per shape and filled in per reader: for readers
    of every shape, with markup, the frame's own marker characters and the cards' placeholder in
    their own words, each page is exactly what jinja renders for that reader."""
    pages = []
    frame_page = render._page

    def compared(frames, template, context, cards, separator, *, html):
        page, encoded = frame_page(frames, template, context, cards, separator, html=html)
        joined = Markup(separator.join(card[0] for card in cards))
        pages.append((page, template.render(context, cards=joined)))
        return page, encoded

    monkeypatch.setattr(render, "_page", compared)
    renderer = Renderer()
    odd = '\ue0040\ue005 \ue003 <b>&amp;</b> "it\'s" {{ subject }}'
    readers = [
        ReaderSettings(),
        ReaderSettings(topics=(odd,), excludes=(odd,), authors=(odd,), categories=("cs.CL",)),
        ReaderSettings(topics=("speech", "robots", "agents", odd), frequency=Frequency.WEEKLY, weekday=2),
        ReaderSettings(topics=("speech",), format=Format.TEXT, quiet_days=True, trending=False),
    ]
    for settings in readers:
        for count in (0, 1, 3, 10):
            for trending in ([], picks_of(papers[20:], 2)):
                renderer.digest(
                    view(
                        picks_of(papers, count),
                        settings=settings,
                        also_trending=trending,
                        reader_email="odd\ue004@example.org",
                        quiet=not count,
                    )
                )
    assert len(pages) > 40
    for page, expected in pages:
        assert page == expected
