"""The schedule's index on the subscribers table: the `Due` index (which readers a slot holds) and
the `SLOT#` occupancy marks (which slots hold readers). Layout: readers.table."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key

from paperboy.readers.model import Subscriber
from paperboy.readers.table import subscriber_from_item

DUE_INDEX = "Due"
# A slot's mark lives this long past the slot's hour: well past the planner's deepest look-back
# (planning.DEEP_CATCH_UP_HOURS), so no slot the planner reads loses its mark to the TTL.
SLOT_MARK_LIFETIME = timedelta(days=7)
# BatchGetItem's limit on keys per call.
BATCH_GET_KEYS = 100


def _slot_key(slot: str) -> dict[str, str]:
    return {"pk": f"SLOT#{slot}", "sk": "SLOT"}


def _slot_expiry(slot: str) -> int:
    hour = datetime.strptime(slot.partition("#")[0], "%Y-%m-%dT%H").replace(tzinfo=UTC)
    return int((hour + SLOT_MARK_LIFETIME).timestamp())


class SlotIndex:
    def __init__(self, table: Any) -> None:
        self._table = table
        self._client = table.meta.client

    def due_page(
        self, slot: str, start_key: dict[str, Any] | None = None, *, limit: int | None = None
    ) -> tuple[list[Subscriber], dict[str, Any] | None]:
        """One page of the readers whose next digest falls in an index slot (a query, never a scan),
        and where the next page starts (None after the last). Pages are DynamoDB's 1 MB unless
        `limit` asks for fewer items."""
        query: dict[str, Any] = {"IndexName": DUE_INDEX, "KeyConditionExpression": Key("due_slot").eq(slot)}
        if start_key is not None:
            query["ExclusiveStartKey"] = start_key
        if limit is not None:
            query["Limit"] = limit
        page = self._table.query(**query)
        return [subscriber_from_item(item) for item in page.get("Items", [])], page.get("LastEvaluatedKey")

    def mark_slot(self, slot: str | None) -> None:
        """Mark the slot a profile write is about to put its reader in (None: no slot), before the
        write: a reader never sits in a slot the planner skips. A write that then fails leaves the
        mark on a slot that may be empty, which costs one empty PlanShard run per planner run that
        reads it. Marking a marked slot again changes nothing."""
        if slot is not None:
            self._table.update_item(
                Key=_slot_key(slot),
                UpdateExpression="SET expires_at = :expires",
                ExpressionAttributeValues={":expires": _slot_expiry(slot)},
            )

    def scheduled_slots(self) -> Iterator[str]:
        """The slot of every scheduled reader, one per reader: a scan of the sparse Due index, for
        the operator's upgrade step (`admin mark-slots`); never on a hot path."""
        scan: dict[str, Any] = {"IndexName": DUE_INDEX, "ProjectionExpression": "due_slot"}
        while True:
            page = self._table.scan(**scan)
            yield from (item["due_slot"] for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def marked_slots(self, slots: Sequence[str]) -> set[str]:
        """Which of `slots` carry an occupancy mark: one BatchGetItem per hundred slots, no scan."""
        marked: set[str] = set()
        for start in range(0, len(slots), BATCH_GET_KEYS):
            keys = [_slot_key(slot) for slot in slots[start : start + BATCH_GET_KEYS]]
            request: dict[str, Any] = {
                self._table.name: {"Keys": keys, "ConsistentRead": True, "ProjectionExpression": "pk"}
            }
            for attempt in itertools.count():
                answer = self._client.batch_get_item(RequestItems=request)
                found = answer.get("Responses", {}).get(self._table.name, [])
                marked.update(item["pk"].removeprefix("SLOT#") for item in found)
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                # Keys left unread under throttling: read them again, backing off as DynamoDB asks.
                time.sleep(min(0.05 * 2**attempt, 2.0))
        return marked
