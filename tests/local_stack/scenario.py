"""Scenario files (brief section 6): a clock, fixture sources and steps, run on the local stack."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from local_stack import schedules
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack

# Steps of the brief that arrive with later issues; named so the message says what is missing.
NOT_YET = {
    "email": "inbound mail arrives with the subscriptions issue",
    "reply": "inbound mail arrives with the subscriptions issue",
    "click": "the web function arrives with the subscriptions issue",
    "subscriber": "readers arrive with the digest issue",
    "digest": "digests arrive with the digest issue",
}


class ScenarioError(Exception):
    """A scenario that cannot run; the message names the step."""


class Sources(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hf_daily_papers: dict[date, str] = Field(default_factory=dict)
    arxiv: dict[str, str] = Field(default_factory=dict)


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain: str = Field(default="papers.example.org", pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$")
    clock: datetime
    sources: Sources = Field(default_factory=Sources)
    steps: list[dict[str, Any]]

    @field_validator("clock")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("clock needs a time zone, e.g. 2026-11-23T05:00:00Z")
        return value.astimezone(UTC)


def load(path: Path) -> Scenario:
    try:
        return Scenario.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise ScenarioError(f"no scenario file at {path}") from None
    except ValidationError as error:
        raise ScenarioError(f"{path}: {error}") from None


def fixtures_for(scenario: Scenario, base: Path) -> SourceFixtures:
    fixtures = SourceFixtures()
    for day, relative in scenario.sources.hf_daily_papers.items():
        fixtures.hf_days[day.isoformat()] = _existing(base / relative, f"sources.hf_daily_papers.{day}")
    for categories, relative in scenario.sources.arxiv.items():
        fixtures.arxiv_feeds[categories] = _existing(base / relative, f"sources.arxiv.{categories}")
    return fixtures


def _existing(path: Path, where: str) -> Path:
    if not path.is_file():
        raise ScenarioError(f"{where}: no file at {path}")
    return path


def _fetch(stack: LocalStack, argument: Any) -> None:
    if argument not in ({}, None):
        raise ValueError("fetch takes no settings: write {\"fetch\": {}}")
    stack.fetch()


def _advance(stack: LocalStack, argument: Any) -> None:
    if not isinstance(argument, str):
        raise ValueError("advance takes an ISO 8601 duration such as \"PT24H\"")
    stack.advance(schedules.parse_duration(argument))


STEPS: dict[str, Callable[[LocalStack, Any], None]] = {"fetch": _fetch, "advance": _advance}


def run(path: Path, out: Path) -> LocalStack:
    scenario = load(path)
    base = path.parent
    fixtures = fixtures_for(scenario, base)
    out.mkdir(parents=True, exist_ok=True)
    (out / "mail").mkdir(exist_ok=True)
    with (out / "functions.log").open("w") as log, \
            LocalStack(domain=scenario.domain, start=scenario.clock, fixtures=fixtures, log=log) as stack:
        for number, step in enumerate(scenario.steps, start=1):
            _run_step(stack, number, step)
        stack.write_state(out)
        (out / "mail" / "index.json").write_text("[]\n")
    return stack


def _run_step(stack: LocalStack, number: int, step: dict[str, Any]) -> None:
    if len(step) != 1:
        raise ScenarioError(f"step {number}: a step has exactly one key, got {sorted(step) or 'none'}")
    (kind, argument), = step.items()
    if kind in NOT_YET:
        raise ScenarioError(f"step {number} ({kind}): not supported yet - {NOT_YET[kind]}")
    if kind not in STEPS:
        raise ScenarioError(f"step {number} ({kind}): unknown step; known steps: {', '.join(STEPS)}")
    try:
        STEPS[kind](stack, argument)
    except (ValueError, ValidationError) as error:
        raise ScenarioError(f"step {number} ({kind}): {error}") from None


def summary(stack: LocalStack) -> str:
    papers = stack.papers_by_day()
    return json.dumps({"clock": stack.now.isoformat(), "papers": {d: len(p) for d, p in papers.items()}})
