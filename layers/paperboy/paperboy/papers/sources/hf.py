"""Hugging Face daily papers: `GET /api/daily_papers?date=YYYY-MM-DD`, a bare JSON array of items.

Each item wraps the paper under `paper`; the day a paper is listed under is the `date=` asked for.
Items are validated one by one so that a single malformed item is skipped and counted, never fatal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from paperboy.papers.model import Paper
from paperboy.papers.sources.http import HttpClient
from paperboy.papers.titles import display_title, normalise_whitespace

SOURCE = "hf_daily_papers"
PAGE_SIZE = 100
# A day never holds more than a few hundred papers; stop paging rather than loop on a broken server.
MAX_PAGES = 20


class _Author(BaseModel):
    name: str = ""
    hidden: bool = False


class _Paper(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(pattern=r"^[0-9]{4}\.[0-9]{4,5}$|^[a-z\-]+(\.[A-Z]{2})?/[0-9]{7}$")
    title: str = Field(min_length=1)
    summary: str = ""
    authors: list[_Author] = Field(default_factory=list)
    upvotes: int = Field(default=0, ge=0)
    published_at: datetime | None = Field(default=None, alias="publishedAt")
    ai_summary: str | None = None
    ai_keywords: list[str] | None = None
    github_repo: str | None = Field(default=None, alias="githubRepo")
    project_page: str | None = Field(default=None, alias="projectPage")
    withdrawn_at: datetime | None = Field(default=None, alias="withdrawnAt")

    @field_validator("title")
    @classmethod
    def _visible(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("title is blank")
        return value


class _Item(BaseModel):
    paper: _Paper
    num_comments: int = Field(default=0, ge=0, alias="numComments")


def _http_url(value: str | None) -> str:
    return value if value and value.startswith(("https://", "http://")) else ""


def to_paper(item: _Item, day: date) -> Paper:
    paper = item.paper
    return Paper(
        id=paper.id,
        title=paper.title,
        display_title=display_title(paper.title),
        summary=normalise_whitespace(paper.summary),
        ai_summary=normalise_whitespace(paper.ai_summary or ""),
        keywords=tuple(paper.ai_keywords or ()),
        authors=tuple(a.name.strip() for a in paper.authors if a.name.strip() and not a.hidden),
        upvotes=paper.upvotes,
        comments=item.num_comments,
        published_at=paper.published_at,
        day=day,
        source=SOURCE,
        github_url=_http_url(paper.github_repo),
        project_url=_http_url(paper.project_page),
    )


class DayListing(BaseModel):
    """The valid papers of one day and how many items had to be skipped."""

    day: date
    papers: list[Paper]
    skipped: int
    skip_reasons: list[str]


def parse_items(raw: object, day: date) -> tuple[list[Paper], list[str]]:
    """Validate a decoded page item by item. Returns the papers and one reason per skipped item."""
    if not isinstance(raw, list):
        raise ValueError(f"expected a JSON array, got {type(raw).__name__}")
    papers: list[Paper] = []
    reasons: list[str] = []
    for position, entry in enumerate(raw):
        try:
            item = _Item.model_validate(entry)
        except ValidationError as error:
            reasons.append(f"item {position}: {error.errors()[0]['loc']} {error.errors()[0]['msg']}")
            continue
        if item.paper.withdrawn_at is not None:
            reasons.append(f"item {position}: {item.paper.id} withdrawn")
            continue
        papers.append(to_paper(item, day))
    return papers, reasons


def _decode(body: bytes) -> object:
    """A page is a JSON array; anything else (an error object with status 200) is a bad response."""
    raw = json.loads(body)
    if not isinstance(raw, list):
        raise ValueError(f"expected a JSON array, got {type(raw).__name__}")
    return raw


def fetch_day(client: HttpClient, base_url: str, day: date) -> DayListing:
    """Every page of one day. Raises FetchError when the source cannot be read at all."""
    papers: dict[str, Paper] = {}
    reasons: list[str] = []
    for page in _pages():
        query = urlencode({"date": day.isoformat(), "limit": PAGE_SIZE, "p": page})
        raw = client.get(f"{base_url.rstrip('/')}/api/daily_papers?{query}", _decode)
        page_papers, page_reasons = parse_items(raw, day)
        reasons.extend(page_reasons)
        for paper in page_papers:
            papers.setdefault(paper.id, paper)
        if not isinstance(raw, list) or len(raw) < PAGE_SIZE:
            break
    return DayListing(day=day, papers=list(papers.values()), skipped=len(reasons), skip_reasons=reasons)


def _pages() -> Iterator[int]:
    yield from range(MAX_PAGES)
