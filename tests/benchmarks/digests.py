"""Ranking plus rendering throughput and memory, and DynamoDB calls per digest in a local fan-out."""

from __future__ import annotations

import random
import resource
import statistics
import time
import tracemalloc
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from benchmarks import coldstart
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from paperboy.mailer import OutboundMail, build_mime
from paperboy.models import Paper
from paperboy.ranking import RankingIndex, rank
from paperboy.readers import Feedback, ReaderSettings
from paperboy.render import DigestView, Renderer
from paperboy.sources.hf import parse_items

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "daily_papers"
CANDIDATES = 200
TARGET_DIGESTS_PER_SECOND = 2000
TARGET_DYNAMODB_CALLS_PER_DIGEST = 6
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
    import json

    papers: list[Paper] = []
    for path in sorted(FIXTURES.glob("*.json")):
        found, _ = parse_items(json.loads(path.read_text()), date.fromisoformat(path.stem))
        papers.extend(found)
    rng = random.Random(7)
    # The corpus has no authors: give each paper a few so that author follows cost what they cost.
    return [
        paper.model_copy(update={"authors": tuple(rng.sample(AUTHORS, 3))}) for paper in papers[:CANDIDATES]
    ]


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


def _one_pass(index: RankingIndex, renderer: Renderer, profiles: list[ReaderSettings]) -> float:
    started = time.process_time()
    feedback = Feedback()
    for number, settings in enumerate(profiles):
        picks = rank(index, settings, feedback, count=settings.count)
        view = DigestView(
            reader_email=f"reader{number}@example.org",
            domain="papers.example.org",
            local_date=date(2026, 11, 23),
            picks=picks,
            settings=settings,
            unsubscribe_url=f"https://u.example.org/unsubscribe/r{number}.abcdefghijklmnop",
            reply_address=f"reply+r{number}.abcdefghijklmnop@papers.example.org",
            quiet=not picks,
        )
        rendered = renderer.digest(view)
        build_mime(
            OutboundMail(
                to=view.reader_email,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                reply_to=view.reply_address,
                kind="digest",
                list_unsubscribe_url=view.unsubscribe_url,
                list_unsubscribe_mailto=None,
            ),
            sender="digest@papers.example.org",
            domain="papers.example.org",
        )
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
    return {
        "readers": size,
        "candidate_papers": len(papers),
        "runs": runs,
        "median_seconds": round(median, 3),
        "digests_per_second_per_core": round(size / median),
        "per_digest_ms": round(1000 * median / size, 3),
        "index_build_ms": round(1000 * index_seconds, 2),
        "traced_peak_mib": round(peak / 2**20, 2),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def fan_out(size: int) -> dict[str, Any]:
    """The whole hourly cycle on the local stack: plan, queue, send; AWS calls counted on the wire."""
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(FIXTURES)
    start = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[f"{model.service_model.endpoint_prefix}.{model.name}"] += 1

    with LocalStack(domain="papers.example.org", start=start, fixtures=fixtures) as stack:
        stack.fetch()
        for number, settings in enumerate(readers(size, seed=5)):
            stack.add_subscriber(f"reader{number}@example.org", settings)
        boto3.DEFAULT_SESSION.events.register("before-call", count)  # type: ignore[union-attr]
        wall = time.perf_counter()
        cpu = time.process_time()
        stack.advance(timedelta(hours=4))
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
        mails = sum(1 for mail in stack.mailbox.delivered if mail.kind == "digest")
        pool = stack.functions["SendDigestsFunction"]._module.SENDER.pool
    dynamodb = {name: n for name, n in calls.items() if name.startswith("dynamodb.")}
    return {
        "readers": size,
        "digests_sent": mails,
        "wall_seconds": round(wall, 2),
        "digests_per_second": round(mails / wall, 1),
        # Includes moto emulating every AWS call in-process: an upper bound for our own code.
        "cpu_ms_per_digest": round(1000 * cpu / max(mails, 1), 2),
        "dynamodb_calls": dict(sorted(dynamodb.items())),
        "dynamodb_calls_per_digest": round(sum(dynamodb.values()) / max(mails, 1), 2),
        "ses_calls_per_digest": round(calls["email.SendEmail"] / max(mails, 1), 2),
        "sqs_calls_per_digest": round(
            sum(n for k, n in calls.items() if k.startswith("sqs.")) / max(mails, 1), 3
        ),
        "sqs_calls": {name: n for name, n in sorted(calls.items()) if name.startswith("sqs.")},
        "paper_day_reads_by_sender": pool.reads,
    }


def run(*, quick: bool = False, fan_out_readers: int = 10_000) -> dict[str, Any]:
    sizes = (200, 1000) if quick else (1000, 10_000)
    runs = 3 if quick else 5
    fan = fan_out(50 if quick else fan_out_readers)
    return {
        "machine_cores": len(__import__("os").sched_getaffinity(0)),
        "ranking_and_rendering": [throughput(size, runs) for size in sizes],
        "fan_out": fan,
        "cost_per_1000_readers_month": cost_model(fan),
        "cold_start": coldstart.run(runs=1 if quick else 3),
        "targets": {
            "digests_per_second_per_core": TARGET_DIGESTS_PER_SECOND,
            "dynamodb_calls_per_digest": TARGET_DYNAMODB_CALLS_PER_DIGEST,
        },
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
# Request units per call as our items are sized (< 1 KB writes, < 4 KB reads); a transaction costs double.
UNITS = {
    "GetItem": ("read", 1),
    "Query": ("read", 1),
    "BatchGetItem": ("read", 1),
    "PutItem": ("write", 1),
    "UpdateItem": ("write", 1),
    "DeleteItem": ("write", 1),
    "TransactWriteItems": ("write", 4),
}
SEND_MEMORY_GB = 1.0
# Measured locally per digest (rank + render + MIME) plus the AWS round trips a real region adds.
AWS_LATENCY_SECONDS = {"dynamodb": 0.006, "ses": 0.060, "sqs": 0.010}


def cost_model(fan: dict[str, Any]) -> dict[str, Any]:
    """Cost per 1,000 readers for a 30-day month of daily digests, from the measured call counts."""
    digests = 1000 * 30
    sent = max(fan["digests_sent"], 1)
    read_units = write_units = 0.0
    for name, calls in fan["dynamodb_calls"].items():
        kind, units = UNITS.get(name.split(".", 1)[1], ("write", 1))
        if kind == "read":
            read_units += calls * units / sent
        else:
            write_units += calls * units / sent
    sqs_calls = sum(fan["sqs_calls"].values()) / sent + 2 / 10  # + receive and delete per batch of 10
    per_digest_seconds = (
        fan["cpu_ms_per_digest"] / 1000
        + AWS_LATENCY_SECONDS["ses"]
        + AWS_LATENCY_SECONDS["dynamodb"] * (read_units + write_units)
    )
    costs = {
        "ses": digests * PRICES["ses_per_mail"],
        "lambda": digests
        * (
            PRICES["lambda_per_request"] / 10
            + per_digest_seconds * SEND_MEMORY_GB * PRICES["lambda_per_gb_second"]
        ),
        "dynamodb": digests
        * (read_units * PRICES["dynamodb_per_read_unit"] + write_units * PRICES["dynamodb_per_write_unit"]),
        "sqs": digests * sqs_calls * PRICES["sqs_per_request"],
        "sns_mail_events": digests * PRICES["sns_per_publish"],
        "s3": 0.0,
    }
    infrastructure = sum(v for k, v in costs.items() if k != "ses")
    return {
        "digests": digests,
        "usd": {k: round(v, 4) for k, v in costs.items()},
        "infrastructure_share_of_ses": round(infrastructure / costs["ses"], 3),
        "assumptions": "us-east-1 list prices; SendDigests at 1 GB; SES 60 ms and DynamoDB 6 ms per call; "
        "one delivery event per mail; inbound mail and S3 storage negligible",
    }


def meets_targets(results: dict[str, Any]) -> bool:
    fast = all(
        row["digests_per_second_per_core"] >= TARGET_DIGESTS_PER_SECOND
        for row in results["ranking_and_rendering"]
    )
    cheap = results["fan_out"]["dynamodb_calls_per_digest"] <= TARGET_DYNAMODB_CALLS_PER_DIGEST
    return fast and cheap


def table(results: dict[str, Any]) -> str:
    lines = [
        "readers  digests/s/core  ms/digest  index ms  traced peak MiB  max RSS MiB",
        "-------  --------------  ---------  --------  ---------------  -----------",
    ]
    for row in results["ranking_and_rendering"]:
        lines.append(
            f"{row['readers']:>7}  {row['digests_per_second_per_core']:>14}  {row['per_digest_ms']:>9}  "
            f"{row['index_build_ms']:>8}  {row['traced_peak_mib']:>15}  {row['max_rss_mib']:>11}"
        )
    fan = results["fan_out"]
    lines += [
        "",
        f"local fan-out: {fan['digests_sent']} digests to {fan['readers']} readers in "
        f"{fan['wall_seconds']} s; DynamoDB calls per digest {fan['dynamodb_calls_per_digest']} "
        f"({fan['dynamodb_calls']}); SES calls per digest {fan['ses_calls_per_digest']}; "
        f"paper days read by the sender {fan['paper_day_reads_by_sender']} (once per container and hour)",
    ]
    return "\n".join(lines)
