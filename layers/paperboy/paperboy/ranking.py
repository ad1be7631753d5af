"""Ranking the day's papers for one reader (brief section 5).

The candidate papers are indexed once per container and hour (`RankingIndex`): stems, bigrams and
postings. Ranking one reader then touches only the postings of their few topic stems.

Rules a reader can rely on:
- with no interests, trending order: upvotes, then comments, then recency;
- with interests, only relevant papers are picked (no matching papers: no digest), so an
  off-topic paper never outranks an on-topic one for its votes; among relevant papers, relevance
  leads and popularity lifts a paper by at most half its relevance;
- a paper by a followed author is always relevant; an excluded term removes a paper outright;
- every pick says why it was chosen.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from paperboy.models import Paper, Pick
from paperboy.readers import Feedback, LikedPaper, ReaderSettings

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it", "its", "of", "on", "or", "over", "the", "their", "this", "to", "towards", "toward", "under", "via", "we", "with", "without", "using", "based", "new", "our"]
)
# Suffixes stripped once, longest first; the stem keeps at least three letters.
_SUFFIXES = (
    "izations",
    "ization",
    "ational",
    "ations",
    "ation",
    "ements",
    "ement",
    "ments",
    "ment",
    "nesses",
    "ness",
    "ities",
    "ity",
    "ings",
    "ing",
    "ives",
    "ive",
    "ical",
    "ics",
    "ic",
    "ies",
    "ied",
    "ers",
    "er",
    "ed",
    "es",
    "ly",
    "al",
    "ize",
    "ise",
    "s",
)
_ABBREVIATIONS = {
    "rl": "reinforcement learning",
    "llm": "large language model",
    "llms": "large language model",
    "nlp": "natural language processing",
    "gnn": "graph neural network",
    "gnns": "graph neural network",
    "asr": "speech recognition",
    "moe": "mixture of experts",
    "vit": "vision transformer",
    "vlm": "vision language model",
    "vlms": "vision language model",
    "kd": "knowledge distillation",
    "peft": "parameter efficient fine tuning",
    "rag": "retrieval augmented generation",
}
TITLE_WEIGHT = 3.0
BODY_WEIGHT = 1.0
PHRASE_BONUS = 2.0
AUTHOR_SCORE = 12.0
CATEGORY_SCORE = 1.5
FEEDBACK_WEIGHT = 6.0
FEEDBACK_RELEVANT = 0.3
POPULARITY_LIFT = 0.5


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            word = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                word += "y"
            break
    # "modeling"/"modelling", "distilled"/"distill": doubled final consonants collapse.
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiousz":
        word = word[:-1]
    return word


def fold(text: str) -> str:
    """Lower case without accents: "Schölkopf" and "Scholkopf" are one name."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def stems(text: str) -> list[str]:
    return [stem(word) for word in _WORD.findall(fold(text)) if word not in _STOP]


def _name_keys(name: str) -> set[str]:
    words = _WORD.findall(fold(name))
    if not words:
        return set()
    return {" ".join(words), f"{words[0][0]} {words[-1]}"}


@dataclass(frozen=True)
class _Query:
    """One topic (or exclusion) as stems, with its variants (an abbreviation and its expansion)."""

    label: str
    variants: tuple[tuple[str, ...], ...]


@lru_cache(maxsize=4096)
def _query(label: str) -> _Query:
    base = tuple(stems(label))
    variants = {base} if base else set()
    words = _WORD.findall(fold(label))
    expansions = [_ABBREVIATIONS[w] for w in words if w in _ABBREVIATIONS]
    expansions += [
        abbreviation for abbreviation, long in _ABBREVIATIONS.items() if fold(label).strip() == long
    ]
    for expansion in expansions:
        variants.add(tuple(stems(expansion)))
    return _Query(label=label, variants=tuple(sorted(v for v in variants if v)))


@dataclass
class _Doc:
    paper: Paper
    title: set[str]
    body: dict[str, int]
    title_pairs: set[tuple[str, str]]
    body_pairs: set[tuple[str, str]]
    authors: set[str]
    categories: set[str]
    popularity: float = 0.0


