"""moto's TransactWriteItems at the cost of the items it names, not of the tables they live in.

moto 5 keeps a deep copy of every table a transaction touches, to roll back a cancelled one: each
digest's record-and-reschedule transaction copies the whole subscribers table, so a fan-out to N
readers costs O(N²) (10,000 readers: hours, nearly all of it in `copy.deepcopy`). A transaction can
only change the items it names, so keeping those items is the same rollback. This keeps them, lets
moto's own transaction code run unchanged otherwise, and puts them back when it raises.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from typing import Any

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
