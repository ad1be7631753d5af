"""The paper sources: Hugging Face daily papers and arXiv listing feeds parsed from real fixture files,
and the HTTP client that reads them through rate limits, server errors, stalls and garbage."""

from __future__ import annotations

import json
import socket
from datetime import date, datetime
from pathlib import Path

import pytest

from local_stack.sources import Fault
from paperboy.papers.sources import arxiv, hf
from paperboy.papers.sources.http import MAX_WAIT_SECONDS, FetchError, HttpClient

ARXIV = Path(__file__).parents[1] / "fixtures" / "arxiv"
TUESDAY_FEED = ARXIV / "cs-2026-11-24.xml"
SATURDAY_FEED = ARXIV / "empty-2026-11-21.xml"


def day_of(text: str) -> date:
    return date.fromisoformat(text)


class Sleeps:
    """Stands in for time.sleep: records what the client would have waited."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def client_with(
    sleeps: Sleeps, *, retries: int = 3, backoff: float = 0.5, timeout: float = 2.0
) -> HttpClient:
    return HttpClient(timeout=timeout, retries=retries, backoff=backoff, sleep=sleeps)


def item(paper_id: str, title: str = "A Paper", **paper: object) -> dict:
    return {"paper": {"id": paper_id, "title": title, **paper}}


# -- Hugging Face: the real fixture days -----------------------------------------------------------
def test_every_fixture_day_parses_completely(corpus):
    total = 0
    for day in corpus.days:
        raw = corpus.items(day)
        papers, reasons = hf.parse_items(raw, day_of(day))
        assert reasons == [], day
        assert [paper.id for paper in papers] == [entry["paper"]["id"] for entry in raw], day
        total += len(papers)
    assert total == 213


@pytest.mark.parametrize("day", ["2026-11-20", "2026-11-23", "2026-11-26"])
def test_fixture_papers_carry_the_fields_a_digest_shows(corpus, day):
    raw = corpus.items(day)
    papers, _ = hf.parse_items(raw, day_of(day))
    for entry, paper in zip(raw, papers, strict=True):
        source = entry["paper"]
        assert paper.title == source["title"]
        assert paper.upvotes == source["upvotes"]
        assert paper.comments == entry["numComments"]
        assert paper.day == day_of(day)  # the day asked for, not the arXiv date
        assert paper.source == "hf_daily_papers"
        assert paper.published_at == datetime.fromisoformat(source["publishedAt"])
        assert paper.authors == ()  # the corpus has no author names
        assert paper.summary == " ".join(source["summary"].split())
        assert paper.display_title
        assert paper.arxiv_url == f"https://arxiv.org/abs/{source['id']}"
        assert paper.pdf_url == f"https://arxiv.org/pdf/{source['id']}"
        assert paper.paper_url == f"https://huggingface.co/papers/{source['id']}"
    assert [p.upvotes for p in papers] == sorted((p.upvotes for p in papers), reverse=True)


def test_a_latex_title_keeps_its_original_and_gets_a_display_form(corpus):
    papers, _ = hf.parse_items(corpus.items("2026-11-22"), day_of("2026-11-22"))
    (nas,) = [paper for paper in papers if paper.title.startswith("L$^{2}$NAS")]
    assert nas.title == (
        "L$^{2}$NAS: Learning to Optimize Neural Architectures via Continuous-Action Reinforcement Learning"
    )
    assert nas.display_title == (
        "L²NAS: Learning to Optimize Neural Architectures via Continuous-Action Reinforcement Learning"
    )


def test_optional_fields_become_authors_links_and_ai_summary(corpus):
    raw = corpus.items("2026-11-24")[:1]
    paper = raw[0]["paper"]
    paper["authors"] = [
        {"name": "Alec Radford"},
        {"name": "  Jong Wook Kim "},
        {"name": "Someone Hidden", "hidden": True},
        {"name": "   "},
        {"_id": "no name at all"},
    ]
    paper["ai_summary"] = "CLIP learns image\n   representations from captions."
    paper["ai_keywords"] = ["contrastive learning", "zero-shot"]
    paper["githubRepo"] = "https://github.com/OpenAI/CLIP"
    paper["projectPage"] = "javascript:alert(1)"
    paper["githubStars"] = 27000
    paper["submittedOnDailyAt"] = "2026-11-24T01:00:00.000Z"
    (parsed,), reasons = hf.parse_items(raw, day_of("2026-11-24"))
    assert reasons == []
    assert parsed.authors == ("Alec Radford", "Jong Wook Kim")
    assert parsed.ai_summary == "CLIP learns image representations from captions."
    assert parsed.keywords == ("contrastive learning", "zero-shot")
    assert parsed.github_url == "https://github.com/OpenAI/CLIP"
    assert parsed.project_url == ""  # only http(s) links ever reach a reader


def test_partial_items_with_only_the_required_fields_are_kept():
    papers, reasons = hf.parse_items([item("2611.30001", "Bare Minimum")], day_of("2026-11-24"))
    assert reasons == []
    (paper,) = papers
    assert (paper.id, paper.title, paper.display_title) == ("2611.30001", "Bare Minimum", "Bare Minimum")
    assert (paper.upvotes, paper.comments, paper.summary, paper.authors) == (0, 0, "", ())
    assert paper.published_at is None
    assert (paper.github_url, paper.project_url, paper.ai_summary, paper.keywords) == ("", "", "", ())


def test_malformed_items_are_skipped_and_counted_with_reasons(corpus):
    good = corpus.items("2026-11-24")[:3]
    missing_title = item("2611.30001")
    del missing_title["paper"]["title"]
    raw = [
        good[0],
        missing_title,  # 1
        item("2611.30002", title="   "),  # 2: blank title
        item("not-an-arxiv-id"),  # 3
        item("2611.30004", upvotes=-3),  # 4
        item("2611.30005", withdrawnAt="2026-11-24T09:00:00.000Z"),  # 5
        "a string, not an item",  # 6
        None,  # 7
        [1, 2, 3],  # 8
        {"title": "no paper object"},  # 9
        {"paper": good[1]["paper"], "numComments": -1},  # 10
        good[2],
    ]
    papers, reasons = hf.parse_items(raw, day_of("2026-11-24"))
    assert [paper.id for paper in papers] == [good[0]["paper"]["id"], good[2]["paper"]["id"]]
    assert len(reasons) == 10
    assert [reason.split(":")[0] for reason in reasons] == [f"item {n}" for n in range(1, 11)]
    by_item = {int(reason.split(":")[0].split()[1]): reason for reason in reasons}
    assert "title" in by_item[1]
    assert "title" in by_item[2]
    assert "id" in by_item[3]
    assert "upvotes" in by_item[4]
    assert "withdrawn" in by_item[5] and "2611.30005" in by_item[5]
    assert "paper" in by_item[9]
    assert "numComments" in by_item[10]


def test_an_empty_day_is_a_normal_day():
    assert hf.parse_items([], day_of("2026-11-21")) == ([], [])


@pytest.mark.parametrize("body", [{"error": "Invalid date"}, "text", 42, None])
def test_a_body_that_is_not_a_list_is_refused(body):
    with pytest.raises(ValueError, match="JSON array"):
        hf.parse_items(body, day_of("2026-11-24"))


# -- Hugging Face over HTTP: paging ----------------------------------------------------------------
def big_day(corpus, count: int) -> list[dict]:
    """`count` distinct items made from the corpus' real titles."""
    pool = [entry for day in corpus.days for entry in corpus.items(day)]
    items = []
    for number in range(count):
        entry = json.loads(json.dumps(pool[number % len(pool)]))
        entry["paper"]["id"] = f"2611.{40000 + number}"
        items.append(entry)
    return items


