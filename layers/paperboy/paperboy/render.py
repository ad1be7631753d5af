"""Digest and notice mail, HTML and plain text, from jinja2 templates.

Mail clients ignore <style> blocks, so CSS is inlined by css-inline — once per template, on the
template source at start-up (jinja tags survive HTML parsing because the templates keep them out
of tables and comparisons), not once per mail. Autoescaping is on for HTML: every paper title,
topic and reason is text, never markup.
"""

from __future__ import annotations

import re
from datetime import date
from importlib import resources

import css_inline
from jinja2 import BaseLoader, Environment, StrictUndefined, Template
from pydantic import BaseModel, Field

from paperboy.mailer import one_line
from paperboy.models import Pick
from paperboy.readers import WEEKDAYS, Frequency, ReaderSettings

SUMMARY_CHARACTERS = 230
PAPER_CACHE = 5000
MAX_AUTHORS = 3
COMMAND_EXAMPLES = (
    "more 2",
    "less 3",
    "topics: speech, robotics",
    "exclude: medical",
    "count 5",
    "time 7:30",
    "pause 1 week",
    "unsubscribe",
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class DigestView(BaseModel):
    reader_email: str
    domain: str
    local_date: date
    picks: list[Pick]
    settings: ReaderSettings
    unsubscribe_url: str
    reply_address: str
    quiet: bool = False


class NoticeView(BaseModel):
    """A short mail: confirmation, welcome, acknowledgement, help, goodbye."""

    subject: str
    paragraphs: list[str] = Field(default_factory=list)
    settings_lines: list[str] = Field(default_factory=list)
    action: tuple[str, str] | None = None
    help_text: str | None = None
    unsubscribe_url: str | None = None


class RenderedMail(BaseModel):
    subject: str
    text: str
    html: str | None


def two_lines(pick: Pick) -> str:
    """A summary that fits two lines of a phone screen: HF's one-line summary, else the abstract's
    first sentences, cut on a word boundary."""
    paper = pick.paper
    text = paper.ai_summary or paper.summary
    if not text:
        return ""
    if len(text) <= SUMMARY_CHARACTERS:
        return text
    kept = ""
    for sentence in _SENTENCE_END.split(text[: 3 * SUMMARY_CHARACTERS]):
        if len(kept) + len(sentence) + 1 > SUMMARY_CHARACTERS:
            break
        kept = f"{kept} {sentence}".strip()
    if kept:
        return kept
    cut = text[:SUMMARY_CHARACTERS].rsplit(" ", 1)[0].rstrip(",;:")
    return f"{cut}…"


def authors_line(authors: tuple[str, ...]) -> str:
    if len(authors) <= MAX_AUTHORS:
        return ", ".join(authors)
    return ", ".join(authors[:MAX_AUTHORS]) + " et al."


def settings_summary(settings: ReaderSettings) -> list[str]:
    when = (
        f"weekly on {WEEKDAYS[settings.weekday].title()}"
        if settings.frequency is Frequency.WEEKLY
        else "daily"
    )
    return [
        f"Topics: {', '.join(settings.topics) or 'none: trending papers'}",
        *([f"Never: {', '.join(settings.excludes)}"] if settings.excludes else []),
        *([f"Authors: {', '.join(settings.authors)}"] if settings.authors else []),
        *([f"arXiv categories: {', '.join(settings.categories)}"] if settings.categories else []),
        f"{settings.count} papers, {when} at {settings.send_time:%H:%M} ({settings.timezone}), "
        f"{settings.format.value} mail",
    ]


def _meta(pick: Pick) -> str:
    paper = pick.paper
    parts = [authors_line(paper.authors)] if paper.authors else []
    parts.append(f"▲ {paper.upvotes} upvote{'s' if paper.upvotes != 1 else ''}")
    if paper.comments:
        parts.append(f"{paper.comments} comment{'s' if paper.comments != 1 else ''}")
    return " · ".join(parts)


def _links(pick: Pick) -> list[tuple[str, str]]:
    paper = pick.paper
    links = [("Paper page", paper.paper_url), ("arXiv", paper.arxiv_url), ("PDF", paper.pdf_url)]
    if paper.github_url:
        links.append(("Code", paper.github_url))
    if paper.project_url:
        links.append(("Project", paper.project_url))
    return links


def digest_subject(view: DigestView) -> str:
    day = f"{view.local_date.day} {view.local_date:%b}"
    if not view.picks:
        return f"Nothing new for you on {day}"
    count = len(view.picks)
    lead = f"{count} paper{'s' if count != 1 else ''} for {day}: "
    titles = [pick.paper.display_title for pick in view.picks[:2]]
    return one_line(lead + ", ".join(titles), limit=120)


class Renderer:
    """Compiled, CSS-inlined templates; build one per container."""

    def __init__(self) -> None:
        self._papers: dict[tuple[str, int, int], dict[str, object]] = {}
        html_env = Environment(loader=BaseLoader(), autoescape=True, undefined=StrictUndefined)
        text_env = Environment(
            loader=BaseLoader(),
            autoescape=False,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self._html: dict[str, Template] = {
            name: html_env.from_string(css_inline.inline(_source(f"{name}.html")))
            for name in ("digest", "notice")
        }
        self._text: dict[str, Template] = {
            name: text_env.from_string(_source(f"{name}.txt")) for name in ("digest", "notice")
        }

    def digest(self, view: DigestView) -> RenderedMail:
        subject = digest_subject(view)
        items = [
            {**self._paper_view(pick), "number": number, "reason": pick.reason}
            for number, pick in enumerate(view.picks, start=1)
        ]
        topics = ", ".join(view.settings.topics)
        lede = (
            f"{len(items)} papers for you" + (f" on {topics}" if topics else ", trending today")
            if items
            else "Nothing new for you today"
        )
        context = {
            "subject": subject,
            "day": f"{view.local_date:%A} {view.local_date.day} {view.local_date:%B %Y}",
            "lede": lede,
            "items": items,
            "quiet": view.quiet or not items,
            "commands": COMMAND_EXAMPLES,
            "settings_lines": settings_summary(view.settings),
            "reader_email": view.reader_email,
            "unsubscribe_url": view.unsubscribe_url,
        }
        return RenderedMail(
            subject=subject,
            text=_tidy(self._text["digest"].render(context)),
            html=self._html["digest"].render(context),
        )

    def _paper_view(self, pick: Pick) -> dict[str, object]:
        """What a digest shows of a paper, computed once per container: thousands of readers get
        the same popular papers."""
        paper = pick.paper
        key = (paper.id, paper.upvotes, paper.comments)
        if key not in self._papers:
            if len(self._papers) > PAPER_CACHE:
                self._papers.clear()
            self._papers[key] = {"title": paper.display_title, "paper_url": paper.paper_url,
                                 "meta": _meta(pick), "summary": two_lines(pick), "links": _links(pick)}
        return self._papers[key]

    def notice(self, kind: str, view: NoticeView) -> RenderedMail:
        context = view.model_dump()
        return RenderedMail(
            subject=one_line(view.subject),
            text=_tidy(self._text["notice"].render(context)),
            html=self._html["notice"].render(context),
        )


def _source(name: str) -> str:
    return resources.files("paperboy").joinpath("templates", "mail", name).read_text(encoding="utf-8")


def _tidy(text: str) -> str:
    """At most one blank line in a row, no trailing spaces: plain text that reads well."""
    lines = [line.rstrip() for line in text.splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy).strip() + "\n"
