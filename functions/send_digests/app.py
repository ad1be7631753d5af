"""SendDigests: consumes digest jobs, ranks, renders and sends each reader's digest exactly once."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from paperboy import clock, wiring
from paperboy.digests import DigestJob
from paperboy.mail.outbound import SendThrottled
from paperboy.settings import Settings

logger = Logger()
metrics = Metrics()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.SQS)
SETTINGS = Settings.from_env()
SENDER = wiring.digest_sender(SETTINGS)
# Throttled jobs come back after a growing pause instead of the queue's full visibility timeout.
THROTTLE_BACKOFF_SECONDS = (30, 60, 120, 300, 600)


@cache
def _sqs() -> Any:
    """Made when a job is first throttled: most containers never need the queue's API."""
    return boto3.client("sqs", config=wiring.AWS_CONFIG)


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    job = DigestJob.model_validate_json(record.body)
    logger.set_correlation_id(f"digest:{job.subscriber_id}:{job.period.isoformat()}")
    try:
        outcome = SENDER.send(job, clock.now())
    except SendThrottled:
        attempt = int(record.attributes.approximate_receive_count or 1)
        delay = THROTTLE_BACKOFF_SECONDS[min(attempt, len(THROTTLE_BACKOFF_SECONDS)) - 1]
        _sqs().change_message_visibility(
            QueueUrl=SETTINGS.digest_queue_url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=delay
        )
        metrics.add_metric(name="DigestsThrottled", unit=MetricUnit.Count, value=1)
        raise
    except Exception:
        # Counted, so failing jobs show on the dashboard before they reach the dead-letter queue.
        metrics.add_metric(name="DigestsFailed", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=f"Digests{outcome.title().replace('_', '')}", unit=MetricUnit.Count, value=1)
    logger.info("digest job done", extra={"outcome": outcome.value})
    return outcome.value


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
