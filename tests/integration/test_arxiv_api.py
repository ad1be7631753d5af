"""arXiv's search API (ids a reader likes, an author's recent papers) read from recorded-shape Atom
fixtures served on 127.0.0.1, through the same HTTP client as the listing feeds."""

from __future__ import annotations

from datetime import date

import pytest

from local_stack.sources import Fault
from paperboy.papers.sources import arxiv_api
from paperboy.papers.sources.http import FetchError, HttpClient


def client(waits: list[float]) -> HttpClient:
    return HttpClient(timeout=2.0, retries=2, backoff=0.5, sleep=waits.append)


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("2611.10021 2611.10033", ("2611.10021", "2611.10033")),
        ("2611.10021v2, arXiv:2103.00020", ("2611.10021", "2103.00020")),
        ("https://arxiv.org/abs/2611.10021v1", ("2611.10021",)),
        (
            "arxiv.org/pdf/2611.10021.pdf; https://huggingface.co/papers/2611.10033",
            ("2611.10021", "2611.10033"),
        ),
        ("<https://www.arxiv.org/abs/hep-th/9901001v3>", ("hep-th/9901001",)),
        ("2611.10021 2611.10021v3", ("2611.10021",)),
    ],
)
def test_ids_are_read_from_bare_ids_and_paper_pages(text, ids):
    parsed = arxiv_api.parse_ids(text)
    assert parsed.ids == ids
    assert parsed.refused == ()


@pytest.mark.parametrize(
    "text",
    [
        "https://example.com/abs/2611.10021",
        "https://evil.example/?u=arxiv.org/abs/2611.10021",
        "https://huggingface.co/abs/2611.10021",
        "https://arxiv.org/papers/2611.10021",
        "the transformer paper",
        "2611.10",
    ],
)
def test_other_sites_and_non_ids_are_refused(text):
    parsed = arxiv_api.parse_ids(text)
    assert parsed.ids == ()
    assert parsed.refused


def test_papers_by_id_come_back_in_the_order_asked_and_unknown_ids_are_missing(source_server):
    waits: list[float] = []
    papers = arxiv_api.papers_by_id(
        client(waits), source_server.url, ("2103.00020", "2611.99999", "2611.10021")
    )
    assert [paper.id for paper in papers] == ["2103.00020", "2611.10021"]
    clip = papers[0]
    assert clip.title == "Learning Transferable Visual Models From Natural Language Supervision"
    assert clip.authors[:2] == ("Alec Radford", "Jong Wook Kim")
    assert clip.categories == ("cs.CV", "cs.LG")
    assert clip.day == date(2021, 2, 26)
    assert clip.summary.startswith("State-of-the-art computer vision systems")
    assert "\n" not in clip.summary
    assert clip.paper_url == "https://arxiv.org/abs/2103.00020"
    assert waits == []
    assert source_server.fixtures.requests == [
        "/api/query?id_list=2103.00020%2C2611.99999%2C2611.10021&max_results=3"
    ]


def test_an_author_query_gives_their_newest_papers_first(source_server):
    papers = arxiv_api.papers_by_author(client([]), source_server.url, "Ada Lovelace")
    assert [paper.id for paper in papers] == ["2611.10033", "2611.10004", "2611.10060", "2611.10021"]
    assert all("Ada Lovelace" in paper.authors for paper in papers)
    assert arxiv_api.papers_by_author(client([]), source_server.url, "Nobody Atall") == []


def test_arxivs_error_entry_is_a_failure_not_an_empty_answer(source_server):
    with pytest.raises(FetchError, match="HTTP 400"):
        arxiv_api.papers_by_id(client([]), source_server.url, ("abc",))
    # A 400 is final: a malformed id is not asked for again.
    assert len(source_server.fixtures.requests) == 1


def test_rate_limits_are_retried_like_every_source(source_server):
    waits: list[float] = []
    source_server.fixtures.faults.extend(
        [Fault(status=429, body=b"Rate exceeded.", headers={"Retry-After": "3"}), Fault(status=503)]
    )
    papers = arxiv_api.papers_by_id(client(waits), source_server.url, ("2611.10021",))
    assert [paper.id for paper in papers] == ["2611.10021"]
    assert waits[0] == 3.0
    assert len(waits) == 2


def test_more_than_the_cap_is_refused_before_any_request(source_server):
    ids = tuple(f"2611.{10000 + n}" for n in range(arxiv_api.MAX_IDS + 1))
    with pytest.raises(ValueError, match="at most 20"):
        arxiv_api.papers_by_id(client([]), source_server.url, ids)
    assert source_server.fixtures.requests == []


def test_an_error_entry_served_with_200_is_a_bad_response():
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>https://arxiv.org/api/errors#x</id>'
        b"<title>Error</title><summary>incorrect id format for x</summary></entry></feed>"
    )
    with pytest.raises(ValueError, match="incorrect id format"):
        arxiv_api.parse_feed(body)
    with pytest.raises(ValueError, match="not an Atom feed"):
        arxiv_api.parse_feed(b"<rss/>")
