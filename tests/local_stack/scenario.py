"""Scenario files (brief section 6): a clock, fixture sources and steps, run on the local stack."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from email.utils import getaddresses
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from local_stack import inbound, schedules
from local_stack.inbound import InboundSpec
from local_stack.links import mail_link, undo_link
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from paperboy.readers.model import WEEKDAYS, ReaderSettings

LINKS = ("unsubscribe", "confirm", "undo")
ROUTES = ("unsubscribe", "resubscribe", "confirm")
_FORM = {"content-type": "application/x-www-form-urlencoded"}


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
        raise ValueError('fetch takes no settings: write {"fetch": {}}')
    stack.fetch()


def _advance(stack: LocalStack, argument: Any) -> None:
    if not isinstance(argument, str):
        raise ValueError('advance takes an ISO 8601 duration such as "PT24H"')
    stack.advance(schedules.parse_duration(argument))


class SubscriberStep(BaseModel):
    """`{"subscriber": {"email": ..., "topics": [...], ...}}`: any reader setting of brief section 4."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    topics: list[str] = Field(default_factory=list)
    excludes: list[str] = Field(default_factory=list)
    authors: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    count: int = 10
    send_time: str = "08:00"
    timezone: str = "UTC"
    frequency: str = "daily"
    weekday: str | int = "monday"
    format: str = "html"
    quiet_days: bool = False

    def settings(self) -> ReaderSettings:
        weekday = self.weekday if isinstance(self.weekday, int) else _weekday(self.weekday)
        fields = self.model_dump(exclude={"email", "weekday"})
        fields["send_time"] = _clock_time(self.send_time)
        return ReaderSettings.model_validate({**fields, "weekday": weekday})


def _weekday(name: str) -> int:
    for number, day in enumerate(WEEKDAYS):
        if day.startswith(name.strip().lower()[:3]):
            return number
    raise ValueError(f"unknown weekday {name!r}")


def _clock_time(text: str) -> time:
    try:
        return time.fromisoformat(text.strip().zfill(5))
    except ValueError:
        raise ValueError(f"send_time {text!r} is not HH:MM") from None


def _subscriber(stack: LocalStack, argument: Any) -> None:
    step = SubscriberStep.model_validate(argument)
    stack.add_subscriber(step.email, step.settings())


def _digest(stack: LocalStack, argument: Any) -> None:
    if argument not in ({}, None):
        raise ValueError('digest takes no settings: write {"digest": {}}')
    stack.digest()


class ClickStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str
    # A link of the latest mail to `to`, or "undo": the undo button of the last page a click of
    # `to` showed (the unsubscribe result page).
    link: str
    # POST the link at once, as a mail client's RFC 8058 one-click (or a script) does, instead of
    # opening the page and pressing its button.
    post: bool = False
    # Send the link's token to another route, as a forged request would (e.g. "resubscribe").
    route: str | None = None


def _click(stack: LocalStack, argument: Any) -> None:
    step = ClickStep.model_validate(argument)
    if step.link not in LINKS:
        raise ValueError(f"link must be one of {', '.join(LINKS)}, not {step.link!r}")
    if step.route is not None and step.route not in ROUTES:
        raise ValueError(f"route must be one of {', '.join(ROUTES)}, not {step.route!r}")
    if step.link == "undo":
        url = undo_link(stack.last_page.get(step.to, (0, ""))[1], stack.template.function_urls["WebFunction"])
        if url is None:
            raise ValueError(f"the last page shown to {step.to} has no undo button")
    else:
        mail = stack.mailbox.latest_to(step.to)
        if mail is None:
            raise ValueError(f"no mail was sent to {step.to}")
        url = mail_link(mail.raw, step.link)
        if url is None:
            raise ValueError(f"the latest mail to {step.to} ({mail.subject!r}) has no {step.link} link")
    if step.route is not None:
        url = re.sub(r"/(unsubscribe|resubscribe|confirm)/", f"/{step.route}/", url, count=1)
    if step.post and step.link == "unsubscribe":  # what RFC 8058 has the mail client send
        stack.last_page[step.to] = stack.request("POST", url, b"List-Unsubscribe=One-Click", _FORM)
    elif step.post or step.link == "undo":
        stack.last_page[step.to] = stack.request("POST", url)
    else:
        stack.last_page[step.to] = stack.click(url)