def test_a_busy_day_is_read_across_pages(corpus, source_server, tmp_path, sleeps):
    source_server.fixtures.hf_days["2026-11-30"] = corpus.write(tmp_path, "2026-11-30", big_day(corpus, 250))
    listing = hf.fetch_day(client_with(sleeps), source_server.url, day_of("2026-11-30"))
    assert len(listing.papers) == 250
    assert len({paper.id for paper in listing.papers}) == 250
    assert listing.skipped == 0
    pages = [path for path in source_server.fixtures.requests if "2026-11-30" in path]
    assert [path.split("p=")[1] for path in pages] == ["0", "1", "2"]
    assert all("limit=100" in path for path in pages)


def test_a_day_of_exactly_one_full_page_asks_for_the_next_and_stops_at_the_empty_one(
    corpus, source_server, tmp_path, sleeps
):
    source_server.fixtures.hf_days["2026-11-30"] = corpus.write(tmp_path, "2026-11-30", big_day(corpus, 100))
    listing = hf.fetch_day(client_with(sleeps), source_server.url, day_of("2026-11-30"))
    assert len(listing.papers) == 100
    assert len(source_server.fixtures.requests) == 2


def test_skipped_items_on_a_full_page_do_not_end_paging_early(corpus, source_server, tmp_path, sleeps):
    items = big_day(corpus, 130)
    for position in (3, 50, 99, 120):
        items[position]["paper"]["upvotes"] = -1
    source_server.fixtures.hf_days["2026-11-30"] = corpus.write(tmp_path, "2026-11-30", items)
    listing = hf.fetch_day(client_with(sleeps), source_server.url, day_of("2026-11-30"))
    assert len(listing.papers) == 126
    assert listing.skipped == 4


