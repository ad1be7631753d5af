"""PlanDigests: hourly, fans the hour out into the index slots that hold readers, then sweeps the
digest claims (settling those SES has answered for, releasing the rest past their safe age)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from paperboy import clock, wiring
from paperboy.digests import enqueue, occupied_slots_to_plan, queue_depth, sweep
from paperboy.settings import Settings

logger = Logger()
metrics = Metrics()
tracer = Tracer()
SETTINGS = Settings.from_env()
TABLES = wiring.dynamodb()
STORE = wiring.subscriber_store(SETTINGS, TABLES)
LEDGER = wiring.digest_ledger(SETTINGS, TABLES)
SLOTS = wiring.slot_index(SETTINGS, TABLES)
SQS = boto3.client("sqs", config=wiring.AWS_CONFIG)


class ScheduledRun(BaseModel):
    """The schedule's input: `{"scheduled_time": "<aws.scheduler.scheduled-time>"}`."""

    scheduled_time: datetime | None = None


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    at = ScheduledRun.model_validate(event or {}).scheduled_time or clock.now()
    # The hour first: whatever the sweep meets, this hour's readers are on their way.
    slots = occupied_slots_to_plan(SLOTS, at, SETTINGS.claim_safe_age)
    calls = enqueue(SQS, SETTINGS.plan_queue_url, slots)
    metrics.add_metric(name="SlotsPlanned", unit=MetricUnit.Count, value=len(slots))
    swept = sweep(
        LEDGER,
        STORE,
        partial(enqueue, SQS, SETTINGS.digest_queue_url),
        clock.now(),
        safe_age=SETTINGS.claim_safe_age,
        undelivered_events=lambda: queue_depth(SQS, SETTINGS.mail_events_dlq_url),
    )
    for name, value in (
        ("OpenClaims", swept.open_claims),
        ("StuckClaims", swept.stuck_claims),
        ("ClaimsSettledSent", swept.settled_sent),
        ("ClaimsSettledRejected", swept.settled_rejected),
        ("ClaimsReleased", swept.released),
        ("ClaimsHeld", swept.held),
        ("ClaimsUnsettled", swept.failed),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    logger.info(
        "hour fanned out, claims swept",
        extra={"hour": at.isoformat(), "slots": len(slots), "sqs_calls": calls, **swept.model_dump()},
    )
    return {"slots": len(slots), "sweep": swept.model_dump()}
