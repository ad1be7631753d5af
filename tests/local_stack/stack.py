"""The local stack: moto plays AWS (created from template.yaml), a local server plays the paper
sources, the handlers run as Lambda would run them, and the stack owns the clock."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TextIO

import boto3
from moto import mock_aws

from local_stack import schedules
from local_stack.lambdas import RUNTIME_ENVIRONMENT, LocalFunction, functions
from local_stack.resources import create_all
from local_stack.sources import SourceFixtures, SourceServer
from local_stack.template import Template
from paperboy import clock

REGION = "us-east-1"
FETCH_FUNCTIONS = ("FetchPapersFunction",)


@dataclass(frozen=True)
class Firing:
    at: datetime
    function: str
    event: dict[str, Any]


class LocalStack:
    def __init__(self, *, domain: str, start: datetime, fixtures: SourceFixtures,
                 log: TextIO | None = None, parameters: dict[str, str] | None = None) -> None:
        self.domain = domain
        self.now = start.astimezone(UTC)
        self.fixtures = fixtures
        self._log = log or open(os.devnull, "w")  # noqa: SIM115 - closed in __exit__
        self._parameters = parameters or {}
        self._exit = contextlib.ExitStack()
        self.template: Template
        self.functions: dict[str, LocalFunction] = {}
        self.skipped_resources: list[str] = []
        self.invocations: list[tuple[datetime, str]] = []

    def __enter__(self) -> Self:
        self._exit.enter_context(_environment({**RUNTIME_ENVIRONMENT, "AWS_DEFAULT_REGION": REGION}))
        self._exit.enter_context(mock_aws())
        server = SourceServer(self.fixtures).start()
        self._exit.callback(server.stop)
        self.template = Template.load({
            "MailDomain": self.domain,
            "AlarmEmail": f"operator@{self.domain}",
            "HuggingFaceBaseUrl": server.url,
            "ArxivBaseUrl": server.url,
            **self._parameters,
        }, region=REGION)
        self.skipped_resources = create_all(self.template)
        self.functions = functions(self.template, self._log)
        clock.use(lambda: self.now)
        self._exit.callback(clock.reset)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._exit.close()

    # -- what scenario steps do -------------------------------------------------------------
    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        self.invocations.append((self.now, logical_id))
        return self.functions[logical_id].invoke(event)

    def fetch(self) -> list[Any]:
        """Run the fetch functions now, as their schedule would."""
        return [self.invoke(name, schedules.scheduled_input(self.functions[name], self.now))
                for name in FETCH_FUNCTIONS if name in self.functions]

    def advance(self, duration: timedelta) -> list[Firing]:
        """Move the clock forward, firing every schedule due on the way, in order."""
        if duration < timedelta(0):
            raise ValueError("the clock only moves forward")
        end = self.now + duration
        firings = sorted(
            (Firing(at, logical, event)
             for logical, function in self.functions.items()
             for at, event in schedules.firings(self.template, function, self.now, end)),
            key=lambda firing: (firing.at, list(self.functions).index(firing.function)),
        )
        for firing in firings:
            self.now = firing.at
            self.invoke(firing.function, firing.event)
        self.now = end
        return firings

    # -- what the stack holds ----------------------------------------------------------------
    def table(self, logical_id: str) -> Any:
        return boto3.resource("dynamodb").Table(self.template.attributes[logical_id]["Ref"])

    def papers_by_day(self) -> dict[str, list[dict[str, Any]]]:
        items = _scan(self.table("PapersTable"))
        days: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            days.setdefault(item["day"], []).append(
                {"id": item["id"], "title": item["display_title"], "upvotes": int(item.get("upvotes", 0))})
        return {day: sorted(papers, key=lambda p: (-p["upvotes"], p["id"])) for day, papers in sorted(days.items())}

    def state(self) -> dict[str, Any]:
        return {"clock": self.now.isoformat(), "subscribers": [], "papers": self.papers_by_day()}

    def write_state(self, out: Path) -> Path:
        path = out / "state.json"
        path.write_text(json.dumps(self.state(), indent=2, ensure_ascii=False) + "\n")
        return path


def _scan(table: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {}
    while True:
        page = table.scan(**arguments)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Any:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
