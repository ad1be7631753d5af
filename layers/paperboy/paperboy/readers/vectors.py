"""The vectors of a reader's topics, stored on their profile item but written apart from it: the
Embed function fills them in without taking part in the profile's versioning. Layout: readers.table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from paperboy.readers.table import PROFILE, conditional_failed, sub_key


class TopicVectorStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    def set_topic_vectors(
        self, subscriber_id: str, topics: tuple[str, ...], vectors: dict[str, bytes], model: str
    ) -> bool:
        """Store the vectors of the reader's topics if the topics are still `topics` (else False).

        The version is left alone: a command that read the reader before this write still saves,
        and its put (which carries the vectors it read) shows up on the stream to be filled again.
        """
        try:
            self._table.update_item(
                Key={"pk": sub_key(subscriber_id), "sk": PROFILE},
                UpdateExpression="SET #vectors = :vectors, #model = :model",
                ConditionExpression="attribute_exists(pk) AND #settings.#topics = :topics",
                ExpressionAttributeNames={
                    "#vectors": "topic_vectors",
                    "#model": "vector_model",
                    "#settings": "settings",
                    "#topics": "topics",
                },
                ExpressionAttributeValues={
                    ":vectors": {topic: Binary(vector) for topic, vector in vectors.items()},
                    ":model": model,
                    ":topics": list(topics),
                },
            )
        except ClientError as error:
            if conditional_failed(error):
                return False
            raise
        return True

    def set_like_vectors(
        self, subscriber_id: str, vectors: dict[str, bytes], gone: Sequence[str], model: str
    ) -> bool:
        """Store vectors of papers the reader liked and drop those of papers no longer liked (False
        if the reader is gone). Each paper's vector is its own, so no condition on the likes is
        needed: a vector written for a paper unliked meanwhile is dropped by the next change."""
        names: dict[str, str] = {"#likes": "like_vectors", "#model": "vector_model"}
        values: dict[str, Any] = {":model": model}
        sets = ["#model = if_not_exists(#model, :model)"]
        for number, (paper_id, vector) in enumerate(vectors.items()):
            names[f"#p{number}"] = paper_id
            values[f":v{number}"] = Binary(vector)
            sets.append(f"#likes.#p{number} = :v{number}")
        removes = []
        for number, paper_id in enumerate(gone):
            names[f"#g{number}"] = paper_id
            removes.append(f"#likes.#g{number}")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self._table.update_item(
                Key={"pk": sub_key(subscriber_id), "sk": PROFILE},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk) AND attribute_exists(#likes)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if conditional_failed(error):
                return False
            raise
        return True

    def request_vectors(self, subscriber_id: str, now: datetime) -> bool:
        """Make the reader's profile show on the stream again, so that the Embed function fills in
        the topic vectors it lacks (backfill). The version is left alone, as in set_topic_vectors."""
        try:
            self._table.update_item(
                Key={"pk": sub_key(subscriber_id), "sk": PROFILE},
                UpdateExpression="SET #requested = :now",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#requested": "vectors_requested_at"},
                ExpressionAttributeValues={":now": now.isoformat()},
            )
        except ClientError as error:
            if conditional_failed(error):
                return False
            raise
        return True
