"""Digest and notice mail, HTML and plain text, from jinja2 templates.

Many mail clients drop <style> blocks, so the CSS is inlined by css-inline. That happens once per
template, on the template *source*, when the Renderer is built: every jinja tag is swapped for an
inert placeholder, the HTML is inlined, the tags are put back and their order is checked, so a
template whose tags the HTML parser would move (text inside a <table>, say) fails at start-up
instead of rendering wrong mail. Rendering a mail is then only compiled jinja templates, and each
paper's card (HTML and text) is rendered once per container and reused, numbered, in every digest
that holds it: thousands of readers get the same popular papers.

Autoescaping is on for HTML: paper titles, abstracts, topics and reasons are text, never markup.
Only http(s) links from a source are shown; a `javascript:` project page never becomes an href.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from importlib import resources

import css_inline
from jinja2 import BaseLoader, Environment, StrictUndefined, Template, TemplateNotFound
from markupsafe import Markup
from pydantic import BaseModel, Field

from paperboy.mailer import one_line
from paperboy.models import Paper, Pick
from paperboy.readers import WEEKDAYS, Format, Frequency, ReaderSettings

SUMMARY_CHARACTERS = 220
SUMMARY_SENTENCES = 2
MAX_AUTHORS = 3
SUBJECT_CHARACTERS = 120
LEDE_TOPICS = 3
TEMPLATES = ("digest", "digest_item", "notice")
# Rendered paper cards kept per container (a few KB each).
CARD_CACHE = 8192
# Sentence ends that are not: a split after these would cut "e.g. speech" in two.
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "Fig.", "Eq.", "Sec.", "approx.", "resp.")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“(\[]?[A-Z0-9])")
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
_AT_RULE = re.compile(r"@media[^{]*\{((?:[^{}]*\{[^{}]*\})*[^{}]*)\}")
_CLASS_NAME = re.compile(r"\.([A-Za-z][\w-]*)")
_CLASS_ATTRIBUTE = re.compile(r'\sclass="([^"]*)"')
_JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
# Private-use code points: they never occur in a template and HTML parsers keep them as they are.
_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")
# Stands for a card's number until the card is placed in a digest.
_NUMBER = "\ue002"
_WEB_LINK = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)


class DigestView(BaseModel):
    """Everything the digest templates need about one reader's digest."""

    reader_email: str
    domain: str
    local_date: date
    picks: list[Pick]
    # The day's top papers by upvotes that were not picked: one line each, not numbered.
    also_trending: list[Pick] = Field(default_factory=list)
    settings: ReaderSettings
    unsubscribe_url: str
    reply_address: str
    # A quiet-day note: the reader asked to hear even when nothing new matched. A digest without
    # picks renders as that note whatever this says.
    quiet: bool = False


class NoticeView(BaseModel):
    """A short mail: confirmation, welcome, acknowledgement, help, goodbye.

    Paragraphs are plain text (escaped, line breaks kept); `action` is a (label, url) button;
    `help_text` is the command list, shown as preformatted text when given.
    """

    subject: str
    paragraphs: list[str] = Field(default_factory=list)
    settings_lines: list[str] = Field(default_factory=list)
    action: tuple[str, str] | None = None
    help_text: str | None = None
    unsubscribe_url: str | None = None


