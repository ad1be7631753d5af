"""Local stacks shared by the tests of one process (one pytest worker), each handed over exactly as
a fresh stack would be.

Building a stack costs seconds (moto resources from template.yaml, servers, handler imports) and the
usual starting point, the fixture days fetched and embedded, costs many more. A pooled stack is built
and prepared once per set of arguments; after each test it is suspended (moto, the environment, the
hooks and the clock go back to what they were) and the next test gets it back at its checkpoint:
moto's state, the clock, mailbox, faults, counters and fixtures copied back, functions cold.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from datetime import datetime
from typing import Any, TextIO

from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack

# Each kept stack holds its servers' threads and a copy of moto's state: enough for a test file's
# few shapes of stack, not one per test.
KEPT = 6


class StackPool:
    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._stacks: OrderedDict[Hashable, LocalStack] = OrderedDict()

    @contextlib.contextmanager
    def stack(
        self,
        *,
        domain: str,
        start: datetime,
        fixtures: SourceFixtures,
        parameters: dict[str, str] | None = None,
        log: TextIO | None = None,
        strict: bool = True,
        prepare: Callable[[LocalStack], Any] | None = None,
    ) -> Iterator[LocalStack]:
        """A stack as `LocalStack(...)` would give it, after `prepare` (e.g. `LocalStack.fetch`).
        Without `prepare` the fixtures only matter while the test runs, so stacks that differ only in
        them are one stack; with it, they shaped the checkpoint and are part of the key."""
        parameters = dict(parameters or {})
        key = (
            domain,
            start,
            tuple(sorted(parameters.items())),
            strict,
            prepare,
            fixtures.fingerprint() if prepare is not None else None,
        )
        stack = self._stacks.pop(key, None)
        if stack is None:
            stack = self._build(domain, start, fixtures.copy(), parameters, strict, prepare)
        self._stacks[key] = stack
        while len(self._stacks) > self._kept:
            _, oldest = self._stacks.popitem(last=False)
            oldest.__exit__(None, None, None)
        try:
            stack.resume(fixtures, log)
        except BaseException:
            # Half resumed is no state to hand to the next test either.
            del self._stacks[key]
            stack.__exit__(None, None, None)
            raise
        try:
            yield stack
        finally:
            stack.suspend()

    @staticmethod
    def _build(
        domain: str,
        start: datetime,
        fixtures: SourceFixtures,
        parameters: dict[str, str],
        strict: bool,
        prepare: Callable[[LocalStack], Any] | None,
    ) -> LocalStack:
        stack = LocalStack(
            domain=domain, start=start, fixtures=fixtures, parameters=parameters, strict=strict
        )
        stack.__enter__()
        try:
            if prepare is not None:
                prepare(stack)
            stack.checkpoint(fixtures=prepare is not None)
        except BaseException:
            stack.__exit__(None, None, None)
            raise
        stack.suspend()
        return stack

    def close(self) -> None:
        while self._stacks:
            _, stack = self._stacks.popitem()
            stack.__exit__(None, None, None)
