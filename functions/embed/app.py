"""Embed: gives new papers and changed reader topics their sentence vectors (DynamoDB Streams).

The only function that loads the model (its own layer: onnxruntime, tokenizers, model files), and
only when a batch has something to embed: its own writes and unrelated changes cost no model load.
"""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.types import TypeDeserializer

from paperboy import wiring
from paperboy.semantic import Change, Embedder, VectorIndexer
from paperboy.settings import Settings

logger = Logger()
tracer = Tracer()
SETTINGS = Settings.from_env()
_DESERIALIZER = TypeDeserializer()
_EMBEDDER: list[Embedder] = []


@tracer.capture_method
def _embed(texts: list[str]) -> Any:
    if not _EMBEDDER:
        _EMBEDDER.append(Embedder.load(SETTINGS.model_dir))
    return _EMBEDDER[0].embed(texts)


TABLES = wiring.dynamodb()
INDEXER = VectorIndexer(
    wiring.paper_store(SETTINGS, TABLES), wiring.topic_vector_store(SETTINGS, TABLES), _embed
)


def _plain(value: dict[str, Any]) -> Any:
    """A stream attribute value; Lambda delivers binary values as base64 text."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return _DESERIALIZER.deserialize({"B": base64.b64decode(inner)})
    if kind == "BS":
        return _DESERIALIZER.deserialize({"BS": [base64.b64decode(item) for item in inner]})
    if kind == "M":
        return {key: _plain(item) for key, item in inner.items()}
    if kind == "L":
        return [_plain(item) for item in inner]
    return _DESERIALIZER.deserialize(value)


TABLES = {SETTINGS.papers_table: "papers", SETTINGS.subscribers_table: "subscribers"}


def _change(record: dict[str, Any]) -> Change:
    # arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL
    table = record["eventSourceARN"].split(":table/", 1)[1].split("/", 1)[0]
    image = record["dynamodb"].get("NewImage")
    return Change(
        sequence=record["dynamodb"]["SequenceNumber"],
        table=TABLES[table],
        image={key: _plain(value) for key, value in image.items()} if image else None,
    )


# No custom metrics (each costs $0.30 a month): the alarms watch Lambda's errors and the failures
# queue, and the "embedded" log line counts what each batch did.
@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcome = INDEXER.apply([_change(record) for record in event.get("Records", [])])
    logger.info(
        "embedded",
        extra={
            "papers": outcome.papers,
            "readers": outcome.readers,
            "texts": outcome.texts,
            "skipped": outcome.skipped,
            "superseded": outcome.superseded,
            "failed": len(outcome.failed),
        },
    )
    # Lambda resumes the shard at the earliest reported record and never re-sends the ones before it.
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in outcome.failed]}
