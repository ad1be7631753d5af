"""FetchPapers' work: read every configured source and upsert what it lists.

A source that fails is reported and left alone: nothing stored is ever deleted or overwritten by an
empty or broken fetch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from paperboy.papers.model import SourceReport
from paperboy.papers.sources import arxiv, hf
from paperboy.papers.sources.hf import DayListing
from paperboy.papers.sources.http import FetchError, HttpClient
from paperboy.papers.store import PaperStore
from paperboy.settings import Settings


def _store(listing: DayListing, store: PaperStore, report: SourceReport, now: datetime) -> None:
    report.fetched += len(listing.papers)
    report.skipped += listing.skipped
    report.problems.extend(listing.skip_reasons)
    stored = store.stored_rows([paper.id for paper in listing.papers])
    for paper in listing.papers:
        outcome = store.upsert(paper, now, stored.get(paper.id))
        if outcome == "new":
            report.new += 1
        elif outcome == "updated":
            report.updated += 1


def _run(
    source: str, fetches: list[Callable[[], DayListing]], store: PaperStore, client: HttpClient, now: datetime
) -> SourceReport:
    report = SourceReport(source=source)
    before = client.failed_attempts
    for fetch in fetches:
        try:
            listing = fetch()
        except FetchError as error:
            report.failed_listings += 1
            report.problems.append(str(error))
            continue
        _store(listing, store, report, now)
    report.retried_requests = client.failed_attempts - before
    return report


def hf_days(now: datetime) -> list[date]:
    """Today and yesterday (UTC): upvotes keep growing for a day after a paper is featured."""
    today = now.date()
    return [today, today - timedelta(days=1)]


def fetch_papers(
    settings: Settings, store: PaperStore, client: HttpClient, now: datetime
) -> list[SourceReport]:
    hf_report = _run(
        hf.SOURCE,
        [lambda day=day: hf.fetch_day(client, settings.hf_base_url, day) for day in hf_days(now)],
        store,
        client,
        now,
    )
    reports = [hf_report]
    if settings.arxiv_categories:
        reports.append(
            _run(
                arxiv.SOURCE,
                [
                    lambda: arxiv.fetch_listing(
                        client, settings.arxiv_base_url, settings.arxiv_categories, now.date()
                    )
                ],
                store,
                client,
                now,
            )
        )
    return reports
