"""FetchPapers end to end on the local stack: moto tables from template.yaml, the fixture HTTP server
playing Hugging Face and arXiv, the handler invoked with the template's environment."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import template_table
from samtranslator.yaml_helper import yaml_parse

from local_stack.pool import StackPool
from local_stack.sources import Fault, SourceFixtures
from local_stack.stack import LocalStack
from local_stack.template import TEMPLATE
from paperboy.papers.model import Paper
from paperboy.papers.store import PaperStore

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

FETCH = "FetchPapersFunction"
DOMAIN = "papers.example.org"
ARXIV = Path(__file__).parents[1] / "fixtures" / "arxiv"
TUESDAY_FEED = ARXIV / "cs-2026-11-24.xml"
SATURDAY_FEED = ARXIV / "empty-2026-11-21.xml"
TUESDAY = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
TODAY, YESTERDAY = "2026-11-24", "2026-11-23"
# Every request FetchPapers makes on one run: HF today, HF yesterday, the arXiv feed.
REQUESTS_PER_RUN = 3
# template.yaml has no parameter for FetchPapers' HTTP timeout, retries or backoff, so the template
# environment cannot make retries fast. Until it has one, exactly these two variables are added to
# the function's template environment before its cold start (see `running`).
FAST_HTTP = {"HTTP_BACKOFF_SECONDS": "0", "HTTP_TIMEOUT_SECONDS": "0.5"}
DEFAULT_RETRIES = 4


@contextlib.contextmanager
def running(
    pool: StackPool, fixtures: SourceFixtures, *, start: datetime = TUESDAY, log: io.StringIO | None = None
) -> Iterator[LocalStack]:
    with pool.stack(domain=DOMAIN, start=start, fixtures=fixtures, log=log) as stack:
        function = stack.functions[FETCH]
        assert function.invocations == 0, "the environment is read at cold start"
        assert not set(FAST_HTTP) & set(function.environment), "the template sets these now: use it"
        function.environment.update(FAST_HTTP)
        yield stack


def corpus_fixtures(corpus) -> SourceFixtures:
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(corpus.directory)
    return fixtures


def small_fixtures(corpus, directory: Path, count: int = 4) -> SourceFixtures:
    """The first `count` papers of today and yesterday: moto's UpdateItem is slow, faults need few."""
    fixtures = SourceFixtures()
    for day in (TODAY, YESTERDAY):
        fixtures.hf_days[day] = corpus.write(directory, day, corpus.items(day)[:count])
    return fixtures


def run(stack: LocalStack) -> dict[str, dict[str, Any]]:
    """Fire FetchPapers as its schedule would; its report by source."""
    (result,) = stack.fetch()
    return {report["source"]: report for report in result["sources"]}


def rows(stack: LocalStack) -> dict[str, dict[str, Any]]:
    table = stack.table("PapersTable")
    items: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {}
    while True:
        page = table.scan(**arguments)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return {item["id"]: item for item in items}
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def papers_of_day(stack: LocalStack, day: str) -> list[Paper]:
    return PaperStore(stack.table("PapersTable")).papers_of_day(date.fromisoformat(day))


def metrics(log: str) -> list[dict[str, Any]]:
    """The EMF lines in a function log: {"namespace", "dimensions", "name", "value", **dimension values}."""
    found = []
    for line in log.splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if "_aws" not in record:
            continue
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = record[metric["Name"]]
                found.append(
                    {
                        "namespace": directive["Namespace"],
                        "dimensions": {
                            name: record[name] for group in directive["Dimensions"] for name in group
                        },
                        "name": metric["Name"],
                        "value": sum(value) if isinstance(value, list) else value,
                    }
                )
    return found


def metric_values(log: str, source: str) -> dict[str, float]:
    return {m["name"]: m["value"] for m in metrics(log) if m["dimensions"].get("source") == source}


