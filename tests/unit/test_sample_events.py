"""events/ holds a sample event for every function (the project's fixed shape), for `sam local invoke`
and for operators reading what each function is given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperboy.readers import limits

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(path.name for path in (ROOT / "functions").iterdir() if (path / "app.py").is_file())


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_has_a_sample_event_that_is_json(function: str) -> None:
    samples = sorted((ROOT / "events").glob(f"{function}*.json"))
    assert samples, f"no events/{function}*.json"
    for sample in samples:
        assert isinstance(json.loads(sample.read_text()), dict), sample.name


def test_the_inbound_mail_sample_is_a_receipt_the_sign_up_limits_can_place() -> None:
    event = json.loads((ROOT / "events" / "inbound_mail.json").read_text())
    mail = event["Records"][0]["ses"]["mail"]
    received = [header["value"] for header in mail["headers"] if header["name"].lower() == "received"]
    assert limits.mail_client(received) != limits.UNKNOWN_MAIL_CLIENT
    assert event["Records"][0]["ses"]["receipt"]["recipients"] == mail["destination"]
