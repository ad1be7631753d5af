"""FetchPapers: hourly, reads Hugging Face daily papers and arXiv listings into the papers table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from paperboy import clock, telemetry, wiring
from paperboy.papers import fetch_papers
from paperboy.settings import Settings

logger = Logger()
metrics = Metrics()
tracer = Tracer()
SETTINGS = Settings.from_env()
STORE = wiring.paper_store(SETTINGS)
CLIENT = wiring.http_client(SETTINGS)


class ScheduledRun(BaseModel):
    """The schedule's input: `{"scheduled_time": "<aws.scheduler.scheduled-time>"}`."""

    scheduled_time: datetime | None = None


class NothingFetched(Exception):
    """Every source was unreachable: fail so the schedule retries and the error alarm sees it."""


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = ScheduledRun.model_validate(event or {})
    reports = fetch_papers(SETTINGS, STORE, CLIENT, run.scheduled_time or clock.now())
    metrics.add_metric(
        name="PapersStored",
        unit=MetricUnit.Count,
        value=sum(report.new + report.updated for report in reports),
    )
    for report in reports:
        telemetry.record_source(report)
        logger.info("source fetched", extra=report.model_dump())
    if not any(report.reached for report in reports):
        raise NothingFetched("; ".join(problem for report in reports for problem in report.problems))
    return {"sources": [report.model_dump(exclude={"problems"}) for report in reports]}
