"""Nobody can make Paperboy mail someone in bulk (issue 11): the attacks, replayed as scenario files
through the local stack as `make scenario` runs them, counted in what OUT holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from local_stack import scenario
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from local_stack.template import TEMPLATE

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

SCENARIOS = Path(__file__).parents[1] / "scenarios"
DOMAIN = "papers.example.org"
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def run(name: str, out: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """(mail index, web answers, state) of the scenario `name` run into `out`."""
    scenario.run(SCENARIOS / f"{name}.json", out)
    mail = json.loads((out / "mail" / "index.json").read_text())
    web = [json.loads(path.read_text()) for path in sorted((out / "web").glob("*.json"))]
    return mail, web, json.loads((out / "state.json").read_text())


def throttle_metrics(out: Path) -> dict[str, int]:
    """SignupsThrottled data points in the functions' EMF lines, by the limit that was hit."""
    counts: dict[str, int] = {}
    for line in (out / "functions.log").read_text().splitlines():
        if not line.startswith("{") or '"SignupsThrottled"' not in line:
            continue
        record = json.loads(line)
        if "limit" in record:
            value = record["SignupsThrottled"]
            counts[record["limit"]] = counts.get(record["limit"], 0) + int(
                sum(value) if isinstance(value, list) else value
            )
    return counts


def test_three_hundred_posts_from_one_client_send_ten_mails(tmp_path):
    mail, web, state = run("abuse_one_client", tmp_path)
    statuses = [answer["status"] for answer in web]
    assert statuses[:10] == [200] * 10
    assert statuses[10:300] == [429] * 290
    # A new hour is a new window for the client.
    assert statuses[300] == 200
    assert len(mail) == 11 and {entry["kind"] for entry in mail} == {"confirm"}
    # Refused before any write: no pending reader for the 290 refused addresses.
    assert len(state["subscribers"]) == 11
    page = web[10]
    assert "Too many" in page["body"] and page["headers"]["Content-Type"].startswith("text/html")
    assert int(page["headers"]["Retry-After"]) > 0
    assert throttle_metrics(tmp_path) == {"client": 290}


def test_sub_address_case_and_dot_variants_count_as_one_mailbox(tmp_path):
    mail, web, state = run("abuse_subaddress", tmp_path)
    recipients = [entry["to"].lower() for entry in mail]
    at_example_org = [to for to in recipients if to.endswith("@example.org")]
    at_gmail = [to for to in recipients if to.endswith(("@gmail.com", "@googlemail.com"))]
    from_one_v6_net = [to for to in recipients if to.endswith("@example.net")]
    # 23 web posts and 3 mails to subscribe@ for target@example.org's variants: 3 confirmations.
    assert len(at_example_org) == 3
    assert [answer["status"] for answer in web[:23]] == [200] * 3 + [429] * 20
    # Gmail ignores dots in the local part: five spellings, one mailbox, 3 confirmations.
    assert len(at_gmail) == 3
    # Twelve addresses of one IPv6 /64 are one client: 10 an hour.
    assert len(from_one_v6_net) == 10
    assert len(mail) == 16
    assert len(state["subscribers"]) == 16
    assert throttle_metrics(tmp_path) == {"address": 20 + 3 + 2, "client": 2}


def test_one_domain_and_the_whole_service_have_daily_caps(tmp_path):
    mail, web, _ = run("abuse_domain_and_total", tmp_path)
    statuses = [answer["status"] for answer in web]
    assert statuses[:60] == [200] * 50 + [429] * 10
    assert statuses[60:] == [200] * 150 + [429] * 50
    assert len([entry for entry in mail if entry["to"].endswith("@bigcorp.example")]) == 50
    assert len(mail) == 200
    assert throttle_metrics(tmp_path) == {"domain": 10, "total": 50}


def test_one_unverified_sender_claiming_200_domains_cannot_stop_a_legitimate_sign_up(tmp_path):
    # Issue 14, item 8: 200 mails to subscribe@ from one server, each claiming another domain with no
    # DMARC record (verdict GRAY). The client is the server SES names, whatever the mail claims.
    mail, web, state = run("abuse_many_claimed_domains", tmp_path)
    claimed = [entry for entry in mail if entry["to"].startswith("victim@claimed")]
    assert len(claimed) == 10  # the client's hour
    assert throttle_metrics(tmp_path) == {"client": 190}
    # The legitimate sign-ups that follow, by the form and by mail, are confirmed.
    assert [answer["status"] for answer in web] == [200]
    assert [(entry["to"], entry["kind"]) for entry in mail[10:]] == [
        ("legit@example.org", "confirm"),
        ("newreader@example.net", "confirm"),
    ]
    assert len(state["subscribers"]) == 12


def test_addresses_the_mailer_refuses_and_malformed_forms_get_a_4xx_and_leave_nothing(tmp_path):
    mail, web, state = run("abuse_bad_requests", tmp_path)
    assert [answer["status"] for answer in web] == [400] * 7 + [400, 400, 400, 413, 415, 404]
    assert mail == []
    assert state["subscribers"] == []
    assert all("<html" in answer["body"].lower() for answer in web)


def test_the_limits_are_operator_parameters_and_the_alarm_watches_what_the_handler_emits(tmp_path):
    log = (tmp_path / "functions.log").open("w")
    parameters = {"SignupLimitPerClientPerHour": "2"}
    with LocalStack(
        domain=DOMAIN, start=START, fixtures=SourceFixtures(), log=log, parameters=parameters
    ) as running:
        statuses = [
            running.web("POST", "/subscribe", body=f"email=r{n}%40example.org".encode(), client="192.0.2.9")[
                "status"
            ]
            for n in range(3)
        ]
    log.close()
    assert statuses == [200, 200, 429]
    emitted = [
        json.loads(line)
        for line in (tmp_path / "functions.log").read_text().splitlines()
        if "SignupsThrottled" in line
    ]
    dimension_sets = [
        set(dimensions)
        for record in emitted
        for directive in record["_aws"]["CloudWatchMetrics"]
        if any(metric["Name"] == "SignupsThrottled" for metric in directive["Metrics"])
        for dimensions in directive["Dimensions"]
    ]
    alarm = yaml_parse(TEMPLATE.read_text())["Resources"]["SignupsThrottledAlarm"]["Properties"]
    assert alarm["MetricName"] == "SignupsThrottled" and alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert {dimension["Name"] for dimension in alarm["Dimensions"]} in dimension_sets
    assert {"limit", "service"} in dimension_sets
