"""InboundMail: SES stored a message in S3 and invokes this; read it, decide who may command, answer."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from paperboy import clock, telemetry, wiring
from paperboy.mail.inbound import Action, Received, Result, Verdicts, parse_message
from paperboy.readers import limits
from paperboy.settings import Settings

logger = Logger()
metrics = Metrics()
tracer = Tracer()
SETTINGS = Settings.from_env()
TABLES = wiring.dynamodb()
INBOX = wiring.inbox(SETTINGS, TABLES)
S3 = boto3.client("s3", config=wiring.AWS_CONFIG)
# A client of boto3's default session: powertools would otherwise start a session of its own, which
# loads the SDK's files again. (Not the tables' client: it rewrites attribute values, see paperboy.tables.)
IDEMPOTENCY = DynamoDBPersistenceLayer(
    table_name=SETTINGS.idempotency_table, boto3_client=boto3.client("dynamodb", config=wiring.AWS_CONFIG)
)
# SES may invoke twice for one message: the message id is handled once, its result remembered a week.
ONCE_PER_MESSAGE = IdempotencyConfig(event_key_jmespath="message_id", expires_after_seconds=7 * 86400)


class _Verdict(BaseModel):
    status: str = "GRAY"


class _Receipt(BaseModel):
    """SES's receipt (powertools' SesModel rejects real events: no dkimVerdict, no DISABLED)."""

    recipients: list[str]
    spam: _Verdict = Field(default_factory=_Verdict, alias="spamVerdict")
    virus: _Verdict = Field(default_factory=_Verdict, alias="virusVerdict")
    spf: _Verdict = Field(default_factory=_Verdict, alias="spfVerdict")
    dkim: _Verdict = Field(default_factory=_Verdict, alias="dkimVerdict")
    dmarc: _Verdict = Field(default_factory=_Verdict, alias="dmarcVerdict")


class _Header(BaseModel):
    name: str
    value: str


class _Mail(BaseModel):
    message_id: str = Field(alias="messageId", pattern=r"^[A-Za-z0-9._-]{1,200}$")
    source: str = ""
    # In order, SES's own Return-Path and Received first (cut after 10 KB: SES's stay).
    headers: list[_Header] = Field(default_factory=list)

    @property
    def client(self) -> str:
        """Who sent it, for the sign-up limits: the server SES's Received field names."""
        return limits.mail_client([h.value for h in self.headers if h.name.lower() == "received"])


class _Ses(BaseModel):
    mail: _Mail
    receipt: _Receipt


class _Record(BaseModel):
    ses: _Ses


class SesReceived(BaseModel):
    records: list[_Record] = Field(alias="Records", min_length=1)


@idempotent_function(
    data_keyword_argument="received",
    config=ONCE_PER_MESSAGE,
    persistence_store=IDEMPOTENCY,
    output_serializer=PydanticSerializer(model=Result),
)
def handle_once(received: Received) -> Result:
    return INBOX.handle(received, clock.now())


def _read(message_id: str) -> bytes:
    """The message's first inbound_max_bytes + 1 bytes: S3 sends no more (an attachment after the
    text stays unread), and one byte past the limit tells parse_message the message was cut."""
    limit = SETTINGS.inbound_max_bytes
    key = f"{SETTINGS.inbound_prefix}{message_id}"
    try:
        response = S3.get_object(Bucket=SETTINGS.mail_bucket, Key=key, Range=f"bytes=0-{limit}")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "InvalidRange":
            raise
        return b""  # an empty object: S3 refuses every range of it
    return response["Body"].read(limit + 1)


@logger.inject_lambda_context(correlation_id_path="Records[0].ses.mail.messageId", log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ONCE_PER_MESSAGE.register_lambda_context(context)
    results = []
    for record in SesReceived.model_validate(event).records:
        mail, receipt = record.ses.mail, record.ses.receipt
        raw = _read(mail.message_id)
        client = mail.client
        if client == limits.UNKNOWN_MAIL_CLIENT:
            logger.warning("no connecting server in SES's Received field: the mail shares one allowance")
        received = Received(
            message_id=mail.message_id,
            recipients=receipt.recipients,
            client=client,
            verdicts=Verdicts(
                spam=receipt.spam.status,
                virus=receipt.virus.status,
                spf=receipt.spf.status,
                dkim=receipt.dkim.status,
                dmarc=receipt.dmarc.status,
            ),
            message=parse_message(raw, envelope_sender=mail.source, max_bytes=SETTINGS.inbound_max_bytes),
        )
        result = handle_once(received=received)
        metrics.add_metric(
            name=f"Inbound{result.action.title().replace('_', '')}", unit=MetricUnit.Count, value=1
        )
        if result.action is Action.RATE_LIMITED:
            telemetry.record_throttled(metrics, result.limit or "unknown")
        logger.info(
            "inbound handled",
            extra={
                "action": result.action.value,
                "reason": result.reason,
                "mails": result.mails,
                "bytes_read": len(raw),
            },
        )
        results.append(result.action.value)
    return {"results": results}
