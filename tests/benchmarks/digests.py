"""Ranking plus rendering throughput and memory, and DynamoDB calls per digest in a local fan-out."""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import json
import os
import random
import resource
import statistics
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import numpy as np
from moto.core.botocore_stubber import BotocoreStubber

from benchmarks import arxiv_sanity, coldstart, embedding
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack, sqs_record
from paperboy.digests.queue import WORKERS
from paperboy.digests.ranking import RankingIndex, rank
from paperboy.mail.outbound.mailer import OutboundMail, build_mime
from paperboy.mail.outbound.render import DigestView, Renderer
from paperboy.papers.model import Paper, Pick
from paperboy.papers.sources.hf import parse_items
from paperboy.readers.model import Feedback, Format, ReaderSettings
from paperboy.readers.schedule import DUE_SHARDS
from paperboy.semantic import vectors

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "daily_papers"
CANDIDATES = 200
DOMAIN = "papers.example.org"
PERIOD = date(2026, 11, 23)
TOPICS = [
    "reinforcement learning",
    "knowledge distillation",
    "domain adaptation",
    "transfer learning",
    "adversarial attacks",
    "prompt tuning",
    "vision language models",
    "continual learning",
    "meta-learning",
    "few-shot learning",
    "contrastive learning",
    "graph neural networks",
    "speech recognition",
    "robot manipulation",
    "diffusion models",
    "large language models",
    "self-supervised learning",
    "object detection",
    "semantic segmentation",
    "recommendation",
    "mixture of experts",
    "parameter-efficient fine-tuning",
    "zero-shot",
    "federated learning",
]
AUTHORS = ["Ada Lovelace", "Yann LeCun", "Fei-Fei Li", "Yoshua Bengio", "Chelsea Finn", "Sergey Levine"]


def corpus() -> list[Paper]:
    papers: list[Paper] = []
    for path in sorted(FIXTURES.glob("*.json")):
        found, _ = parse_items(json.loads(path.read_text()), date.fromisoformat(path.stem))
        papers.extend(found)
    rng = random.Random(7)
    # The corpus has no authors: give each paper a few so that author follows cost what they cost.
    # Vectors are random unit vectors: what a dot product costs does not depend on what it means.
    return [
        paper.model_copy(
            update={
                "authors": tuple(rng.sample(AUTHORS, 3)),
                "vector": _vector(rng),
                "vector_model": vectors.MODEL,
            }
        )
        for paper in papers[:CANDIDATES]
    ]


def _vector(rng: random.Random) -> bytes:
    return vectors.pack(np.array([rng.gauss(0.0, 1.0) for _ in range(vectors.DIM)]))


@functools.cache
def _topic_vectors() -> dict[str, bytes]:
    rng = random.Random(13)
    return {topic: _vector(rng) for topic in TOPICS}


def readers(count: int, seed: int = 11) -> list[ReaderSettings]:
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        made.append(
            ReaderSettings(
                topics=tuple(rng.sample(TOPICS, rng.randint(0, 3))),
                excludes=tuple(rng.sample(TOPICS, rng.randint(0, 1))),
                authors=tuple(rng.sample(AUTHORS, rng.randint(0, 1))),
                count=rng.choice((5, 10, 10, 15)),
            )
        )
    return made


def _rank(index: RankingIndex, settings: ReaderSettings, feedback: Feedback) -> tuple[list[Pick], list[Pick]]:
    """A reader's picks and "Also trending", as DigestSender computes them, with topic vectors."""
    topic_vectors = {topic: _topic_vectors()[topic] for topic in settings.topics}
    picks = rank(index, settings, feedback, count=settings.count, topic_vectors=topic_vectors)
    shown = {pick.paper.id for pick in picks}
    trending = index.also_trending(settings, shown) if picks and settings.topics else []
    return picks, trending


def ranking_only(index: RankingIndex, profiles: list[ReaderSettings]) -> float:
    """Microseconds of CPU per reader for ranking alone (picks and Also trending)."""
    feedback = Feedback()
    started = time.process_time()
    for settings in profiles:
        _rank(index, settings, feedback)
    return 1e6 * (time.process_time() - started) / len(profiles)


