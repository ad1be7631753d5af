"""A local HTTP server that plays Hugging Face and arXiv from fixture files.

It listens on 127.0.0.1 only. Tests can queue faults (a status, a truncated body, a stall) that the
next matching requests receive before the server answers normally again.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from local_stack.loopback import LoopbackServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
_ATOM = "{http://www.w3.org/2005/Atom}"
ElementTree.register_namespace("", _ATOM.strip("{}"))
ElementTree.register_namespace("arxiv", "http://arxiv.org/schemas/atom")
ElementTree.register_namespace("opensearch", "http://a9.com/-/spec/opensearch/1.1/")
# What arXiv's API accepts in id_list (a malformed id gets 400 and an Error entry).
_API_ID = re.compile(r"^(\d{4}\.\d{4,5}|[a-z][a-z\-]*(\.[A-Z]{2})?/\d{7})(v\d+)?$")

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
    # arXiv's search API: every entry it can answer, in one Atom feed (id_list and au: filter it).
    arxiv_api: Path | None = FIXTURES / "arxiv_api" / "entries.xml"
    faults: deque[Fault] = field(default_factory=deque)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_hf_directory(self, directory: Path) -> None:
        for path in sorted(directory.glob("*.json")):
            self.hf_days[path.stem] = path

    def copy(self) -> SourceFixtures:
        """An independent copy (a lock of its own)."""
        fixtures = SourceFixtures()
        fixtures.assign(self)
        return fixtures

    def assign(self, other: SourceFixtures) -> None:
        """Hold what `other` holds, in copies of its containers (this object's lock stays)."""
        with self.lock:
            self.hf_days = dict(other.hf_days)
            self.arxiv_feeds = dict(other.arxiv_feeds)
            self.arxiv_api = other.arxiv_api
            self.faults = deque(copy.deepcopy(list(other.faults)))
            self.requests = list(other.requests)

    def fingerprint(self) -> str:
        """What the server answers with, as text: equal fingerprints, equal answers."""
        answers = (sorted(self.hf_days.items()), sorted(self.arxiv_feeds.items()), self.arxiv_api)
        return repr((*answers, list(self.faults)))


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
        elif url.path == "/api/query":
            self._api_query(parse_qs(url.query))
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

    def _api_query(self, query: dict[str, list[str]]) -> None:
        """arXiv's API as it behaves: unknown ids are dropped, a malformed one is a 400 Error feed,
        `au:"Name"` matches the author's name, newest first, up to max_results."""
        ids = [i for i in query.get("id_list", [""])[0].split(",") if i]
        if any(not _API_ID.match(paper_id) for paper_id in ids):
            self._send(400, (FIXTURES / "arxiv_api" / "error.xml").read_bytes())
            return
        wanted = {re.sub(r"v\d+$", "", paper_id) for paper_id in ids}
        author = re.fullmatch(r'au:"?([^"]*)"?', query.get("search_query", [""])[0].strip())
        limit = int(query.get("max_results", ["10"])[0])
        feed = ElementTree.parse(self.fixtures.arxiv_api).getroot() if self.fixtures.arxiv_api else None
        entries = [] if feed is None else feed.findall(f"{_ATOM}entry")
        kept = []
        for entry in entries:
            entry_id = re.sub(r"^.*?/abs/|v\d+$", "", entry.findtext(f"{_ATOM}id") or "")
            names = {(a.findtext(f"{_ATOM}name") or "").lower() for a in entry.findall(f"{_ATOM}author")}
            if (ids and entry_id in wanted) or (author and author.group(1).lower() in names):
                kept.append(entry)
        kept.sort(key=lambda entry: entry.findtext(f"{_ATOM}published") or "", reverse=bool(author))
        if feed is not None:
            for entry in entries:
                feed.remove(entry)
            feed.extend(kept[:limit])
        body = ElementTree.tostring(feed, xml_declaration=True, encoding="utf-8") if feed is not None else b""
        self._send(200, body, {"Content-Type": "application/atom+xml"})

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
        self._handler = type("FixtureHandler", (_Handler,), {"fixtures": fixtures})
        super().__init__(self._handler)
        self.fixtures = fixtures

    def serve(self, fixtures: SourceFixtures) -> None:
        """Answer from `fixtures` from now on."""
        self._handler.fixtures = fixtures
        self.fixtures = fixtures

    @property
    def url(self) -> str:
        return self.origin
