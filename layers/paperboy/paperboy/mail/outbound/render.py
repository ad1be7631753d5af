"""Digest and notice mail, HTML and plain text, from jinja2 templates.

Many mail clients drop <style> blocks, so the CSS is inlined by css-inline. That happens once per
template, on the template *source*, when the Renderer first uses it: every jinja tag is swapped for
an inert placeholder, the HTML is inlined, the tags are put back and their order is checked, so a
template whose tags the HTML parser would move (text inside a <table>, say) fails instead of
rendering wrong mail. Each paper's card (HTML and text) is rendered once per container and reused,
numbered, in every digest that holds it: thousands of readers get the same popular papers. The page
around the cards is rendered by jinja once per shape (how many lines each list has) with markers
where a reader's values go, and each digest fills the markers in: its values, escaped as jinja
escapes them, between the template's own text.

Autoescaping is on for HTML: paper titles, abstracts, topics and reasons are text, never markup.
Only http(s) links from a source are shown; a `javascript:` project page never becomes an href.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from importlib import resources
from typing import Any, NamedTuple

from jinja2 import BaseLoader, Environment, StrictUndefined, Template, TemplateNotFound
from markupsafe import Markup, escape
from pydantic import BaseModel, Field

from paperboy import compiled_templates
from paperboy.mail.inbound.catalogue import settings_summary
from paperboy.mail.outbound.mailer import one_line, quoted_printable
from paperboy.papers.model import Paper, Pick
from paperboy.readers.model import Format, Frequency, ReaderSettings

SUMMARY_CHARACTERS = 220
SUMMARY_SENTENCES = 2
MAX_AUTHORS = 3
SUBJECT_CHARACTERS = 120
LEDE_TOPICS = 3
# Rendered paper cards kept per container (a few KB each), and their numbered copies with their
# quoted-printable lines (about 4 KB each): a busy hour's 10,000 readers made 12,000 copies.
CARD_CACHE = 8192
CARD_COPIES = 16_384
# Values of digest pages escaped for HTML, kept per container (short strings: settings lines,
# commands, trending lines, addresses).
ESCAPED_CACHE = 20_000
_ESCAPED: dict[str, str] = {}
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
# Stands for the cards while the page around them is rendered.
_CARDS = "\ue003"
# Stand for a reader's values while a page frame is rendered (see _Frame).
_SLOT = re.compile("\ue004(\\d+)\ue005")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEB_LINK = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)


class DigestView(BaseModel):
    """Everything the digest templates need about one reader's digest."""

    reader_email: str
    domain: str
    local_date: date
    picks: list[Pick]
    # The day's top papers by upvotes that were not picked: one line each, not numbered.
    also_trending: list[Pick] = Field(default_factory=list)
    # A digest by topic: (topic, how many of the picks, in order, fall under it); empty: one list.
    sections: list[tuple[str, int]] = Field(default_factory=list)
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
    # The parts as OutboundMail's text_qp and html_qp: a digest's are built from its cards' encodings.
    text_qp: bytes | None = Field(default=None, repr=False)
    html_qp: bytes | None = Field(default=None, repr=False)


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


def command_examples(count: int) -> list[str]:
    """The footer's reply commands; feedback examples name papers this digest really has."""
    feedback = [f"more {min(2, count)}", f"less {min(3, count)}"] if count else []
    return [*feedback, "topics: speech, robotics", "pause 1 week", "unsubscribe", "help"]


def _short_day(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1][:3]}"


def _long_day(day: date) -> str:
    """E.g. "Monday 23 November 2026", in English whatever the process's locale (strftime's %A and
    %B follow it, and were a tenth of rendering a digest)."""
    return f"{_WEEKDAY_NAMES[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


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


class _TrendingLine(NamedTuple):
    """An "Also trending" line. Not a dict: jinja tries an attribute before an item, and a dict's
    missing attribute costs an exception per field per digest."""

    title: str
    url: str
    stats: str


class _MailTemplates(BaseLoader):
    """Templates from the package's templates/mail folder, HTML ones with their CSS inlined."""

    def __init__(self, prepare: Callable[[str, str], str]) -> None:
        self._prepare = prepare

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        source = self._prepare(template, _template_source(template))
        return source, f"paperboy/mail/outbound/templates/{template}", lambda: True

    def list_templates(self) -> list[str]:
        folder = resources.files("paperboy.mail.outbound").joinpath("templates")
        return sorted(entry.name for entry in folder.iterdir() if entry.is_file())