class WebStep(BaseModel):
    """`{"web": {"method": "POST", "path": "/subscribe", "form": {...}, "client": IP, "headers": {...}}}`:
    one request to the Web function's URL from `client` (the address Lambda reports as sourceIp).
    The body is `form` (URL-encoded; a list value repeats the field), `body` (text, sent as UTF-8)
    or `body_base64` (any bytes), at most one of them."""

    model_config = ConfigDict(extra="forbid")

    method: str = Field(default="GET", pattern=r"^[A-Za-z]{1,16}$")
    path: str = Field(pattern=r"^/[^\s]*$")
    form: dict[str, str | list[str]] | None = None
    body: str | None = None
    body_base64: str | None = None
    client: str = "127.0.0.1"
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("client")
    @classmethod
    def _ip(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError(f"client must be an IPv4 or IPv6 address, not {value!r}") from None

    def payload(self) -> tuple[bytes, dict[str, str]]:
        """The body bytes and the headers to send with them."""
        given = [name for name in ("form", "body", "body_base64") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of form, body, body_base64, not {' and '.join(given)}")
        headers = {name.lower(): value for name, value in self.headers.items()}
        if self.form is not None:
            headers.setdefault("content-type", "application/x-www-form-urlencoded")
            return urlencode(self.form, doseq=True).encode("ascii"), headers
        if self.body_base64 is not None:
            try:
                return base64.b64decode(self.body_base64, validate=True), headers
            except binascii.Error:
                raise ValueError("body_base64 is not valid base64") from None
        return (self.body or "").encode("utf-8"), headers


def _web(stack: LocalStack, argument: Any) -> None:
    step = WebStep.model_validate(argument)
    body, headers = step.payload()
    stack.web(step.method.upper(), step.path, body=body, headers=headers, client=step.client)


def _email(stack: LocalStack, argument: Any, base: Path) -> None:
    spec = InboundSpec.model_validate(argument)
    verdicts = spec.verdict_statuses()
    if spec.eml:
        raw = _existing(base / spec.eml, "email.eml").read_bytes()
        to = spec.to or ""
    else:
        if not spec.to:
            raise ValueError('email needs "to" (or an "eml" file)')
        to = spec.to
        raw = inbound.compose(spec, to=to, now=stack.now, subject=spec.subject or "")
    recipients = [to] if to else _recipients(raw)
    stack.receive(raw, source=spec.from_, recipients=recipients, verdicts=verdicts, client=spec.client)


def _reply(stack: LocalStack, argument: Any, base: Path) -> None:
    spec = InboundSpec.model_validate(argument)
    verdicts = spec.verdict_statuses()
    target = spec.to_latest_of or spec.from_
    original = stack.mailbox.latest_to(target)
    if original is None:
        raise ValueError(f"no mail was sent to {target} to reply to")
    parsed = original.message
    reply_to = str(parsed.get("Reply-To") or parsed.get("From"))
    to_address = getaddresses([reply_to])[0][1]
    message_id = f"<{original.message_id}@email.amazonses.com>"
    references = " ".join(filter(None, [str(parsed.get("References") or ""), message_id]))
    if spec.eml:
        raw = inbound.readdress(
            _existing(base / spec.eml, "reply.eml").read_bytes(),
            to=reply_to,
            in_reply_to=message_id,
            references=references,
        )
    else:
        subject = spec.subject or f"Re: {original.subject}"
        raw = inbound.compose(
            spec,
            to=reply_to,
            now=stack.now,
            subject=subject,
            in_reply_to=message_id,
            references=references,
            quoted=original.part("plain") or "",
            quoted_from=str(parsed.get("From")),
            quoted_date=original.clock,
        )
    stack.receive(raw, source=spec.from_, recipients=[to_address], verdicts=verdicts, client=spec.client)


def _recipients(raw: bytes) -> list[str]:
    parsed = inbound.headers_of(raw)
    return [
        address
        for _, address in getaddresses([str(parsed.get("To", "")), str(parsed.get("Cc", ""))])
        if address
    ]


STEPS: dict[str, Callable[[LocalStack, Any], None]] = {
    "fetch": _fetch,
    "advance": _advance,
    "subscriber": _subscriber,
    "digest": _digest,
    "click": _click,
    "web": _web,
}
# Steps whose files are relative to the scenario file.
FILE_STEPS: dict[str, Callable[[LocalStack, Any, Path], None]] = {"email": _email, "reply": _reply}


def run(path: Path, out: Path) -> str:
    """Run the scenario, write OUT, and return a one-line JSON summary."""
    scenario = load(path)
    base = path.parent
    fixtures = fixtures_for(scenario, base)
    out.mkdir(parents=True, exist_ok=True)
    with (
        (out / "functions.log").open("w") as log,
        LocalStack(domain=scenario.domain, start=scenario.clock, fixtures=fixtures, log=log) as stack,
    ):
        for number, step in enumerate(scenario.steps, start=1):
            _run_step(stack, number, step, base)
        stack.write(out)
        return summary(stack)


def _run_step(stack: LocalStack, number: int, step: dict[str, Any], base: Path) -> None:
    if not isinstance(step, dict) or len(step) != 1:
        raise ScenarioError(f"step {number}: a step is an object with exactly one key, got {step!r}")
    ((kind, argument),) = step.items()
    if kind not in STEPS and kind not in FILE_STEPS:
        known = ", ".join([*STEPS, *FILE_STEPS])
        raise ScenarioError(f"step {number} ({kind}): unknown step; known steps: {known}")
    try:
        if kind in FILE_STEPS:
            FILE_STEPS[kind](stack, argument, base)
        else:
            STEPS[kind](stack, argument)
    except ScenarioError as error:
        raise ScenarioError(f"step {number} ({kind}): {error}") from None
    except (ValueError, ValidationError) as error:
        raise ScenarioError(f"step {number} ({kind}): {error}") from None


def summary(stack: LocalStack) -> str:
    papers = stack.papers_by_day()
    kinds: dict[str, int] = {}
    for mail in stack.mailbox.delivered:
        kinds[mail.kind] = kinds.get(mail.kind, 0) + 1
    return json.dumps(
        {"clock": stack.now.isoformat(), "papers": {d: len(p) for d, p in papers.items()}, "mail": kinds}
    )
