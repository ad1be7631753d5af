"""Fault injection on the AWS calls the handlers make, through botocore's event hooks.

A rule names an operation (`sesv2.SendEmail`, `dynamodb.TransactWriteItems`, ...) and says what
happens to its next calls: an AWS error answered instead of the call (`before`), or a crash of the
handler right after the call succeeded (`after`, the effect happened but the code never learns it).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from typing import Any, Literal

import boto3
from botocore.awsrequest import AWSResponse


class InjectedCrash(BaseException):
    """The Lambda process died here: the call's effect happened, the handler never continued.

    A BaseException, so no `except Exception` in the handler (or powertools' batch processor) can
    swallow it: the whole invocation fails, as it would when a process dies."""


@dataclass
class Rule:
    operation: str  # "service.Operation", e.g. "sesv2.SendEmail"
    when: Literal["before", "after"] = "before"
    code: str = "InternalFailure"
    status: int = 500
    times: int = 1
    probability: float = 1.0
    # Only calls made by this function (its logical id), or by any when empty.
    function: str = ""
    fired: int = 0


@dataclass
class FaultInjector:
    rules: list[Rule] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    log: list[tuple[str, str]] = field(default_factory=list)

    def install(self) -> None:
        events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
        events.register("before-call", self._before)
        events.register("after-call", self._after)

    def add(self, operation: str, **options: Any) -> Rule:
        rule = Rule(operation, **options)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def _match(self, when: str, model: Any) -> Rule | None:
        name = f"{model.service_model.endpoint_prefix}.{model.name}"
        service = model.service_model.service_name
        for rule in self.rules:
            if rule.when != when or rule.fired >= rule.times:
                continue
            if rule.operation not in (name, f"{service}.{model.name}"):
                continue
            if rule.function and os.environ.get("AWS_LAMBDA_FUNCTION_NAME") != rule.function:
                continue
            if self.rng.random() >= rule.probability:
                continue
            rule.fired += 1
            self.log.append((when, rule.operation))
            return rule
        return None

    def _before(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        rule = self._match("before", model)
        if rule is None:
            return None
        response = AWSResponse("https://fault.local", rule.status, {}, None)
        parsed = {
            "Error": {"Code": rule.code, "Message": f"injected {rule.code}"},
            "ResponseMetadata": {"HTTPStatusCode": rule.status, "RetryAttempts": 0},
        }
        return response, parsed

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if parsed.get("Error"):
            return
        if self._match("after", model) is not None:
            raise InjectedCrash(f"crash after {model.name}")
