"""The local stack is template.yaml run on this machine: its tables, queues, function environments and
schedules come from the template, and scenario files drive it (brief section 6)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from samtranslator.yaml_helper import yaml_parse

from local_stack import scenario, schedules
from local_stack.__main__ import main as local_stack_main
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from local_stack.template import TEMPLATE

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

DOMAIN = "papers.example.org"
SCENARIOS = Path(__file__).parents[1] / "scenarios"
BODY = yaml_parse(TEMPLATE.read_text())


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in BODY["Resources"].items() if spec["Type"] == kind}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def stack(stack_pool):
    """A stack with no sources. (moto's state is process-wide: two stacks cannot overlap.)"""
    with stack_pool.stack(
        domain=DOMAIN, start=utc("2026-11-24T00:30:00Z"), fixtures=SourceFixtures()
    ) as running:
        yield running


# -- resources -----------------------------------------------------------------------------------
def _by_name(entries: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {entry[key]: entry for entry in entries}


def test_every_template_table_exists_with_the_template_keys_and_indexes(stack):
    dynamodb = boto3.client("dynamodb")
    tables = resources("AWS::DynamoDB::Table")
    assert len(dynamodb.list_tables()["TableNames"]) == len(tables)
    for logical, spec in tables.items():
        declared = spec["Properties"]
        name = stack.template.attributes[logical]["Ref"]
        actual = dynamodb.describe_table(TableName=name)["Table"]
        assert actual["KeySchema"] == declared["KeySchema"], logical
        assert _by_name(actual["AttributeDefinitions"], "AttributeName") == _by_name(
            declared["AttributeDefinitions"], "AttributeName"
        ), logical
        declared_indexes = _by_name(declared.get("GlobalSecondaryIndexes", []), "IndexName")
        actual_indexes = _by_name(actual.get("GlobalSecondaryIndexes", []), "IndexName")
        assert set(actual_indexes) == set(declared_indexes), logical
        for index, declared_index in declared_indexes.items():
            assert actual_indexes[index]["KeySchema"] == declared_index["KeySchema"], (logical, index)
            assert actual_indexes[index]["Projection"] == declared_index["Projection"], (logical, index)
        assert actual["BillingModeSummary"]["BillingMode"] == declared["BillingMode"], logical
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl["AttributeName"] == declared["TimeToLiveSpecification"]["AttributeName"], logical
        assert ttl["TimeToLiveStatus"] == "ENABLED", logical


def test_every_template_queue_exists_with_its_timeouts_and_dead_letter_queue(stack):
    sqs = boto3.client("sqs")
    queues = resources("AWS::SQS::Queue")
    assert len(sqs.list_queues()["QueueUrls"]) == len(queues)
    arns = {}
    attributes = {}
    for logical in queues:
        url = stack.template.attributes[logical]["QueueUrl"]
        attributes[logical] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        arns[logical] = attributes[logical]["QueueArn"]
    for logical, spec in queues.items():
        declared, actual = spec["Properties"], attributes[logical]
        for name in ("VisibilityTimeout", "MessageRetentionPeriod"):
            if name in declared:
                assert actual[name] == str(declared[name]), (logical, name)
        if "RedrivePolicy" in declared:
            redrive = json.loads(actual["RedrivePolicy"])
            target = declared["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert redrive["deadLetterTargetArn"] == arns[target], logical
            assert int(redrive["maxReceiveCount"]) == declared["RedrivePolicy"]["maxReceiveCount"], logical
        else:
            assert "RedrivePolicy" not in actual, logical


def test_function_environments_are_globals_plus_their_own_variables_resolved(stack):
    """Checked against what moto holds, not against the stack's own bookkeeping."""
    global_variables = BODY["Globals"]["Function"]["Environment"]["Variables"]
    functions = resources("AWS::Serverless::Function")
    assert set(stack.functions) == set(functions)
    for logical, spec in functions.items():
        own = spec["Properties"].get("Environment", {}).get("Variables", {})
        declared = {**global_variables, **own}
        environment = stack.functions[logical].environment
        assert set(environment) == set(declared), logical
        for variable, value in declared.items():
            _check_resolved(stack, f"{logical}.{variable}", value, environment[variable])


def _check_resolved(stack: LocalStack, where: str, declared: Any, actual: str) -> None:
    assert isinstance(actual, str) and "${" not in actual and "Fn::" not in actual, where
    if not isinstance(declared, dict):
        assert actual == str(declared), where
        return
    ((function, argument),) = declared.items()
    if function == "Fn::GetAtt":
        logical, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
        assert (logical, attribute) == ("WebFunctionUrl", "FunctionUrl"), where
        assert actual.startswith("http://127.0.0.1:"), where
        return
    if function == "Fn::Sub":  # only parameter names are written with !Sub
        assert boto3.client("ssm").get_parameter(Name=actual)["Parameter"]["Value"], where
        return
    assert function == "Ref", where
    if argument in BODY["Parameters"]:
        assert actual == stack.template.parameters[argument], where
        return
    kind = BODY["Resources"][argument]["Type"]
    if kind == "AWS::DynamoDB::Table":
        table = boto3.client("dynamodb").describe_table(TableName=actual)["Table"]
        assert table["KeySchema"] == BODY["Resources"][argument]["Properties"]["KeySchema"], where
    elif kind == "AWS::SQS::Queue":
        declared_timeout = BODY["Resources"][argument]["Properties"].get("VisibilityTimeout")
        queue = boto3.client("sqs").get_queue_attributes(QueueUrl=actual, AttributeNames=["All"])[
            "Attributes"
        ]
        assert declared_timeout is None or queue["VisibilityTimeout"] == str(declared_timeout), where
    elif kind == "AWS::SecretsManager::Secret":
        assert boto3.client("secretsmanager").get_secret_value(SecretId=actual)["SecretString"], where
    elif kind == "AWS::SES::ConfigurationSet":
        boto3.client("sesv2").get_configuration_set(ConfigurationSetName=actual)
    elif kind == "AWS::S3::Bucket":
        boto3.client("s3").head_bucket(Bucket=actual)
    else:
        pytest.fail(f"{where}: no check for a Ref to {kind}")


def test_the_sources_point_at_the_local_fixture_server(stack):
    environment = stack.functions["FetchPapersFunction"].environment
    assert environment["HF_BASE_URL"].startswith("http://127.0.0.1:")
    assert environment["ARXIV_BASE_URL"] == environment["HF_BASE_URL"]
    assert environment["ARXIV_CATEGORIES"] == BODY["Parameters"]["ArxivCategories"]["Default"]
    assert environment["MAIL_DOMAIN"] == DOMAIN


def test_parameters_passed_to_the_stack_reach_the_functions():
    with LocalStack(
        domain=DOMAIN,
        start=utc("2026-11-24T00:30:00Z"),
        fixtures=SourceFixtures(),
        parameters={"ArxivCategories": "cs.CL,cs.RO", "PaperRetentionDays": "14"},
    ) as running:
        environment = running.functions["FetchPapersFunction"].environment
    assert (environment["ARXIV_CATEGORIES"], environment["PAPER_RETENTION_DAYS"]) == ("cs.CL,cs.RO", "14")


# -- schedules -----------------------------------------------------------------------------------
def test_advancing_a_day_fires_every_schedule_in_order_with_its_time(stack_pool, corpus, tmp_path):
    fixtures = SourceFixtures()
    for day in ("2026-11-23", "2026-11-24", "2026-11-25"):  # two papers a day keep 24 fetches quick
        fixtures.hf_days[day] = corpus.write(tmp_path, day, corpus.items(day)[:2])
    start = utc("2026-11-24T00:30:00Z")
    with stack_pool.stack(domain=DOMAIN, start=start, fixtures=fixtures) as running:
        firings = running.advance(schedules.parse_duration("PT24H"))
        invocations = list(running.invocations)
        requests = list(running.fixtures.requests)
        clock = running.now
        papers = {day: len(listed) for day, listed in running.papers_by_day().items()}
    hours = [start.replace(minute=0) + timedelta(hours=n) for n in range(1, 25)]
    fetches = [f for f in firings if f.function == "FetchPapersFunction"]
    plans = [f for f in firings if f.function == "PlanDigestsFunction"]
    assert [f.at for f in fetches] == hours  # rate(1 hour): on the hour, 24 times
    assert [f.at for f in plans] == hours  # cron(0 * * * ? *)
    assert {f.function for f in firings} == {"FetchPapersFunction", "PlanDigestsFunction"}
    assert [f.at for f in firings] == sorted(f.at for f in firings)
    # Within an hour, papers are fetched before digests are planned.
    for fetch, plan in zip(fetches, plans, strict=True):
        assert firings.index(fetch) < firings.index(plan)
    # Each run sees its own scheduled time, and runs with the clock at that time.
    assert all(f.event == {"scheduled_time": f.at.strftime("%Y-%m-%dT%H:%M:%SZ")} for f in firings)
    # Besides the schedules, only what they feed runs: Embed from the papers table's stream (and
    # PlanShard from the slots PlanDigests queues, none here: no slot holds a reader).
    fed = {"EmbedFunction", "PlanShardFunction"}
    scheduled = [(at, name) for at, name in invocations if name not in fed]
    assert scheduled == [(f.at, f.function) for f in firings]
    assert {name for _, name in invocations} - {f.function for f in firings} == {"EmbedFunction"}
    assert clock == start + timedelta(hours=24)
    # The midnight fetch reads the new day and the one before: 25 Nov joins the stored days.
    assert "/api/daily_papers?date=2026-11-25&limit=100&p=0" in requests
    assert requests.index("/api/daily_papers?date=2026-11-25&limit=100&p=0") == len(requests) - 3
    assert papers == {"2026-11-23": 2, "2026-11-24": 2, "2026-11-25": 2}


def test_the_clock_never_moves_backwards(stack):
    with pytest.raises(ValueError, match="forward"):
        stack.advance(timedelta(hours=-1))


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("PT24H", timedelta(hours=24)),
        ("P1D", timedelta(days=1)),
        ("P1DT6H30M", timedelta(days=1, hours=6, minutes=30)),
    ],
)
def test_durations(text, duration):
    assert schedules.parse_duration(text) == duration


@pytest.mark.parametrize("text", ["24h", "PT", "P", "", "P1W", "-PT1H", "PT1.5H"])
def test_bad_durations_are_refused_with_an_example(text):
    with pytest.raises(ValueError, match="PT24H"):
        schedules.parse_duration(text)


def test_schedule_expressions():
    start, end = utc("2026-11-23T23:30:00Z"), utc("2026-11-30T23:30:00Z")
    daily = list(schedules.times("cron(15 5 ? * MON-FRI *)", start, end))
    assert [t.strftime("%a %H:%M") for t in daily] == [
        "Tue 05:15",
        "Wed 05:15",
        "Thu 05:15",
        "Fri 05:15",
        "Mon 05:15",
    ]
    assert len(list(schedules.times("rate(15 minutes)", start, start + timedelta(hours=1)))) == 4
    assert next(schedules.times("rate(1 day)", start, end)) == utc("2026-11-24T00:00:00Z")
    with pytest.raises(ValueError, match="unsupported"):
        list(schedules.times("at(2026-11-24T00:00:00)", start, end))


# -- scenarios -----------------------------------------------------------------------------------
def test_the_example_scenario_runs_like_make_scenario(tmp_path, capsys):
    out = tmp_path / "out"
    assert local_stack_main(["scenario", str(SCENARIOS / "fetch_and_advance.json"), "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[0])
    state = json.loads((out / "state.json").read_text())
    index = json.loads((out / "mail" / "index.json").read_text())
    assert state["clock"] == summary["clock"] == "2026-11-24T08:30:00+00:00"
    (ada,) = state["subscribers"]
    assert (ada["email"], ada["status"], ada["topics"], ada["categories"]) == (
        "ada@example.org",
        "active",
        ["visual", "skill learning"],
        ["cs.CV"],
    )
    for field in ("excludes", "authors", "count", "frequency", "timezone", "send_time"):
        assert field in ada
    # Hugging Face's two days, plus the three papers only the arXiv feed lists on the 24th.
    assert {day: len(papers) for day, papers in state["papers"].items()} == {
        "2026-11-23": 30,
        "2026-11-24": 33,
    }
    assert summary["papers"] == {"2026-11-23": 30, "2026-11-24": 33}
    assert [(mail["to"], mail["kind"], mail["clock"]) for mail in index] == [
        ("ada@example.org", "digest", "2026-11-24T08:00:00+00:00")
    ]
    assert (out / "mail" / "0001.eml").is_file()


def write_scenario(directory: Path, **changes: Any) -> Path:
    body = {"clock": "2026-11-24T05:30:00Z", "steps": [{"fetch": {}}]} | changes
    path = directory / "scenario.json"
    path.write_text(json.dumps(body))
    return path


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            [{"fetch": {}}, {"teleport": {"to": "mars"}}],
            r"step 2 \(teleport\): unknown step; known steps: fetch",
        ),
        ([{"advance": "24 hours"}], r"step 1 \(advance\): not an ISO 8601 duration: '24 hours' \(try PT24H"),
        ([{"fetch": {}}, {"fetch": {"sources": "all"}}], r"step 2 \(fetch\): fetch takes no settings"),
        (
            [{"advance": "PT1H"}, {"fetch": {}, "digest": {}}],
            r"step 2: a step is an object with exactly one key",
        ),
        (
            [{"click": {"to": "nobody@example.org", "link": "confirm"}}],
            r"step 1 \(click\): no mail was sent to",
        ),
        ([{"web": {"method": "POST"}}], r"(?s)step 1 \(web\):.*path"),
        ([{"web": {"path": "subscribe"}}], r"(?s)step 1 \(web\):.*path"),
        ([{"web": {"path": "/subscribe", "client": "evil"}}], r"(?s)step 1 \(web\):.*client must be an IPv4"),
        (
            [{"web": {"path": "/subscribe", "form": {"email": "a@b.org"}, "body": "x"}}],
            r"step 1 \(web\): give one of form, body, body_base64",
        ),
        ([{"web": {"path": "/", "body_base64": "%%%"}}], r"step 1 \(web\): body_base64 is not valid"),
        ([{"web": {"path": "/", "cookie": "x"}}], r"(?s)step 1 \(web\):.*cookie"),
        ([{"web": "/subscribe"}], r"step 1 \(web\):"),
    ],
    ids=[
        "unknown-kind",
        "bad-duration",
        "bad-argument",
        "two-keys",
        "nothing-to-click",
        "web-no-path",
        "web-relative-path",
        "web-bad-client",
        "web-two-bodies",
        "web-bad-base64",
        "web-unknown-field",
        "web-not-an-object",
    ],
)
def test_a_bad_step_stops_the_scenario_naming_the_step(tmp_path, steps, message):
    with pytest.raises(scenario.ScenarioError, match=message):
        scenario.run(write_scenario(tmp_path, steps=steps), tmp_path / "out")
    assert not (tmp_path / "out" / "state.json").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"clock": "2026-11-24T05:30:00"}, "clock needs a time zone"),
        ({"clock": "next tuesday"}, "clock"),
        ({"clock": None}, "clock"),
        ({"steps": {"fetch": {}}}, "steps"),
        ({"stepz": []}, "stepz"),
        (
            {"sources": {"hf_daily_papers": {"2026-11-24": "missing.json"}}},
            "sources.hf_daily_papers.2026-11-24",
        ),
        ({"sources": {"hf_daily_papers": {"24 Nov": "x.json"}}}, "hf_daily_papers"),
    ],
    ids=[
        "naive-clock",
        "bad-clock",
        "no-clock",
        "steps-not-a-list",
        "unknown-key",
        "missing-file",
        "bad-day",
    ],
)
def test_a_malformed_scenario_is_refused_before_anything_runs(tmp_path, changes, message):
    with pytest.raises(scenario.ScenarioError, match=message):
        scenario.run(write_scenario(tmp_path, **changes), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_scenario_that_is_not_json_or_not_there_is_refused(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"clock": "2026-11-24T05:30:00Z", "steps": [')
    with pytest.raises(scenario.ScenarioError, match=r"broken\.json"):
        scenario.run(broken, tmp_path / "out")
    with pytest.raises(scenario.ScenarioError, match="no scenario file"):
        scenario.run(tmp_path / "absent.json", tmp_path / "out")


def test_the_command_line_reports_a_scenario_error_and_exits_2(tmp_path, capsys):
    path = write_scenario(tmp_path, steps=[{"fetch": {}}, {"teleport": {}}])
    assert local_stack_main(["scenario", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "scenario error: step 2 (teleport)" in capsys.readouterr().err


def test_each_stack_gets_its_own_function_log_lines():
    # powertools' Logger keeps the stdout it saw at the first cold start in this process.
    logs = []
    for _ in range(2):
        log = io.StringIO()
        with LocalStack(
            domain=DOMAIN, start=utc("2026-11-28T06:00:00Z"), fixtures=SourceFixtures(), log=log
        ) as running:
            running.fetch()
        logs.append(log.getvalue())
    for log in logs:
        messages = [json.loads(line).get("message") for line in log.splitlines() if line.startswith("{")]
        assert messages.count("source fetched") == 2  # Hugging Face and arXiv


def test_a_web_step_answers_in_out_web_as_the_function_url_would(tmp_path, caplog):
    steps = [
        {"web": {"method": "GET", "path": "/subscribe", "client": "203.0.113.7"}},
        {"web": {"path": "/nowhere?x=1", "headers": {"Accept-Language": "de"}}},
        {"web": {"method": "post", "path": "/subscribe", "form": {"email": "ada@example.org"}}},
    ]
    scenario.run(write_scenario(tmp_path, steps=steps), tmp_path / "out")
    answers = [json.loads(path.read_text()) for path in sorted((tmp_path / "out" / "web").glob("*.json"))]
    assert [path.name for path in sorted((tmp_path / "out" / "web").iterdir())] == [
        "0001.json",
        "0002.json",
        "0003.json",
    ]
    assert [answer["status"] for answer in answers] == [200, 404, 200]
    assert 'name="email"' in answers[0]["body"]
    assert answers[0]["headers"]["Content-Type"].startswith("text/html")
    assert (answers[0]["method"], answers[0]["client"]) == ("GET", "203.0.113.7")
    index = json.loads((tmp_path / "out" / "mail" / "index.json").read_text())
    assert [(mail["to"], mail["kind"]) for mail in index] == [("ada@example.org", "confirm")]


def test_the_client_address_is_the_events_source_ip(stack):
    seen = []
    original = stack.functions["WebFunction"].invoke
    stack.functions["WebFunction"].invoke = lambda event: seen.append(event) or original(event)
    stack.web("GET", "/subscribe", client="2001:db8::7")
    assert seen[0]["requestContext"]["http"]["sourceIp"] == "2001:db8::7"


def test_a_web_handler_that_raises_answers_502_and_logs_the_traceback():
    log = io.StringIO()
    with LocalStack(
        domain=DOMAIN, start=utc("2026-11-24T00:30:00Z"), fixtures=SourceFixtures(), log=log
    ) as running:
        for operation in ("dynamodb.GetItem", "dynamodb.UpdateItem"):
            running.faults.add(operation, code="ValidationException", status=400)
        answer = running.web("POST", "/subscribe", body=b"email=ada%40example.org")
    assert answer["status"] == 502 and answer["body"] == "Internal Server Error"
    assert "Traceback" in log.getvalue() and "ValidationException" in log.getvalue()