def digest_mime(
    renderer: Renderer, number: int, settings: ReaderSettings, picks: list[Pick], trending: list[Pick]
) -> bytes:
    """Reader `number`'s digest as SendDigests composes it (DigestSender.compose) and writes it."""
    reader = f"r{number}"
    view = DigestView(
        reader_email=f"reader{number}@example.org",
        domain=DOMAIN,
        local_date=PERIOD,
        picks=picks,
        also_trending=trending,
        settings=settings,
        unsubscribe_url=f"https://u.example.org/unsubscribe/{reader}.abcdefghijklmnop",
        reply_address=f"reply+{reader}.abcdefghijklmnop@{DOMAIN}",
        quiet=not picks,
    )
    rendered = renderer.digest(view)
    mail = OutboundMail(
        to=view.reader_email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html if settings.format is Format.HTML else None,
        text_qp=rendered.text_qp,
        html_qp=rendered.html_qp,
        reply_to=view.reply_address,
        kind="digest",
        list_unsubscribe_url=view.unsubscribe_url,
        list_unsubscribe_mailto=f"mailto:unsubscribe+{reader}.abcdefghijklmnop@{DOMAIN}",
        references=[f"<digest.{PERIOD.isoformat()}.{reader}@{DOMAIN}>"],
        tags={"subscriber": reader, "period": PERIOD.isoformat()},
    )
    return build_mime(mail, sender=f"digest@{DOMAIN}", domain=DOMAIN)


def _one_pass(index: RankingIndex, renderer: Renderer, profiles: list[ReaderSettings]) -> float:
    started = time.process_time()
    feedback = Feedback()
    for number, settings in enumerate(profiles):
        digest_mime(renderer, number, settings, *_rank(index, settings, feedback))
    return time.process_time() - started


