"""The labelled relevance set (tests/fixtures/relevance/) is what `make eval` scores rankers against: a
profile without a grade for some paper, or a grade outside 0/1/2, would silently skew every metric."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).parents[1] / "fixtures"
RELEVANCE = FIXTURES / "relevance"
STYLES = {"sentence", "paragraph", "jargon", "broad", "niche", "list", "multi"}
# Profiles of the earlier, held-out evaluation (issue 9): they must stay out of this set.
HELD_OUT = {
    "prompt learning for vision-language models like CLIP",
    "3D point clouds",
    "medical imaging",
    "graph neural networks and knowledge graphs",
    "parameter-efficient fine-tuning, adapters, prompt tuning",
}


@cache
def corpus_ids() -> tuple[str, ...]:
    ids: list[str] = []
    for path in sorted((FIXTURES / "daily_papers").glob("*.json")):
        ids.extend(item["paper"]["id"] for item in json.loads(path.read_text()))
    return tuple(ids)


@cache
def profiles() -> tuple[dict, ...]:
    return tuple(json.loads((RELEVANCE / "profiles.json").read_text()))


@cache
def judgements() -> dict[str, dict[str, int]]:
    return json.loads((RELEVANCE / "judgements.json").read_text())


def test_corpus_ids_are_unique():
    ids = corpus_ids()
    assert len(ids) == len(set(ids)) == 213


def test_profiles_are_well_formed():
    seen: set[str] = set()
    for profile in profiles():
        assert set(profile) - {"written"} == {"id", "style", "topics", "excludes"}, profile
        assert profile.get("written", "blind") == "blind", "only blind profiles say who wrote them"
        assert profile["id"] not in seen, profile["id"]
        seen.add(profile["id"])
        assert profile["style"] in STYLES, profile
        assert profile["style"] in profile["id"], "the id names the style, so reports stay readable"
        assert isinstance(profile["topics"], str)
        assert profile["topics"].strip() == profile["topics"] != ""
        assert isinstance(profile["excludes"], list)
        assert all(isinstance(term, str) and term.strip() for term in profile["excludes"])


def test_enough_profiles_in_every_style():
    # Issue 16: at least 80 profiles, 30 of them written blind, 15 readers with 3-5 topics.
    assert len(profiles()) >= 80
    per_style = Counter(profile["style"] for profile in profiles())
    assert set(per_style) == STYLES
    assert min(per_style.values()) >= 4, per_style
    assert sum(1 for profile in profiles() if profile.get("written") == "blind") >= 30
    assert per_style["multi"] >= 15


def test_held_out_profiles_stay_out():
    used = {profile["topics"].casefold() for profile in profiles()}
    assert not used & {topics.casefold() for topics in HELD_OUT}


def test_every_profile_judges_every_paper():
    assert set(judgements()) == {profile["id"] for profile in profiles()}
    for profile_id, grades in judgements().items():
        assert set(grades) == set(corpus_ids()), profile_id
        assert set(grades.values()) <= {0, 1, 2}, profile_id
        assert all(type(grade) is int for grade in grades.values()), profile_id


def test_every_profile_written_after_reading_has_a_paper_it_wants():
    # Those were chosen from the corpus so that P@5 and nDCG@10 are defined. Blind ones may find
    # nothing here, as a real reader's day may: their digest should then be empty (the eval counts
    # papers sent to them as off topic and leaves them out of P@5 and nDCG@10).
    for profile in profiles():
        if profile.get("written") != "blind":
            assert 2 in judgements()[profile["id"]].values(), profile["id"]
