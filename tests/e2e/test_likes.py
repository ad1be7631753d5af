"""Issue 17 end to end on the local stack (arXiv's API answered by tests/fixtures/arxiv_api): papers a
reader names by reply shape their digest, `more like N` answers at once, `me:` follows an author."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest

from local_stack import scenario
from local_stack.sources import SourceFixtures
from local_stack.stack import LocalStack
from paperboy.readers.likes import in_force
from paperboy.readers.model import ReaderSettings

FIXTURES = Path(__file__).parents[1] / "fixtures" / "daily_papers"
DOMAIN = "papers.example.org"
ADA = "ada@example.org"


@pytest.fixture
def stack(stack_pool):
    fixtures = SourceFixtures()
    fixtures.add_hf_directory(FIXTURES)
    with stack_pool.stack(
        domain=DOMAIN,
        start=datetime(2026, 11, 23, 5, 0, tzinfo=UTC),
        fixtures=fixtures,
        prepare=LocalStack.fetch,
    ) as running:
        yield running


def reply(stack, text: str, **fields) -> str:
    scenario.FILE_STEPS["reply"](stack, {"from": ADA, "text": text, **fields}, Path())
    return stack.mailbox.delivered[-1].part("plain")


def ada(stack):
    return stack.subscribers.by_email(ADA)


def api_requests(stack) -> list[str]:
    return [path for path in stack.fixtures.requests if path.startswith("/api/query")]


def test_liked_papers_replace_the_trending_list_and_are_never_sent(stack):
    stack.add_subscriber(ADA, ReaderSettings(count=5))
    stack.advance(timedelta(hours=4))
    first = stack.mailbox.latest_to(ADA).part("plain")
    assert "trending:" in first  # no topics, no likes: the trending list

    # 2611.10021 is not stored (a day not fetched) and 2103.00020 never was: arXiv's API is asked
    # once for both; 2611.99999 does not exist.
    answer = reply(stack, "like 2611.10021 https://arxiv.org/abs/2103.00020v1 2611.99999")
    assert "Learning Transferable Visual Models From Natural Language Supervision" in answer
    assert "arXiv has no paper 2611.99999" in answer
    assert len(api_requests(stack)) == 1
    liked = ada(stack)
    assert [like.id for like in liked.likes] == ["2611.10021", "2103.00020"]
    # Embed gave each liked paper a vector (from the stored row it embedded).
    assert set(liked.like_vectors) == {"2611.10021", "2103.00020"}

    listing = reply(stack, "likes")
    assert "The 2 papers you liked" in listing and "(2103.00020)" in listing

    stack.advance(timedelta(days=1))
    digest = stack.mailbox.latest_to(ADA).part("plain")
    assert "you liked" in digest and "trending:" not in digest
    records = stack.ledger.recent_digests(liked.id)
    sent = {paper for record in records for paper in record.paper_ids}
    assert not sent & {"2611.10021", "2103.00020"}

    answer = reply(stack, "unlike 2103.00020")
    assert "no longer liked" in answer
    assert [like.id for like in ada(stack).likes] == ["2611.10021"]
    assert set(ada(stack).like_vectors) == {"2611.10021"}


def test_bad_likes_get_a_clear_answer_and_change_nothing(stack):
    stack.add_subscriber(ADA, ReaderSettings(topics=("robotics",)))
    stack.advance(timedelta(hours=4))
    before = ada(stack)
    answer = reply(stack, "like https://example.com/abs/2611.10021")
    assert "is not an arXiv id or an arxiv.org or huggingface.co/papers link" in answer
    answer = reply(stack, "like " + " ".join(f"2611.{10000 + n}" for n in range(150)))
    assert "at most 20 papers at a time" in answer
    answer = reply(stack, "like 2611.99998")
    assert "arXiv has no paper 2611.99998" in answer
    after = ada(stack)
    assert (after.likes, after.settings) == (before.likes, before.settings)


def test_more_like_n_answers_at_once_and_counts_as_more(stack):
    stack.add_subscriber(ADA, ReaderSettings(count=5))
    stack.advance(timedelta(hours=4))
    record = stack.ledger.recent_digests(ada(stack).id)[0]
    answer = reply(stack, "more like 2")
    assert "Papers of the last 7 days like #2" in answer
    shown = [line for line in answer.splitlines() if line.strip()[:2] in {f"{n}." for n in range(1, 6)}]
    assert 1 <= len(shown) <= 5
    reader = ada(stack)
    assert [paper.id for paper in reader.feedback.more] == [record.paper_ids[1]]
    # What it sent counts as sent: never again, in the next answer or digest.
    new = reader.recent_papers[len(record.paper_ids) + len(record.trending_ids) :]
    assert len(new) == len(shown) and not set(new) & set(record.paper_ids)
    again = reply(stack, "more like 2")
    assert not any(paper in again for paper in new)


def test_me_follows_the_author_and_lists_their_papers_and_unfollow_undoes_it(stack):
    stack.add_subscriber(ADA, ReaderSettings())
    stack.advance(timedelta(hours=4))
    answer = reply(stack, "me: Ada Lovelace")
    assert "authors followed: Ada Lovelace" in answer and "newest arXiv papers by Ada Lovelace" in answer
    assert "(2611.10033)" in answer and "(2611.10021)" in answer
    reader = ada(stack)
    assert reader.settings.authors == ("Ada Lovelace",)
    assert {like.id for like in reader.likes} == {"2611.10021", "2611.10033", "2611.10004", "2611.10060"}
    reply(stack, "unfollow Ada Lovelace")
    reader = ada(stack)
    # Set aside with the name (following it again brings them back): no longer in force.
    assert reader.settings.authors == () and in_force(reader) == ()


def test_an_unverified_like_is_confirmed_in_our_words(stack):
    stack.add_subscriber(ADA, ReaderSettings())
    stack.advance(timedelta(hours=4))
    text = reply(stack, "like 2611.10021\nme: Ada Lovelace", verdicts={"dmarc": "GRAY"})
    assert "add papers you liked to your profile" in text
    assert "follow an author and add their papers to your profile" in text
    assert "Ada Lovelace" not in text and ada(stack).likes == ()


def test_two_topics_get_sections_and_sections_off_one_list(stack):
    stack.add_subscriber(ADA, ReaderSettings(topics=("reinforcement learning", "language models"), count=8))
    stack.advance(timedelta(hours=4))
    digest = stack.mailbox.latest_to(ADA)
    text, html = digest.part("plain"), digest.part("html")
    assert "== reinforcement learning ==" in text and "== language models ==" in text
    assert "reinforcement learning</h2>" in html and "language models</h2>" in html
    record = stack.ledger.recent_digests(ada(stack).id)[0]
    # Numbered as shown: the record's order is the mail's, so `more 2` names the second paper read.
    numbered = [line for line in text.splitlines() if line[:2] in {f"{n}." for n in range(1, 9)}]
    assert [line.split(". ", 1)[1] for line in numbered] == [t.strip() for t in record.paper_titles]

    answer = reply(stack, "sections off")
    assert "sections off: one list" in answer
    stack.advance(timedelta(days=1))
    plain = stack.mailbox.latest_to(ADA).part("plain")
    assert "==" not in plain


def test_a_weekly_reader_gets_the_weeks_best_not_the_last_days(stack):
    # Thursday's digest of a weekly reader, after a week of fetches: papers of several days.
    stack.add_subscriber(ADA, ReaderSettings(frequency="weekly", weekday=3, count=10))
    stack.advance(timedelta(days=3, hours=4))
    digests = [mail for mail in stack.mailbox.delivered if mail.to == ADA and mail.kind == "digest"]
    assert len(digests) == 1
    record = stack.ledger.recent_digests(ada(stack).id)[0]
    days = {row["day"] for row in stack.table("PapersTable").scan()["Items"] if row["id"] in record.paper_ids}
    assert len(days) >= 3


def test_like_lines_sent_to_subscribe_seed_the_new_readers_profile(stack):
    scenario.FILE_STEPS["email"](
        stack,
        {
            "from": ADA,
            "to": f"subscribe@{DOMAIN}",
            "subject": "hi",
            "text": "like 2103.00020 2611.10021\ncount 5",
        },
        Path(),
    )
    pending = ada(stack)
    assert pending.status == "pending" and [like.id for like in pending.likes] == ["2103.00020", "2611.10021"]
    reply(stack, "yes")
    welcome = stack.mailbox.latest_to(ADA)
    assert welcome.kind == "welcome" and "Papers you liked: 2" in welcome.part("plain")
    assert ada(stack).settings.count == 5


def test_the_web_forms_optional_papers_seed_the_profile_and_a_bad_list_starts_nothing(stack):
    form = {"content-type": "application/x-www-form-urlencoded"}
    page = stack.web("GET", "/subscribe")
    assert 'name="papers"' in page["body"]
    body = urlencode({"email": ADA, "papers": "https://arxiv.org/abs/2103.00020 2611.10021"}).encode()
    assert stack.web("POST", "/subscribe", body=body, headers=form)["status"] == 200
    assert [like.id for like in ada(stack).likes] == ["2103.00020", "2611.10021"]
    other = "bob@example.org"
    bad = urlencode({"email": other, "papers": "https://example.com/abs/2611.10021"}).encode()
    answer = stack.web("POST", "/subscribe", body=bad, headers=form)
    assert answer["status"] == 400 and "is not an arXiv id" in answer["body"]
    assert stack.subscribers.by_email(other) is None
    assert [mail.to for mail in stack.mailbox.delivered] == [ADA]  # one confirmation, to Ada
