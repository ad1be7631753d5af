"""Builds the domain's collaborators (tables, HTTP client) from settings, once per container."""

from __future__ import annotations

import boto3

from paperboy.settings import Settings
from paperboy.sources.http import HttpClient
from paperboy.store import PaperStore


def paper_store(settings: Settings) -> PaperStore:
    table = boto3.resource("dynamodb").Table(settings.papers_table)
    return PaperStore(table, retention_days=settings.paper_retention_days)


def http_client(settings: Settings) -> HttpClient:
    return HttpClient(
        timeout=settings.http_timeout_seconds,
        retries=settings.http_retries,
        backoff=settings.http_backoff_seconds,
    )
