"""Metrics with a dimension of their own (per source, per limit), as CloudWatch EMF lines."""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from paperboy.papers.model import SourceReport

SOURCE_COUNTERS = ("fetched", "new", "updated", "skipped", "retried_requests", "failed_listings")


def record_source(report: SourceReport) -> None:
    """One metric per counter, dimensioned by source, so alarms can watch a single source."""
    for counter in SOURCE_COUNTERS:
        name = "Papers" + "".join(part.title() for part in counter.split("_"))
        with single_metric(name=name, unit=MetricUnit.Count, value=getattr(report, counter)) as metric:
            metric.add_dimension(name="source", value=report.source)


def record_throttled(metrics: Metrics, limit: str) -> None:
    """A mail held back by a limit (limits.py): counted in the function's metrics, which the alarm
    watches, and again by the limit reached, which the dashboard shows."""
    metrics.add_metric(name="SignupsThrottled", unit=MetricUnit.Count, value=1)
    with single_metric(name="SignupsThrottled", unit=MetricUnit.Count, value=1) as metric:
        metric.add_dimension(name="limit", value=limit)
