"""What each handler loads when Lambda imports it: heavy modules only where its work needs them.

Cold start itself is timed by `make bench` (against a floor measured in the same run); this pins
down, without timing anything, the placement that keeps it there. A fresh interpreter imports each
handler against moto on 127.0.0.1 and reports the modules it loaded beyond the floor's (the same
floor `make bench` times: the SDK, powertools' Logger, Metrics and Tracer and one client) and the
boto3 sessions it started (each session loads the SDK's endpoint and model files again)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from benchmarks.coldstart import FLOOR
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import gc, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
import boto3.session
sessions = sum(isinstance(o, boto3.session.Session) for o in gc.get_objects())
print(json.dumps({"modules": sorted(sys.modules), "sessions": sessions}))
"""
FLOOR_MODULES = FLOOR + "\nimport sys\nprint(json.dumps({'modules': sorted(sys.modules), 'sessions': 1}))\n"
HEAVY = {
    "numpy": "vectors: ranking and embedding",
    "jinja2": "templates: mail and pages",
    # Mail templates are inlined when the layer is built, or on first use where it was not.
    "css_inline": "nobody at import",
    "paperboy.mail.inbound.message": "the inbound mail parser",
    "paperboy.digests.ranking": "ranking (and the stemmer)",
    "aws_lambda_powertools.utilities.idempotency": "once-per-message inbound mail",
    "aws_lambda_powertools.utilities.parameters": "nobody: the key is read with the default session",
    # A boto3 resource's table (its model and classes): the tables are on a client (paperboy.tables).
    "boto3.dynamodb.table": "nobody: no DynamoDB resource",
}
NEEDED = {
    "fetch_papers": set(),
    "plan_digests": set(),
    "plan_shard": set(),
    "mail_events": set(),
    # Pages are templates; the form's mail (templates, limits, the mail client) waits for a POST.
    "web": {"jinja2"},
    "inbound_mail": {
        "jinja2",
        "paperboy.mail.inbound.message",
        "aws_lambda_powertools.utilities.idempotency",
    },
    "send_digests": {"numpy", "jinja2", "paperboy.digests.ranking"},
}
# Beyond the floor, by package: the third-party packages each handler loads, and paperboy's own
# (subpackages, or top-level modules). A new entry here is a cold-start cost someone chose.
# Every handler: its settings, wiring, its tables' DynamoDB client and pydantic (its models).
COMMON = {
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_inspection",
    "paperboy",
    "paperboy._exports",
    "paperboy.settings",
    "paperboy.wiring",
    "paperboy.tables",
    "boto3.dynamodb",
    "aws_lambda_powertools.utilities.typing",
}
# Powertools' decorators and helpers, loaded with any utility beyond Logger, Metrics and Tracer.
UTILITY = {"aws_lambda_powertools.middleware_factory", "aws_lambda_powertools.shared"}
BATCH = UTILITY | {"aws_lambda_powertools.utilities.batch", "aws_lambda_powertools.utilities.data_classes"}
TEMPLATES = {"jinja2", "markupsafe", "paperboy.compiled_templates"}
PACKAGES = {
    "fetch_papers": {"paperboy.clock", "paperboy.papers", "paperboy.telemetry"},
    "plan_digests": {"paperboy.clock", "paperboy.digests", "paperboy.mail", "paperboy.readers"},
    # The slot index alone: no profile store, so not even the address code.
    "plan_shard": BATCH | {"paperboy.digests", "paperboy.readers"},
    # The digest ledger (claims noted from SES's events): digests.ledger alone, never the ranking.
    "mail_events": {"paperboy.clock", "paperboy.digests", "paperboy.mail", "paperboy.readers"},
    # Its own routes (paperboy.web.routes): powertools' event handler loads every resolver it has.
    "web": TEMPLATES
    | {
        "aws_lambda_powertools.logging",
        "paperboy.clock",
        "paperboy.mail",
        "paperboy.readers",
        "paperboy.web",
    },
    "inbound_mail": UTILITY
    | TEMPLATES
    | {
        "aws_lambda_powertools.utilities.idempotency",
        # The S3 client: its transfer manager, which looks for the CRT.
        "boto3.s3",
        "boto3.crt",
        "s3transfer",
        "awscrt",
        "paperboy.clock",
        "paperboy.telemetry",
        # The digest ledger ("more 2" reads which papers a digest held): digests.ledger alone.
        "paperboy.digests",
        "paperboy.mail",
        "paperboy.papers",
        "paperboy.readers",
    },
    "send_digests": BATCH
    | TEMPLATES
    | {
        "numpy",
        "cython_runtime",
        "Stemmer",
        "paperboy.clock",
        "paperboy.digests",
        "paperboy.mail",
        "paperboy.papers",
        "paperboy.readers",
        "paperboy.semantic",
    },
}
# Functions that read and send no mail load none of the mail code (parser, MIME writer, templates)
# and no vectors. The stdlib's email.parser is in the floor (http.client imports it); the rest of
# the email package (its policies and header registry, the parser's heavy half) is not.
MAIL_FREE = ("fetch_papers", "plan_digests", "plan_shard", "mail_events")
NOT_MAIL_FREE = (
    "paperboy.mail.inbound",
    "paperboy.mail.outbound",
    "jinja2",
    "markupsafe",
    "css_inline",
    "numpy",
    "email",
)
SECRET = "paperboy-signing-key"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        secrets = boto3.client(
            "secretsmanager",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        secrets.create_secret(Name=SECRET, SecretString="k" * 32)
        yield url
    finally:
        server.stop()


def _loaded(script: str, function: str, endpoint: str) -> dict[str, Any]:
    """The modules a fresh interpreter holds after running `script` as `function`'s Lambda would."""
    code = ROOT / "functions" / function
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(code), str(ROOT / "layers" / "paperboy")]),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "SIGNING_KEY_SECRET": SECRET,
    }
    done = subprocess.run(
        [sys.executable, "-c", script, str(code / "app.py")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.fixture(scope="module")
def floor(endpoint: str) -> frozenset[str]:
    return frozenset(_loaded(FLOOR_MODULES, "fetch_papers", endpoint)["modules"])


def _package(module: str) -> str:
    """paperboy's subpackage or top-level module, powertools' utility, boto3's part, else the
    top-level package."""
    parts = module.split(".")
    depth = {"paperboy": 2, "boto3": 2, "aws_lambda_powertools": 3 if parts[1:2] == ["utilities"] else 2}
    return ".".join(parts[: depth.get(parts[0], 1)])


@pytest.mark.parametrize("function", sorted(NEEDED))
def test_a_handler_imports_only_the_heavy_modules_its_work_needs_and_one_boto3_session(
    function: str, endpoint: str, floor: frozenset[str]
) -> None:
    loaded = _loaded(CHILD, function, endpoint)
    beyond = set(loaded["modules"]) - floor - {"app"}
    assert {name for name in HEAVY if name in beyond} == NEEDED[function]
    assert loaded["sessions"] == 1
    # What it loads beyond the floor, by package (the standard library's modules aside).
    packages = {
        _package(name)
        for name in beyond
        if not name.startswith("_") and name.split(".")[0] not in sys.stdlib_module_names
    }
    assert packages == COMMON | PACKAGES[function], sorted(beyond)


@pytest.mark.parametrize("function", MAIL_FREE)
def test_a_function_that_handles_no_mail_loads_no_mail_code_and_no_vectors(
    function: str, endpoint: str, floor: frozenset[str]
) -> None:
    beyond = set(_loaded(CHILD, function, endpoint)["modules"]) - floor
    assert sorted(name for name in beyond if name.startswith(NOT_MAIL_FREE)) == []