class RenderedMail(BaseModel):
    subject: str
    text: str
    # None for readers who chose plain text only.
    html: str | None


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut on a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–—(") + "…"


def summary_of(text: str) -> str:
    """The first sentence or two, about two lines on a phone; a long one cut on a word boundary."""
    text = " ".join(text.split())
    if len(text) <= SUMMARY_CHARACTERS:
        return text
    sentences: list[str] = []
    for piece in _SENTENCE_END.split(text):
        if sentences and sentences[-1].endswith(_ABBREVIATIONS):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    kept = ""
    for sentence in sentences[:SUMMARY_SENTENCES]:
        joined = f"{kept} {sentence}".strip()
        if len(joined) > SUMMARY_CHARACTERS:
            break
        kept = joined
    return kept or shorten(text, SUMMARY_CHARACTERS)


def two_lines(pick: Pick) -> str:
    """The summary shown under a title: HF's one-line AI summary when there is one, else the
    abstract's opening."""
    paper = pick.paper
    return summary_of(paper.ai_summary or paper.summary)


def authors_line(authors: tuple[str, ...]) -> str:
    if len(authors) <= MAX_AUTHORS:
        return ", ".join(authors)
    return ", ".join(authors[:MAX_AUTHORS]) + " et al."


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def stats_line(paper: Paper) -> str:
    parts = [f"▲ {_plural(paper.upvotes, 'upvote')}"]
    if paper.comments:
        parts.append(_plural(paper.comments, "comment"))
    return " · ".join(parts)


def links_of(paper: Paper) -> list[tuple[str, str]]:
    """(label, url) for every page a reader may want; source-supplied URLs only when http(s)."""
    links = [("Paper page", paper.paper_url), ("arXiv", paper.arxiv_url), ("PDF", paper.pdf_url)]
    for label, url in (("Code", paper.github_url), ("Project page", paper.project_url)):
        if url and _WEB_LINK.match(url):
            links.append((label, url))
    return links


def settings_summary(settings: ReaderSettings) -> list[str]:
    """The settings in force, worded so that no line reads as a command if a reply quotes it."""
    when = (
        f"weekly on {WEEKDAYS[settings.weekday].title()}s"
        if settings.frequency is Frequency.WEEKLY
        else "daily"
    )
    parts = "HTML and plain text" if settings.format is Format.HTML else "plain text only"
    return [
        f"Your topics: {('; ' if any(',' in t for t in settings.topics) else ', ').join(settings.topics)}"
        if settings.topics
        else "Your topics: none yet, so you get the day's trending papers",
        *([f"Never shown: {', '.join(settings.excludes)}"] if settings.excludes else []),
        *([f"You follow: {', '.join(settings.authors)}"] if settings.authors else []),
        *([f"Your arXiv categories: {', '.join(settings.categories)}"] if settings.categories else []),
        f"Your schedule: {_plural(settings.count, 'paper')}, {when} at {settings.send_time:%H:%M} "
        f"({settings.timezone}), {parts}",
        *(["Your quiet-day notes: on"] if settings.quiet_days else []),
        *(["Your “Also trending” section: off"] if not settings.trending else []),
    ]


def command_examples(count: int) -> list[str]:
    """The footer's reply commands; feedback examples name papers this digest really has."""
    feedback = [f"more {min(2, count)}", f"less {min(3, count)}"] if count else []
    return [*feedback, "topics: speech, robotics", "pause 1 week", "unsubscribe", "help"]


def _short_day(day: date) -> str:
    return f"{day.day} {day:%b}"


def digest_subject(view: DigestView) -> str:
    """What is inside, e.g. "7 papers for 28 Nov: Speech Foundation Models, RoboCat, …"."""
    if not view.picks:
        return f"No new papers for you on {_short_day(view.local_date)}"
    count = len(view.picks)
    lead = f"{_plural(count, 'paper')} for {_short_day(view.local_date)}: "
    budget = SUBJECT_CHARACTERS - len(lead)
    shown: list[str] = []
    used = 0
    for pick in view.picks:
        title = one_line(pick.paper.display_title, SUBJECT_CHARACTERS)
        # The title, its ", " and (unless it is the last) the ", …" that says more follow.
        needed = used + (2 if shown else 0) + len(title) + (3 if len(shown) + 1 < count else 0)
        if needed > budget:
            break
        shown.append(title)
        used = needed - (3 if len(shown) < count else 0)
    if not shown:
        first = one_line(view.picks[0].paper.display_title, SUBJECT_CHARACTERS)
        return lead + shorten(first, budget)
    return lead + ", ".join(shown) + (", …" if len(shown) < count else "")


def _lede(view: DigestView, count: int) -> str:
    period = "this week" if view.settings.frequency is Frequency.WEEKLY else "today"
    if not count:
        return f"No new papers for you {period}"
    topics = view.settings.topics
    if not topics:
        return f"{_plural(count, 'paper')} trending {period}"
    named = ", ".join(topics[:LEDE_TOPICS])
    rest = len(topics) - LEDE_TOPICS
    return f"{_plural(count, 'paper')} for you on {named}" + (f" and {rest} more" if rest > 0 else "")


class _MailTemplates(BaseLoader):
    """Templates from the package's templates/mail folder, HTML ones with their CSS inlined."""

    def __init__(self, prepare: Callable[[str, str], str]) -> None:
        self._prepare = prepare

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        source = self._prepare(template, _template_source(template))
        return source, f"paperboy/templates/mail/{template}", lambda: True


def inline_template_css(name: str, source: str, css: str | None = None) -> str:
    """The template with its CSS moved into style attributes and its jinja tags intact: a page's
    own <style> rules, or `css` for a fragment (a digest's paper card, styled by the digest page).

    Media queries cannot be inlined: they stay in the page's <style> block for clients that read it.
    """
    tags: list[str] = []

    def hide(match: re.Match[str]) -> str:
        tags.append(match.group())
        return f"\ue000{len(tags) - 1}\ue001"

    hidden = _JINJA_TAG.sub(hide, source)
    inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False, minify_css=True)
    inlined = inliner.inline(hidden) if css is None else inliner.inline_fragment(hidden, css)
    # Classes only matter where a kept media query names them; the rest is weight in every mail.
    styles = css if css is not None else "".join(_STYLE.findall(source))
    wanted = {cls for block in _AT_RULE.findall(styles) for cls in _CLASS_NAME.findall(block)}
    inlined = _CLASS_ATTRIBUTE.sub(lambda match: _kept_classes(match, wanted), inlined)
    order = [int(number) for number in _PLACEHOLDER.findall(inlined)]
    if order != list(range(len(tags))):
        raise ValueError(
            f"{name}: inlining CSS moved or dropped jinja tags; keep tags out of places the HTML "
            "parser rewrites (inside <table> between rows, inside <head> outside <title>)"
        )
    return _PLACEHOLDER.sub(lambda match: tags[int(match.group(1))], inlined)