def throughput(size: int, runs: int) -> dict[str, Any]:
    papers = corpus()
    index_started = time.process_time()
    index = RankingIndex(papers)
    index_seconds = time.process_time() - index_started
    renderer = Renderer()
    profiles = readers(size)
    seconds = [_one_pass(index, renderer, profiles) for _ in range(runs)]
    tracemalloc.start()
    _one_pass(index, renderer, profiles[: min(size, 1000)])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    median = statistics.median(seconds)
    rank_us = statistics.median(ranking_only(index, profiles) for _ in range(runs))
    return {
        "readers": size,
        "candidate_papers": len(papers),
        "runs": runs,
        "median_seconds": round(median, 3),
        "digests_per_second_per_core": round(size / median),
        "per_digest_ms": round(1000 * median / size, 3),
        "ranking_us_per_reader": round(rank_us, 1),
        "index_build_ms": round(1000 * index_seconds, 2),
        "traced_peak_mib": round(peak / 2**20, 2),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


@dataclass
class _Meter:
    """AWS calls made (`service.Operation`), wall and CPU seconds, and the CPU moto spent answering."""

    calls: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0
    cpu: float = 0.0
    emulation: float = 0.0

    @property
    def ours(self) -> float:
        """CPU seconds without moto's: a real region does that work, not our functions."""
        return self.cpu - self.emulation

    def count(self, service: str) -> int:
        return sum(n for name, n in self.calls.items() if name.startswith(f"{service}."))


@contextlib.contextmanager
def _metered() -> Iterator[_Meter]:
    meter = _Meter()
    original = BotocoreStubber.__call__

    def count(model: Any, **_: Any) -> None:
        meter.calls[f"{model.service_model.endpoint_prefix}.{model.name}"] += 1

    def timed(self: BotocoreStubber, *args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return original(self, *args, **kwargs)
        finally:
            meter.emulation += time.process_time() - started

    events = boto3._get_default_session().events
    events.register("before-call", count)
    BotocoreStubber.__call__ = timed  # type: ignore[method-assign]
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield meter
    finally:
        meter.wall, meter.cpu = time.perf_counter() - wall, time.process_time() - cpu
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]
        events.unregister("before-call", count)


class _LogMeter(io.TextIOBase):
    """The functions' log output (what CloudWatch Logs would ingest) and the custom metrics in it."""

    def __init__(self) -> None:
        self.bytes = 0
        self.metrics: set[tuple[str, tuple[tuple[str, str], ...]]] = set()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        for line in text.splitlines():
            if '"_aws"' in line:
                record = json.loads(line)
                for directive in record["_aws"]["CloudWatchMetrics"]:
                    for dimensions in directive["Dimensions"] or [[]]:
                        labels = tuple((name, str(record[name])) for name in dimensions)
                        self.metrics.update((metric["Name"], labels) for metric in directive["Metrics"])
        return len(text)


def fan_out(size: int, parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The whole hourly cycle on the local stack: plan, queue, send; AWS calls counted on the wire."""
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(FIXTURES)
    start = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    logs = _LogMeter()
    stack = LocalStack(
        domain="papers.example.org", start=start, fixtures=fixtures, parameters=parameters, log=logs
    )
    with stack:
        stack.fetch()
        for number, settings in enumerate(readers(size, seed=5)):
            stack.add_subscriber(f"reader{number}@example.org", settings)
        # Readers get their topic vectors when they subscribe, not in the digest hour; the Embed
        # invocations the digests' own writes cause (skipped records) are measured below.
        stack.drain_streams()
        logs.bytes = 0
        invoked = {name: function.invocations for name, function in stack.functions.items()}
        with _metered() as meter:
            stack.advance(timedelta(hours=4))
        digests = [mail for mail in stack.mailbox.delivered if mail.kind == "digest"]
        mails = len(digests)
        log_bytes = logs.bytes
        mail_events = _delivery_events(stack, logs, [mail.to for mail in digests[:MAIL_EVENT_SAMPLES]])
        sender = stack.functions["SendDigestsFunction"]._module.SENDER
        memory = {
            name.removesuffix("Function"): function.memory / 1024
            for name, function in stack.functions.items()
        }
        alarms = len(stack.template.resources("AWS::CloudWatch::Alarm"))
        invoked = {name: function.invocations - invoked[name] for name, function in stack.functions.items()}
    sent = max(mails, 1)
    dynamodb = {name: n for name, n in meter.calls.items() if name.startswith("dynamodb.")}
    return {
        "readers": size,
        "digests_sent": mails,
        "wall_seconds": round(meter.wall, 2),
        "digests_per_second": round(mails / meter.wall, 1),
        "cpu_ms_per_digest": round(1000 * meter.cpu / sent, 2),
        # What is left once moto's emulation of AWS is taken out: our handlers, boto3 on the client
        # side and the local stack's own plumbing (an upper bound for what Lambda would run).
        "our_cpu_ms_per_digest": round(1000 * meter.ours / sent, 2),
        "memory_gb": memory,
        "invocations_per_digest": round(sum(invoked.values()) / sent, 3),
        "invocations": {name.removesuffix("Function"): n for name, n in invoked.items() if n},
        "log_bytes_per_digest": round(log_bytes / sent),
        "custom_metrics_seen": len(logs.metrics),
        "alarms": alarms,
        "pacer_wait_seconds": round(sender.pacer.waited, 2) if sender.pacer else 0.0,
        "dynamodb_calls": dict(sorted(dynamodb.items())),
        "dynamodb_calls_per_digest": round(sum(dynamodb.values()) / sent, 2),
        "ses_calls_per_digest": round(meter.calls["email.SendEmail"] / sent, 2),
        "sqs_calls_per_digest": round(meter.count("sqs") / sent, 3),
        "sqs_calls": {name: n for name, n in sorted(meter.calls.items()) if name.startswith("sqs.")},
        "paper_day_reads_by_sender": sender.pool.reads,
        "per_delivery_event": mail_events,
    }


def _delivery_events(stack: LocalStack, logs: _LogMeter, recipients: list[str]) -> dict[str, Any]:
    """What SES's Delivery event for each mail costs MailEvents: CPU, AWS calls and log bytes."""
    sample = json.loads((coldstart.EVENTS / "mail_events_delivery.json").read_text())
    logs.bytes = 0
    with _metered() as meter:
        for number, recipient in enumerate(recipients):
            event = copy.deepcopy(sample)
            message = json.loads(event["Records"][0]["Sns"]["Message"])
            message["delivery"]["recipients"] = message["mail"]["destination"] = [recipient]
            message["mail"]["messageId"] = f"bench-{number}"
            event["Records"][0]["Sns"].update(MessageId=f"bench-{number}", Message=json.dumps(message))
            stack.invoke("MailEventsFunction", event)
    events = max(len(recipients), 1)
    return {
        "events": len(recipients),
        "our_cpu_ms": round(1000 * meter.ours / events, 2),
        "dynamodb_calls": round(meter.count("dynamodb") / events, 2),
        "log_bytes": round(logs.bytes / events),
    }


def planner(size: int) -> dict[str, Any]:
    """Queueing one busy hour: `size` readers due at 08:00 UTC, PlanDigests fanning the hour out and
    each slot planned by its own PlanShard invocation (the digest queue is left full, not sent)."""
    fixtures = SourceFixtures()
    start = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)
    with LocalStack(domain="papers.example.org", start=start, fixtures=fixtures) as stack:
        for number, settings in enumerate(readers(size, seed=7)):
            eight = ReaderSettings.model_validate({**settings.model_dump(), "send_time": "08:00"})
            stack.add_subscriber(f"reader{number}@example.org", eight)
        stack.now = start + timedelta(minutes=30)
        sqs = stack.aws.client("sqs")
        plan_queue = stack.template.attributes["PlanQueue"]["QueueUrl"]
        slot_seconds: list[float] = []
        with _metered() as meter:
            stack.invoke("PlanDigestsFunction", {"scheduled_time": stack.now.isoformat()})
            while messages := sqs.receive_message(QueueUrl=plan_queue, MaxNumberOfMessages=1).get("Messages"):
                with _metered() as slot:
                    stack.invoke(
                        "PlanShardFunction",
                        {"Records": [sqs_record(messages[0], stack.template.attributes["PlanQueue"]["Arn"])]},
                    )
                slot_seconds.append(slot.ours)
                sqs.delete_message(QueueUrl=plan_queue, ReceiptHandle=messages[0]["ReceiptHandle"])
        depth = int(
            sqs.get_queue_attributes(
                QueueUrl=stack.template.attributes["DigestQueue"]["QueueUrl"],
                AttributeNames=["ApproximateNumberOfMessages"],
            )["Attributes"]["ApproximateNumberOfMessages"]
        )
    per_reader = meter.ours / max(depth, 1)
    pages = meter.calls["dynamodb.Query"]
    # A real slot: a busy hour's readers split over the index's shards, each planned by its own
    # invocation at one full vCPU, batches sent WORKERS at a time, one Query round trip per page.
    busiest = 300_000 / DUE_SHARDS
    modelled = (
        busiest * per_reader
        + busiest / SQS_BATCH * AWS_LATENCY_SECONDS["sqs"] / WORKERS
        + busiest / max(depth, 1) * pages * AWS_LATENCY_SECONDS["dynamodb"]
    )
    return {
        "readers_due": size,
        "jobs_queued": depth,
        "slot_invocations": len(slot_seconds),
        "our_cpu_ms_per_reader": round(1000 * per_reader, 3),
        "slowest_slot_cpu_seconds": round(max(slot_seconds, default=0.0), 3),
        "sqs_calls": meter.count("sqs"),
        "query_pages": pages,
        "modelled_seconds_to_queue_300k_hour": round(modelled, 1),
    }


def ses_limited(readers: int) -> dict[str, Any]:
    """The fan-out at the template's default SES rate (14/s over 2 workers): the local stack runs one
    worker, so it must send at 7 a second and spend the rest of its time waiting for the rate."""
    rate, workers = 14, 2
    fan = fan_out(readers, {"SesMaxSendRate": str(rate), "SenderConcurrency": str(workers)})
    return {
        "ses_rate_per_worker": rate / workers,
        "digests_sent": fan["digests_sent"],
        "wall_seconds": fan["wall_seconds"],
        "digests_per_second": fan["digests_per_second"],
        "waiting_for_ses_rate_share": round(fan["pacer_wait_seconds"] / fan["wall_seconds"], 3),
    }


def versus_arxiv_sanity(users: int, runs: int) -> dict[str, Any]:
    """arxiv-sanity-lite's per-user ranking alone (tf-idf + a LinearSVC per tag) against our whole
    digest (rank, render, MIME): the same candidate papers and reader profiles, passes alternated
    so that both meet the same load on a shared machine."""
    papers = corpus()
    profiles = readers(users)
    index, renderer = RankingIndex(papers), Renderer()
    ranker = arxiv_sanity.TfidfSvmRanker(papers)
    tags = arxiv_sanity.user_tags(papers, profiles)
    # Cards are rendered once per container: the first pass of the hour is not a typical one.
    _one_pass(index, renderer, profiles)
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(runs):
        ours.append(1000 * _one_pass(index, renderer, profiles) / users)
        theirs.append(arxiv_sanity.per_user_ms(ranker, tags))
    ms_per_user, per_digest_ms = statistics.median(theirs), statistics.median(ours)
    return {
        "users": users,
        "papers_indexed": len(papers),
        "tfidf_features": ranker.features.shape[1],
        "tags_per_user": round(statistics.mean(len(user) for user in tags), 2),
        "runs": runs,
        "ms_per_user": round(ms_per_user, 3),
        "ours_ms_per_digest": round(per_digest_ms, 3),
        "ratio": round(ms_per_user / per_digest_ms, 1),
    }


def digest_speed(*, quick: bool = False) -> dict[str, Any]:
    """Rank + render + MIME per digest, and the arxiv-sanity-lite reference row."""
    runs = 3 if quick else 5
    return {
        "ranking_and_rendering": [
            throughput(size, runs) for size in ((200, 1000) if quick else (1000, 10_000))
        ],
        "versus_arxiv_sanity_lite": versus_arxiv_sanity(100 if quick else 300, runs),
    }


def digest_speed_checks(results: dict[str, Any]) -> dict[str, bool]:
    return {
        "digests_per_second_per_core": all(
            row["digests_per_second_per_core"] >= TARGETS["digests_per_second_per_core"]
            for row in results["ranking_and_rendering"]
        ),
        "times_cheaper_than_arxiv_sanity_lite": results["versus_arxiv_sanity_lite"]["ratio"]
        >= TARGETS["times_cheaper_than_arxiv_sanity_lite"],
    }


def digest_speed_table(results: dict[str, Any]) -> str:
    lines = [
        "readers  digests/s/core  ms/digest  rank µs  index ms  traced peak MiB  max RSS MiB",
        "-------  --------------  ---------  -------  --------  ---------------  -----------",
    ]
    for row in results["ranking_and_rendering"]:
        lines.append(
            f"{row['readers']:>7}  {row['digests_per_second_per_core']:>14}  {row['per_digest_ms']:>9}  "
            f"{row['ranking_us_per_reader']:>7}  {row['index_build_ms']:>8}  {row['traced_peak_mib']:>15}  "
            f"{row['max_rss_mib']:>11}"
        )
    sanity = results["versus_arxiv_sanity_lite"]
    lines.append(
        f"arxiv-sanity-lite's ranking alone (tf-idf, a LinearSVC per tag, {sanity['tags_per_user']} tags a "
        f"user, {sanity['papers_indexed']} papers): {sanity['ms_per_user']} ms a user; our whole digest "
        f"{sanity['ours_ms_per_digest']} ms: {sanity['ratio']}x cheaper"
    )
    return "\n".join(lines)


def run(*, quick: bool = False, fan_out_readers: int = 10_000) -> dict[str, Any]:
    fan = fan_out(50 if quick else fan_out_readers)
    embedded = embedding.run(papers=12 if quick else embedding.PAPERS)
    return {
        "machine_cores": len(os.sched_getaffinity(0)),
        **digest_speed(quick=quick),
        "fan_out": fan,
        "ses_limited_fan_out": ses_limited(20 if quick else 200),
        "planner": planner(400 if quick else 4000),
        "embedding": embedded,
        "cost_per_1000_readers_month": cost_model(fan, embedded),
        "cold_start": coldstart.run(runs=2 if quick else 5),
        "targets": TARGETS,
    }


TARGETS = {
    "digests_per_second_per_core": 2000,
    # Our whole digest (rank, render, MIME) at least this many times cheaper than arxiv-sanity-lite's
    # per-user ranking alone, measured in the same run on the same papers.
    "times_cheaper_than_arxiv_sanity_lite": 10,
    "dynamodb_calls_per_digest": 6,
    "infrastructure_share_of_ses": 0.10,
    "cold_start_ms": 1000,
    # A handler's cold start against the floor measured in the same run (see benchmarks.coldstart).
    "cold_start_ratio_to_floor": 1.5,
    # The busiest hour of a million readers (30 %) queued within the first minutes of its hour.
    "modelled_seconds_to_queue_300k_hour": 300,
    # Embed is fed by streams, off every path a reader waits on: its cold start (model load) is not
    # held to the second; a full batch of new papers plus a cold start must fit half its timeout.
    "embed_batch_of_100_share_of_timeout": 0.5,
    # At the default SES rate the sender must spend most of its time waiting for the rate, not working.
    "waiting_for_ses_rate_share": 0.5,
}
# us-east-1 list prices (USD), November 2026.
PRICES = {
    "ses_per_mail": 0.10 / 1000,
    "lambda_per_request": 0.20 / 1e6,
    "lambda_per_gb_second": 0.0000166667,
    "dynamodb_per_write_unit": 0.625 / 1e6,
    "dynamodb_per_read_unit": 0.125 / 1e6,
    "sqs_per_request": 0.40 / 1e6,
    "sns_per_publish": 0.50 / 1e6,
}
# Request units per call as our items are sized (< 1 KB writes, < 4 KB reads); a transaction of two
# items costs two units per item.
UNITS = {
    "GetItem": ("read", 1),
    "Query": ("read", 1),
    "BatchGetItem": ("read", 1),
    "PutItem": ("write", 1),
    "UpdateItem": ("write", 1),
    "DeleteItem": ("write", 1),
    "TransactWriteItems": ("write", 4),
}
# Topic vectors ride in the reader's profile, which every digest rewrites (a two-item transaction:
# two write units per KB): a typical reader's three topics add ~1.2 KB, ~2.3 write units on average.
TOPICS_PER_READER = 3
TOPIC_VECTOR_BYTES = 16 + 384  # the topic as the map key plus the vector
# Round trips a real region adds to each call (moto answers in-process): assumptions, see sensitivity.
AWS_LATENCY_SECONDS = {"dynamodb": 0.006, "ses": 0.060, "sqs": 0.010}
SQS_BATCH = 10  # Lambda's receive and delete calls are per batch
MAIL_EVENT_SAMPLES = 200
# CloudWatch Logs: ingestion per GB; Lambda adds START, END and REPORT lines to every invocation.
LOGS_PER_GB = 0.50
PLATFORM_LOG_BYTES = 400
# X-Ray: Lambda traces 1 request a second and 5 % of the rest; a busy hour is nearly all "the rest".
XRAY_PER_TRACE = 5.00 / 1e6
XRAY_SAMPLED = 0.05


def _per_digest_usd(fan: dict[str, Any], ses_latency: float) -> dict[str, float]:
    sent = max(fan["digests_sent"], 1)
    read_units = write_units = 0.0
    for name, calls in fan["dynamodb_calls"].items():
        kind, units = UNITS.get(name.split(".", 1)[1], ("write", 1))
        if kind == "read":
            read_units += calls * units / sent
        else:
            write_units += calls * units / sent
    sqs_calls = fan["sqs_calls_per_digest"] + 2 / SQS_BATCH  # + Lambda's receive and delete per batch
    seconds = (
        fan["our_cpu_ms_per_digest"] / 1000
        + ses_latency
        + AWS_LATENCY_SECONDS["dynamodb"] * fan["dynamodb_calls_per_digest"]
        + AWS_LATENCY_SECONDS["sqs"] * fan["sqs_calls_per_digest"]
    )
    event = fan["per_delivery_event"]
    event_seconds = event["our_cpu_ms"] / 1000 + AWS_LATENCY_SECONDS["dynamodb"] * event["dynamodb_calls"]
    # One delivery event per mail on top of the fan-out's own invocations.
    invocations = fan["invocations_per_digest"] + 1
    log_bytes = fan["log_bytes_per_digest"] + event["log_bytes"] + PLATFORM_LOG_BYTES * invocations
    return {
        "ses": PRICES["ses_per_mail"],
        # Every function's CPU is charged at SendDigests' memory: the planner's share is in it too.
        "lambda": PRICES["lambda_per_request"] * fan["invocations_per_digest"]
        + seconds * fan["memory_gb"]["SendDigests"] * PRICES["lambda_per_gb_second"],
        "dynamodb": read_units * PRICES["dynamodb_per_read_unit"]
        + write_units * PRICES["dynamodb_per_write_unit"],
        "sqs": sqs_calls * PRICES["sqs_per_request"],
        # SES's delivery event: an SNS publish, a MailEvents invocation and its lookup (no write). The
        # Send event's invocation and write are in the fan-out's own figures; its publish is here.
        "mail_events": 2 * PRICES["sns_per_publish"]
        + PRICES["lambda_per_request"]
        + event_seconds * fan["memory_gb"]["MailEvents"] * PRICES["lambda_per_gb_second"]
        + event["dynamodb_calls"] * PRICES["dynamodb_per_read_unit"],
        "cloudwatch_logs": log_bytes / 2**30 * LOGS_PER_GB,
        "xray": invocations * XRAY_SAMPLED * XRAY_PER_TRACE,
        # Inbound mail is one object per reply, kept 30 days: fractions of a cent per 1,000 readers.
        "s3": 0.0,
        "topic_vectors": 2
        * TOPICS_PER_READER
        * TOPIC_VECTOR_BYTES
        / 1024
        * PRICES["dynamodb_per_write_unit"],
    }


def fixed_costs(fan: dict[str, Any], embedded: dict[str, Any] | None = None) -> dict[str, float]:
    """What a deployment costs a month whatever its size (USD): the price of sleeping soundly."""
    embedded = embedded or {"ms_per_paper": 400.0, "embed_memory_mb": 1769, "model_load_ms": 1200}
    # A day's ~60 papers embedded once (one cold start a day) and written back (UpdateItem, ~3 KB).
    papers_a_day = embedding.PAPERS
    embed_seconds = embedded["model_load_ms"] / 1000 + papers_a_day * embedded["ms_per_paper"] / 1000
    return {
        "embedding_papers": 30
        * (
            embed_seconds * embedded["embed_memory_mb"] / 1024 * PRICES["lambda_per_gb_second"]
            + PRICES["lambda_per_request"]
            + papers_a_day * 3 * PRICES["dynamodb_per_write_unit"]
        ),
        "alarms": 0.10 * fan["alarms"],
        # Custom metrics (name and dimension values): the first 10 are free.
        "custom_metrics": 0.30 * max(fan["custom_metrics_seen"] - 10, 0),
        "dashboard": 3.00,  # the first three dashboards of an account are free
        "secret": 0.40,
        # Lambda's SQS pollers long-poll the queue: about 5 pollers x 3 receives a minute.
        "sqs_polling": 5 * 3 * 60 * 24 * 30 * PRICES["sqs_per_request"],
        # FetchPapers and PlanDigests hourly, about a second each at their template memory.
        "schedules": 24
        * 30
        * sum(
            PRICES["lambda_per_request"] + fan["memory_gb"][name] * PRICES["lambda_per_gb_second"]
            for name in ("FetchPapers", "PlanDigests")
        ),
    }


def cost_model(fan: dict[str, Any], embedded: dict[str, Any] | None = None) -> dict[str, Any]:
    """Cost per 1,000 readers for a 30-day month of daily digests, from the measured call counts."""
    digests = 1000 * 30

    def share(ses_latency: float) -> float:
        costs = _per_digest_usd(fan, ses_latency)
        return sum(v for k, v in costs.items() if k != "ses") / costs["ses"]

    costs = _per_digest_usd(fan, AWS_LATENCY_SECONDS["ses"])
    return {
        "digests": digests,
        "usd": {k: round(v * digests, 4) for k, v in costs.items()},
        "fixed_usd_month": {k: round(v, 2) for k, v in fixed_costs(fan, embedded).items()},
        "infrastructure_share_of_ses": round(share(AWS_LATENCY_SECONDS["ses"]), 3),
        "share_if_ses_answers_in": {f"{ms} ms": round(share(ms / 1000), 3) for ms in (60, 150, 300)},
        "assumptions": "us-east-1 list prices; "
        f"SendDigests at {fan['memory_gb']['SendDigests']:g} GB; SES 60 ms, DynamoDB 6 ms and SQS 10 ms "
        "per call; our CPU as measured without moto's; one delivery event per "
        f"mail; {PLATFORM_LOG_BYTES} bytes of Lambda's own log lines per invocation; X-Ray samples "
        f"{XRAY_SAMPLED:.0%} (the first 100,000 traces a month are free); not per reader: see fixed costs",
    }


def checks(results: dict[str, Any]) -> dict[str, bool]:
    """Each goal and whether this run met it."""
    return {
        **digest_speed_checks(results),
        "dynamodb_calls_per_digest": results["fan_out"]["dynamodb_calls_per_digest"]
        <= TARGETS["dynamodb_calls_per_digest"],
        "infrastructure_share_of_ses": results["cost_per_1000_readers_month"]["infrastructure_share_of_ses"]
        < TARGETS["infrastructure_share_of_ses"],
        "cold_start_ms": coldstart.within(results["cold_start"], ms=TARGETS["cold_start_ms"]),
        "cold_start_ratio_to_floor": coldstart.within(
            results["cold_start"], ratio=TARGETS["cold_start_ratio_to_floor"]
        ),
        "embed_batch_of_100_share_of_timeout": results["embedding"]["batch_of_100_share_of_timeout"]
        <= TARGETS["embed_batch_of_100_share_of_timeout"],
        "waiting_for_ses_rate_share": results["ses_limited_fan_out"]["waiting_for_ses_rate_share"]
        >= TARGETS["waiting_for_ses_rate_share"],
        "modelled_seconds_to_queue_300k_hour": results["planner"]["modelled_seconds_to_queue_300k_hour"]
        <= TARGETS["modelled_seconds_to_queue_300k_hour"],
    }


def table(results: dict[str, Any]) -> str:
    lines = [digest_speed_table(results)]
    fan = results["fan_out"]
    limited = results["ses_limited_fan_out"]
    cost = results["cost_per_1000_readers_month"]
    emb = results["embedding"]
    lines += [
        "",
        f"local fan-out: {fan['digests_sent']} digests to {fan['readers']} readers "
        f"in {fan['wall_seconds']} s "
        f"({fan['digests_per_second']}/s with moto emulating AWS in the same process); our CPU "
        f"{fan['our_cpu_ms_per_digest']} ms per digest ({fan['cpu_ms_per_digest']} ms with moto's)",
        f"  DynamoDB calls per digest {fan['dynamodb_calls_per_digest']} ({fan['dynamodb_calls']}); "
        f"SES calls per digest {fan['ses_calls_per_digest']}; "
        f"SQS calls per digest {fan['sqs_calls_per_digest']}; "
        f"paper days read by the sender {fan['paper_day_reads_by_sender']} (once per container and hour)",
        f"at the default SES rate ({limited['ses_rate_per_worker']:g}/s per worker): "
        f"{limited['digests_sent']} digests at {limited['digests_per_second']}/s, "
        f"{100 * limited['waiting_for_ses_rate_share']:.0f}% of the time waiting for the SES rate",
        f"cost per 1,000 readers a month: {cost['usd']}; infrastructure beyond SES "
        f"{100 * cost['infrastructure_share_of_ses']:.1f}% of SES (if SES answered in 150 ms: "
        f"{100 * cost['share_if_ses_answers_in']['150 ms']:.1f}%)",
        f"planner: {results['planner']['jobs_queued']} readers of one hour queued by "
        f"{results['planner']['slot_invocations']} slot invocations, our CPU "
        f"{results['planner']['our_cpu_ms_per_reader']} ms a reader; one busy hour of a million readers "
        f"(300,000) modelled at {results['planner']['modelled_seconds_to_queue_300k_hour']} s",
        coldstart.summary(results["cold_start"]),
        f"embedding ({emb['model']}, one vCPU): model load {emb['model_load_ms']} ms, "
        f"{emb['papers']} papers in {emb['seconds_one_vcpu']} s ({emb['ms_per_paper']} ms each), "
        f"a topic {emb['ms_per_topic']} ms; {emb['bytes_per_vector']} bytes a vector "
        f"({emb['item_bytes_per_paper_vector']} bytes of paper item)",
        "",
        "goals: "
        + ", ".join(
            f"{name} {'met' if met else 'NOT MET'} ({TARGETS[name]})" for name, met in checks(results).items()
        ),
    ]
    return "\n".join(lines)
