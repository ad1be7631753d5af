"""PlanDigests: hourly, queues one job per reader whose digest is due this hour."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from paperboy import clock, wiring
from paperboy.planning import IncompletePlan, plan
from paperboy.queue import enqueue
from paperboy.settings import Settings

logger = Logger()
metrics = Metrics()
tracer = Tracer()
SETTINGS = Settings.from_env()
STORE = wiring.subscriber_store(SETTINGS)
SQS = boto3.client("sqs", config=wiring.AWS_CONFIG)


class ScheduledRun(BaseModel):
    """The schedule's input: `{"scheduled_time": "<aws.scheduler.scheduled-time>"}`."""

    scheduled_time: datetime | None = None


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    at = ScheduledRun.model_validate(event or {}).scheduled_time or clock.now()
    planned = plan(STORE, at)
    calls = enqueue(SQS, SETTINGS.digest_queue_url, planned.jobs)
    metrics.add_metric(name="DigestsPlanned", unit=MetricUnit.Count, value=len(planned.jobs))
    logger.info(
        "digests planned",
        extra={
            "hour": at.isoformat(),
            "jobs": len(planned.jobs),
            "sqs_calls": calls,
            "unread": planned.unread_slots,
        },
    )
    if planned.unread_slots:
        # Lambda runs the hour again (twice, then the failure queue); jobs queued twice are sent once.
        raise IncompletePlan(planned.unread_slots)
    return {"planned": len(planned.jobs)}