def _kept_classes(match: re.Match[str], wanted: set[str]) -> str:
    kept = [cls for cls in match.group(1).split() if cls in wanted]
    return f' class="{" ".join(kept)}"' if kept else ""


def _template_source(name: str) -> str:
    path = resources.files("paperboy").joinpath("templates", "mail", name)
    if not path.is_file():
        raise TemplateNotFound(name)
    return path.read_text(encoding="utf-8")


def _inline_mail_css(name: str, source: str) -> str:
    if name == "digest_item.html":
        page = _STYLE.search(_template_source("digest.html"))
        return inline_template_css(name, source, page.group(1) if page else "")
    return inline_template_css(name, source)


class Renderer:
    """Compiled, CSS-inlined templates; build one per container and share it."""

    def __init__(self) -> None:
        html = Environment(
            loader=_MailTemplates(_inline_mail_css),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        text = Environment(
            loader=_MailTemplates(lambda _name, source: source),
            # Plain text is not markup: escaping would show readers "&amp;".
            autoescape=False,  # noqa: S701
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self._cards: dict[tuple[Paper, str], tuple[str, str]] = {}
        self._html: dict[str, Template] = {name: html.get_template(f"{name}.html") for name in TEMPLATES}
        self._text: dict[str, Template] = {name: text.get_template(f"{name}.txt") for name in TEMPLATES}

    def digest(self, view: DigestView) -> RenderedMail:
        subject = digest_subject(view)
        cards = [self._card(pick) for pick in view.picks]
        numbers = [str(number) for number in range(1, len(cards) + 1)]
        weekly = view.settings.frequency is Frequency.WEEKLY
        context = {
            "subject": subject,
            "preview": " · ".join(
                f"{number}. {pick.paper.display_title}" for number, pick in enumerate(view.picks[:3], start=1)
            ),
            "day": f"{view.local_date:%A} {view.local_date.day} {view.local_date:%B %Y}",
            "period": "this week" if weekly else "today",
            "lede": _lede(view, len(cards)),
            "commands": command_examples(len(cards)),
            "settings_lines": settings_summary(view.settings),
            "reader_email": view.reader_email,
            "unsubscribe_url": view.unsubscribe_url,
            "trending": [
                {
                    "title": one_line(pick.paper.display_title),
                    "url": pick.paper.paper_url,
                    "stats": f"{pick.paper.upvotes} upvote{'s' if pick.paper.upvotes != 1 else ''}",
                }
                for pick in (view.also_trending if view.picks else [])
            ],
        }
        text_cards = "\n\n".join(
            card.replace(_NUMBER, number, 1) for (_, card), number in zip(cards, numbers, strict=True)
        )
        text = self._text["digest"].render(context, cards=text_cards)
        html = None
        if view.settings.format is Format.HTML:
            # Cards were escaped by jinja when they were rendered; only the number goes in here.
            html_cards = Markup(  # noqa: S704
                "".join(
                    card.replace(_NUMBER, number, 1) for (card, _), number in zip(cards, numbers, strict=True)
                )
            )
            html = self._html["digest"].render(context, cards=html_cards)
        return RenderedMail(subject=subject, text=text, html=html)

    def _card(self, pick: Pick) -> tuple[str, str]:
        """One paper as a digest shows it, (HTML, text), rendered once per container whatever its
        position in a digest: its number is a placeholder until then."""
        key = (pick.paper, pick.reason)
        card = self._cards.get(key)
        if card is None:
            paper = pick.paper
            item = {
                "number": _NUMBER,
                "title": " ".join(paper.display_title.split()),
                "paper_url": paper.paper_url,
                "authors": " ".join(authors_line(paper.authors).split()),
                "stats": stats_line(paper),
                "summary": two_lines(pick),
                "reason": " ".join(pick.reason.split()),
                "links": links_of(paper),
            }
            card = (
                self._html["digest_item"].render(item=item),
                self._text["digest_item"].render(item=item).rstrip("\n"),
            )
            if len(self._cards) >= CARD_CACHE:
                self._cards.clear()
            self._cards[key] = card
        return card

    def notice(self, kind: str, view: NoticeView) -> RenderedMail:
        """A short mail of the given kind (confirm, welcome, ack, help, goodbye, notice)."""
        subject = one_line(view.subject)
        context = {**view.model_dump(), "subject": subject, "kind": kind}
        return RenderedMail(
            subject=subject,
            text=_tidy(self._text["notice"].render(context)),
            html=self._html["notice"].render(context),
        )


def _tidy(text: str) -> str:
    """At most one blank line in a row, no trailing spaces: plain text that reads well."""
    tidy: list[str] = []
    for line in text.splitlines():
        line = line.rstrip()
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy).strip() + "\n"
