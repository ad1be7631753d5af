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
        stack.advance(timedelta(hours=4))
        wall = time.perf_counter() - wall
        mails = sum(1 for mail in stack.mailbox.delivered if mail.kind == "digest")
        pool = stack.functions["SendDigestsFunction"]._module.SENDER.pool
    dynamodb = {name: n for name, n in calls.items() if name.startswith("dynamodb.")}
    return {
        "readers": size,
        "digests_sent": mails,
        "wall_seconds": round(wall, 2),
        "dynamodb_calls": dict(sorted(dynamodb.items())),
        "dynamodb_calls_per_digest": round(sum(dynamodb.values()) / max(mails, 1), 2),
        "ses_calls_per_digest": round(calls["email.SendEmail"] / max(mails, 1), 2),
        "sqs_calls": {name: n for name, n in sorted(calls.items()) if name.startswith("sqs.")},
        "paper_day_reads_by_sender": pool.reads,
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    sizes = (200, 1000) if quick else (1000, 10_000)
    runs = 3 if quick else 5
    return {
        "machine_cores": len(__import__("os").sched_getaffinity(0)),
        "ranking_and_rendering": [throughput(size, runs if size <= 1000 else 3) for size in sizes],
        "fan_out": fan_out(50 if quick else 300),
        "targets": {
            "digests_per_second_per_core": TARGET_DIGESTS_PER_SECOND,
            "dynamodb_calls_per_digest": TARGET_DYNAMODB_CALLS_PER_DIGEST,
        },
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