def inline_template_css(name: str, source: str, css: str | None = None) -> str:
    """The template with its CSS moved into style attributes and its jinja tags intact: a page's
    own <style> rules, or `css` for a fragment (a digest's paper card, styled by the digest page).

    Media queries cannot be inlined: they stay in the page's <style> block for clients that read it.
    """
    tags: list[str] = []

    def hide(match: re.Match[str]) -> str:
        tags.append(match.group())
        return f"\ue000{len(tags) - 1}\ue001"

    import css_inline

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
    path = resources.files("paperboy.mail.outbound").joinpath("templates", name)
    if not path.is_file():
        raise TemplateNotFound(name)
    return path.read_text(encoding="utf-8")


def _inline_mail_css(name: str, source: str) -> str:
    if name == "digest_item.html":
        page = _STYLE.search(_template_source("digest.html"))
        return inline_template_css(name, source, page.group(1) if page else "")
    return inline_template_css(name, source)


# A card as a digest places it: (the card, its first line, its middle lines as quoted-printable or
# None when it has none, its last line or None when it is one line, the whole card as
# quoted-printable or None when it holds a CR).
_Placed = tuple[str, str, bytes | None, str | None, bytes | None]


def _placed(card: str, *, whole: bool) -> _Placed:
    """Quoted-printable works line by line: the card's lines are encoded once, and its first and
    last lines again with whatever the page puts beside them on the same line."""
    if "\r" in card:
        # A line end the encoder reads as two characters: encode the card with its neighbours.
        return card, card, None, None, None
    encoded = quoted_printable(card) if whole else None
    first, newline, rest = card.partition("\n")
    if not newline:
        return card, card, None, None, encoded
    middle, newline, last = rest.rpartition("\n")
    if not newline:
        return card, first, None, rest, encoded
    return card, first, quoted_printable(middle), last, encoded


class _Card:
    """One paper's card, rendered once per container, and its copies at each number a digest
    gave it, each with its quoted-printable lines."""

    __slots__ = ("html", "numbered", "paper", "text")

    def __init__(self, paper: Paper, html: str, text: str) -> None:
        self.paper = paper
        self.html = html
        self.text = text
        self.numbered: dict[int, tuple[_Placed, _Placed]] = {}

    def at(self, number: int) -> tuple[_Placed, _Placed]:
        """(HTML, text) numbered. The number is the first placeholder: the card starts with it."""
        placed = self.numbered.get(number)
        if placed is None:
            label = str(number)
            # Text cards are whole lines of their page (see _encoded); HTML cards share their
            # first and last lines with their neighbours.
            placed = (
                _placed(self.html.replace(_NUMBER, label, 1), whole=False),
                _placed(self.text.replace(_NUMBER, label, 1), whole=True),
            )
            self.numbered[number] = placed
        return placed


def _marked(value: Any, slots: list[str]) -> Any:
    """`value` with each string in it replaced by a marker for its slot, the string appended to
    `slots` (the shape stays: lists and trending lines keep their lengths)."""
    if isinstance(value, str):
        slots.append(value)
        return f"\ue004{len(slots) - 1}\ue005"
    marked = [_marked(item, slots) for item in value]
    return _TrendingLine(*marked) if isinstance(value, _TrendingLine) else marked


def _values(context: dict[str, Any]) -> list[str]:
    """The context's strings in the order _marked numbers their slots (a page's context holds
    strings, lists of strings and lists of trending lines)."""
    values: list[str] = []
    for value in context.values():
        if type(value) is str:
            values.append(value)
        else:
            for item in value:
                if type(item) is str:
                    values.append(item)
                else:
                    values += item
    return values


def _escaped(value: str) -> str:
    """A value as jinja's autoescape writes it; readers of one container share most of theirs
    (their settings lines, the footer's commands, the day's trending lines)."""
    known = _ESCAPED.get(value)
    if known is None:
        if len(_ESCAPED) >= ESCAPED_CACHE:
            _ESCAPED.clear()
        known = _ESCAPED[value] = str(escape(value))
    return known


def _shape(context: dict[str, Any]) -> tuple[Any, ...]:
    """What decides which of a page template's text a digest gets: whether it has cards, and how
    many items each list has (the templates test nothing else)."""
    return tuple(len(value) if isinstance(value, list) else None for value in context.values())


