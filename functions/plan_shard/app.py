"""PlanShard: plans one index slot of an hour (a message from PlanDigests), queueing its due readers."""

from __future__ import annotations

from functools import partial
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from paperboy import wiring
from paperboy.digests import SlotJob, enqueue, plan_slot
from paperboy.settings import Settings

logger = Logger()
metrics = Metrics()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.SQS)
SETTINGS = Settings.from_env()
SLOTS = wiring.slot_index(SETTINGS)
SQS = boto3.client("sqs", config=wiring.AWS_CONFIG)


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> int:
    job = SlotJob.model_validate_json(record.body)
    logger.set_correlation_id(f"slot:{job.slot}")
    planned = plan_slot(
        SLOTS,
        job,
        partial(enqueue, SQS, SETTINGS.digest_queue_url),
        time_left=lambda: lambda_context.get_remaining_time_in_millis() / 1000,
    )
    if planned.rest is not None:
        # Out of time with pages left: the rest is a slot job of its own, queued before this one ends.
        enqueue(SQS, SETTINGS.plan_queue_url, [planned.rest])
    metrics.add_metric(name="DigestsPlanned", unit=MetricUnit.Count, value=planned.jobs)
    logger.info(
        "slot planned",
        extra={
            "slot": job.slot,
            "jobs": planned.jobs,
            "pages": planned.pages,
            "handed_on": planned.rest is not None,
        },
    )
    return planned.jobs


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