# -- a normal hour -------------------------------------------------------------------------------
def test_a_fetch_stores_today_and_yesterday_with_their_upvotes(stack_pool, corpus):
    with running(stack_pool, corpus_fixtures(corpus)) as stack:
        reports = run(stack)
        stored = rows(stack)
        for day in (TODAY, YESTERDAY):
            expected = corpus.items(day)
            listed = papers_of_day(stack, day)
            assert {p.id for p in listed} == {e["paper"]["id"] for e in expected}
            assert [p.upvotes for p in listed] == sorted(
                (e["paper"]["upvotes"] for e in expected), reverse=True
            )
            for entry in expected:
                row = stored[entry["paper"]["id"]]
                assert row["upvotes"] == entry["paper"]["upvotes"]
                assert row["comments"] == entry["numComments"]
                assert row["title"] == entry["paper"]["title"]
                assert row["day"] == day
        assert len(stored) == 60  # nothing from the other fixture days, nothing twice
        assert reports["hf_daily_papers"] == {
            "source": "hf_daily_papers",
            "fetched": 60,
            "new": 60,
            "updated": 0,
            "skipped": 0,
            "retried_requests": 0,
            "failed_listings": 0,
        }
        some = stored[corpus.items(TODAY)[0]["paper"]["id"]]
        assert some["first_seen"] == TUESDAY.isoformat()
        # PaperRetentionDays (30 by default) after the paper was first seen, as a TTL epoch.
        assert some["expires_at"] == int((TUESDAY + timedelta(days=30)).timestamp())


def test_a_repeated_fetch_creates_no_duplicates_and_moves_nothing(stack_pool, corpus, tmp_path):
    with running(stack_pool, small_fixtures(corpus, tmp_path)) as stack:
        run(stack)
        before = rows(stack)
        stack.now += timedelta(hours=1)
        again = run(stack)["hf_daily_papers"]
        after = rows(stack)
    assert (again["fetched"], again["new"], again["updated"]) == (8, 0, 0)  # all 8 unchanged
    assert after == before  # same ids, first_seen, day, expiry: no duplicate, nothing moved


def test_a_refetch_updates_upvotes_comments_and_links_but_not_first_seen(stack_pool, corpus, tmp_path):
    with running(stack_pool, small_fixtures(corpus, tmp_path)) as stack:
        run(stack)
        first = rows(stack)
        changed = corpus.items(TODAY)[:4]
        rising = changed[3]["paper"]
        rising["upvotes"] = 500
        rising["authors"] = [{"name": "Alec Radford"}, {"name": "Ilya Sutskever"}]
        rising["githubRepo"] = "https://github.com/example/rising"
        rising["projectPage"] = "https://example.org/rising"
        rising["ai_summary"] = "A paper that rose overnight."
        changed[1]["numComments"] = 42
        stack.fixtures.hf_days[TODAY] = corpus.write(tmp_path / "later", TODAY, changed)
        stack.now += timedelta(hours=5)
        report = run(stack)["hf_daily_papers"]
        after = rows(stack)
        top = papers_of_day(stack, TODAY)[0]
    assert (report["fetched"], report["new"], report["updated"]) == (8, 0, 2)
    row = after[rising["id"]]
    assert row["upvotes"] == 500
    assert row["github_url"] == "https://github.com/example/rising"
    assert row["project_url"] == "https://example.org/rising"
    assert row["ai_summary"] == "A paper that rose overnight."
    assert row["authors"] == ["Alec Radford", "Ilya Sutskever"]
    assert after[changed[1]["paper"]["id"]]["comments"] == 42
    assert top.id == rising["id"]  # the day's order follows the new votes
    for paper_id, old in first.items():
        assert after[paper_id]["first_seen"] == old["first_seen"] == TUESDAY.isoformat()
        assert after[paper_id]["day"] == old["day"]
        assert after[paper_id]["expires_at"] == old["expires_at"]