class _Frame:
    """A page template rendered once for one shape of context, with markers for its values and the
    cards: its own text, cut where each value goes. Filling it gives what jinja would render for a
    context of that shape, each value escaped as jinja's autoescape does (HTML) or as it is (text)."""

    __slots__ = ("after", "before", "has_cards")

    def __init__(self, template: Template, context: dict[str, Any], *, cards: bool) -> None:
        slots: list[str] = []
        marked = {key: _marked(value, slots) for key, value in context.items()}
        page = template.render(marked, cards=Markup(_CARDS if cards else ""))  # noqa: S704 - a constant
        before, found, after = page.partition(_CARDS)
        self.has_cards = bool(found)
        self.before, self.after = self._cut(before), self._cut(after)

    @staticmethod
    def _cut(text: str) -> tuple[list[str], list[int]]:
        pieces = _SLOT.split(text)
        return pieces[::2], [int(slot) for slot in pieces[1::2]]

    @staticmethod
    def _fill(frame: tuple[list[str], list[int]], values: list[str]) -> str:
        pieces, slots = frame
        parts = [pieces[0]]
        for slot, piece in zip(slots, pieces[1:], strict=True):
            parts += (values[slot], piece)
        return "".join(parts)

    def fill(self, values: list[str]) -> tuple[str, str]:
        """The page before the cards and after them."""
        return self._fill(self.before, values), self._fill(self.after, values)


def _page(
    frames: dict[tuple[Any, ...], _Frame],
    template: Template,
    context: dict[str, Any],
    cards: list[_Placed],
    separator: str,
    *,
    html: bool,
) -> tuple[str, bytes | None]:
    """The digest page with its cards, and the page as quoted-printable when it could be built
    from the cards' own encodings."""
    key = (bool(cards), *_shape(context))
    frame = frames.get(key)
    if frame is None:
        frame = frames[key] = _Frame(template, context, cards=bool(cards))
    values = _values(context)
    if html:
        values = [_escaped(value) for value in values]
    prefix, suffix = frame.fill(values)
    joined = separator.join(card[0] for card in cards)
    if not frame.has_cards:
        return prefix, None
    return prefix + joined + suffix, _encoded(prefix, cards, separator, suffix)


def _encoded(prefix: str, cards: list[_Placed], separator: str, suffix: str) -> bytes:
    """quoted_printable(prefix + separator.join(cards) + suffix), from the cards' encodings."""
    if (
        separator.startswith("\n")
        and separator.endswith("\n")
        and prefix.endswith("\n")
        and suffix.startswith("\n")
        and not prefix.endswith("\r\n")
        and all(card[4] is not None for card in cards)
    ):
        # Every card is whole lines (the plain-text part): only the page around them is encoded.
        between = b"\r\n" + quoted_printable(separator[1:-1]) + b"\r\n"
        inner = between.join(card[4] for card in cards)  # type: ignore[misc]
        return b"\r\n".join([quoted_printable(prefix[:-1]), inner, quoted_printable(suffix[1:])])
    parts: list[bytes] = []
    carry = prefix
    for place, (_, first, middle, last, _whole) in enumerate(cards):
        if place:
            carry += separator
        carry += first
        if middle is not None:
            parts += (quoted_printable(carry), middle)
            carry = last or ""
        elif last is not None:
            carry += "\n" + last
    parts.append(quoted_printable(carry + suffix))
    return b"\r\n".join(parts)


# A section's heading in the HTML part, styled inline like the page's other headings.
_SECTION_HTML = '<h2 style="font-size:16px;margin:20px 0 8px;color:#1d1d1f">{}</h2>\n'


def _with_headings(
    sections: list[tuple[str, int]], html_cards: list[_Placed], text_cards: list[_Placed]
) -> tuple[list[_Placed], list[_Placed]]:
    """The cards with each section's heading before its first card (the topic as the reader wrote
    it: escaped in HTML, on one line in text)."""
    html: list[_Placed] = []
    text: list[_Placed] = []
    start = 0
    for topic, count in sections:
        shown = one_line(topic, 120)
        html.append(_placed(_SECTION_HTML.format(escape(shown)), whole=False))
        text.append(_placed(f"== {shown} ==", whole=True))
        html.extend(html_cards[start : start + count])
        text.extend(text_cards[start : start + count])
        start += count
    return html, text


