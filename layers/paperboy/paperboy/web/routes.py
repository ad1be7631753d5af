"""Which function answers a request: an HTTP method and a path of literal segments and `<name>`
parameters, each parameter one whole segment.

Web's few routes need no more. Powertools' event handler would do this too, but importing it
imports every resolver it has (AppSync, Bedrock agents, VPC Lattice, OpenAPI) and every Lambda
event class: ~30 ms of each cold start of the function behind every link in Paperboy's mail."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Routes"]

_PARAMETER = re.compile(r"<(\w+)>")

Handler = Callable[..., Any]


@dataclass
class Routes:
    _table: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Register the decorated function for `method` requests to paths matching `pattern`."""
        parts = []
        for piece in pattern.split("/"):
            parameter = _PARAMETER.fullmatch(piece)
            parts.append(f"(?P<{parameter[1]}>[^/]+)" if parameter else re.escape(piece))
        compiled = re.compile("/".join(parts))

        def register(handler: Handler) -> Handler:
            self._table.append((method.upper(), compiled, handler))
            return handler

        return register

    def get(self, pattern: str) -> Callable[[Handler], Handler]:
        return self.route("GET", pattern)

    def post(self, pattern: str) -> Callable[[Handler], Handler]:
        return self.route("POST", pattern)

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        """The function for this request and its path parameters; None when no route takes it."""
        for wanted, compiled, handler in self._table:
            found = compiled.fullmatch(path)
            if found is not None and wanted == method.upper():
                return handler, found.groupdict()
        return None