def test_arxiv_adds_categories_to_papers_hf_has_and_keeps_hf_votes(stack_pool, corpus, tmp_path):
    # HF's top four of the day include 2611.10053 and 2611.10004, which the feed lists too.
    fixtures = small_fixtures(corpus, tmp_path)
    fixtures.arxiv_feeds["*"] = TUESDAY_FEED
    with running(stack_pool, fixtures) as stack:
        reports = run(stack)
        stored = rows(stack)
        listed = [paper.id for paper in papers_of_day(stack, TODAY)]
    assert {k: reports["arxiv"][k] for k in ("fetched", "new", "updated", "skipped")} == {
        "fetched": 5,
        "new": 3,
        "updated": 2,
        "skipped": 1,
    }
    clip = stored["2611.10004"]
    assert clip["upvotes"] == 17  # Hugging Face's votes, not the feed's zero
    assert clip["categories"] == ["cs.CV", "cs.LG"]
    assert len(clip["authors"]) == 12  # the corpus has no authors; arXiv does
    assert clip["title"] == "Learning Transferable Visual Models From Natural Language Supervision"
    assert stored["2611.10053"]["upvotes"] == 159
    assert stored["2611.10053"]["categories"] == ["cs.LG", "cs.AI", "cs.RO"]
    # Replacements are not news: no row for the replace-cross or the replace entry.
    assert "2611.10186" not in stored and "2611.09001" not in stored
    # A paper only arXiv lists is a paper of its announcement day, for readers who follow categories.
    resnet = stored["2611.20001"]
    assert (resnet["day"], resnet["source"], resnet["upvotes"]) == (TODAY, "arxiv", 0)
    assert {"2611.20001", "2611.20002", "2611.20003"} <= set(listed)
    assert listed[:2] == ["2611.10053", "2611.10158"]  # HF's most upvoted still lead the day


def test_a_paper_seen_on_arxiv_first_gets_hf_votes_later_and_keeps_its_categories(
    stack_pool, corpus, tmp_path
):
    fixtures = small_fixtures(corpus, tmp_path)
    fixtures.hf_days[TODAY] = corpus.write(
        tmp_path, TODAY, [e for e in corpus.items(TODAY) if e["paper"]["id"] == "2611.10004"]
    )
    fixtures.arxiv_feeds["*"] = TUESDAY_FEED
    with running(stack_pool, fixtures) as stack:
        # Hugging Face is down this hour (both days, every retry); arXiv answers.
        stack.fixtures.faults.extend(Fault(status=503) for _ in range(2 * (DEFAULT_RETRIES + 1)))
        reports = run(stack)
        assert reports["hf_daily_papers"]["failed_listings"] == 2
        assert rows(stack)["2611.10004"]["source"] == "arxiv"
        stack.now += timedelta(hours=1)
        run(stack)
        clip = rows(stack)["2611.10004"]
    assert clip["upvotes"] == 17
    assert clip["categories"] == ["cs.CV", "cs.LG"]
    assert clip["day"] == TODAY


# -- faults ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=429, headers={"Retry-After": "0", "RateLimit": '"api";r=0;t=0'}),
        Fault(status=500, body=b"Internal Server Error"),
        Fault(status=200, body=b"[]", stall_seconds=1.0),  # longer than the 0.5 s timeout
        Fault(status=200, body=b'[{"paper": {"id": "2611.10053", "title": "Meta-Lea'),
    ],
    ids=["429", "500", "stall", "truncated-json"],
)
def test_a_fault_is_retried_and_the_papers_are_stored(stack_pool, corpus, tmp_path, fault):
    with running(stack_pool, small_fixtures(corpus, tmp_path)) as stack:
        stack.fixtures.faults.append(fault)
        reports = run(stack)
        stored = rows(stack)
    hf = reports["hf_daily_papers"]
    assert (hf["fetched"], hf["new"], hf["retried_requests"], hf["failed_listings"]) == (8, 8, 1, 0)
    assert len(stored) == 8
    assert {row["day"] for row in stored.values()} == {TODAY, YESTERDAY}


def test_several_faults_in_a_row_are_survived(stack_pool, corpus, tmp_path):
    with running(stack_pool, small_fixtures(corpus, tmp_path)) as stack:
        stack.fixtures.faults.extend(
            [
                Fault(status=500),
                Fault(status=502),
                Fault(status=429, headers={"Retry-After": "0"}),
                Fault(status=504),
            ]
        )
        reports = run(stack)
        assert len(rows(stack)) == 8
    assert reports["hf_daily_papers"]["retried_requests"] == 4


