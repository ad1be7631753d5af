"""One inbound message as SES received it: envelope recipients, receipt verdicts, the parsed mail."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from paperboy.mail.inbound.message import InboundMessage
from paperboy.readers.limits import UNKNOWN_MAIL_CLIENT
from paperboy.readers.model import Subscriber


class Verdicts(BaseModel):
    """SES's receipt verdicts (`PASS`, `FAIL`, `GRAY`, `PROCESSING_FAILED`, `DISABLED`)."""

    spam: str = "PASS"
    virus: str = "PASS"
    spf: str = "PASS"
    dkim: str = "PASS"
    dmarc: str = "PASS"

    @property
    def hostile(self) -> bool:
        return "FAIL" in (self.spam, self.virus, self.dmarc)

    @property
    def sender_proven(self) -> bool:
        return self.dmarc == "PASS"


class Received(BaseModel):
    message_id: str
    recipients: list[str]
    verdicts: Verdicts = Field(default_factory=Verdicts)
    message: InboundMessage
    # Who asked, for the sign-up limits (limits.mail_client): the server that handed the mail to SES.
    client: str = UNKNOWN_MAIL_CLIENT


def reader_today(reader: Subscriber, now: datetime) -> date:
    """Today in the reader's time zone: the day a command's dates ("pause until friday") count from."""
    return now.astimezone(reader.settings.zone).date()