def test_a_server_that_ignores_the_page_number_cannot_make_the_fetch_loop_forever(corpus):
    page = json.dumps(big_day(corpus, hf.PAGE_SIZE)).encode()

    class SamePageForever:
        calls = 0

        def get(self, url, parse):
            self.calls += 1
            return parse(page)

    client = SamePageForever()
    listing = hf.fetch_day(client, "http://127.0.0.1:9", day_of("2026-11-30"))
    assert client.calls == hf.MAX_PAGES
    assert len(listing.papers) == hf.PAGE_SIZE  # the same papers, not twenty copies


def test_a_real_fixture_day_is_fetched_over_http_with_the_day_asked(source_server, sleeps):
    listing = hf.fetch_day(client_with(sleeps), source_server.url, day_of("2026-11-23"))
    assert len(listing.papers) == 30
    assert source_server.fixtures.requests == ["/api/daily_papers?date=2026-11-23&limit=100&p=0"]
    assert sleeps.waits == []


# -- arXiv listing feeds ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tuesday() -> arxiv.DayListing:
    return arxiv.parse_feed(TUESDAY_FEED.read_bytes(), day_of("2000-01-01"))


def test_the_feed_lists_new_and_cross_announcements_only(tuesday):
    assert [paper.id for paper in tuesday.papers] == [
        "2611.10004",
        "2611.10053",
        "2611.20001",
        "2611.20002",
        "2611.20003",
    ]
    # Replacements (2611.09001 replace, 2611.10186 replace-cross) are not news.
    assert tuesday.day == day_of("2026-11-24")  # the announcement day, from the channel's pubDate
    assert all(paper.day == tuesday.day and paper.source == "arxiv" for paper in tuesday.papers)


def test_an_item_without_an_arxiv_id_is_skipped_and_counted(tuesday):
    assert tuesday.skipped == 1
    (reason,) = tuesday.skip_reasons
    assert reason.startswith("item 7:") and "arXiv id" in reason


def test_hard_wrapped_titles_and_abstracts_become_one_line_without_the_announce_prefix(tuesday):
    clip = tuesday.papers[0]
    assert clip.title == "Learning Transferable Visual Models From Natural Language Supervision"
    assert clip.display_title == clip.title
    assert clip.summary.startswith("State-of-the-art computer vision systems are trained to predict a fixed")
    assert "Announce Type" not in clip.summary and "arXiv:" not in clip.summary
    assert "\n" not in clip.summary and "  " not in clip.summary
    assert clip.summary.endswith("a much broader source of supervision.")
    for paper in tuesday.papers:
        assert not paper.summary.startswith(("arXiv:", "Announce", "Abstract")), paper.id


def test_authors_are_split_from_dc_creator(tuesday):
    papers = {paper.id: paper for paper in tuesday.papers}
    assert len(papers["2611.10004"].authors) == 12
    assert papers["2611.10004"].authors[:2] == ("Alec Radford", "Jong Wook Kim")
    assert papers["2611.10004"].authors[-1] == "Ilya Sutskever"
    assert papers["2611.20001"].authors == ("Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun")
    # A name holding a comma stays one author; non-ASCII names survive.
    assert papers["2611.20003"].authors[:2] == ("Robert L. Logan, IV", "Ivana Balažević")
    assert len(papers["2611.20003"].authors) == 6


