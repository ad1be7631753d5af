"""Cold start of every handler as Lambda would run it: a fresh interpreter that sees only what
`sam build` packaged (the function's folder and the layer, nothing from the developer's virtual
environment), writes no bytecode (Lambda's /var/task and /opt are read-only), imports the handler with
the environment the template gives it and serves its first event, against moto over HTTP on 127.0.0.1.
Every run starts from the same AWS state (moto's backends put back as they were), so each first event
does the whole of its work: a message applied, a digest ranked and sent, a bounce recorded. Without
that, runs after the first would meet their own results (a message already handled, a digest already
sent) and take the short way out.

Lambda's own start (fetching the code, starting the sandbox) comes on top and is not ours to measure.
Absolute times depend on the machine and on whoever else uses it, so each handler is also compared
with a floor run just before it in the same conditions: the SDK and powertools alone (FLOOR)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from moto.server import ThreadedMotoServer

from local_stack import inbound as local_inbound
from local_stack.lambdas import RUNTIME_ENVIRONMENT
from local_stack.snapshot import MotoState
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from local_stack.streams import lambda_record
from local_stack.web import function_url_event
from paperboy.readers.model import ReaderSettings

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
BUILD = ROOT / ".aws-sam" / "build"
CHILD = """
import importlib.util, json, sys, time
from datetime import datetime
from paperboy import clock  # before the clock starts: a module of one function and datetime
# The stack's time, not this machine's: the events' papers and periods are of the stack's day.
clock.use(lambda: datetime.fromisoformat(sys.argv[3]))
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module  # as Lambda's runtime imports it
spec.loader.exec_module(module)
imported = time.perf_counter()

class Context:
    function_name = "cold"; memory_limit_in_mb = 512; aws_request_id = "cold-start"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:cold"
    def get_remaining_time_in_millis(self): return 60000

event = json.load(open(sys.argv[2]))
module.handler(event, Context())
done = time.perf_counter()
print(json.dumps({"import_ms": 1000 * (imported - started), "first_invocation_ms": 1000 * (done - imported)}))

# After the clock: what the handler loaded that is not ours, for the libraries' run (LIBRARIES).
import gc, os, weakref
from botocore.client import BaseClient
ours = (os.environ["LAMBDA_TASK_ROOT"], os.sep + "paperboy" + os.sep)
libraries = [
    name for name, loaded in list(sys.modules.items())
    if name not in ("app", "__main__") and not name.startswith("_jinja2_module_templates")
    and not any(part in (getattr(loaded, "__file__", None) or "") for part in ours)
]
clients = [  # (S3 keeps a weak proxy to its client: the same client, not a second one)
    o.meta.service_model.service_name for o in gc.get_objects()
    if isinstance(o, BaseClient) and not isinstance(o, weakref.ProxyTypes)
]
# A client used once and dropped (the signing key's) is gone from the heap; its model stays loaded.
import boto3
cache = boto3.DEFAULT_SESSION._session.get_component("data_loader")._cache if boto3.DEFAULT_SESSION else {}
clients += sorted({key[1] for key in cache if key[0] == "load_service_model"} - set(clients))
print(json.dumps({"libraries": libraries, "clients": clients}))
"""
# The least any handler can cost, on the same layer and in the same conditions: the SDK, powertools'
# Logger, Metrics and Tracer as every handler makes them, and one client (DynamoDB: every handler's).
FLOOR_WORK = """
import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
Logger(); Metrics(); Tracer()
boto3.client("dynamodb")
"""
# The floor plus every module a handler loaded that is not Paperboy's (the libraries and the parts of
# the standard library they and we use), and the clients it made beyond the floor's: the least that
# handler can cost without dropping a library, whatever our own code does.
LIBRARIES_WORK = """
for name in loaded["libraries"]:
    try:
        importlib.import_module(name)
    except Exception:  # a module that only imports in its package's own context: its cost is in the package's
        pass
clients = list(loaded["clients"])
if "dynamodb" in clients:
    clients.remove("dynamodb")
for service in clients:
    boto3.client(service)
"""


def _timed(work: str, before: str = "") -> str:
    """A script that prints how long `work` took, in the shape of a handler's sample."""
    return (
        f"import importlib, json, sys, time\n{before}started = time.perf_counter()\n{work}"
        "done = time.perf_counter()\n"
        'print(json.dumps({"import_ms": 1000 * (done - started), "first_invocation_ms": 0.0}))\n'
    )


FLOOR = _timed(FLOOR_WORK)
LIBRARIES = _timed(FLOOR_WORK + LIBRARIES_WORK, before="loaded = json.load(open(sys.argv[1]))\n")


