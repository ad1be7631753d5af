"""DynamoDB access for papers. Keys and index names match template.yaml's PapersTable."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from paperboy.papers.model import Paper

DAY_INDEX = "ByDay"
Outcome = Literal["new", "updated", "unchanged"]

# Fields each source is the authority on. A paper seen by both keeps Hugging Face's votes and
# links and arXiv's categories; neither source overwrites what only the other knows.
_ALWAYS_FROM = {
    "hf_daily_papers": ("upvotes", "comments", "github_url", "project_url", "ai_summary", "keywords"),
    "arxiv": ("categories",),
}
# Set once, by whichever source sees the paper first; a re-fetch never moves them. upvotes is the
# ByDay index's sort key: a paper first seen on arXiv (no votes) must still carry it, or the sparse
# index leaves it out of its day; Hugging Face then refreshes it (it is in _ALWAYS_FROM).
_FIRST_SEEN = (
    "day",
    "source",
    "first_seen",
    "published_at",
    "title",
    "display_title",
    "summary",
    "upvotes",
    "comments",
)


# What `stored_rows` reads of a row: the fields a re-fetch may refresh (see `upsert`).
_REFRESHABLE = ("id", "authors", *dict.fromkeys(name for names in _ALWAYS_FROM.values() for name in names))
_COMPARED: dict[str, Any] = {
    "ProjectionExpression": ", ".join(f"#{name}" for name in _REFRESHABLE),
    "ExpressionAttributeNames": {f"#{name}": name for name in _REFRESHABLE},
}


def _to_item(paper: Paper) -> dict[str, Any]:
    item = paper.model_dump(mode="json")
    item["keywords"] = list(paper.keywords)
    item["authors"] = list(paper.authors)
    item["categories"] = list(paper.categories)
    # Stored as DynamoDB Binary, not as the base64 text a JSON dump makes of bytes.
    if paper.vector is None:
        item.pop("vector", None)
    else:
        item["vector"] = paper.vector
    return item


def paper_from_item(item: dict[str, Any]) -> Paper:
    """A stored row (or a stream image of one) as a Paper."""
    fields = {name: item[name] for name in Paper.model_fields if name in item}
    for number in ("upvotes", "comments"):
        if number in fields:
            fields[number] = int(fields[number])
    if isinstance(fields.get("vector"), Binary):
        fields["vector"] = fields["vector"].value
    return Paper.model_validate(fields)


class PaperStore:
    def __init__(self, table: Any, retention_days: int = 30) -> None:
        self._table = table
        self._retention = timedelta(days=retention_days)

    def upsert(self, paper: Paper, now: datetime, stored: dict[str, Any] | None = None) -> Outcome:
        """Insert or refresh one paper without duplicating it or moving its first-seen date.

        `stored` is the paper's current row when the caller already read it (see `stored_rows`):
        an unchanged paper then costs no write at all.
        """
        item = _to_item(paper)
        item["first_seen"] = now.isoformat()
        refreshed = [*_ALWAYS_FROM.get(paper.source, ()), *(("authors",) if paper.authors else ())]
        if stored is not None and not _changed(stored, item, refreshed):
            return "unchanged"
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        assignments: list[str] = []
        for field in dict.fromkeys((*_FIRST_SEEN, *refreshed)):
            if item.get(field) is None:
                continue
            names[f"#{field}"] = field
            values[f":{field}"] = item[field]
            keep = field in _FIRST_SEEN and field not in refreshed
            assignments.append(
                f"#{field} = if_not_exists(#{field}, :{field})" if keep else f"#{field} = :{field}"
            )
        names["#expires_at"] = "expires_at"
        values[":expires_at"] = int((now + self._retention).timestamp())
        assignments.append("#expires_at = if_not_exists(#expires_at, :expires_at)")
        response = self._table.update_item(
            Key={"id": paper.id},
            UpdateExpression="SET " + ", ".join(assignments),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_OLD",
        )
        old = response.get("Attributes")
        if not old:
            return "new"
        return "updated" if _changed(old, item, refreshed) else "unchanged"

    def put_reference(self, paper: Paper, now: datetime) -> bool:
        """Store a paper a reader named (`like`, `me:`) so that Embed gives it a vector, unless it is
        stored already (False). Without upvotes it stays out of the sparse ByDay index: a paper one
        reader liked is not a candidate for everyone's digest (a source that features it later sets
        its votes, and it joins its day like any other)."""
        item = _to_item(paper)
        for field in ("upvotes", "comments"):
            item.pop(field, None)
        item["first_seen"] = now.isoformat()
        item["expires_at"] = int((now + self._retention).timestamp())
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(id)")
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def stored_rows(self, paper_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Current rows of these papers, read in batches of 100 (one read per hour, not one write)."""
        rows: dict[str, dict[str, Any]] = {}
        client = self._table.meta.client
        unique = list(dict.fromkeys(paper_ids))
        for start in range(0, len(unique), 100):
            keys = [{"id": pid} for pid in unique[start : start + 100]]
            # Only what `upsert` compares: the rows' vectors and abstracts are most of their bytes.
            request = {self._table.name: {"Keys": keys, **_COMPARED}}
            while request:
                response = client.batch_get_item(RequestItems=request)
                # The table's client (paperboy.tables) (un)marshals attribute values itself.
                for row in response["Responses"].get(self._table.name, []):
                    rows[row["id"]] = row
                request = response.get("UnprocessedKeys") or {}
        return rows

    def set_vector(self, paper_id: str, vector: bytes, model: str) -> bool:
        """Store the paper's sentence vector; False if the paper is gone (expired) meanwhile.

        Only the vector's own attributes are written, so a concurrent refresh of votes or links by
        FetchPapers is never undone, and an upsert never touches the vector.
        """
        try:
            self._table.update_item(
                Key={"id": paper_id},
                UpdateExpression="SET #vector = :vector, #model = :model",
                ConditionExpression="attribute_exists(#id)",
                ExpressionAttributeNames={"#vector": "vector", "#model": "vector_model", "#id": "id"},
                ExpressionAttributeValues={":vector": Binary(vector), ":model": model},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def request_vector(self, paper_id: str, model: str, now: datetime) -> bool:
        """Make the paper show on the stream as needing a vector of `model` (backfill); False if it
        has one already or is gone. A vector of another model is dropped: it cannot be compared."""
        try:
            self._table.update_item(
                Key={"id": paper_id},
                UpdateExpression="SET #requested = :now REMOVE #vector, #model",
                ConditionExpression=(
                    "attribute_exists(#id) AND (attribute_not_exists(#model) OR #model <> :model)"
                ),
                ExpressionAttributeNames={
                    "#requested": "vector_requested_at",
                    "#vector": "vector",
                    "#model": "vector_model",
                    "#id": "id",
                },
                ExpressionAttributeValues={":now": now.isoformat(), ":model": model},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, paper_id: str) -> Paper | None:
        item = self._table.get_item(Key={"id": paper_id}).get("Item")
        return paper_from_item(item) if item else None

    def papers_of_day(self, day: date) -> list[Paper]:
        """The day's papers, most upvoted first."""
        papers: list[Paper] = []
        query: dict[str, Any] = {
            "IndexName": DAY_INDEX,
            "KeyConditionExpression": Key("day").eq(day.isoformat()),
            "ScanIndexForward": False,
        }
        while True:
            page = self._table.query(**query)
            papers.extend(paper_from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return papers
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _changed(stored: dict[str, Any], item: dict[str, Any], fields: list[str]) -> bool:
    return any(_comparable(stored.get(field)) != _comparable(item[field]) for field in fields)


def _comparable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    if hasattr(value, "as_integer_ratio") and not isinstance(value, bool):
        return int(value) if value == int(value) else float(value)
    return value