def _environments(*, compiled: bool) -> tuple[Environment, Environment]:
    """The HTML and the plain-text environment, reading the layer build's compiled templates when
    `compiled` and the build wrote them."""

    def load(source: BaseLoader) -> BaseLoader:
        return compiled_templates.loader(__file__, source) if compiled else source

    html = Environment(
        loader=load(_MailTemplates(_inline_mail_css)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    text = Environment(
        loader=load(_MailTemplates(lambda _name, source: source)),
        # Plain text is not markup: escaping would show readers "&amp;".
        autoescape=False,  # noqa: S701
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    return html, text


def compile_templates() -> None:
    """Every mail template compiled (the HTML ones CSS-inlined) as Renderer would, for the layer."""
    html, text = _environments(compiled=False)
    compiled_templates.compile_into(__file__, html, lambda name: name.endswith(".html"))
    compiled_templates.compile_into(__file__, text, lambda name: name.endswith(".txt"))


class _Compiled(dict[str, Template]):
    """One environment's templates by name, each compiled (and CSS-inlined) when first used: a
    function that sends only notices never pays for the digest's templates, nor a page view for any."""

    def __init__(self, environment: Environment, suffix: str) -> None:
        super().__init__()
        self._environment = environment
        self._suffix = suffix

    def __missing__(self, name: str) -> Template:
        template = self[name] = self._environment.get_template(f"{name}{self._suffix}")
        return template


class Renderer:
    """Compiled, CSS-inlined templates and the digest's page frames; build one per container and
    share it."""

    def __init__(self) -> None:
        html, text = _environments(compiled=True)
        self._cards: dict[tuple[int, str], _Card] = {}
        self._copies = 0
        self._html = _Compiled(html, ".html")
        self._text = _Compiled(text, ".txt")
        self._html_frames: dict[tuple[Any, ...], _Frame] = {}
        self._text_frames: dict[tuple[Any, ...], _Frame] = {}

    def digest(self, view: DigestView) -> RenderedMail:
        subject = digest_subject(view)
        cards = []
        for number, pick in enumerate(view.picks, start=1):
            card = self._card(pick)
            copies = len(card.numbered)
            cards.append(card.at(number))
            self._copies += len(card.numbered) - copies
        weekly = view.settings.frequency is Frequency.WEEKLY
        context = {
            "subject": subject,
            "preview": " · ".join(
                f"{number}. {pick.paper.display_title}" for number, pick in enumerate(view.picks[:3], start=1)
            ),
            "day": _long_day(view.local_date),
            "period": "this week" if weekly else "today",
            "lede": _lede(view, len(cards)),
            "commands": command_examples(len(cards)),
            "settings_lines": settings_summary(view.settings),
            "reader_email": view.reader_email,
            "unsubscribe_url": view.unsubscribe_url,
            "trending": [
                _TrendingLine(
                    one_line(pick.paper.display_title),
                    pick.paper.paper_url,
                    f"{pick.paper.upvotes} upvote{'s' if pick.paper.upvotes != 1 else ''}",
                )
                for pick in (view.also_trending if view.picks else [])
            ],
        }
        html_cards = [html for html, _ in cards]
        text_cards = [text for _, text in cards]
        if view.sections:
            html_cards, text_cards = _with_headings(view.sections, html_cards, text_cards)
        text, text_qp = _page(
            self._text_frames, self._text["digest"], context, text_cards, "\n\n", html=False
        )
        html = html_qp = None
        if view.settings.format is Format.HTML:
            html, html_qp = _page(self._html_frames, self._html["digest"], context, html_cards, "", html=True)
        return RenderedMail(subject=subject, text=text, html=html, text_qp=text_qp, html_qp=html_qp)

    def _card(self, pick: Pick) -> _Card:
        """One paper as a digest shows it, rendered once per container whatever its position in a
        digest: its number is a placeholder until a digest places it."""
        paper = pick.paper
        # Keyed by the paper object, not its value: hashing a Paper walks all its fields, and the
        # readers of one container hour share the index's paper objects.
        key = (id(paper), pick.reason)
        card = self._cards.get(key)
        if card is not None and card.paper is paper:
            return card
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
        card = _Card(
            paper,
            self._html["digest_item"].render(item=item),
            self._text["digest_item"].render(item=item).rstrip("\n"),
        )
        if len(self._cards) >= CARD_CACHE or self._copies >= CARD_COPIES:
            self._cards.clear()
            self._copies = 0
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
