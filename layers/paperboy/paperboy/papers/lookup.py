"""Papers a reader names (`like <ids>`, `me: <name>`): the stored row where there is one, else arXiv's
API, whose papers are then stored (as references, outside the day listings) for Embed to embed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from paperboy.papers.model import Paper
from paperboy.papers.sources import arxiv_api
from paperboy.papers.sources.http import FetchError, HttpClient
from paperboy.papers.store import PaperStore


@dataclass
class Found:
    """What a lookup found, in the order asked; `missing`: ids arXiv does not know; `unreachable`:
    ids not looked up because arXiv could not be reached (nothing is said about them)."""

    papers: list[Paper] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)


@dataclass
class PaperLookup:
    papers: PaperStore
    client: HttpClient
    base_url: str

    def by_ids(self, ids: Sequence[str], now: datetime) -> Found:
        stored = {paper_id: self.papers.get(paper_id) for paper_id in ids}
        asked = tuple(paper_id for paper_id, paper in stored.items() if paper is None)
        fetched: dict[str, Paper] = {}
        found = Found()
        if asked:
            try:
                fetched = {p.id: p for p in arxiv_api.papers_by_id(self.client, self.base_url, asked)}
            except FetchError:
                found.unreachable = list(asked)
            for paper in fetched.values():
                self.papers.put_reference(paper, now)
            if not found.unreachable:
                found.missing = [paper_id for paper_id in asked if paper_id not in fetched]
        found.papers = [
            paper for paper_id in ids if (paper := stored.get(paper_id) or fetched.get(paper_id)) is not None
        ]
        return found

    def by_author(self, name: str, now: datetime, limit: int = arxiv_api.MAX_IDS) -> list[Paper]:
        """The author's newest papers on arXiv (raises FetchError when arXiv cannot be reached)."""
        papers = arxiv_api.papers_by_author(self.client, self.base_url, name, limit)
        for paper in papers:
            self.papers.put_reference(paper, now)
        return papers
