"""HTTP GET with timeouts and retries, shared by every source.

Sources are public, rate-limited APIs: a 429 or 5xx is retried with exponential backoff (honouring
`Retry-After` and Hugging Face's `RateLimit: ...;t=<seconds>`), anything else is final.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable

import urllib3

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_RATE_LIMIT_RESET = re.compile(r"\bt=(\d+)")
# Never wait longer than this for one retry, whatever a server asks for.
MAX_WAIT_SECONDS = 120.0


class FetchError(Exception):
    """A source could not be read; stored papers are left as they were."""


class RetryableResponse(FetchError):
    """A response worth asking for again (rate limits, server errors, cut-off bodies)."""

    def __init__(self, message: str, wait_hint: float | None = None) -> None:
        super().__init__(message)
        self.wait_hint = wait_hint


class HttpClient:
    def __init__(
        self,
        *,
        timeout: float,
        retries: int,
        backoff: float,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = "Paperboy/1.0 (+https://github.com/paperboy)",
    ) -> None:
        self._pool = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=False
        )
        self._retries = retries
        self._backoff = backoff
        self._sleep = sleep
        self._headers = {"User-Agent": user_agent}
        self.failed_attempts = 0

    def get(self, url: str, parse: Callable[[bytes], object]) -> object:
        """GET `url` and return `parse(body)`; `parse` raising ValueError counts as a bad response."""
        last_error: FetchError = FetchError(f"no attempt made for {url}")
        for attempt in range(self._retries + 1):
            if attempt:
                self._sleep(self._wait(attempt, last_error))
            try:
                return self._attempt(url, parse)
            except RetryableResponse as error:
                self.failed_attempts += 1
                last_error = error
        raise FetchError(f"giving up on {url} after {self._retries + 1} attempts: {last_error}")

    def _attempt(self, url: str, parse: Callable[[bytes], object]) -> object:
        try:
            response = self._pool.request("GET", url, headers=self._headers, preload_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise RetryableResponse(f"{type(error).__name__}: {error}") from error
        if response.status in RETRYABLE_STATUS:
            raise RetryableResponse(f"HTTP {response.status}", _wait_hint(response.headers))
        if response.status != 200:
            raise FetchError(f"HTTP {response.status} from {url}")
        try:
            return parse(response.data)
        except ValueError as error:
            raise RetryableResponse(f"unreadable body: {error}") from error

    def _wait(self, attempt: int, error: FetchError) -> float:
        hint = error.wait_hint if isinstance(error, RetryableResponse) else None
        if hint is not None:
            return min(hint, MAX_WAIT_SECONDS)
        exponential = self._backoff * 2 ** (attempt - 1)
        return min(exponential * random.uniform(0.5, 1.5), MAX_WAIT_SECONDS)


def _wait_hint(headers: urllib3.HTTPHeaderDict) -> float | None:
    retry_after = headers.get("Retry-After", "")
    if retry_after.strip().isdigit():
        return float(retry_after)
    reset = _RATE_LIMIT_RESET.search(headers.get("RateLimit", ""))
    return float(reset.group(1)) + 1 if reset else None