def _pairs(sequence: list[str]) -> set[tuple[str, str]]:
    return set(zip(sequence, sequence[1:], strict=False))


@dataclass
class RankingIndex:
    """The candidate papers, indexed once; cheap to query for each reader."""

    papers: tuple[Paper, ...]
    _docs: list[_Doc] = field(init=False, repr=False)
    _postings: dict[str, list[int]] = field(init=False, repr=False)
    _idf: dict[str, float] = field(init=False, repr=False)
    _trending: list[int] = field(init=False, repr=False)
    _by_author: dict[str, list[int]] = field(init=False, repr=False)
    _by_category: dict[str, list[int]] = field(init=False, repr=False)

    def __init__(self, papers: Sequence[Paper]) -> None:
        unique = {paper.id: paper for paper in papers}
        self.papers = tuple(unique.values())
        self._docs = []
        self._postings = {}
        self._by_author = {}
        self._by_category = {}
        for number, paper in enumerate(self.papers):
            title = stems(paper.display_title)
            body_words = stems(" ".join((paper.summary, paper.ai_summary, " ".join(paper.keywords))))
            body: dict[str, int] = {}
            for word in body_words:
                body[word] = body.get(word, 0) + 1
            doc = _Doc(
                paper=paper,
                title=set(title),
                body=body,
                title_pairs=_pairs(title),
                body_pairs=_pairs(body_words),
                authors={key for name in paper.authors for key in _name_keys(name)},
                categories={c.lower() for c in paper.categories},
            )
            self._docs.append(doc)
            for word in doc.title | body.keys():
                self._postings.setdefault(word, []).append(number)
            for key in doc.authors:
                self._by_author.setdefault(key, []).append(number)
            for category in doc.categories:
                self._by_category.setdefault(category, []).append(number)
        count = max(len(self._docs), 1)
        self._idf = {word: math.log(1 + count / len(where)) for word, where in self._postings.items()}
        top = max((paper.upvotes for paper in self.papers), default=0)
        for doc in self._docs:
            doc.popularity = math.log1p(doc.paper.upvotes) / math.log1p(top) if top else 0.0
        self._trending = sorted(range(len(self._docs)), key=lambda n: _trending_key(self._docs[n].paper))

    # -- matching -------------------------------------------------------------------------------
    def _variant_score(self, number: int, variant: tuple[str, ...]) -> float:
        doc = self._docs[number]
        idf = sum(self._idf.get(word, 0.0) for word in variant)
        if len(variant) == 1:
            word = variant[0]
            title = TITLE_WEIGHT if word in doc.title else 0.0
            body = BODY_WEIGHT * min(math.sqrt(doc.body.get(word, 0)), 2.0)
            return (title + body) * idf
        pairs = set(zip(variant, variant[1:], strict=False))
        if pairs <= doc.title_pairs:
            return (TITLE_WEIGHT + BODY_WEIGHT) * PHRASE_BONUS * idf
        if pairs <= doc.body_pairs:
            return BODY_WEIGHT * PHRASE_BONUS * idf * (1.5 if set(variant) & doc.title else 1.0)
        in_title = sum(1 for word in variant if word in doc.title)
        if in_title and all(word in doc.title or word in doc.body for word in variant):
            # Every word, not together, one of them in the title: related, worth less than the phrase.
            return (BODY_WEIGHT + in_title / len(variant) * TITLE_WEIGHT) * 0.5 * idf
        return 0.0

    def _matches(self, query: _Query) -> dict[int, float]:
        """Papers matching any variant of the query, with the best variant's score."""
        found: dict[int, float] = {}
        for variant in query.variants:
            rarest = min(variant, key=lambda word: len(self._postings.get(word, ())))
            for number in self._postings.get(rarest, ()):
                score = self._variant_score(number, variant)
                if score > found.get(number, 0.0):
                    found[number] = score
        return found

    def _similarity(self, number: int, liked: LikedPaper) -> float:
        """How much a paper resembles one the reader gave feedback on (idf-weighted overlap)."""
        doc = self._docs[number]
        words = set(stems(liked.title)) | {w for keyword in liked.keywords for w in stems(keyword)}
        if not words:
            return 0.0
        weight = sum(self._idf.get(word, 1.0) for word in words)
        shared = sum(self._idf.get(word, 1.0) for word in words if word in doc.title or word in doc.body)
        return shared / weight

    # -- ranking --------------------------------------------------------------------------------
    def trending(self) -> list[Paper]:
        return [self._docs[number].paper for number in self._trending]

    def rank(
        self,
        settings: ReaderSettings,
        feedback: Feedback,
        exclude_ids: Collection[str] = (),
        count: int | None = None,
    ) -> list[Pick]:
        limit = settings.count if count is None else count
        excluded = set(exclude_ids)
        for term in settings.excludes:
            excluded.update(self._docs[number].paper.id for number in self._matches(_query(term)))
        interested = bool(settings.topics or settings.authors or settings.categories or feedback.more)
        if not interested:
            return self._trending_picks(excluded, feedback, limit)

        scores: dict[int, float] = {}
        reasons: dict[int, list[str]] = {}

        def credit(number: int, score: float, reason: str) -> None:
            scores[number] = scores.get(number, 0.0) + score
            reasons.setdefault(number, []).append(reason)

        for topic in settings.topics:
            for number, score in self._matches(_query(topic)).items():
                credit(number, score, f"matches: {topic}")
        for name in settings.authors:
            keys = _name_keys(name)
            for number in {n for key in keys for n in self._by_author.get(key, ())}:
                credit(number, AUTHOR_SCORE, f"by {name}")
        for category in settings.categories:
            for number in self._by_category.get(category.lower(), ()):
                credit(number, CATEGORY_SCORE, f"in {category}")
        for liked in feedback.more[-10:]:
            for number in range(len(self._docs)):
                similarity = self._similarity(number, liked)
                if similarity >= FEEDBACK_RELEVANT and self._docs[number].paper.id != liked.id:
                    credit(number, FEEDBACK_WEIGHT * similarity, f"like “{_short(liked.title)}” you liked")
        for disliked in feedback.less[-10:]:
            for number in list(scores):
                similarity = self._similarity(number, disliked)
                if similarity >= FEEDBACK_RELEVANT:
                    scores[number] -= FEEDBACK_WEIGHT * similarity

        ranked = sorted(
            (
                number
                for number, score in scores.items()
                if score > 0 and self._docs[number].paper.id not in excluded
            ),
            key=lambda n: (
                -scores[n] * (1 + POPULARITY_LIFT * self._docs[n].popularity),
                _trending_key(self._docs[n].paper),
            ),
        )
        return [
            Pick(
                paper=self._docs[n].paper, score=round(scores[n], 4), reasons=tuple(dict.fromkeys(reasons[n]))
            )
            for n in ranked[:limit]
        ]

    def _trending_picks(self, excluded: set[str], feedback: Feedback, limit: int) -> list[Pick]:
        picks = []
        for number in self._trending:
            paper = self._docs[number].paper
            if paper.id in excluded or any(self._similarity(number, p) >= 0.6 for p in feedback.less):
                continue
            picks.append(
                Pick(paper=paper, score=float(paper.upvotes), reasons=(f"trending: {paper.upvotes} upvotes",))
            )
            if len(picks) == limit:
                break
        return picks


def _trending_key(paper: Paper) -> tuple[int, int, float]:
    published = paper.published_at.timestamp() if paper.published_at else 0.0
    return (-paper.upvotes, -paper.comments, -published)


def _short(title: str, limit: int = 48) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def rank(
    index: RankingIndex,
    settings: ReaderSettings,
    feedback: Feedback,
    *,
    exclude_ids: Collection[str] = (),
    count: int | None = None,
) -> list[Pick]:
    """The reader's picks from the indexed papers, best first, each with its reasons."""
    return index.rank(settings, feedback, exclude_ids, count)
