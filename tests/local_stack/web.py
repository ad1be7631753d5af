"""The Web function behind a local Function URL: real HTTP on 127.0.0.1, Lambda's v2.0 events inside."""

from __future__ import annotations

import base64
import time
import traceback
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any, TextIO
from urllib.parse import urlsplit

from local_stack.loopback import LoopbackServer


def function_url_event(
    method: str,
    url: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The event a Lambda Function URL delivers for one request (payload format 2.0), sent from
    `source_ip` (Lambda puts the connecting client's address there; nobody can set it by header)."""
    parts = urlsplit(url)
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    lowered.setdefault("host", parts.netloc)
    # Real Function URLs are HTTPS only; the local one is plain HTTP on 127.0.0.1.
    lowered.setdefault("x-forwarded-proto", parts.scheme or "https")
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": parts.netloc,
            "domainPrefix": parts.netloc.split(".")[0],
            "http": {
                "method": method.upper(),
                "path": parts.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", "local"),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": base64.b64encode(body).decode() if body else None,
        "isBase64Encoded": bool(body),
    }


def url_response(invoke: Callable[[], dict[str, Any]], log: TextIO | None = None) -> dict[str, Any]:
    """The HTTP answer a Function URL gives: the handler's response, or 502 when it raised (what
    the caller of a real Function URL sees, and what the errors alarm counts). The traceback goes
    to `log`, as Lambda writes it to the function's log."""
    try:
        return invoke()
    except Exception:
        if log is not None:
            log.write(traceback.format_exc())
        return {"statusCode": 502, "headers": {"content-type": "text/plain"}, "body": "Internal Server Error"}


def response_fields(response: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body bytes) of a Function URL response (payload format 2.0)."""
    payload = response.get("body") or ""
    data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
    headers = {str(name): str(value) for name, value in (response.get("headers") or {}).items()}
    return int(response.get("statusCode", 200)), headers, data


class FunctionUrlServer(LoopbackServer):
    """Serves a handler (`invoke(event) -> response dict`) on http://127.0.0.1:<free port>/."""

    def __init__(self, invoke: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                event = function_url_event(
                    self.command, f"{server.url.rstrip('/')}{self.path}", body, dict(self.headers.items())
                )
                status, headers, data = response_fields(url_response(lambda: invoke(event)))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"{self.origin}/"