def test_a_total_outage_fails_the_invocation_and_loses_no_stored_paper(stack_pool, corpus, tmp_path):
    log = io.StringIO()
    with running(stack_pool, small_fixtures(corpus, tmp_path), log=log) as stack:
        run(stack)
        before = rows(stack)
        stack.now += timedelta(hours=1)
        stack.fixtures.faults.extend(
            Fault(status=500) for _ in range(REQUESTS_PER_RUN * (DEFAULT_RETRIES + 1))
        )
        log.truncate(0)
        with pytest.raises(Exception) as failure:
            # Invoked directly: the error must escape the handler so the schedule retries and alarms.
            stack.invoke(FETCH, {"scheduled_time": stack.now.strftime("%Y-%m-%dT%H:%M:%SZ")})
        assert not stack.fixtures.faults, "every request of the run failed"
        after = rows(stack)
    assert type(failure.value).__name__ == "NothingFetched"
    assert "HTTP 500" in str(failure.value)
    assert after == before
    # The failed run still reports, so an operator sees which source is down.
    assert metric_values(log.getvalue(), "hf_daily_papers")["PapersFailedListings"] == 2
    assert metric_values(log.getvalue(), "arxiv")["PapersFailedListings"] == 1


def test_one_unreadable_day_does_not_stop_the_other(stack_pool, corpus, tmp_path):
    with running(stack_pool, small_fixtures(corpus, tmp_path)) as stack:
        # Today's listing fails on every attempt; yesterday's is read.
        stack.fixtures.faults.extend(Fault(status=500) for _ in range(DEFAULT_RETRIES + 1))
        hf = run(stack)["hf_daily_papers"]
        days = {row["day"] for row in rows(stack).values()}
    assert (hf["fetched"], hf["failed_listings"]) == (4, 1)
    assert days == {YESTERDAY}


def test_an_empty_day_stores_nothing_and_deletes_nothing(stack_pool, corpus, tmp_path):
    fixtures = small_fixtures(corpus, tmp_path)
    with running(stack_pool, fixtures) as stack:
        run(stack)
        before = rows(stack)
        # Saturday: Hugging Face lists nothing for today or yesterday, arXiv's feed has no items.
        stack.now = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
        stack.fixtures.arxiv_feeds["*"] = SATURDAY_FEED
        reports = run(stack)
        after = rows(stack)
    assert {source: (r["fetched"], r["new"], r["failed_listings"]) for source, r in reports.items()} == {
        "hf_daily_papers": (0, 0, 0),
        "arxiv": (0, 0, 0),
    }
    assert after == before


def test_malformed_items_are_skipped_and_the_rest_stored(stack_pool, corpus, tmp_path):
    fixtures = small_fixtures(corpus, tmp_path)
    items = corpus.items(TODAY)[:4]
    items.insert(1, {"paper": {"id": "2611.99999", "title": ""}})
    items.insert(3, {"paper": {"id": "not an id", "title": "Broken"}})
    fixtures.hf_days[TODAY] = corpus.write(tmp_path / "broken", TODAY, items)
    with running(stack_pool, fixtures) as stack:
        hf = run(stack)["hf_daily_papers"]
        stored = rows(stack)
    assert (hf["fetched"], hf["skipped"], hf["new"]) == (8, 2, 8)
    assert "2611.99999" not in stored and "not an id" not in stored