def _events(stack: LocalStack, reader_id: str, digest_reader_id: str) -> dict[str, dict[str, Any]]:
    reader = stack.subscribers.get(reader_id)
    assert reader is not None
    sender = stack.functions["SendDigestsFunction"]._module
    links = sender.SENDER.links if sender else None
    raw = local_inbound.compose(
        local_inbound.InboundSpec.model_validate({"from": reader.email, "text": "count 4"}),
        to=links.reply_address(reader) if links else "",
        now=stack.now,
        subject="Re: papers",
    )
    message_id = "coldstartmessage0001"
    stack.aws.client("s3").put_object(
        Bucket=stack.template.attributes["InboundMailBucket"]["Ref"], Key=f"inbound/{message_id}", Body=raw
    )
    # A reader with no digest yet, so the job ranks, renders and sends a whole one.
    job = {
        "subscriber_id": digest_reader_id,
        "period": (stack.now + timedelta(days=1)).date().isoformat(),
        "due": stack.now.isoformat(),
    }
    web = stack.template.function_urls["WebFunction"]
    return {
        "EmbedFunction": _new_paper_record(stack),
        "FetchPapersFunction": json.loads((EVENTS / "fetch_papers.json").read_text()),
        "PlanDigestsFunction": json.loads((EVENTS / "plan_digests.json").read_text()),
        "PlanShardFunction": json.loads((EVENTS / "plan_shard.json").read_text()),
        "SendDigestsFunction": {
            "Records": [
                {
                    "messageId": "cold-1",
                    "receiptHandle": "cold",
                    "body": json.dumps(job),
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "md5OfBody": "",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": stack.template.attributes["DigestQueue"]["Arn"],
                    "awsRegion": "us-east-1",
                }
            ]
        },
        "WebFunction": function_url_event(
            "GET", f"{web}unsubscribe/{links.unsubscribe_url(reader).rsplit('/', 1)[1]}"
        )
        if links
        else function_url_event("GET", f"{web}subscribe"),
        "InboundMailFunction": local_inbound.ses_event(
            message_id=message_id,
            source=reader.email,
            recipients=[links.reply_address(reader)] if links else [],
            verdicts=dict.fromkeys(local_inbound.VERDICT_NAMES, "PASS"),
            function_arn="cold",
            raw=raw,
            now=stack.now,
            client="192.0.2.25",
        ),
        "MailEventsFunction": json.loads((EVENTS / "mail_events_bounce.json").read_text()),
    }


def _new_paper_record(stack: LocalStack) -> dict[str, Any]:
    """The stream event of a paper just stored: Embed's first invocation loads the model and embeds."""
    table = stack.template.attributes["PapersTable"]
    client = stack.aws.client("dynamodb")
    item = client.scan(TableName=table["Ref"], Limit=1)["Items"][0]
    image = {key: value for key, value in item.items() if key not in ("vector", "vector_model")}
    record = {
        "eventID": "cold",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"id": image["id"]},
            "NewImage": image,
            "SequenceNumber": "1",
            "SizeBytes": 1,
            "StreamViewType": "NEW_IMAGE",
        },
    }
    return {"Records": [lambda_record(record, table["StreamArn"])]}


def _layer_paths(stack: LocalStack, logical: str, build: Path) -> list[Path]:
    """The function's layers as Lambda stacks them in /opt/python: Globals' first, then its own."""
    layers = [
        *stack.template.globals_of("Function").get("Layers", []),
        *stack.template.resources()[logical]["Properties"].get("Layers", []),
    ]
    return [build / layer["Ref"] / "python" for layer in layers]


