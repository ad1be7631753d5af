"""DynamoDB Streams to Lambda, as an event source mapping delivers them: filtered, in batches, in
order per shard, resumed at the first record a function reports as failed.

moto keeps each table's stream records; the local stack reads them with the dynamodbstreams API
(describe_stream, get_shard_iterator, get_records), applies the mapping's FilterCriteria, and builds
the event Lambda would send (binary values as base64 text, the record's stream ARN).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

STREAM_TYPES = ("DynamoDB",)


def _matches(pattern: Any, value: Any, present: bool) -> bool:
    """One EventBridge-style pattern node (the subset filters here use: values, exists, nesting)."""
    if isinstance(pattern, dict):
        inner = value if isinstance(value, dict) else {}
        return all(_matches(sub, inner.get(key), key in inner) for key, sub in pattern.items())
    for option in pattern:
        if isinstance(option, dict) and "exists" in option:
            if bool(option["exists"]) == present:
                return True
        elif isinstance(option, dict):
            raise ValueError(f"the local stack does not evaluate filter operator {option}")
        elif present and value == option:
            return True
    return False


def passes(filters: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    """Whether a record passes the mapping's FilterCriteria (any one filter; none means all pass)."""
    if not filters:
        return True
    return any(_matches(json.loads(item["Pattern"]), record, True) for item in filters)


def _as_json(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    return {**_as_json(record), "eventSourceARN": stream_arn}


@dataclass
class StreamMapping:
    """One DynamoDB event of a function: its stream, where it has read to, its settings."""

    function: str
    stream_arn: str
    batch_size: int
    retries: int
    filters: list[dict[str, Any]]
    after: str | None = None  # the sequence number of the last record handled
    attempts: int = 0
    failures: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, function: str, properties: dict[str, Any]) -> StreamMapping:
        return cls(
            function=function,
            stream_arn=properties["Stream"],
            batch_size=int(properties.get("BatchSize", 100)),
            retries=int(properties.get("MaximumRetryAttempts", -1)),
            filters=properties.get("FilterCriteria", {}).get("Filters", []),
        )

    def pending(self, streams: Any) -> list[dict[str, Any]]:
        """Records after the last one handled, in order (filtered ones included: they are skipped)."""
        records: list[dict[str, Any]] = []
        description = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description["Shards"]:
            position: dict[str, Any] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.after}
                if self.after
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard["ShardId"], **position
            )["ShardIterator"]
            while iterator:
                page = streams.get_records(ShardIterator=iterator, Limit=1000)
                records.extend(page["Records"])
                if not page["Records"]:
                    break
                iterator = page.get("NextShardIterator")
        return records
