"""DynamoDB tables on a low-level client that speaks Python values, as a boto3 resource's tables do.

A function's stores use a handful of table actions and the table's client. boto3's resource would
give them, but building it (its JSON model, the classes it makes from it) costs every cold start
about 20 ms more than a client. This client carries the handlers boto3's resource registers on its
own client (boto3.dynamodb.transform), so values, conditions and answers are exactly a resource's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from boto3.dynamodb.transform import TransformationInjector, copy_dynamodb_params


class Table:
    """The part of boto3's `Table` resource the stores use: its name, its client and its actions
    (each the client's operation of that name, on this table)."""

    ACTIONS = frozenset({"get_item", "put_item", "update_item", "delete_item", "query", "scan"})

    def __init__(self, client: Any, name: str) -> None:
        self.name = name
        self.meta = SimpleNamespace(client=client)

    def __getattr__(self, action: str) -> Callable[..., dict[str, Any]]:
        if action not in self.ACTIONS:
            raise AttributeError(f"a table has no action {action!r}")
        return functools.partial(getattr(self.meta.client, action), TableName=self.name)


class Tables:
    """One function's tables, sharing `client` (a DynamoDB client no one else uses: it is given
    boto3's value transformation, so its answers hold Python values, not attribute values)."""

    def __init__(self, client: Any) -> None:
        injector = TransformationInjector()
        events = client.meta.events
        # The registrations of boto3.dynamodb.transform.DynamoDBHighLevelResource, with its ids.
        events.register(
            "provide-client-params.dynamodb", copy_dynamodb_params, unique_id="dynamodb-create-params-copy"
        )
        events.register(
            "before-parameter-build.dynamodb",
            injector.inject_condition_expressions,
            unique_id="dynamodb-condition-expression",
        )
        events.register(
            "before-parameter-build.dynamodb",
            injector.inject_attribute_value_input,
            unique_id="dynamodb-attr-value-input",
        )
        events.register(
            "after-call.dynamodb",
            injector.inject_attribute_value_output,
            unique_id="dynamodb-attr-value-output",
        )
        self.client = client

    def table(self, name: str) -> Table:
        return Table(self.client, name)