def _sample(script: Path, arguments: list[str], environment: dict[str, str], name: str) -> dict[str, float]:
    done = subprocess.run(
        # -S: no site-packages of this machine; -B: nothing written next to the code.
        [sys.executable, "-S", "-B", str(script), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith('{"import_ms"')]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{name} cold start failed: {done.stderr[-2000:]}")
    sample = json.loads(lines[-1])
    loaded = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"libraries"')]
    return {**sample, "cold_start_ms": sample["import_ms"] + sample["first_invocation_ms"]} | (
        {"loaded": loaded[-1]} if loaded else {}
    )


def run(runs: int = 5, build: Path = BUILD) -> dict[str, Any]:
    """Each handler's median cold start over `runs`, and its ratio to the floor: every handler run
    follows a floor run, and the ratio is the median of those pairs' ratios, so that a busy spell of
    the shared machine, which slows both runs of a pair, does not count against the handler."""
    layer = build / "PaperboyLayer" / "python"
    if not layer.is_dir():
        raise RuntimeError(f"no built layer in {build}: run `make build` first")
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(ROOT / "tests" / "fixtures" / "daily_papers")
    samples: dict[str, list[dict[str, float]]] = {}
    with LocalStack(
        domain="papers.example.org", start=datetime(2026, 11, 23, 5, tzinfo=UTC), fixtures=fixtures
    ) as stack:
        stack.fetch()
        reader = stack.add_subscriber("cold@example.org", ReaderSettings(topics=("transfer learning",)))
        stack.advance(timedelta(hours=4))
        newcomer = stack.add_subscriber(
            "cold-digest@example.org", ReaderSettings(topics=("transfer learning", "reinforcement learning"))
        )
        events = _events(stack, reader.id, newcomer.id)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
        server.start()
        try:
            host, port = server.get_host_and_port()
            with tempfile.TemporaryDirectory() as folder:
                script = Path(folder) / "child.py"
                script.write_text(CHILD)
                floor_script = Path(folder) / "floor.py"
                floor_script.write_text(FLOOR)
                libraries_script = Path(folder) / "libraries.py"
                libraries_script.write_text(LIBRARIES)
                base = {
                    "PATH": os.environ.get("PATH", ""),
                    "AWS_DEFAULT_REGION": "us-east-1",
                    **RUNTIME_ENVIRONMENT,
                    "AWS_ENDPOINT_URL": f"http://{host}:{port}",
                    "POWERTOOLS_METRICS_DISABLED": "false",
                }
                floor_environment = {
                    **base,
                    "PYTHONPATH": str(layer),
                    "LAMBDA_TASK_ROOT": folder,
                    "AWS_LAMBDA_FUNCTION_NAME": "Floor",
                    "POWERTOOLS_METRICS_NAMESPACE": "Floor",
                    "POWERTOOLS_SERVICE_NAME": "floor",
                }
                invocations = []
                for logical, function in stack.functions.items():
                    event_file = Path(folder) / f"{logical}.json"
                    event_file.write_text(json.dumps(events[logical]))
                    task_root = build / logical
                    environment = {
                        **base,
                        **function.environment,
                        "PYTHONPATH": os.pathsep.join(
                            str(path) for path in [task_root, *_layer_paths(stack, logical, build)]
                        ),
                        "LAMBDA_TASK_ROOT": str(task_root),
                        "AWS_LAMBDA_FUNCTION_NAME": logical,
                    }
                    if "MODEL_DIR" in function.environment:  # /opt/model: the Embed layer's model folder
                        environment["MODEL_DIR"] = str(build / "EmbedLayer" / "model")
                    arguments = [str(task_root / "app.py"), str(event_file), stack.now.isoformat()]
                    invocations.append((logical, arguments, environment))
                state = MotoState.take()
                for _ in range(runs):
                    for logical, arguments, environment in invocations:
                        state.put_back()
                        # The copy's garbage is collected now, not while moto serves the handler.
                        gc.collect()
                        floor = _sample(floor_script, [], floor_environment, "floor")["cold_start_ms"]
                        sample = _sample(script, arguments, environment, logical)
                        loaded_file = Path(folder) / f"{logical}.loaded.json"
                        loaded_file.write_text(json.dumps(sample.pop("loaded")))
                        libraries = _sample(libraries_script, [str(loaded_file)], environment, "libraries")
                        samples.setdefault(logical, []).append(
                            {**sample, "floor_ms": floor, "libraries_ms": libraries["cold_start_ms"]}
                        )
        finally:
            server.stop()
    handlers = {}
    for logical, pairs in samples.items():
        handlers[logical.removesuffix("Function")] = {
            "import_ms": round(statistics.median(s["import_ms"] for s in pairs)),
            "first_invocation_ms": round(statistics.median(s["first_invocation_ms"] for s in pairs)),
            "cold_start_ms": round(statistics.median(s["cold_start_ms"] for s in pairs)),
            "ratio_to_floor": round(statistics.median(s["cold_start_ms"] / s["floor_ms"] for s in pairs), 2),
            "libraries_ratio_to_floor": round(
                statistics.median(s["libraries_ms"] / s["floor_ms"] for s in pairs), 2
            ),
        }
    floors = [s["floor_ms"] for pairs in samples.values() for s in pairs]
    return {"runs": runs, "floor_ms": round(statistics.median(floors)), "handlers": handlers}


# Embed loads the sentence model on its first invocation and is fed by streams, off every path a
# reader waits on: it is measured and reported, and held to its own goal (a batch within its timeout).
EXEMPT = frozenset({"Embed"})


def within(results: dict[str, Any], *, ratio: float | None = None, ms: float | None = None) -> bool:
    """Whether every handler (Embed aside) starts within `ratio` times the floor and under `ms`."""
    held = [figures for name, figures in results["handlers"].items() if name not in EXEMPT]
    return all(ratio is None or figures["ratio_to_floor"] <= ratio for figures in held) and all(
        ms is None or figures["cold_start_ms"] < ms for figures in held
    )


def summary(results: dict[str, Any]) -> str:
    return (
        f"cold start (import + first invocation, median of {results['runs']}; ms and × the floor of "
        f"{results['floor_ms']} ms: boto3, powertools' Logger, Metrics, Tracer and one client): "
        + ", ".join(
            f"{name} {figures['cold_start_ms']} ({figures['ratio_to_floor']}×; "
            f"its libraries alone {figures['libraries_ratio_to_floor']}×)"
            for name, figures in results["handlers"].items()
        )
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.coldstart [--runs N]` after `make build`: the cold-start part of `make bench`."""
    parser = argparse.ArgumentParser(prog="benchmarks.coldstart", description=main.__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs of each handler, each after a floor run")
    results = run(runs=parser.parse_args(argv).runs)
    print(json.dumps(results, indent=2))
    print(summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
