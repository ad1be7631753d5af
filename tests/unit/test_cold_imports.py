"""What each handler loads when Lambda imports it: heavy modules only where its work needs them.

Cold start itself is timed by `make bench` (against a floor measured in the same run); this pins
down, without timing anything, the placement that keeps it there. A fresh interpreter imports each
handler against moto on 127.0.0.1 and reports the heavy modules it loaded and the boto3 sessions it
started (each session loads the SDK's endpoint and model files again)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
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
HEAVY = {
    "numpy": "vectors: ranking and embedding",
    "jinja2": "templates: mail and pages",
    "css_inline": "mail templates",
    "paperboy.mail.inbound.message": "the inbound mail parser",
    "paperboy.digests.ranking": "ranking (and the stemmer)",
    "aws_lambda_powertools.utilities.idempotency": "once-per-message inbound mail",
    "aws_lambda_powertools.utilities.parameters": "nobody: the key is read with the default session",
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
        "css_inline",
        "paperboy.mail.inbound.message",
        "aws_lambda_powertools.utilities.idempotency",
    },
    "send_digests": {"numpy", "jinja2", "css_inline", "paperboy.digests.ranking"},
}
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


@pytest.mark.parametrize("function", sorted(NEEDED))
def test_a_handler_imports_only_the_heavy_modules_its_work_needs_and_one_boto3_session(
    function: str, endpoint: str
) -> None:
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
        [sys.executable, "-c", CHILD, str(code / "app.py")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert {name for name in HEAVY if name in loaded["modules"]} == NEEDED[function]
    assert loaded["sessions"] == 1