def test_categories_and_latex_titles_from_the_feed(tuesday):
    papers = {paper.id: paper for paper in tuesday.papers}
    assert papers["2611.10053"].categories == ("cs.LG", "cs.AI", "cs.RO")
    assert papers["2611.20002"].categories == ("cs.LG", "stat.ML")
    beta = papers["2611.20002"]
    assert (
        beta.title == r"$\beta$-VAE: Learning Basic Visual Concepts with a Constrained Variational Framework"
    )
    assert (
        beta.display_title == "β-VAE: Learning Basic Visual Concepts with a Constrained Variational Framework"
    )
    # The feed has no votes: a paper first seen there starts at zero.
    assert beta.upvotes == 0


def test_a_weekend_feed_is_an_empty_day_not_an_error():
    listing = arxiv.parse_feed(SATURDAY_FEED.read_bytes(), day_of("2000-01-01"))
    assert (listing.papers, listing.skipped, listing.day) == ([], 0, day_of("2026-11-21"))


def test_a_feed_without_a_date_is_filed_under_the_day_it_was_fetched():
    body = TUESDAY_FEED.read_text().replace(
        "<pubDate>Tue, 24 Nov 2026 00:00:00 -0500</pubDate>\n    <skip", "<skip"
    )
    listing = arxiv.parse_feed(body.encode(), day_of("2026-11-25"))
    assert listing.day == day_of("2026-11-25")
    assert len(listing.papers) == 5


def test_a_paper_listed_twice_in_a_combined_feed_is_kept_once():
    body = TUESDAY_FEED.read_text()
    start, end = body.index("<item>"), body.index("</item>") + len("</item>")
    listing = arxiv.parse_feed((body[:end] + body[start:end] + body[end:]).encode(), day_of("2026-11-24"))
    assert [paper.id for paper in listing.papers].count("2611.10004") == 1


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b"Rate exceeded.", "not XML"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel><item>', "not XML"),
        (b"<html><body><h1>Service Unavailable</h1></body></html>", "no <channel>"),
        (b"", "not XML"),
    ],
)
def test_a_body_that_is_not_a_feed_is_refused(body, complaint):
    with pytest.raises(ValueError, match=complaint):
        arxiv.parse_feed(body, day_of("2026-11-24"))


def test_the_feed_url_joins_categories_with_plus():
    assert (
        arxiv.feed_url("https://rss.arxiv.org/", ["cs.CL", "cs.RO"])
        == "https://rss.arxiv.org/rss/cs.CL+cs.RO"
    )


def test_no_categories_means_no_request(source_server, sleeps):
    listing = arxiv.fetch_listing(client_with(sleeps), source_server.url, [], day_of("2026-11-24"))
    assert listing.papers == []
    assert source_server.fixtures.requests == []


def test_arxiv_throttling_is_retried_then_the_feed_is_read(source_server, sleeps):
    source_server.fixtures.arxiv_feeds["cs.CV+cs.LG+cs.CL"] = TUESDAY_FEED
    source_server.fixtures.faults.append(
        Fault(status=429, body=b"Rate exceeded.", headers={"Retry-After": "5"})
    )
    listing = arxiv.fetch_listing(
        client_with(sleeps), source_server.url, ["cs.CV", "cs.LG", "cs.CL"], day_of("2026-11-24")
    )
    assert len(listing.papers) == 5
    assert sleeps.waits == [5.0]
    assert source_server.fixtures.requests == ["/rss/cs.CV+cs.LG+cs.CL"] * 2


# -- the HTTP client against the fixture server ----------------------------------------------------
def test_429_with_retry_after_is_honoured_then_the_day_is_read(source_server, sleeps):
    source_server.fixtures.faults.append(Fault(status=429, headers={"Retry-After": "7"}))
    listing = hf.fetch_day(client_with(sleeps), source_server.url, day_of("2026-11-23"))
    assert len(listing.papers) == 30
    assert sleeps.waits == [7.0]
    assert len(source_server.fixtures.requests) == 2