# -- what an operator sees ------------------------------------------------------------------------
def test_metrics_report_fetched_new_updated_and_skipped_per_source(stack_pool, corpus, tmp_path):
    fixtures = small_fixtures(corpus, tmp_path)
    fixtures.arxiv_feeds["*"] = TUESDAY_FEED
    log = io.StringIO()
    with running(stack_pool, fixtures, log=log) as stack:
        run(stack)
        first = log.getvalue()
        log.truncate(0)
        log.seek(0)
        changed = corpus.items(TODAY)[:4]
        changed[0]["paper"]["upvotes"] += 10
        changed.append(
            {"paper": {"id": "2611.10004", "title": "Withdrawn", "withdrawnAt": "2026-11-24T07:00:00Z"}}
        )
        stack.fixtures.hf_days[TODAY] = corpus.write(tmp_path / "later", TODAY, changed)
        stack.now += timedelta(hours=1)
        run(stack)
        second = log.getvalue()
    hf_first, arxiv_first = metric_values(first, "hf_daily_papers"), metric_values(first, "arxiv")
    assert {k: hf_first[k] for k in ("PapersFetched", "PapersNew", "PapersUpdated", "PapersSkipped")} == {
        "PapersFetched": 8,
        "PapersNew": 8,
        "PapersUpdated": 0,
        "PapersSkipped": 0,
    }
    # Two of the feed's five papers are among HF's four of the day: they gain categories (updated).
    assert {k: arxiv_first[k] for k in ("PapersFetched", "PapersNew", "PapersUpdated", "PapersSkipped")} == {
        "PapersFetched": 5,
        "PapersNew": 3,
        "PapersUpdated": 2,
        "PapersSkipped": 1,
    }
    hf_second = metric_values(second, "hf_daily_papers")
    assert {k: hf_second[k] for k in ("PapersFetched", "PapersNew", "PapersUpdated", "PapersSkipped")} == {
        "PapersFetched": 8,
        "PapersNew": 0,
        "PapersUpdated": 1,
        "PapersSkipped": 1,
    }


def test_the_no_papers_alarm_watches_the_metric_fetch_papers_emits(stack_pool, corpus, tmp_path):
    log = io.StringIO()
    with running(stack_pool, small_fixtures(corpus, tmp_path), log=log) as stack:
        run(stack)
    alarm = yaml_parse(TEMPLATE.read_text())["Resources"]["NoPapersFetchedAlarm"]["Properties"]
    watched = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    emitted = [
        m
        for m in metrics(log.getvalue())
        if m["name"] == alarm["MetricName"] and m["namespace"] == alarm["Namespace"]
    ]
    assert any(m["dimensions"] == watched and m["value"] > 0 for m in emitted), emitted


# -- the store underneath, on a table made from template.yaml's PapersTable ------------------------
@pytest.fixture
def store(aws) -> PaperStore:
    return PaperStore(template_table("PapersTable", "papers"))


def hf_paper(**changes: Any) -> Paper:
    fields = {
        "id": "2611.10004",
        "title": "Learning Transferable Visual Models From Natural Language Supervision",
        "display_title": "Learning Transferable Visual Models From Natural Language Supervision",
        "upvotes": 17,
        "comments": 2,
        "day": date(2026, 11, 24),
        "source": "hf_daily_papers",
    }
    return Paper.model_validate(fields | changes)


def test_upsert_says_new_unchanged_or_updated(store):
    assert store.upsert(hf_paper(), TUESDAY) == "new"
    later = TUESDAY + timedelta(hours=1)
    assert store.upsert(hf_paper(), later) == "unchanged"
    assert store.upsert(hf_paper(), later, store.stored_rows(["2611.10004"])["2611.10004"]) == "unchanged"
    assert store.upsert(hf_paper(upvotes=18), later) == "updated"
    stored = store.get("2611.10004")
    assert stored is not None and stored.upvotes == 18


def test_a_later_day_listing_the_same_paper_does_not_move_it(store):
    store.upsert(hf_paper(), TUESDAY)
    store.upsert(hf_paper(day=date(2026, 11, 25), upvotes=40), TUESDAY + timedelta(days=1))
    assert [p.upvotes for p in store.papers_of_day(date(2026, 11, 24))] == [40]
    assert store.papers_of_day(date(2026, 11, 25)) == []


def test_an_arxiv_only_paper_is_listed_in_its_day(store):
    paper = hf_paper(id="2611.20001", source="arxiv", upvotes=0, comments=0, categories=("cs.CV",))
    assert store.upsert(paper, TUESDAY) == "new"
    assert [p.id for p in store.papers_of_day(date(2026, 11, 24))] == ["2611.20001"]


def test_stored_rows_reads_more_than_one_batch(store):
    ids = [f"2611.{30000 + n}" for n in range(130)]
    with boto3.resource("dynamodb").Table("papers").batch_writer() as batch:
        for paper_id in ids[:120]:
            batch.put_item(Item={"id": paper_id, "day": TODAY, "upvotes": 1})
    found = store.stored_rows([*ids, ids[0]])
    assert set(found) == set(ids[:120])
