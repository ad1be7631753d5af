"""EventBridge Scheduler expressions, fired by the local stack's clock.

`rate(...)` schedules are anchored at the Unix epoch (so `rate(1 hour)` fires on the hour) to keep
runs reproducible; `cron(...)` supports minutes, hours, days of month, months and days of week.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from local_stack.lambdas import LocalFunction
from local_stack.template import Template

SCHEDULE_TYPES = ("ScheduleV2", "Schedule")
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def parse_duration(text: str) -> timedelta:
    """ISO 8601 durations as scenarios write them: `PT24H`, `P1D`, `P1DT6H30M`."""
    match = _DURATION.match(text.strip())
    if not match or text.strip() in ("P", "PT"):
        raise ValueError(f"not an ISO 8601 duration: {text!r} (try PT24H or P1D)")
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _field(spec: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    if spec in ("*", "?"):
        return set(range(low, high + 1))
    values: set[int] = set()
    for part in spec.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
        if part in ("*", ""):
            start, stop = low, high
        elif "-" in part:
            first, last = part.split("-")
            start, stop = _value(first, names), _value(last, names)
        else:
            start = _value(part, names)
            stop = start if "/" not in spec else high
        values.update(range(start, stop + 1, step))
    return values


def _value(text: str, names: dict[str, int] | None) -> int:
    return names[text.upper()] if names and text.upper() in names else int(text)


def _cron_times(expression: str, start: datetime, end: datetime) -> Iterator[datetime]:
    fields = expression.split()
    if len(fields) != 6:
        raise ValueError(f"cron needs six fields: {expression!r}")
    minutes, hours = _field(fields[0], 0, 59), _field(fields[1], 0, 23)
    days, months = _field(fields[2], 1, 31), _field(fields[3], 1, 12)
    weekdays = _field(fields[4], 1, 7, _WEEKDAYS)
    moment = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while moment <= end:
        cron_weekday = moment.isoweekday() % 7 + 1  # cron counts SUN=1 .. SAT=7
        if (
            moment.minute in minutes
            and moment.hour in hours
            and moment.day in days
            and moment.month in months
            and cron_weekday in weekdays
        ):
            yield moment
        moment += timedelta(minutes=1)


def _rate_times(amount: int, unit: str, start: datetime, end: datetime) -> Iterator[datetime]:
    period = amount * _UNIT_SECONDS[unit.rstrip("s")]
    tick = (int(start.timestamp()) // period + 1) * period
    while tick <= end.timestamp():
        yield datetime.fromtimestamp(tick, UTC)
        tick += period


def times(expression: str, start: datetime, end: datetime) -> Iterator[datetime]:
    """Fire times in the half-open interval (start, end]."""
    if rate := _RATE.match(expression):
        return _rate_times(int(rate.group(1)), rate.group(2), start, end)
    if cron := _CRON.match(expression):
        return _cron_times(cron.group(1), start, end)
    raise ValueError(f"unsupported schedule expression {expression!r}")


def _input(raw: str | None, at: datetime) -> dict[str, Any]:
    text = (raw or "{}").replace("<aws.scheduler.scheduled-time>", at.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return json.loads(text)


def scheduled_input(function: LocalFunction, at: datetime) -> dict[str, Any]:
    """The event the function's first schedule would deliver at `at`."""
    for event in function.events.values():
        if event.get("Type") in SCHEDULE_TYPES:
            return _input(event.get("Properties", {}).get("Input"), at)
    return {}


def firings(
    template: Template, function: LocalFunction, start: datetime, end: datetime
) -> Iterator[tuple[datetime, dict[str, Any]]]:
    for event in function.events.values():
        if event.get("Type") not in SCHEDULE_TYPES:
            continue
        properties = template.resolve(event.get("Properties", {}))
        expression = properties.get("ScheduleExpression") or properties.get("Schedule")
        for at in times(expression, start, end):
            yield at, _input(properties.get("Input"), at)
