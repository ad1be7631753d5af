"""arXiv's search API: `GET {base}/api/query?id_list=...` and `?search_query=au:...`, one Atom feed each.

Used when a reader names papers (`like 2611.10021`) or themselves as an author (`me: Ada Lovelace`):
one request per reply, through the same HTTP client, timeouts and retries as the listing feeds.
The API answers an unknown but well-formed id with no entry at all (it is silently dropped) and a
malformed one with HTTP 400 and an entry titled `Error`; an `Error` entry with 200 is a bad response.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from pydantic import ValidationError

from paperboy.papers.model import Paper
from paperboy.papers.sources.http import HttpClient
from paperboy.papers.titles import display_title, normalise_whitespace

# The papers stored from the API are arXiv's: their links are the abstract pages.
SOURCE = "arxiv"
DEFAULT_BASE_URL = "https://export.arxiv.org"
# At most this many papers per `like` line (one API request), and per `me:` author query.
MAX_IDS = 20
_NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
# New-style ids (2611.10021, with or without v2) and old-style ones (cs/0112017, hep-th/9901001v3).
_BARE_ID = r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_ID = re.compile(rf"^(?:arxiv:)?{_BARE_ID}$", re.IGNORECASE)
_URL = re.compile(
    rf"^(?:https?://)?(?:www\.|export\.)?(?P<host>arxiv\.org|huggingface\.co)/(?P<kind>abs|pdf|papers)/"
    rf"{_BARE_ID}(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_ENTRY_ID = re.compile(rf"arxiv\.org/abs/{_BARE_ID}$", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedIds:
    """What a reader's `like` line names: arXiv ids in order, and the pieces that are not one."""

    ids: tuple[str, ...]
    refused: tuple[str, ...]


def parse_ids(text: str) -> ParsedIds:
    """arXiv ids from bare ids, arxiv.org/abs|pdf URLs and huggingface.co/papers URLs (version
    dropped: a like is of the paper, not of one version). Anything else, a URL of another site
    included, is refused and named back."""
    ids: dict[str, None] = {}
    refused: list[str] = []
    for piece in re.split(r"[\s,;]+", text.strip()):
        piece = piece.strip("<>()[]\"'“”‘’.")
        if not piece:
            continue
        match = _ID.match(piece)
        url = _URL.match(piece) if match is None else None
        if url is not None and (url.group("kind").lower() == "papers") != (
            url.group("host").lower() == "huggingface.co"
        ):
            url = None  # arxiv.org/papers/... or huggingface.co/abs/... is no paper page
        found = match or url
        if found is None:
            refused.append(piece)
            continue
        ids[found.group("id")] = None
    return ParsedIds(ids=tuple(ids), refused=tuple(refused))


def query_url(base_url: str, *, ids: tuple[str, ...] = (), author: str = "", limit: int = MAX_IDS) -> str:
    base = f"{base_url.rstrip('/')}/api/query?"
    if ids:
        return base + urlencode({"id_list": ",".join(ids), "max_results": len(ids)})
    # The author query: arXiv matches `au:` on surname-first or full names; quoted, the words stay one name.
    return base + urlencode(
        {
            "search_query": f'au:"{author}"',
            "sortBy": "submittedDate",
            "sortOrder": "descending",
            "max_results": limit,
        },
        quote_via=quote,
    )


def parse_feed(body: bytes) -> list[Paper]:
    """The papers of one API answer. Raises ValueError when it is not an Atom feed or is arXiv's
    `Error` entry (a bad response: the client retries it, then gives up)."""
    try:
        # CPython's expat resolves no external entities and caps entity expansion (expat >= 2.4).
        root = ElementTree.fromstring(body)  # noqa: S314
    except ElementTree.ParseError as error:
        raise ValueError(f"not XML: {error}") from error
    if root.tag != f"{{{_NS['atom']}}}feed":
        raise ValueError("not an Atom feed")
    papers: dict[str, Paper] = {}
    for entry in root.findall("atom:entry", _NS):
        if _text(entry, "atom:title").strip() == "Error":
            raise ValueError(f"arXiv error: {normalise_whitespace(_text(entry, 'atom:summary'))[:200]}")
        try:
            paper = _paper(entry)
        except (ValueError, ValidationError):
            continue  # an entry without an id or title is no paper we could show
        papers.setdefault(paper.id, paper)
    return list(papers.values())


def _text(element: ElementTree.Element, path: str) -> str:
    found = element.find(path, _NS)
    return (found.text or "") if found is not None else ""


def _paper(entry: ElementTree.Element) -> Paper:
    match = _ENTRY_ID.search(_text(entry, "atom:id").strip())
    if match is None:
        raise ValueError("no arXiv id")
    title = _text(entry, "atom:title")
    published = _published(_text(entry, "atom:published"))
    if published is None:
        raise ValueError("no publication date")
    categories = [c.get("term", "").strip() for c in entry.findall("atom:category", _NS)]
    return Paper(
        id=match.group("id"),
        title=normalise_whitespace(title),
        display_title=display_title(title),
        summary=normalise_whitespace(_text(entry, "atom:summary")),
        authors=tuple(
            name
            for author in entry.findall("atom:author", _NS)
            if (name := normalise_whitespace(_text(author, "atom:name")))
        ),
        # ACM and MSC codes ("I.2.6") ride along as categories; only arXiv's have a dot and letters.
        categories=tuple(c for c in categories if re.fullmatch(r"[a-z\-]+(\.[A-Za-z\-]+)?", c)),
        published_at=published,
        day=published.date(),
        source=SOURCE,
    )


def _published(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00")) if text.strip() else None
    except ValueError:
        return None


def papers_by_id(client: HttpClient, base_url: str, ids: tuple[str, ...]) -> list[Paper]:
    """The papers arXiv knows among `ids` (at most MAX_IDS), in the order asked; unknown ids are missing."""
    if not ids:
        return []
    if len(ids) > MAX_IDS:
        raise ValueError(f"at most {MAX_IDS} ids per request")
    found = {paper.id: paper for paper in client.get(query_url(base_url, ids=ids), parse_feed)}  # type: ignore[attr-defined]
    return [found[paper_id] for paper_id in ids if paper_id in found]


def papers_by_author(client: HttpClient, base_url: str, author: str, limit: int = MAX_IDS) -> list[Paper]:
    """The author's most recent papers on arXiv, newest first (arXiv matches the name loosely)."""
    papers = client.get(query_url(base_url, author=author, limit=min(limit, MAX_IDS)), parse_feed)
    return list(papers)[:limit]  # type: ignore[call-overload]
