"""moto at the cost of what a call touches, not of everything stored: same answers, linear fan-outs.

Two places in moto 5 cost time in proportion to all the data held, per call, which makes a fan-out to
N readers cost O(N²) (10,000 readers: hours):

- TransactWriteItems keeps a deep copy of every table it touches, to roll back a cancelled
  transaction. A transaction can only change the items it names, so keeping those items is the same
  rollback: this keeps them, lets moto's transaction code run otherwise unchanged, and puts them back
  when it raises.
- SQS works out every queue attribute, message counts included, for each message sent and each
  message received (to read one setting), and reads the clock through datetime arithmetic once per
  message per count. Here the retention check reads its one setting and the clock is `time.time()`.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
from collections.abc import Iterator
from typing import Any

import moto.sqs.models as sqs_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

_LOCK = threading.RLock()
_Saved = tuple[Table, DynamoType, DynamoType | None, Item | None]


def _key(table: Table, operation: dict[str, Any]) -> tuple[DynamoType, DynamoType | None]:
    key = operation.get("Key") or operation["Item"]
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    return DynamoType(key[table.hash_key_attr]), range_value


def _save(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[_Saved]:
    saved: list[_Saved] = []
    for entry in transact_items:
        operation = next(iter(entry.values()), {})
        table = backend.tables.get(operation.get("TableName", ""))
        if table is None:
            continue  # moto reports the missing table itself
        hash_value, range_value = _key(table, operation)
        saved.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
    return saved


def _restore(saved: list[_Saved]) -> None:
    for table, hash_value, range_value, item in reversed(saved):
        if item is None:
            table.delete_item(hash_value, range_value)
        elif range_value is None:
            table.items[hash_value] = item
        else:
            table.items[hash_value][range_value] = item


@contextlib.contextmanager
def item_level_rollback() -> Iterator[None]:
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK:
            saved = _save(self, transact_items)
            previous = Table.__dict__.get("__deepcopy__")
            # moto's "backup" of each table becomes the table itself: nothing to copy, nothing to swap back.
            Table.__deepcopy__ = lambda table, memo: table  # type: ignore[attr-defined]
            try:
                original(self, transact_items)
            except BaseException:
                _restore(saved)
                raise
            finally:
                if previous is None:
                    del Table.__deepcopy__  # type: ignore[attr-defined]
                else:
                    Table.__deepcopy__ = previous  # type: ignore[attr-defined]

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]


_MOTO_UNIX_TIME = sqs_models.unix_time


def _unix_time(dt: Any = None) -> float:
    return time.time() if dt is None else _MOTO_UNIX_TIME(dt)


def _unix_time_millis(dt: Any = None) -> float:
    return 1000.0 * _unix_time(dt)


def _within_retention(self: sqs_models.SQSBackend, queue_name: str, message: sqs_models.Message) -> bool:
    retention = int(self.get_queue(queue_name).message_retention_period)
    return retention + message.sent_timestamp / 1000 > time.time()


@contextlib.contextmanager
def linear_sqs() -> Iterator[None]:
    saved = (
        sqs_models.unix_time,
        sqs_models.unix_time_millis,
        sqs_models.SQSBackend.is_message_valid_based_on_retention_period,
    )
    sqs_models.unix_time, sqs_models.unix_time_millis = _unix_time, _unix_time_millis
    sqs_models.SQSBackend.is_message_valid_based_on_retention_period = _within_retention  # type: ignore[method-assign]
    try:
        yield
    finally:
        (
            sqs_models.unix_time,
            sqs_models.unix_time_millis,
            sqs_models.SQSBackend.is_message_valid_based_on_retention_period,
        ) = saved


@contextlib.contextmanager
def linear_moto() -> Iterator[None]:
    with item_level_rollback(), linear_sqs():
        yield
