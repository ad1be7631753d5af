"""The digest queue: PlanDigests puts one message per due reader, SendDigests consumes them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from paperboy.planning import DigestJob

_BATCH = 10  # SQS SendMessageBatch limit
_ATTEMPTS = 3


class EnqueueFailed(Exception):
    """Some jobs could not be queued; the planner fails so its schedule retries (claims dedupe)."""


def enqueue(client: Any, queue_url: str, jobs: Sequence[DigestJob]) -> int:
    """Queue every job, retrying entries SQS reports as failed. Returns the number of calls made."""
    calls = 0
    for start in range(0, len(jobs), _BATCH):
        pending = {str(i): job for i, job in enumerate(jobs[start : start + _BATCH])}
        for _ in range(_ATTEMPTS):
            calls += 1
            response = client.send_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": key, "MessageBody": job.model_dump_json()} for key, job in pending.items()],
            )
            pending = {entry["Id"]: pending[entry["Id"]] for entry in response.get("Failed", [])}
            if not pending:
                break
        if pending:
            raise EnqueueFailed(f"{len(pending)} digest jobs could not be queued")
    return calls
