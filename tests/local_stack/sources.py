"""A local HTTP server that plays Hugging Face and arXiv from fixture files.

It listens on 127.0.0.1 only. Tests can queue faults (a status, a truncated body, a stall) that the
next matching requests receive before the server answers normally again.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from local_stack.loopback import LoopbackServer

EMPTY_FEED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
    'version="2.0"><channel><title>empty</title><link>http://rss.arxiv.org</link>'
    "<description>none</description></channel></rss>"
)


@dataclass
class Fault:
    """One scripted bad answer: a status with a body, or a stall longer than the client's timeout."""

    status: int = 500
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stall_seconds: float = 0.0


@dataclass
class SourceFixtures:
    hf_days: dict[str, Path] = field(default_factory=dict)
    arxiv_feeds: dict[str, Path] = field(default_factory=dict)
    faults: deque[Fault] = field(default_factory=deque)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_hf_directory(self, directory: Path) -> None:
        for path in sorted(directory.glob("*.json")):
            self.hf_days[path.stem] = path


class _Handler(BaseHTTPRequestHandler):
    fixtures: SourceFixtures

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the stack's own log says what was fetched."""

    def do_GET(self) -> None:
        fixtures = self.fixtures
        with fixtures.lock:
            fixtures.requests.append(self.path)
            fault = fixtures.faults.popleft() if fixtures.faults else None
        if fault is not None:
            if fault.stall_seconds:
                time.sleep(fault.stall_seconds)
            self._send(fault.status, fault.body, fault.headers)
            return
        url = urlparse(self.path)
        if url.path == "/api/daily_papers":
            self._daily_papers(parse_qs(url.query))
        elif url.path.startswith("/rss/"):
            self._feed(url.path.removeprefix("/rss/"))
        else:
            self._send(404, b'{"error": "not found"}')

    def _daily_papers(self, query: dict[str, list[str]]) -> None:
        day = query.get("date", [""])[0]
        try:
            date.fromisoformat(day)
        except ValueError:
            self._send(400, b'{"error": "Invalid date"}')
            return
        limit = int(query.get("limit", ["50"])[0])
        page = int(query.get("p", ["0"])[0])
        path = self.fixtures.hf_days.get(day)
        items = json.loads(path.read_text()) if path else []
        body = json.dumps(items[page * limit : (page + 1) * limit]).encode()
        self._send(200, body, {"Content-Type": "application/json"})

    def _feed(self, categories: str) -> None:
        path = self.fixtures.arxiv_feeds.get(categories) or self.fixtures.arxiv_feeds.get("*")
        body = path.read_bytes() if path else EMPTY_FEED.encode()
        self._send(200, body, {"Content-Type": "application/rss+xml"})

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a scripted stall): nothing left to answer


class SourceServer(LoopbackServer):
    """Serves `fixtures` on http://127.0.0.1:<free port> until `stop()`."""

    def __init__(self, fixtures: SourceFixtures) -> None:
        super().__init__(type("FixtureHandler", (_Handler,), {"fixtures": fixtures}))
        self.fixtures = fixtures

    @property
    def url(self) -> str:
        return self.origin
