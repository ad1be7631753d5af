"""Every mail the stack's SES "sends", written to disk as .eml (and .html) with an index.

moto keeps the raw bytes; the kind of each mail (digest, confirm, ...) comes from the EmailTags the
mailer passes to SES, read off the wire by a botocore hook.
"""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends


@dataclass
class Delivered:
    number: int
    message_id: str
    to: str
    subject: str
    kind: str
    clock: datetime
    raw: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    def part(self, subtype: str) -> str | None:
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body is not None and body.get_content_subtype() == subtype else None


@dataclass
class Mailbox:
    region: str
    now: Any  # () -> datetime, the stack's clock
    delivered: list[Delivered] = field(default_factory=list)
    _kinds: dict[str, str] = field(default_factory=dict)
    _seen: int = 0

    def install(self) -> None:
        boto3.setup_default_session()
        events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
        events.register("provide-client-params.sesv2.SendEmail", self._before)
        events.register("after-call.sesv2.SendEmail", self._after)

    def _before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        tags = {tag["Name"]: tag["Value"] for tag in params.get("EmailTags", [])}
        context["paperboy_kind"] = tags.get("kind", "notice")

    def _after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if parsed.get("MessageId"):
            self._kinds[parsed["MessageId"]] = context.get("paperboy_kind", "notice")

    def collect(self) -> list[Delivered]:
        """Mail sent since the last call, in order."""
        sent = ses_backends[DEFAULT_ACCOUNT_ID][self.region].sent_messages
        fresh = []
        for message in sent[self._seen :]:
            raw = message.raw_data.encode() if isinstance(message.raw_data, str) else message.raw_data
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            item = Delivered(
                number=len(self.delivered) + 1,
                message_id=message.id,
                to=str(parsed["To"] or ", ".join(dict.fromkeys(message.destinations))),
                subject=str(parsed["Subject"] or ""),
                kind=self._kinds.get(message.id, "notice"),
                clock=self.now(),
                raw=raw,
            )
            self.delivered.append(item)
            fresh.append(item)
        self._seen = len(sent)
        return fresh

    def latest_to(self, address: str) -> Delivered | None:
        for item in reversed(self.delivered):
            if address.lower() in item.to.lower():
                return item
        return None

    def write(self, out: Path) -> None:
        folder = out / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        index = []
        for item in self.delivered:
            name = f"{item.number:04d}.eml"
            (folder / name).write_bytes(item.raw)
            html = item.part("html")
            if html is not None:
                (folder / f"{item.number:04d}.html").write_text(html)
            index.append(
                {
                    "file": name,
                    "to": item.to,
                    "subject": item.subject,
                    "kind": item.kind,
                    "clock": item.clock.isoformat(),
                }
            )
        (folder / "index.json").write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n")
