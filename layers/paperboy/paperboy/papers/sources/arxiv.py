"""arXiv listing feeds: `GET {base}/rss/cs.CL+cs.RO`, one RSS 2.0 document per day's announcement.

Only `new` and `cross` announcements are papers a reader has not seen; replacements are skipped.
The feed is empty on weekends and holidays, which is a normal day, not an error.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from datetime import date
from email.utils import parsedate_to_datetime

from pydantic import ValidationError

from paperboy.papers.model import Paper
from paperboy.papers.sources.hf import DayListing
from paperboy.papers.sources.http import HttpClient
from paperboy.papers.titles import display_title, normalise_whitespace

SOURCE = "arxiv"
_NS = {"arxiv": "http://arxiv.org/schemas/atom", "dc": "http://purl.org/dc/elements/1.1/"}
_ID = re.compile(r"(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?$")
_ABSTRACT_PREFIX = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*Abstract:\s*", re.DOTALL)
WANTED_ANNOUNCEMENTS = frozenset({"new", "cross"})
# What follows a comma inside one author's name rather than starting the next.
_NAME_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


def feed_url(base_url: str, categories: list[str]) -> str:
    return f"{base_url.rstrip('/')}/rss/{'+'.join(categories)}"


def _text(element: ElementTree.Element, path: str) -> str:
    found = element.find(path, _NS)
    return (found.text or "") if found is not None else ""


def parse_feed(body: bytes, fallback_day: date) -> DayListing:
    """Parse one RSS document. Raises ValueError when it is not an RSS feed at all."""
    try:
        # CPython's expat resolves no external entities and caps entity expansion (expat >= 2.4).
        root = ElementTree.fromstring(body)  # noqa: S314
    except ElementTree.ParseError as error:
        raise ValueError(f"not XML: {error}") from error
    channel = root.find("channel")
    if channel is None:
        raise ValueError("no <channel> in feed")
    day = _day(_text(channel, "pubDate")) or fallback_day
    papers: dict[str, Paper] = {}
    reasons: list[str] = []
    for position, item in enumerate(channel.findall("item")):
        announce = _text(item, "arxiv:announce_type").strip() or "new"
        if announce not in WANTED_ANNOUNCEMENTS:
            continue
        try:
            paper = _paper(item, day)
        except (ValueError, ValidationError) as error:
            reasons.append(f"item {position}: {str(error).splitlines()[0]}")
            continue
        papers.setdefault(paper.id, paper)
    return DayListing(day=day, papers=list(papers.values()), skipped=len(reasons), skip_reasons=reasons)


def _paper(item: ElementTree.Element, day: date) -> Paper:
    match = _ID.search(_text(item, "guid").strip()) or _ID.search(_text(item, "link").strip())
    if match is None:
        raise ValueError("no arXiv id in guid or link")
    title = _text(item, "title")
    creators = _text(item, "dc:creator")
    return Paper(
        id=match.group(1),
        title=normalise_whitespace(title),
        display_title=display_title(title),
        summary=normalise_whitespace(_ABSTRACT_PREFIX.sub("", _text(item, "description"))),
        authors=_authors(creators),
        categories=tuple(c.text.strip() for c in item.findall("category") if c.text and c.text.strip()),
        day=day,
        source=SOURCE,
    )


def _authors(creators: str) -> tuple[str, ...]:
    """`dc:creator` is comma-separated, but a name may hold a comma itself ("Robert L. Logan, IV")."""
    names: list[str] = []
    for part in (normalise_whitespace(part) for part in creators.split(",")):
        if names and part.lower() in _NAME_SUFFIXES:
            names[-1] = f"{names[-1]}, {part}"
        elif part:
            names.append(part)
    return tuple(names)


def _day(rfc822: str) -> date | None:
    try:
        return parsedate_to_datetime(rfc822).date() if rfc822.strip() else None
    except (TypeError, ValueError):
        return None


def fetch_listing(client: HttpClient, base_url: str, categories: list[str], today: date) -> DayListing:
    if not categories:
        return DayListing(day=today, papers=[], skipped=0, skip_reasons=[])
    return client.get(feed_url(base_url, categories), lambda body: parse_feed(body, today))  # type: ignore[return-value]
