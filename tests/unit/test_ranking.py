"""Ranking (brief section 5 and the relevance bar of section 7) over the real titles and abstracts of
the fixture corpus: what a reader would notice in their digest."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest

from paperboy.digests.ranking import RankingIndex, phrases, rank
from paperboy.papers.model import Paper, Pick
from paperboy.papers.sources.hf import parse_items
from paperboy.readers.model import Feedback, LikedPaper, ReaderSettings
from paperboy.semantic import vectors
from paperboy.semantic.embedding import paper_text
from paperboy.semantic.profiles import moved_profile

FIXTURES = Path(__file__).parents[1] / "fixtures" / "daily_papers"
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


# -- relevance, lexical (papers and readers without vectors) ---------------------------------------------
def test_a_reinforcement_learning_reader_gets_rl_papers_best_first():
    picks = picks_for("reinforcement learning", count=10)
    assert len(picks) == 10
    assert all(mentions(ON_TOPIC["reinforcement learning"], pick.paper) for pick in picks), titles(picks)
    # The best on-topic papers come first: the top five say it in their title.
    assert all(re.search(r"reinforcement learning|\brl\b", pick.paper.title.lower()) for pick in picks[:5])
    assert all(pick.reasons[0].startswith("mentions “") for pick in picks)
    assert picks[0].reasons == ("mentions “reinforcement learning”",)
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
def test_held_out_profiles_get_at_least_eight_on_topic_papers_in_their_top_ten(topic):
    pattern = ON_TOPIC[topic]
    assert sum(mentions(pattern, paper) for paper in corpus()) >= 10, "the corpus must hold ten"
    picks = picks_for(topic, count=10)
    on_topic = sum(mentions(pattern, pick.paper) for pick in picks)
    assert on_topic >= 8, [(mentions(pattern, pick.paper), pick.paper.title) for pick in picks]


@pytest.mark.parametrize("topic", ["knowledge distillation", "domain adaptation", "speech recognition"])
def test_a_narrow_topic_gets_on_topic_papers_and_every_paper_naming_it_in_its_title(topic):
    picks = picks_for(topic, count=10)
    assert picks, topic
    on_topic = [mentions(ON_TOPIC[topic], pick.paper) for pick in picks]
    # Without vectors, words alone: "adaptation" without "domain" passes now and then.
    assert sum(on_topic) >= 0.7 * len(picks), titles(picks)
    picked = {pick.paper.id for pick in picks}
    naming = {paper.id for paper in corpus() if topic in paper.title.lower().replace("-", " ")}
    assert naming <= picked


def test_a_title_counts_more_than_an_abstract():
    in_title = made_up(1, "Knowledge Distillation for Tiny Students", "We train small networks.")
    in_abstract = made_up(2, "Tiny Students", "We train small networks by knowledge distillation.")
    index = RankingIndex([in_abstract, in_title, *corpus()[:50]])
    order = [pick.paper.id for pick in picks_for("knowledge distillation", index=index)]
    assert order[0] == in_title.id
    assert order.index(in_title.id) < order.index(in_abstract.id)


def test_ai_summaries_and_keywords_count_too():
    keyworded = made_up(1, "Small Students", "We train small nets.", keywords=("knowledge distillation",))
    summarised = made_up(2, "Tiny Models", "We compress models.", ai_summary="Uses knowledge distillation.")
    unrelated = made_up(3, "Bigger Teachers", "We train large networks.", upvotes=900)
    index = RankingIndex([keyworded, summarised, unrelated, *corpus()[:30]])
    picks = picks_for("knowledge distillation", index=index)
    assert {keyworded.id, summarised.id} <= {pick.paper.id for pick in picks}
    assert unrelated.id not in {pick.paper.id for pick in picks}


def test_stemming_matches_robots_to_robot_and_robotic():
    picks = picks_for("robots", count=25)
    assert picks
    assert all(mentions(ON_TOPIC["robots"], pick.paper) for pick in picks)
    texts = [text_of(pick.paper) for pick in picks]
    assert any("robotic" in text and "robots" not in text for text in texts)
    assert any(re.search(r"\brobot\b", text) and "robots" not in text for text in texts)


def test_abbreviations_stand_for_their_expansion():
    spelled = [pick.paper.id for pick in picks_for("reinforcement learning", count=25)]
    short = [pick.paper.id for pick in picks_for("RL", count=25)]
    assert short == spelled


def test_several_topics_each_named_in_the_reason():
    picks = picks_for("reinforcement learning", "robots", count=25)
    both = [pick for pick in picks if len(pick.reasons) == 2]
    assert both
    assert all(
        set(pick.reasons) == {"mentions “reinforcement learning”", "mentions “robots”"} for pick in both
    ), [pick.reasons for pick in both]
    # Matching two of the reader's topics lifts a paper: here the first pick matches both.
    assert len(picks[0].reasons) == 2, picks[0].reasons


def test_an_off_topic_paper_never_outranks_an_on_topic_one_for_its_votes():
    viral = paper_titled("Momentum-based Weight Interpolation").model_copy(update={"upvotes": 1_000_000})
    assert not mentions(ON_TOPIC["reinforcement learning"], viral)
    index = RankingIndex([viral, *(p for p in corpus() if p.id != viral.id)])
    picks = picks_for("reinforcement learning", index=index, count=25)
    assert viral.id not in {pick.paper.id for pick in picks}
    assert all(mentions(ON_TOPIC["reinforcement learning"], pick.paper) for pick in picks[:10])


def test_among_equally_relevant_papers_the_popular_come_first():
    papers = [
        made_up(n, f"Speech Recognition Study {n}", "We study speech recognition.", upvotes=votes)
        for n, votes in enumerate((3, 250, 0, 40, 90))
    ]
    index = RankingIndex([*papers, *corpus()[:50]])
    picks = picks_for("speech recognition", index=index, count=5)
    assert [pick.paper.upvotes for pick in picks] == [250, 90, 40, 3, 0]


def test_nothing_matching_means_an_empty_digest():
    assert picks_for("sourdough baking") == []
    assert picks_for("federated learning", "sourdough baking") == []


def test_a_topic_line_as_people_write_it_is_one_topic_split_into_phrases_for_matching():
    line = "generative models (diffusion, GANs, flows)"
    reader = ReaderSettings(topics=line)
    assert reader.topics == (line,)
    assert [shown for shown, _ in phrases(line)] == ["generative models", "diffusion", "GANs", "flows"]
    picks = rank(corpus_index(), reader, NO_FEEDBACK)
    assert picks and all(mentions(r"generat|diffusion|\bgans?\b|flow", pick.paper) for pick in picks)


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
    assert reasons[rl_in_robotics.id] == ("mentions “reinforcement learning”", "in cs.RO")
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
    reader = ReaderSettings(topics=("transfer learning", "continual learning"), count=25)
    before = [pick.paper.id for pick in rank(corpus_index(), reader, NO_FEEDBACK)]
    more = Feedback(more=(liked("Continual learning with hypernetworks"),))
    after = rank(corpus_index(), reader, more, exclude_ids={more.more[0].id})
    continual = [
        pick for pick in after if "continual" in pick.paper.title.lower() and pick.paper.id in before
    ]
    assert continual
    moved = [
        ([pick.paper.id for pick in after].index(p.paper.id), before.index(p.paper.id)) for p in continual
    ]
    assert sum(now for now, _ in moved) < sum(then for _, then in moved)
    assert any(
        pick.reasons[-1] == 'like "Continual learning with hypernetworks" you liked' for pick in continual
    )
    assert all("continual" in pick.paper.title.lower() for pick in after[:3])


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


# Topics whose words are common in the corpus ("domain", "transfer", "learning", "neural" are in most
# abstracts), some as people write them: a reason may quote a phrase the reader wrote, never one of
# those words alone.
COMMON_WORD_TOPICS = [
    "domain adaptation",
    "transfer learning for robots",
    "graph neural networks",
    "I study how pretrained language models transfer to new domains",
    "neural network pruning, knowledge distillation",
]


def quoted(reason: str) -> list[str]:
    return re.findall(r"“([^”]*)”", reason)


@pytest.mark.parametrize("topic", COMMON_WORD_TOPICS)
def test_a_reason_names_the_readers_concept_never_a_lone_common_word(topic):
    papers = corpus()
    common = {
        word
        for word in ("domain", "transfer", "learning", "neural", "network", "model", "language")
        if sum(word in text_of(paper) for paper in papers) > 0.2 * len(papers)
    }
    assert {"domain", "transfer", "learning"} <= common
    shown = {phrase for phrase, _ in phrases(topic)}
    picks = picks_for(topic, count=25)
    assert picks, topic
    for pick in picks:
        (reason,) = pick.reasons
        if reason.startswith("mentions "):
            for phrase in quoted(reason):
                assert phrase in shown, (reason, shown)
                assert phrase.lower() not in common, reason
        else:
            assert reason.startswith("close to your interest"), reason


def test_a_reason_quotes_the_phrase_the_paper_uses_or_the_interest_it_is_close_to():
    apart = made_up(1, "Adapting Detectors", "Each domain gets its own detector; adaptation is online.")
    together = made_up(2, "Unsupervised Domain Adaptation for Detectors", "We adapt detectors.")
    quantised = made_up(3, "Four-Bit Transformers", "We quantize the weights of large pretrained models.")
    index = RankingIndex([apart, together, quantised, *corpus()[:60]])
    by_id = {pick.paper.id: pick.reasons for pick in picks_for("domain adaptation", index=index, count=25)}
    assert by_id[together.id] == ("mentions “domain adaptation”",)
    assert by_id.get(apart.id, ("close to your interest “domain adaptation”",)) == (
        "close to your interest “domain adaptation”",
    )
    sentence = (
        "I work on compressing deep neural networks — pruning, quantization and knowledge distillation — "
        "so that large pretrained models can run efficiently on edge devices"
    )
    reasons = {pick.paper.id: pick.reasons for pick in picks_for(sentence, index=index, count=25)}
    assert reasons[quantised.id] == ("mentions “quantization”",)


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


# -- with sentence vectors (the embedding model, as the Embed function stores them) ----------------------
def with_vectors(embedder, papers: list[Paper]) -> list[Paper]:
    found = embedder.embed([paper_text(paper) for paper in papers])
    return [
        paper.model_copy(update={"vector": vectors.pack(vector), "vector_model": vectors.MODEL})
        for paper, vector in zip(papers, found, strict=True)
    ]


def topic_vectors(embedder, *topics: str) -> dict[str, bytes]:
    return {
        topic: vectors.pack(vector)
        for topic, vector in zip(topics, embedder.embed(list(topics)), strict=True)
    }


LIDAR = made_up(
    901,
    "Segmenting Roof-Mounted Laser Scans of City Streets",
    "Every return of a LiDAR sensor on a car is labelled as road, pedestrian or vehicle by a sparse "
    "convolutional network over the scanned geometry.",
)
LIDAR_TOO = made_up(
    902,
    "Detecting Pedestrians in Sparse Laser Range Scans",
    "A LiDAR detector finds people and cyclists in the sparse returns of a vehicle's laser scanner.",
)
MESHES = made_up(
    903,
    "Generating Object Shapes as Sets of Surface Samples",
    "A diffusion model generates 3D shapes of chairs and airplanes as unordered sets of xyz samples.",
)
PRUNING = made_up(
    904,
    "Making Transformers Fit on Phones",
    "We prune attention heads and quantize weights to 4 bits, then distil the large teacher into the "
    "small model so that it runs on a mobile CPU in real time.",
)


@pytest.fixture(scope="module")
def world(embedder) -> list[Paper]:
    """Thirty corpus papers (none about point clouds or compression) and the made-up ones above."""
    others = [
        paper
        for paper in corpus()
        if not mentions(r"point|cloud|lidar|3d|prun|quantiz|distil|compress|shape", paper)
    ][:30]
    return with_vectors(embedder, [LIDAR, LIDAR_TOO, MESHES, PRUNING, *others])


def semantic_picks(embedder, papers: list[Paper], *topics: str, **settings: object) -> list[Pick]:
    reader = ReaderSettings.model_validate({"topics": topics, **settings})
    feedback = settings.pop("feedback", NO_FEEDBACK) if "feedback" in settings else NO_FEEDBACK
    return rank(RankingIndex(papers), reader, feedback, topic_vectors=topic_vectors(embedder, *topics))


def test_a_synonym_only_paper_counts_by_its_closeness_in_meaning(embedder, world):
    # Neither LiDAR paper says "point", "cloud" or "3D": only their vectors relate them to the topic.
    assert not mentions(r"point|cloud|3d", LIDAR) and not mentions(r"point|cloud|3d", LIDAR_TOO)
    index = RankingIndex(world)
    topic = "3D point clouds"
    packed = topic_vectors(embedder, topic)[topic]
    numbers = {paper.id: number for number, paper in enumerate(index.papers)}
    probability = index.probability(topic, packed)
    unrelated = [numbers[paper.id] for paper in world if paper.id not in {LIDAR.id, LIDAR_TOO.id, MESHES.id}]
    # Closer in meaning than anything unrelated, the nearer LiDAR paper the more likely ...
    assert probability[numbers[LIDAR.id]] > probability[numbers[LIDAR_TOO.id]] > max(probability[unrelated])
    # ... and far more likely than by its words alone (no vectors: no evidence at all).
    assert probability[numbers[LIDAR.id]] > 5 * index.probability(topic, None)[numbers[LIDAR.id]]
    # The one paper both close and sharing the topic's words comes first; the unrelated one never.
    picks = rank(index, ReaderSettings(topics=(topic,)), NO_FEEDBACK, topic_vectors={topic: packed})
    assert picks and all(pick.paper.id != PRUNING.id for pick in picks)
    assert picks[0].paper.id == MESHES.id


def test_a_sentence_long_interest_gets_a_digest(embedder, world):
    sentence = (
        "I work on compressing deep neural networks — pruning, quantization and knowledge distillation — "
        "so that large pretrained models can run efficiently on edge devices"
    )
    reader = ReaderSettings(topics=sentence)
    assert reader.topics == (sentence,)
    picks = rank(RankingIndex(world), reader, NO_FEEDBACK, topic_vectors=topic_vectors(embedder, sentence))
    assert picks and picks[0].paper.id == PRUNING.id
    assert picks[0].reasons[0].startswith(("mentions “", "close to your interest “I work on compressing"))


def test_an_excluded_term_always_wins_over_closeness(embedder, world):
    picks = semantic_picks(embedder, world, "3D point clouds", excludes=("LiDAR",))
    assert picks
    assert not {LIDAR.id, LIDAR_TOO.id} & {pick.paper.id for pick in picks}


def test_upvotes_lift_a_relevant_paper_but_never_let_an_off_topic_one_in(embedder, world):
    viral = {PRUNING.id: PRUNING, LIDAR_TOO.id: LIDAR_TOO}
    lifted = [
        paper.model_copy(update={"upvotes": 1_000_000}) if paper.id in viral else paper for paper in world
    ]
    # A topic both LiDAR papers clearly match, the first one better.
    topic = "LiDAR laser scans"
    before = [pick.paper.id for pick in semantic_picks(embedder, world, topic)]
    assert before.index(LIDAR.id) < before.index(LIDAR_TOO.id)
    ids = [pick.paper.id for pick in semantic_picks(embedder, lifted, topic)]
    assert PRUNING.id not in ids
    assert ids.index(LIDAR_TOO.id) < ids.index(LIDAR.id)


def test_a_paper_without_a_vector_still_ranks_by_its_words(embedder, world):
    plain = made_up(905, "Point Clouds from Stereo Cameras", "We turn stereo images into 3D point clouds.")
    picks = semantic_picks(embedder, [*world, plain], "3D point clouds")
    reasons = {pick.paper.id: pick.reasons for pick in picks}
    assert plain.vector is None and reasons[plain.id] == ("mentions “3D point clouds”",)
    # And a reader without vectors (topics not embedded yet) gets a lexical digest.
    no_vectors = rank(RankingIndex([*world, plain]), ReaderSettings(topics=("3D point clouds",)), NO_FEEDBACK)
    assert [pick.paper.id for pick in no_vectors][:1] == [plain.id]


def test_a_vector_of_another_model_counts_as_none(embedder, world):
    foreign = [paper.model_copy(update={"vector_model": "another-model"}) for paper in world]
    picks = semantic_picks(embedder, foreign, "3D point clouds")
    assert LIDAR.id not in {pick.paper.id for pick in picks}


def test_nothing_close_and_nothing_named_means_an_empty_digest(embedder, world):
    assert semantic_picks(embedder, world, "sourdough baking") == []


def test_less_demotes_papers_like_the_rated_one_and_more_lifts_them(embedder, world):
    index = RankingIndex(world)
    reader = ReaderSettings(topics=("3D scanning",))
    vectors_of = topic_vectors(embedder, "3D scanning")

    def order(profile: bytes | None) -> list[str]:
        picks = rank(index, reader, NO_FEEDBACK, topic_vectors=vectors_of, profile_vector=profile)
        return [pick.paper.id for pick in picks]

    before = order(None)
    assert before == [LIDAR.id, LIDAR_TOO.id, MESHES.id]
    by_id = {paper.id: paper for paper in world}
    # "less" for one LiDAR paper: the other LiDAR paper, unrated, falls below the shape generator.
    less = moved_profile(None, by_id[LIDAR.id].vector, more=False)
    after = order(less)
    assert after.index(LIDAR_TOO.id) > after.index(MESHES.id)
    assert set(after) == set(before)
    # "more" for the shape generator lifts it to the top.
    assert order(moved_profile(None, by_id[MESHES.id].vector, more=True))[0] == MESHES.id


def test_a_rocchio_profile_decays_old_ratings():
    first, second = vectors.pack([1.0] + [0.0] * (vectors.DIM - 1)), vectors.pack([0.0, 1.0] + [0.0] * 382)
    profile = moved_profile(None, first, more=True)
    assert vectors.unpack(profile) @ vectors.unpack(first) > 0.99
    profile = moved_profile(profile, second, more=True)
    # The newer rating weighs more than the older one, and both still count.
    mixed = vectors.unpack(profile)
    assert mixed @ vectors.unpack(second) > mixed @ vectors.unpack(first) > 0.5
    away = moved_profile(None, first, more=False)
    assert vectors.unpack(away) @ vectors.unpack(first) < -0.99


def test_also_trending_is_the_days_top_papers_not_picked_excluded_or_sent():
    index = corpus_index()
    reader = ReaderSettings(topics=("reinforcement learning",), excludes=("diffusion",))
    picks = rank(index, reader, NO_FEEDBACK)
    newest = max(paper.day for paper in corpus())
    top = sorted((p for p in corpus() if p.day == newest), key=lambda paper: -paper.upvotes)
    sent = top[0].id
    shown = index.also_trending(reader, {sent, *(pick.paper.id for pick in picks)})
    assert len(shown) == 3
    ids = {pick.paper.id for pick in shown}
    assert sent not in ids and not ids & {pick.paper.id for pick in picks}
    assert not any(mentions(r"diffusion", pick.paper) for pick in shown)
    expected = [
        p.id
        for p in top
        if p.id != sent and p.id not in {x.paper.id for x in picks} and not mentions("diffusion", p)
    ]
    assert [pick.paper.id for pick in shown] == expected[:3]
