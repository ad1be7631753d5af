"""Papers: the record, its store, the sources that list them and the daily ingest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperboy._exports import lazy

if TYPE_CHECKING:
    from paperboy.papers.ingest import fetch_papers
    from paperboy.papers.model import Paper, Pick, SourceReport
    from paperboy.papers.sources.arxiv_api import MAX_IDS, parse_ids
    from paperboy.papers.sources.http import FetchError, HttpClient
    from paperboy.papers.store import PaperStore

__all__ = [
    "MAX_IDS",
    "FetchError",
    "HttpClient",
    "Paper",
    "PaperStore",
    "Pick",
    "SourceReport",
    "fetch_papers",
    "parse_ids",
]
__getattr__, __dir__ = lazy(
    __name__,
    {
        "ingest": ("fetch_papers",),
        "model": ("Paper", "Pick", "SourceReport"),
        "sources.arxiv_api": ("MAX_IDS", "parse_ids"),
        "sources.http": ("FetchError", "HttpClient"),
        "store": ("PaperStore",),
    },
)
