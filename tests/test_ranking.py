"""Ranking (brief section 5 and the relevance bar of section 7) over the real titles and abstracts of
the fixture corpus: what a reader would notice in their digest."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest

from paperboy.models import Paper, Pick
from paperboy.ranking import RankingIndex, rank
from paperboy.readers import Feedback, LikedPaper, ReaderSettings
from paperboy.sources.hf import parse_items

FIXTURES = Path(__file__).parent / "fixtures" / "daily_papers"
NO_FEEDBACK = Feedback()


@cache
def corpus() -> tuple[Paper, ...]:
    papers: list[Paper] = []
    for path in sorted(FIXTURES.glob("*.json")):
        found, skipped = parse_items(json.loads(path.read_text()), date.fromisoformat(path.stem))
        assert not skipped
        papers.extend(found)
    return tuple(papers)


@cache
def corpus_index() -> RankingIndex:
    return RankingIndex(corpus())


def picks_for(*topics: str, index: RankingIndex | None = None, **settings: object) -> list[Pick]:
    reader = ReaderSettings.model_validate({"topics": topics, **settings})
    return rank(index or corpus_index(), reader, NO_FEEDBACK)


def text_of(paper: Paper) -> str:
    return f"{paper.title}\n{paper.summary}".lower()


def mentions(pattern: str, paper: Paper) -> bool:
    return re.search(pattern, text_of(paper)) is not None


def titles(picks: list[Pick]) -> list[str]:
    return [pick.paper.title for pick in picks]


def paper_titled(prefix: str) -> Paper:
    (found,) = [paper for paper in corpus() if paper.title.startswith(prefix)]
    return found


def made_up(number: int, title: str, summary: str = "", **fields: object) -> Paper:
    values: dict[str, object] = {
        "id": f"2612.{number:05d}",
        "title": title,
        "display_title": title,
        "summary": summary,
        "day": date(2026, 11, 23),
        "source": "test",
    }
    values.update(fields)
    return Paper.model_validate(values)


# A human reviewer's test of "on topic", written independently of the ranker: plain regular
# expressions over the title and abstract, no stemming, no abbreviation table.
ON_TOPIC = {
    "reinforcement learning": r"reinforcement[- ]learning|\brl\b|\brlhf\b",
    "adversarial": r"adversar",
    "prompt": r"prompt",
    "contrastive learning": r"contrastive",
    "self-supervised learning": r"self-supervis|self supervis",
    "few-shot learning": r"few-shot|few shot",
    "continual learning": r"continual|lifelong|catastrophic forgetting",
    "zero-shot": r"zero-shot|zero shot",
    "meta-learning": r"meta-learn|meta learn",
    "knowledge distillation": r"distill",
    "domain adaptation": r"domain[- ]adapt|domain (and task )?adaptation|target domain|domain shift",
    "speech recognition": r"speech|\basr\b",
    "robots": r"robot",
}


# -- relevance -------------------------------------------------------------------------------------------
def test_a_reinforcement_learning_reader_gets_rl_papers_best_first():
    picks = picks_for("reinforcement learning", count=10)
    assert len(picks) == 10
    assert all(mentions(ON_TOPIC["reinforcement learning"], pick.paper) for pick in picks), titles(picks)
    # The best on-topic papers come first: the top ten all say it in their title.
    assert all(re.search(r"reinforcement learning|\brl\b", pick.paper.title.lower()) for pick in picks)
    assert all(pick.reasons == ("matches: reinforcement learning",) for pick in picks)
    assert [pick.score for pick in picks] == sorted((pick.score for pick in picks), reverse=True)


@pytest.mark.parametrize(
    "topic",
    [
        "reinforcement learning",
        "adversarial",
        "prompt",
        "contrastive learning",
        "self-supervised learning",
        "few-shot learning",
        "continual learning",
        "zero-shot",
    ],
)
def test_held_out_profiles_get_at_least_nine_on_topic_papers_in_their_top_ten(topic):
    pattern = ON_TOPIC[topic]
    assert sum(mentions(pattern, paper) for paper in corpus()) >= 10, "the corpus must hold ten"
    picks = picks_for(topic, count=10)
    assert len(picks) == 10
    on_topic = sum(mentions(pattern, pick.paper) for pick in picks)
    assert on_topic >= 9, [(mentions(pattern, pick.paper), pick.paper.title) for pick in picks]


@pytest.mark.parametrize("topic", ["knowledge distillation", "domain adaptation", "speech recognition"])
def test_a_narrow_topic_gets_only_on_topic_papers_and_every_paper_naming_it(topic):
    picks = picks_for(topic, count=25)
    assert picks, topic
    assert all(mentions(ON_TOPIC[topic], pick.paper) for pick in picks), titles(picks)
    picked = {pick.paper.id for pick in picks}
    naming = {paper.id for paper in corpus() if topic in text_of(paper).replace("-", " ")}
    assert naming <= picked


@pytest.mark.parametrize(
    ("topic", "pattern"),
    [
        ("reinforcement learning", r"reinforcement learning|\brl\b"),
        ("adversarial", r"adversar"),
        ("continual learning", r"continual learning"),
        ("prompt", r"prompt"),
    ],
)
def test_titles_count_more_than_abstracts(topic, pattern):
    picks = picks_for(topic, count=25)
    in_title = [bool(re.search(pattern, pick.paper.title.lower())) for pick in picks]
    # Every paper naming the topic in its title comes before every paper naming it only in the
    # abstract, whatever their upvotes.
    assert any(in_title) and not all(in_title)
    assert in_title == sorted(in_title, reverse=True), titles(picks)


def test_ai_summaries_and_keywords_count_too():
    keyworded = made_up(1, "Small Students", "We train small nets.", keywords=("knowledge distillation",))
    summarised = made_up(2, "Tiny Models", "We compress models.", ai_summary="Uses knowledge distillation.")
    unrelated = made_up(3, "Bigger Teachers", "We train large networks.", upvotes=900)
    index = RankingIndex([keyworded, summarised, unrelated])
    picks = picks_for("knowledge distillation", index=index)
    assert {pick.paper.id for pick in picks} == {keyworded.id, summarised.id}


def test_a_phrase_beats_the_same_words_scattered():
    phrase = made_up(1, "Speech Recognition for Low-Resource Languages", "We study speech recognition.")
    scattered = made_up(
        2,
        "Recognition of Objects in Cluttered Speech-Free Scenes",
        "Objects are recognised from images. Speech plays no part here.",
        upvotes=500,
    )
    near = made_up(3, "Better Models", "We improve speech command recognition in noisy rooms.", upvotes=500)
    index = RankingIndex([phrase, scattered, near, *corpus()[:50]])
    ranked = [pick.paper.id for pick in picks_for("speech recognition", index=index, count=25)]
    assert ranked[0] == phrase.id
    assert near.id in ranked
    assert ranked.index(phrase.id) < ranked.index(near.id)
    assert scattered.id not in ranked or ranked.index(scattered.id) > ranked.index(near.id)


def test_stemming_matches_robots_to_robot_and_robotic():
    picks = picks_for("robots", count=25)
    assert picks
    assert all(mentions(ON_TOPIC["robots"], pick.paper) for pick in picks)
    texts = [text_of(pick.paper) for pick in picks]
    assert any("robotic" in text and "robots" not in text for text in texts)
    assert any(re.search(r"\brobot\b", text) and "robots" not in text for text in texts)
    every_robot_paper = {paper.id for paper in corpus() if mentions(r"robot", paper)}
    assert {pick.paper.id for pick in picks} == every_robot_paper


def test_abbreviations_stand_for_their_expansion_but_only_where_the_paper_means_it():
    spelled = {pick.paper.id for pick in picks_for("reinforcement learning", count=25)}
    short = {pick.paper.id for pick in picks_for("RL", count=25)}
    assert short == spelled
    # "ASR" in this abstract is an attack success rate, not automatic speech recognition.
    jailbreak = paper_titled("AmpleGCG")
    assert "(asr)" in text_of(jailbreak)
    assert jailbreak.id not in {pick.paper.id for pick in picks_for("speech recognition", count=25)}
    assert jailbreak.id not in {pick.paper.id for pick in picks_for("ASR", count=25)}


def test_several_topics_each_named_in_the_reason():
    picks = picks_for("reinforcement learning", "robots", count=25)
    both = [pick for pick in picks if pick.reasons == ("matches: reinforcement learning, robots",)]
    assert both
    # Matching two of the reader's topics lifts a paper: here the first pick matches both.
    assert picks[0].reasons == ("matches: reinforcement learning, robots",), picks[0].reasons


def test_an_off_topic_paper_never_outranks_an_on_topic_one_for_its_votes():
    viral = paper_titled("Momentum-based Weight Interpolation").model_copy(update={"upvotes": 1_000_000})
    assert not mentions(ON_TOPIC["reinforcement learning"], viral)
    index = RankingIndex([viral, *(p for p in corpus() if p.id != viral.id)])
    picks = picks_for("reinforcement learning", index=index, count=25)
    assert viral.id not in {pick.paper.id for pick in picks}
    assert all(mentions(ON_TOPIC["reinforcement learning"], pick.paper) for pick in picks)


def test_among_equally_relevant_papers_the_popular_come_first():
    papers = [
        made_up(n, f"Offline Reinforcement Learning Study {n}", "A reinforcement learning study.", upvotes=v)
        for n, v in enumerate((3, 250, 40, 0, 90))
    ]
    picks = picks_for("reinforcement learning", index=RankingIndex(papers), count=5)
    assert [pick.paper.upvotes for pick in picks] == [250, 90, 40, 3, 0]


def test_nothing_matching_means_an_empty_digest():
    assert picks_for("federated learning") == []
    assert picks_for("quantum chromodynamics", "protein folding in yeast") == []


def test_count_defaults_to_the_readers_and_can_be_overridden():
    reader = ReaderSettings(topics=("transfer learning",), count=7)
    assert len(rank(corpus_index(), reader, NO_FEEDBACK)) == 7
    assert len(rank(corpus_index(), reader, NO_FEEDBACK, count=3)) == 3
    assert len(rank(corpus_index(), ReaderSettings(count=4), NO_FEEDBACK)) == 4


# -- exclusions ------------------------------------------------------------------------------------------
def test_an_excluded_term_removes_every_paper_mentioning_it():
    picks = picks_for("reinforcement learning", excludes=("robots", "large language models"), count=25)
    assert picks
    for pick in picks:
        assert not mentions(r"robot", pick.paper), pick.paper.title
        assert not mentions(r"large language models?|\bllms?\b", pick.paper), pick.paper.title
    trending = rank(corpus_index(), ReaderSettings(excludes=("adversarial",), count=25), NO_FEEDBACK)
    assert len(trending) == 25
    assert not any(mentions(r"adversar", pick.paper) for pick in trending)


def test_an_exclusion_wins_over_a_followed_author():
    paper = with_authors(paper_titled("Universal Sentence Encoder"), "Yann LeCun")
    index = RankingIndex([paper, *(p for p in corpus() if p.id != paper.id)])
    reader = ReaderSettings(topics=("robots",), authors=("Yann LeCun",), excludes=("sentence encoders",))
    assert paper.id not in {pick.paper.id for pick in rank(index, reader, NO_FEEDBACK)}


def test_an_exclusion_is_a_phrase_not_its_words_anywhere():
    apart = made_up(1, "Language Understanding", "Our models read language; large ones do better.")
    together = made_up(2, "Scaling Study", "We study large language models.")
    index = RankingIndex([apart, together])
    picks = rank(index, ReaderSettings(excludes=("large language models",)), NO_FEEDBACK)
    assert [pick.paper.id for pick in picks] == [apart.id]


def test_papers_already_sent_are_never_picked_again():
    trending = rank(corpus_index(), ReaderSettings(count=25), NO_FEEDBACK)
    sent = {pick.paper.id for pick in trending[:5]}
    again = rank(corpus_index(), ReaderSettings(count=25), NO_FEEDBACK, exclude_ids=sent)
    assert len(again) == 25 and not sent & {pick.paper.id for pick in again}
    rl = picks_for("reinforcement learning", count=25)
    sent = {pick.paper.id for pick in rl[::2]}
    rest = rank(
        corpus_index(),
        ReaderSettings(topics=("reinforcement learning",), count=25),
        NO_FEEDBACK,
        exclude_ids=sent,
    )
    assert [pick.paper.id for pick in rest] == [pick.paper.id for pick in rl[1::2]]


# -- trending --------------------------------------------------------------------------------------------
def test_without_interests_the_digest_is_the_trending_papers():
    picks = rank(corpus_index(), ReaderSettings(count=25), NO_FEEDBACK)
    assert len(picks) == 25
    keys = [(-p.paper.upvotes, -p.paper.comments, -p.paper.published_at.timestamp()) for p in picks]
    assert keys == sorted(keys)
    top = max(corpus(), key=lambda paper: paper.upvotes)
    assert picks[0].paper.id == top.id
    assert picks[0].reasons == (f"trending: {top.upvotes} upvotes",)


def test_trending_ties_break_on_comments_then_recency():
    start = datetime(2026, 11, 20, tzinfo=UTC)
    papers = [
        made_up(1, "A", upvotes=10, comments=1, published_at=start),
        made_up(2, "B", upvotes=10, comments=5, published_at=start),
        made_up(3, "C", upvotes=10, comments=1, published_at=start + timedelta(days=1)),
        made_up(4, "D", upvotes=11, comments=0, published_at=start),
    ]
    picks = rank(RankingIndex(papers), ReaderSettings(), NO_FEEDBACK)
    assert [pick.paper.title for pick in picks] == ["D", "B", "C", "A"]


# -- authors and categories ------------------------------------------------------------------------------
def with_authors(paper: Paper, *authors: str) -> Paper:
    return paper.model_copy(update={"authors": authors})


def test_a_followed_authors_paper_is_always_included_first_with_the_reason():
    off_topic = with_authors(paper_titled("Universal Sentence Encoder"), "Ada Lovelace", "Yann LeCun")
    accented = with_authors(paper_titled("Hard Negative Mixing"), "Bernhard Schölkopf")
    abbreviated = with_authors(paper_titled("Contrastive Learning of Musical"), "Y. LeCun")
    namesake = with_authors(paper_titled("Variational Self-Supervised"), "Yves LeCun-Smith", "Yann Lecunn")
    changed = {p.id: p for p in (off_topic, accented, abbreviated, namesake)}
    index = RankingIndex([changed.get(p.id, p) for p in corpus()])
    reader = ReaderSettings(
        topics=("reinforcement learning",), authors=("yann lecun", "Bernhard Scholkopf"), count=10
    )
    picks = rank(index, reader, NO_FEEDBACK)
    assert {pick.paper.id for pick in picks[:3]} == {off_topic.id, accented.id, abbreviated.id}
    reasons = {pick.paper.id: pick.reasons for pick in picks}
    assert reasons[off_topic.id] == ("by Yann LeCun",)
    assert reasons[accented.id][0] == "by Bernhard Schölkopf"
    assert reasons[abbreviated.id][0] == "by Y. LeCun"
    assert namesake.id not in reasons
    # Without topics the followed author's paper tops the trending list.
    trending = rank(index, ReaderSettings(authors=("Yann LeCun",), count=5), NO_FEEDBACK)
    assert trending[0].paper.id in {off_topic.id, abbreviated.id}
    assert len(trending) == 5
    assert trending[2].reasons[0].startswith("trending: ")


def test_categories_boost_papers_and_count_as_relevant():
    robotics = paper_titled("CAJun").model_copy(update={"categories": ("cs.RO", "cs.LG")})
    rl_in_robotics = paper_titled("Transferable Reinforcement Learning via Generalized").model_copy(
        update={"categories": ("cs.RO",)}
    )
    changed = {p.id: p for p in (robotics, rl_in_robotics)}
    index = RankingIndex([changed.get(p.id, p) for p in corpus()])
    reader = ReaderSettings(topics=("reinforcement learning",), categories=("cs.RO",), count=25)
    picks = rank(index, reader, NO_FEEDBACK)
    reasons = {pick.paper.id: pick.reasons for pick in picks}
    assert reasons[rl_in_robotics.id] == ("matches: reinforcement learning", "in cs.RO")
    assert "in cs.RO" in reasons[robotics.id]
    order = [pick.paper.id for pick in picks]
    plain = rank(index, ReaderSettings(topics=("reinforcement learning",), count=25), NO_FEEDBACK)
    assert order.index(rl_in_robotics.id) < [p.paper.id for p in plain].index(rl_in_robotics.id)
    # Only categories: only papers in them; a whole archive ("cs") covers its subject classes.
    only = rank(index, ReaderSettings(categories=("cs.RO",)), NO_FEEDBACK)
    assert {pick.paper.id for pick in only} == {robotics.id, rl_in_robotics.id}
    assert len(rank(index, ReaderSettings(categories=("cs",)), NO_FEEDBACK)) == 2
    assert rank(index, ReaderSettings(categories=("math.OC",)), NO_FEEDBACK) == []


# -- feedback --------------------------------------------------------------------------------------------
def liked(prefix: str) -> LikedPaper:
    paper = paper_titled(prefix)
    return LikedPaper(id=paper.id, title=paper.title, keywords=paper.keywords)


def test_more_feedback_lifts_similar_papers_and_says_so():
    reader = ReaderSettings(topics=("transfer learning", "continual learning"), count=10)
    before = rank(corpus_index(), reader, NO_FEEDBACK)
    more = Feedback(more=(liked("Continual learning with hypernetworks"),))
    after = rank(corpus_index(), reader, more, exclude_ids={more.more[0].id})
    continual = [pick for pick in after if "continual" in pick.paper.title.lower()]
    assert len(continual) > sum("continual" in pick.paper.title.lower() for pick in before)
    assert all(
        pick.reasons[-1] == 'like "Continual learning with hypernetworks" you liked' for pick in continual
    )
    assert all("continual" in pick.paper.title.lower() for pick in after[:5])


def test_less_feedback_lowers_similar_papers_without_dropping_the_topic():
    reader = ReaderSettings(topics=("prompt",), count=25)
    before = [pick.paper.id for pick in rank(corpus_index(), reader, NO_FEEDBACK)]
    disliked = liked("Hierarchical Cross-modal Prompt Learning for Vision-Language Models")
    after = [pick.paper.id for pick in rank(corpus_index(), reader, Feedback(less=(disliked,)))]
    assert set(after) == set(before)
    vision_language = [
        pick.paper.id
        for pick in rank(corpus_index(), reader, NO_FEEDBACK)
        if "vision-language" in pick.paper.title.lower() and pick.paper.id != disliked.id
    ]
    assert vision_language
    assert sum(after.index(i) for i in vision_language) > sum(before.index(i) for i in vision_language)


def test_feedback_alone_keeps_the_trending_digest_and_lifts_what_was_liked():
    more = Feedback(more=(liked("Continual learning with hypernetworks"),))
    plain = rank(corpus_index(), ReaderSettings(count=10), NO_FEEDBACK)
    lifted = rank(corpus_index(), ReaderSettings(count=10), more)
    assert len(lifted) == 10
    assert sum("continual" in p.paper.title.lower() for p in lifted) > sum(
        "continual" in p.paper.title.lower() for p in plain
    )


# -- reasons and the index -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "reader",
    [
        ReaderSettings(count=25),
        ReaderSettings(topics=("self-supervised learning", "speech recognition"), count=25),
        ReaderSettings(topics=("RL",), excludes=("robots",), count=25),
    ],
)
def test_every_pick_says_why(reader):
    picks = rank(corpus_index(), reader, NO_FEEDBACK)
    assert picks
    for pick in picks:
        assert pick.reasons and all(reason.strip() for reason in pick.reasons)
        assert len(pick.reason) < 200


def test_a_paper_listed_twice_is_indexed_once_with_its_latest_counts():
    paper = corpus()[0]
    later = paper.model_copy(update={"upvotes": 5000})
    index = RankingIndex([paper, *corpus()[1:], later])
    assert len(index.papers) == len(corpus())
    top = rank(index, ReaderSettings(count=1), NO_FEEDBACK)[0]
    assert top.paper.id == paper.id and top.paper.upvotes == 5000


def test_an_empty_index_ranks_nothing():
    assert rank(RankingIndex([]), ReaderSettings(topics=("robots",)), NO_FEEDBACK) == []
    assert rank(RankingIndex([]), ReaderSettings(), NO_FEEDBACK) == []
