"""Shared fixtures: fake AWS credentials for every test, the fixture corpus, moto, the source server."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import settings
from moto import mock_aws
from samtranslator.yaml_helper import yaml_parse

from local_stack.embeddings import local_model_dir
from local_stack.pool import StackPool
from local_stack.sources import SourceFixtures, SourceServer
from local_stack.template import TEMPLATE
from paperboy.digests.ledger import DigestLedger
from paperboy.readers.slots import SlotIndex
from paperboy.readers.store import SubscriberStore
from paperboy.readers.vectors import TopicVectorStore
from paperboy.semantic.embedding import Embedder
from paperboy.tables import Tables

FIXTURES = Path(__file__).parent / "fixtures"
SUBSCRIBERS_TABLE = "paperboy-test-subscribers"

# Property tests run the same examples on every machine and every run: a failure in CI is a failure
# on the developer's machine, with no example database to carry between them and no deadline for a
# loaded two-core machine to miss. Tests that need more examples than this say so themselves.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, max_examples=50)
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a real AWS account, whatever the developer's shell exports."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


class Corpus:
    """The real-title fixture days (`tests/fixtures/daily_papers/YYYY-MM-DD.json`, HF API shape)."""

    directory = FIXTURES / "daily_papers"

    @property
    def days(self) -> list[str]:
        return sorted(path.stem for path in self.directory.glob("*.json"))

    def path(self, day: str) -> Path:
        return self.directory / f"{day}.json"

    def items(self, day: str) -> list[dict[str, Any]]:
        """A fresh copy of the day's raw items, safe to modify."""
        return copy.deepcopy(json.loads(self.path(day).read_text()))

    def write(self, directory: Path, day: str, items: list[dict[str, Any]]) -> Path:
        """Write (modified) items as a day file under `directory`, for a source server to serve."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{day}.json"
        path.write_text(json.dumps(items))
        return path


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real sentence model, loaded once per test session."""
    folder = local_model_dir()
    if not (folder / "model.onnx").is_file():
        pytest.fail(f"no model files in {folder}: run `make model` (the Makefile's test targets do)")
    return Embedder.load(folder)


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return Corpus()


@pytest.fixture
def aws() -> Iterator[None]:
    """moto plays AWS for the duration of the test."""
    with mock_aws():
        yield


@pytest.fixture
def source_server(corpus: Corpus) -> Iterator[SourceServer]:
    """The fixture HTTP server on 127.0.0.1, serving every corpus day; `.fixtures.faults` scripts errors."""
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(corpus.directory)
    server = SourceServer(fixtures).start()
    try:
        yield server
    finally:
        server.stop()


def template_table(logical_id: str, name: str) -> Any:
    """A DynamoDB table (inside moto) with the keys and indexes template.yaml declares for `logical_id`."""
    properties = yaml_parse(TEMPLATE.read_text())["Resources"][logical_id]["Properties"]
    keys = ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode")
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName=name, **{key: properties[key] for key in keys if key in properties}
    )
    # As the functions see it: on a client that speaks Python values (paperboy.tables), no resource.
    return Tables(boto3.client("dynamodb", region_name="us-east-1")).table(name)


@pytest.fixture
def subscribers_table() -> Iterator[Any]:
    """The subscribers table exactly as template.yaml declares its keys and indexes, on moto."""
    with mock_aws():
        yield template_table("SubscribersTable", SUBSCRIBERS_TABLE)


# The stores of the subscribers table's aggregates (readers.table), all on the one table.
@pytest.fixture
def store(subscribers_table: Any) -> SubscriberStore:
    return SubscriberStore(subscribers_table)


@pytest.fixture
def ledger(subscribers_table: Any) -> DigestLedger:
    return DigestLedger(subscribers_table)


@pytest.fixture
def slots(subscribers_table: Any) -> SlotIndex:
    return SlotIndex(subscribers_table)


@pytest.fixture
def topic_vectors(subscribers_table: Any) -> TopicVectorStore:
    return TopicVectorStore(subscribers_table)


@pytest.fixture(scope="session")
def stack_pool() -> Iterator[StackPool]:
    """Local stacks built once per test process, handed to each test as a fresh stack would be."""
    pool = StackPool()
    try:
        yield pool
    finally:
        pool.close()
