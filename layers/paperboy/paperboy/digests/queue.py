"""Queues between the functions: slot jobs (PlanDigests -> PlanShard) and digest jobs (-> SendDigests)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel

_BATCH = 10  # SQS SendMessageBatch limit
_ATTEMPTS = 3
# SendMessageBatch calls in flight at once: one call waits ~10-20 ms on SQS, so sequential calls
# cap a planner at ~600 messages a second; a few in flight lift that limit past what one page
# of readers needs.
WORKERS = 8


class EnqueueFailed(Exception):
    """Some jobs could not be queued; the planner fails so its run is retried (claims dedupe)."""


def _send_batch(client: Any, queue_url: str, batch: Sequence[BaseModel]) -> int:
    pending = {str(i): message for i, message in enumerate(batch)}
    for calls in range(1, _ATTEMPTS + 1):
        response = client.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": key, "MessageBody": body.model_dump_json()} for key, body in pending.items()],
        )
        pending = {entry["Id"]: pending[entry["Id"]] for entry in response.get("Failed", [])}
        if not pending:
            return calls
    raise EnqueueFailed(f"{len(pending)} messages could not be queued")


def enqueue(client: Any, queue_url: str, messages: Sequence[BaseModel], *, workers: int = WORKERS) -> int:
    """Queue every message, batches in parallel, retrying entries SQS reports as failed.
    Returns the number of calls made; raises EnqueueFailed if any message could not be queued."""
    batches = [messages[start : start + _BATCH] for start in range(0, len(messages), _BATCH)]
    if len(batches) <= 1 or workers <= 1:
        return sum(_send_batch(client, queue_url, batch) for batch in batches)
    with ThreadPoolExecutor(max_workers=min(workers, len(batches))) as pool:
        return sum(pool.map(lambda batch: _send_batch(client, queue_url, batch), batches))


def queue_depth(client: Any, queue_url: str) -> int:
    """Messages waiting in a queue, visible or in flight (SQS's approximate counts)."""
    attributes = client.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())
