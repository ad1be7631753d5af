"""The current time, in one place so that a local stack or a test can move it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current time, always timezone-aware UTC."""
    return _source().astimezone(UTC)


def use(source: Callable[[], datetime]) -> None:
    """Make `now()` ask `source` instead of the system clock (local stack and tests only)."""
    global _source
    _source = source


def reset() -> None:
    use(lambda: datetime.now(UTC))