def test_hugging_face_ratelimit_header_sets_the_wait(source_server, sleeps):
    headers = {"RateLimit": '"api";r=0;t=55', "RateLimit-Policy": '"fixed window";"api";q=500;w=300'}
    source_server.fixtures.faults.append(Fault(status=429, headers=headers))
    hf.fetch_day(client_with(sleeps), source_server.url, day_of("2026-11-23"))
    assert sleeps.waits == [56.0]  # the reset time plus a second


def test_a_server_asking_for_an_hour_gets_a_capped_wait(source_server, sleeps):
    source_server.fixtures.faults.append(Fault(status=503, headers={"Retry-After": "3600"}))
    hf.fetch_day(client_with(sleeps), source_server.url, day_of("2026-11-23"))
    assert sleeps.waits == [MAX_WAIT_SECONDS]


def test_500_twice_then_success_backs_off_exponentially(source_server, sleeps):
    source_server.fixtures.faults.extend([Fault(status=500), Fault(status=502)])
    client = client_with(sleeps, backoff=0.5)
    listing = hf.fetch_day(client, source_server.url, day_of("2026-11-23"))
    assert len(listing.papers) == 30
    assert len(sleeps.waits) == 2
    # Jittered around 0.5 s then 1 s.
    assert 0.25 <= sleeps.waits[0] <= 0.75
    assert 0.5 <= sleeps.waits[1] <= 1.5
    assert client.failed_attempts == 2


def test_a_stall_longer_than_the_timeout_is_retried(source_server, sleeps):
    source_server.fixtures.faults.append(Fault(status=200, body=b"[]", stall_seconds=1.5))
    listing = hf.fetch_day(client_with(sleeps, timeout=0.2), source_server.url, day_of("2026-11-23"))
    assert len(listing.papers) == 30  # the stalled answer (an empty day) was never taken for the real one
    assert len(sleeps.waits) == 1


def test_truncated_json_is_retried(source_server, sleeps):
    source_server.fixtures.faults.append(Fault(status=200, body=b'[{"paper": {"id": "2611.10178", "tit'))
    listing = hf.fetch_day(client_with(sleeps), source_server.url, day_of("2026-11-23"))
    assert len(listing.papers) == 30
    assert len(sleeps.waits) == 1


def test_an_error_object_served_with_200_is_retried_not_taken_for_a_day(source_server, sleeps):
    source_server.fixtures.faults.append(Fault(status=200, body=b'{"error": "Internal Error"}'))
    listing = hf.fetch_day(client_with(sleeps), source_server.url, day_of("2026-11-23"))
    assert len(listing.papers) == 30
    assert len(sleeps.waits) == 1


def test_404_fails_at_once_without_retrying(source_server, sleeps):
    client = client_with(sleeps)
    with pytest.raises(FetchError, match="HTTP 404"):
        client.get(f"{source_server.url}/api/papers/unknown", json.loads)
    assert sleeps.waits == []
    assert len(source_server.fixtures.requests) == 1


def test_a_malformed_date_is_a_client_error_not_retried(source_server, sleeps):
    client = client_with(sleeps)
    with pytest.raises(FetchError, match="HTTP 400"):
        client.get(f"{source_server.url}/api/daily_papers?date=2026-13-40", json.loads)
    assert sleeps.waits == []


def test_retries_exhausted_raise_fetch_error(source_server, sleeps):
    source_server.fixtures.faults.extend(Fault(status=500) for _ in range(4))
    client = client_with(sleeps, retries=3)
    with pytest.raises(FetchError, match="after 4 attempts: HTTP 500"):
        hf.fetch_day(client, source_server.url, day_of("2026-11-23"))
    assert len(source_server.fixtures.requests) == 4
    assert len(sleeps.waits) == 3
    assert client.failed_attempts == 4


def test_a_source_that_is_not_listening_raises_fetch_error(sleeps):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError, match="after 3 attempts"):
        hf.fetch_day(client_with(sleeps, retries=2), f"http://127.0.0.1:{port}", day_of("2026-11-23"))
    assert len(sleeps.waits) == 2
