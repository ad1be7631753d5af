"""Ranking the candidate papers for one reader (brief section 5).

`RankingIndex` is built once per container and hour from the candidate papers: every title, abstract,
AI summary and keyword list is tokenised and stemmed once, into positional postings. Ranking one
reader then stems their few topic words and walks the postings of those stems; what one reader's topic
or liked paper matched is cached on the index, so the next reader asking for "reinforcement learning"
pays a dictionary lookup.

Rules a reader can rely on:
- No topics and no categories: the day's trending papers (upvotes, then comments, then recency).
  Followed authors and `more` feedback lift papers within that list; they never empty it.
- Topics or categories: only relevant papers are picked, possibly none ("no matching papers: no
  email"). A paper is relevant when it matches a topic, is in one of the reader's categories, is by a
  followed author, or closely resembles a paper the reader asked for more of. So an off-topic paper
  never outranks an on-topic one for its votes: it is not picked at all.
- Among relevant papers relevance leads and popularity (log-scaled upvotes) lifts a paper by at most
  half its relevance: a title match beats an abstract mention however popular the abstract one is.
- A paper by a followed author always comes first.
- Exclusions win over everything: a paper mentioning an excluded term (as a phrase, stemmed) in its
  title, abstract or keywords is never picked, nor is a paper in `exclude_ids` (already sent).
- Every pick says why ("matches: speech recognition", "by Yann LeCun", "in cs.RO",
  'like "X" you liked', "trending: 120 upvotes").
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from paperboy.models import Paper, Pick
from paperboy.readers import Feedback, LikedPaper, ReaderSettings

__all__ = ["RankingIndex", "rank", "stem", "terms"]

# ---------------------------------------------------------------------------------------------------
# Stemming: the Porter2 ("English Snowball") algorithm, written out here so the layer needs no
# dependency. It conflates the inflections a reader and an abstract disagree on ("robots",
# "robotic", "robotics"; "distillation", "distilled"; "adversarial", "adversary") while keeping
# "generation" and "generalization" apart, which the original Porter algorithm does not.
# ---------------------------------------------------------------------------------------------------

_VOWELS = frozenset("aeiouy")
_DOUBLES = ("bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt")
_LI_ENDINGS = frozenset("cdeghkmnrt")
# fmt: off
_EXCEPTIONS = {
    "skis": "ski", "skies": "sky", "dying": "die", "lying": "lie", "tying": "tie", "idly": "idl",
    "gently": "gentl", "ugly": "ugli", "early": "earli", "only": "onli", "singly": "singl", "sky": "sky",
    "news": "news", "howe": "howe", "atlas": "atlas", "cosmos": "cosmos", "bias": "bias", "andes": "andes",
}
# Stems whose first region Porter2 fixes by hand, so "generation" and "general" stay apart.
_R1_PREFIXES = ("gener", "commun", "arsen", "past", "univers", "later", "emerg", "organ")
_INVARIANT_AFTER_1A = frozenset(
    ("inning", "outing", "canning", "herring", "earring", "proceed", "exceed", "succeed")
)
# Each step's suffixes, longest first: the longest one present decides, even if its condition fails.
_STEP2 = (
    ("ization", "ize"), ("ational", "ate"), ("fulness", "ful"), ("ousness", "ous"), ("iveness", "ive"),
    ("tional", "tion"), ("biliti", "ble"), ("lessli", "less"), ("entli", "ent"), ("ation", "ate"),
    ("alism", "al"), ("aliti", "al"), ("ousli", "ous"), ("iviti", "ive"), ("fulli", "ful"),
    ("enci", "ence"), ("anci", "ance"), ("abli", "able"), ("izer", "ize"), ("ator", "ate"),
    ("alli", "al"), ("bli", "ble"), ("ogi", "og"), ("li", ""),
)
_STEP3 = (
    ("ational", "ate"), ("tional", "tion"), ("alize", "al"), ("icate", "ic"), ("iciti", "ic"),
    ("ative", ""), ("ical", "ic"), ("ness", ""), ("ful", ""),
)
_STEP4 = (
    "ement", "ance", "ence", "able", "ible", "ment", "ant", "ent", "ism", "ate", "iti", "ous", "ive",
    "ize", "ion", "al", "er", "ic",
)
# fmt: on


def _is_vowel(word: str, i: int) -> bool:
    # "Y" (upper case) marks a consonant y: at the start of a word or after a vowel.
    return word[i] in _VOWELS


def _region_after_vc(word: str, start: int) -> int:
    """Index just after the first non-vowel that follows a vowel, at or after `start`."""
    for i in range(start + 1, len(word)):
        if not _is_vowel(word, i) and _is_vowel(word, i - 1):
            return i + 1
    return len(word)


def _ends_short_syllable(word: str) -> bool:
    n = len(word)
    if n == 2:
        return _is_vowel(word, 0) and not _is_vowel(word, 1)
    if n >= 3:
        return (
            not _is_vowel(word, n - 3)
            and _is_vowel(word, n - 2)
            and not _is_vowel(word, n - 1)
            and word[n - 1] not in "wxY"
        )
    return False


def _step1a(word: str) -> str:
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith(("ied", "ies")):
        return word[:-2] if len(word) > 4 else word[:-1]
    if word.endswith(("us", "ss")):
        return word
    if word.endswith("s") and any(_is_vowel(word, i) for i in range(len(word) - 2)):
        return word[:-1]
    return word


def _step1b(word: str, r1: int) -> str:
    for suffix in ("eedly", "eed"):
        if word.endswith(suffix):
            return word[: -len(suffix)] + "ee" if len(word) - len(suffix) >= r1 else word
    for suffix in ("ingly", "edly", "ing", "ed"):
        if word.endswith(suffix):
            base = word[: -len(suffix)]
            if not any(_is_vowel(base, i) for i in range(len(base))):
                return word
            if base.endswith(("at", "bl", "iz")):
                return base + "e"
            if base.endswith(_DOUBLES):
                return base[:-1]
            if r1 >= len(base) and _ends_short_syllable(base):
                return base + "e"
            return base
    return word


def _step1c(word: str) -> str:
    if len(word) > 2 and word[-1] in "yY" and not _is_vowel(word, len(word) - 2):
        return word[:-1] + "i"
    return word


def _step2(word: str, r1: int) -> str:
    for suffix, replacement in _STEP2:
        if word.endswith(suffix):
            start = len(word) - len(suffix)
            if start < r1:
                return word
            if suffix == "ogi" and not word[:start].endswith("l"):
                return word
            if suffix == "li" and (start == 0 or word[start - 1] not in _LI_ENDINGS):
                return word
            return word[:start] + replacement
    return word


def _step3(word: str, r1: int, r2: int) -> str:
    for suffix, replacement in _STEP3:
        if word.endswith(suffix):
            start = len(word) - len(suffix)
            if start < r1 or (suffix == "ative" and start < r2):
                return word
            return word[:start] + replacement
    return word


def _step4(word: str, r2: int) -> str:
    for suffix in _STEP4:
        if word.endswith(suffix):
            start = len(word) - len(suffix)
            if start < r2:
                return word
            if suffix == "ion" and (start == 0 or word[start - 1] not in "st"):
                return word
            return word[:start]
    return word


def _step5(word: str, r1: int, r2: int) -> str:
    last = len(word) - 1
    if word.endswith("e"):
        if last >= r2 or (last >= r1 and not _ends_short_syllable(word[:-1])):
            return word[:-1]
    elif word.endswith("ll") and last >= r2:
        return word[:-1]
    return word


@lru_cache(maxsize=131072)
def stem(word: str) -> str:
    """The Porter2 stem of one lower-case word: "robotics" -> "robot", "adversarial" -> "adversari"."""
    if len(word) <= 2 or not word.isalpha():
        return word
    if word[-1] == "s" and not any(ch in _VOWELS for ch in word[:-1]):
        # The plural of an acronym: "LLMs", "GNNs".
        return word[:-1]
    if word in _EXCEPTIONS:
        return _EXCEPTIONS[word]
    if word[0] == "y":
        word = "Y" + word[1:]
    word = "".join("Y" if ch == "y" and i > 0 and word[i - 1] in _VOWELS else ch for i, ch in enumerate(word))
    prefix = next((p for p in _R1_PREFIXES if word.startswith(p)), "")
    r1 = len(prefix) if prefix else _region_after_vc(word, 0)
    r2 = _region_after_vc(word, r1) if r1 < len(word) else len(word)
    word = _step1a(word)
    if word in _INVARIANT_AFTER_1A:
        return word
    word = _step1b(word, r1)
    word = _step1c(word)
    word = _step2(word, r1)
    word = _step3(word, r1, r2)
    word = _step4(word, r2)
    word = _step5(word, r1, r2)
    return word.lower()


# ---------------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------------

# Words that carry no topic. Deliberately only function words: "based", "learning" or "model" carry
# little, but idf already discounts them and a reader may mean them ("model-based RL").
# fmt: off
_STOP = frozenset((
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by",
    "can", "could", "did", "do", "does", "doing", "down", "during", "each", "either", "etc", "for",
    "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how",
    "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "no", "nor",
    "not", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same",
    "she", "should", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there",
    "these", "they", "this", "those", "through", "thus", "to", "too", "toward", "towards", "under",
    "until", "up", "upon", "us", "very", "via", "vs", "was", "we", "were", "what", "when", "where",
    "whether", "which", "while", "who", "whom", "why", "will", "with", "within", "without", "would",
    "yet", "you", "your",
))
# fmt: on
# A compound's parts are words of their own ("self-supervised" is "self" then "supervised") and the
# joined form is one more ("pre-training" also reads as "pretraining"). Sentence punctuation breaks
# phrases: "... by reinforcement. Learning ..." is not "reinforcement learning".
_TOKEN = re.compile(r"[a-z0-9]+(?:[-‐‑–/][a-z0-9]+)*|[.;:!?]")
_BREAKS = frozenset(".;:!?")
_COMPOUND_SPLIT = re.compile(r"[-‐‑–/]")
# A handful of abbreviations readers and abstracts both use, each way round. Keys are stems.
_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "rl": ("reinforcement learning",),
    "rlhf": ("reinforcement learning from human feedback",),
    "llm": ("large language model",),
    "vlm": ("vision language model",),
    "mllm": ("multimodal large language model",),
    "nlp": ("natural language processing",),
    "asr": ("automatic speech recognition", "speech recognition"),
    "tts": ("text to speech",),
    "gnn": ("graph neural network",),
    "gan": ("generative adversarial network",),
    "cnn": ("convolutional neural network",),
    "vit": ("vision transformer",),
    "moe": ("mixture of experts",),
    "kd": ("knowledge distillation",),
    "rag": ("retrieval augmented generation",),
    "peft": ("parameter efficient fine tuning",),
    "nerf": ("neural radiance field",),
    "qa": ("question answering",),
    "vqa": ("visual question answering",),
    "uda": ("unsupervised domain adaptation",),
    "nas": ("neural architecture search",),
    "cot": ("chain of thought",),
}


def fold(text: str) -> str:
    """Lower case without accents: "Schölkopf" and "Scholkopf" are one name, "Ré" is "re"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# A sentence or field boundary: positions jump by this much so no phrase or window spans it.
_GAP = 8


@lru_cache(maxsize=8192)
def _positions(text: str) -> tuple[tuple[str, int], ...]:
    """(stem, position) for every content word of a text; stop words take no position."""
    out: list[tuple[str, int]] = []
    position = 0
    for token in _TOKEN.findall(fold(text)):
        if token in _BREAKS:
            position += _GAP
            continue
        parts = [part for part in _COMPOUND_SPLIT.split(token) if part and part not in _STOP]
        for part in parts:
            out.append((stem(part), position))
            position += 1
        if len(parts) > 1:
            # The joined form sits on the last part, so "self-supervised learning" is also the
            # phrase "selfsupervised learning".
            out.append((stem("".join(parts)), position - 1))
    return tuple(out)


def terms(text: str) -> tuple[str, ...]:
    """The stems of a text's content words, in order (compound parts, not joined forms)."""
    seen: list[str] = []
    last = -1
    for word, position in _positions(text):
        if position != last:
            seen.append(word)
            last = position
    return tuple(seen)


# ---------------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=16384)
def _variants(label: str) -> tuple[tuple[str, ...], ...]:
    """The stem sequences that express a topic: its words, their joined compounds and abbreviations.

    "RL" -> ("rl",) and ("reinforc", "learn"); "reinforcement learning" -> the same two;
    "pre-training" -> ("pre", "train") and ("pretrain",).
    """
    words = terms(label)
    found: dict[tuple[str, ...], None] = {}
    if words:
        found[words] = None
    for token in _TOKEN.findall(fold(label)):
        parts = [part for part in _COMPOUND_SPLIT.split(token) if part and part not in _STOP]
        if len(parts) > 1:
            joined = stem("".join(parts))
            for start in range(len(words) - len(parts) + 1):
                if words[start : start + len(parts)] == tuple(stem(p) for p in parts):
                    found[(*words[:start], joined, *words[start + len(parts) :])] = None
                    break
    for abbreviation, expansions in _ABBREVIATIONS.items():
        expanded = [terms(expansion) for expansion in expansions]
        if words == (abbreviation,):
            for sequence in expanded:
                found[sequence] = None
        elif words in expanded:
            found[(abbreviation,)] = None
    return tuple(found)


# ---------------------------------------------------------------------------------------------------
# Scoring constants. A topic's score is normalised so that the phrase in the title and once in the
# abstract scores 1.0 whatever the words' rarity: readers' several topics weigh alike.
# ---------------------------------------------------------------------------------------------------

TITLE_WEIGHT = 2.0
BODY_WEIGHT = 1.0
KEYWORD_WEIGHT = 0.5
_FULL = TITLE_WEIGHT + BODY_WEIGHT
# The words of a multi-word topic close together ("recognition of spoken speech"), not adjacent.
NEAR_QUALITY = 0.6
NEAR_WINDOW = 3
# Each field's share of a multi-word topic's words, idf-weighted, counts this much when the paper is
# relevant anyway: "speech" in the title beside "speech recognition" in the abstract.
PARTIAL_QUALITY = 0.4
# A paper's second and further matching topics add this share of their score.
EXTRA_TOPIC_SHARE = 0.5
AUTHOR_SCORE = 2.5
CATEGORY_SCORE = 0.3
# Feedback: similarity is the idf-weighted share of a liked title's informative words found in a paper.
FEEDBACK_THRESHOLD = 0.4
FEEDBACK_MORE = 0.6
FEEDBACK_LESS = 0.6
FEEDBACK_RECENT = 10
# Words in more than this share of the papers say nothing about likeness ("model", "learning").
COMMON_SHARE = 0.2
# Popularity (log upvotes, 0..1 over the index) lifts a relevant paper's score by at most this share.
POPULARITY_LIFT = 0.5
_CACHE_LIMIT = 4096


def _saturate(count: int) -> float:
    """1 for one occurrence, growing to at most 2: repetition says more, with diminishing returns."""
    return 2.0 * count / (count + 1.0)


@dataclass(frozen=True, slots=True)
class _Doc:
    paper: Paper
    title: dict[str, tuple[int, ...]]
    body: dict[str, tuple[int, ...]]
    keywords: dict[str, tuple[int, ...]]
    popularity: float


def _field(texts: Iterable[str]) -> dict[str, tuple[int, ...]]:
    positions: dict[str, list[int]] = {}
    offset = 0
    for text in texts:
        last = offset
        for word, position in _positions(text):
            positions.setdefault(word, []).append(offset + position)
            last = offset + position
        offset = last + _GAP
    return {word: tuple(where) for word, where in positions.items()}


def _phrase_count(field: dict[str, tuple[int, ...]], phrase: tuple[str, ...]) -> int:
    firsts = field.get(phrase[0])
    if not firsts:
        return 0
    rest = [field.get(word) for word in phrase[1:]]
    if not all(rest):
        return 0
    return sum(1 for start in firsts if all(start + offset in where for offset, where in enumerate(rest, 1)))


def _near(field: dict[str, tuple[int, ...]], phrase: tuple[str, ...]) -> bool:
    firsts = field.get(phrase[0], ())
    others = [field.get(word, ()) for word in phrase[1:]]
    return any(
        all(any(abs(other - start) <= NEAR_WINDOW for other in where) for where in others) for start in firsts
    )


@dataclass(frozen=True, slots=True)
class _Name:
    """An author name folded for matching: "Yann LeCun", "yann lecun", "Yann Le Cun", "Y. LeCun"."""

    whole: str
    first_last: str
    initial_last: str
    abbreviated: bool

    @classmethod
    def of(cls, name: str) -> _Name | None:
        words = re.findall(r"[a-z0-9]+", fold(name))
        if not words:
            return None
        return cls(
            whole="".join(words),
            first_last=f"{words[0]} {words[-1]}",
            initial_last=f"{words[0][0]} {words[-1]}",
            abbreviated=len(words) >= 2 and len(words[0]) == 1,
        )

    def same_person(self, other: _Name) -> bool:
        # Two full first names must agree; an initial agrees with any first name it abbreviates.
        if self.whole == other.whole or self.first_last == other.first_last:
            return True
        return (self.abbreviated or other.abbreviated) and self.initial_last == other.initial_last


def _trending_key(paper: Paper) -> tuple[int, int, float, str]:
    published = paper.published_at.timestamp() if isinstance(paper.published_at, datetime) else 0.0
    return (-paper.upvotes, -paper.comments, -published, paper.id)


def _short(title: str, limit: int = 50) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip(" ,:;-") + "…"


def _upvotes(count: int) -> str:
    return f"trending: {count} upvote{'s' if count != 1 else ''}"


class RankingIndex:
    """The candidate papers, indexed once; cheap to query for each reader.

    Not thread-safe: each Lambda container serves one event at a time.
    """

    papers: tuple[Paper, ...]

    def __init__(self, papers: Sequence[Paper]) -> None:
        # A paper listed twice (two days, two sources) counts once, with its latest counts.
        latest: dict[str, Paper] = {}
        for paper in papers:
            latest[paper.id] = paper
        self.papers = tuple(latest.values())
        top = max((paper.upvotes for paper in self.papers), default=0)
        scale = math.log1p(top) if top > 0 else 1.0
        self._docs: list[_Doc] = []
        self._number = {paper.id: number for number, paper in enumerate(self.papers)}
        postings: dict[str, list[int]] = {}
        # Per stem: (paper, 1.0 if in the title else 0.5) for feedback likeness.
        weighted: dict[str, list[tuple[int, float]]] = {}
        self._by_surname: dict[str, list[int]] = {}
        self._by_category: dict[str, list[int]] = {}
        for number, paper in enumerate(self.papers):
            doc = _Doc(
                paper=paper,
                title=_field((paper.title,)),
                body=_field((paper.summary, paper.ai_summary)),
                keywords=_field(paper.keywords),
                popularity=math.log1p(max(paper.upvotes, 0)) / scale,
            )
            self._docs.append(doc)
            for word in doc.title.keys() | doc.body.keys() | doc.keywords.keys():
                postings.setdefault(word, []).append(number)
                weighted.setdefault(word, []).append((number, 1.0 if word in doc.title else 0.5))
            for author in paper.authors:
                name = _Name.of(author)
                if name is None:
                    continue
                # Candidates by surname and initial; `same_person` then decides.
                self._by_surname.setdefault(name.initial_last, []).append(number)
            for category in paper.categories:
                key = category.strip().lower()
                # "cs" (a whole archive) as well as "cs.ro" (one subject class).
                for part in {key, key.split(".", 1)[0]}:
                    self._by_category.setdefault(part, []).append(number)
        self._postings = {word: tuple(where) for word, where in postings.items()}
        self._weighted = {word: tuple(where) for word, where in weighted.items()}
        total = max(len(self._docs), 1)
        self._idf = {word: math.log(1.0 + total / len(where)) for word, where in postings.items()}
        self._common = max(3, int(COMMON_SHARE * total))
        self._trending = tuple(sorted(range(len(self._docs)), key=lambda n: _trending_key(self.papers[n])))
        self._rank_of = {number: place for place, number in enumerate(self._trending)}
        self._topic_cache: dict[str, dict[int, float]] = {}
        self._exclude_cache: dict[str, frozenset[int]] = {}
        self._liked_cache: dict[tuple[str, tuple[str, ...]], dict[int, float]] = {}

    def __len__(self) -> int:
        return len(self.papers)

    # -- topics -------------------------------------------------------------------------------------

    def _variant_scores(self, phrase: tuple[str, ...]) -> dict[int, float]:
        """Normalised relevance of every paper matching one stem sequence."""
        lists = [self._postings.get(word) for word in phrase]
        if not all(lists):
            return {}
        scores: dict[int, float] = {}
        if len(phrase) == 1:
            word = phrase[0]
            for number in lists[0]:
                doc = self._docs[number]
                title = TITLE_WEIGHT if word in doc.title else 0.0
                body = BODY_WEIGHT * _saturate(len(doc.body.get(word, ())))
                keyword = KEYWORD_WEIGHT if word in doc.keywords else 0.0
                scores[number] = (title + body + keyword) / _FULL
            return scores
        idf = [self._idf[word] for word in phrase]
        total_idf = sum(idf)
        rarest = min(lists, key=len)
        for number in rarest:
            doc = self._docs[number]
            in_title = _phrase_count(doc.title, phrase)
            in_body = _phrase_count(doc.body, phrase)
            in_keywords = _phrase_count(doc.keywords, phrase)
            near_title = not in_title and _near(doc.title, phrase)
            near_body = not in_body and _near(doc.body, phrase)
            title_share = sum(i for w, i in zip(phrase, idf, strict=True) if w in doc.title) / total_idf
            body_share = sum(i for w, i in zip(phrase, idf, strict=True) if w in doc.body) / total_idf
            relevant = in_title or in_body or in_keywords or near_title or near_body
            if not relevant:
                # Every word somewhere and at least one in the title: about it, in other words.
                everywhere = all(w in doc.title or w in doc.body or w in doc.keywords for w in phrase)
                if not (everywhere and title_share > 0):
                    continue
            title = 1.0 if in_title else NEAR_QUALITY if near_title else PARTIAL_QUALITY * title_share
            body = (
                _saturate(in_body) if in_body else NEAR_QUALITY if near_body else PARTIAL_QUALITY * body_share
            )
            keyword = 1.0 if in_keywords else 0.0
            scores[number] = (TITLE_WEIGHT * title + BODY_WEIGHT * body + KEYWORD_WEIGHT * keyword) / _FULL
        return scores

    def _topic(self, label: str) -> dict[int, float]:
        """Papers matching a topic, by their best variant's score; cached for the next reader."""
        key = fold(label)
        cached = self._topic_cache.get(key)
        if cached is not None:
            return cached
        best: dict[int, float] = {}
        for variant in _variants(label):
            for number, score in self._variant_scores(variant).items():
                if score > best.get(number, 0.0):
                    best[number] = score
        if len(self._topic_cache) >= _CACHE_LIMIT:
            self._topic_cache.clear()
        self._topic_cache[key] = best
        return best

    def _excluded_by(self, term: str) -> frozenset[int]:
        """Papers that mention an excluded term: as a phrase (or abbreviation) anywhere, not scattered."""
        key = fold(term)
        cached = self._exclude_cache.get(key)
        if cached is not None:
            return cached
        found: set[int] = set()
        for variant in _variants(term):
            lists = [self._postings.get(word) for word in variant]
            if not all(lists):
                continue
            for number in min(lists, key=len):
                doc = self._docs[number]
                if any(_phrase_count(f, variant) for f in (doc.title, doc.body, doc.keywords)):
                    found.add(number)
        result = frozenset(found)
        if len(self._exclude_cache) >= _CACHE_LIMIT:
            self._exclude_cache.clear()
        self._exclude_cache[key] = result
        return result

    # -- authors, categories, feedback -----------------------------------------------------------------

    def _by(self, followed: str) -> dict[int, str]:
        """Papers by a followed author, each with the paper's own spelling of the name."""
        wanted = _Name.of(followed)
        if wanted is None:
            return {}
        found: dict[int, str] = {}
        for number in self._by_surname.get(wanted.initial_last, ()):
            for author in self.papers[number].authors:
                name = _Name.of(author)
                if name is not None and wanted.same_person(name):
                    found[number] = author
                    break
        return found

    def _likeness(self, liked: LikedPaper) -> dict[int, float]:
        """Papers resembling a liked one: the idf-weighted share of its informative words they contain,
        title words counting double."""
        key = (liked.title, liked.keywords)
        cached = self._liked_cache.get(key)
        if cached is not None:
            return cached
        words = set(terms(liked.title))
        for keyword in liked.keywords:
            words.update(terms(keyword))
        informative = [w for w in words if w in self._postings and len(self._postings[w]) <= self._common]
        total = sum(self._idf[w] for w in informative)
        shared: dict[int, float] = {}
        hits: dict[int, int] = {}
        for word in informative:
            weight = self._idf[word]
            for number, place in self._weighted[word]:
                shared[number] = shared.get(number, 0.0) + weight * place
                hits[number] = hits.get(number, 0) + 1
        # One shared word is a coincidence unless the liked title has only one informative word.
        needed = min(2, len(informative))
        result = {
            number: value / total
            for number, value in shared.items()
            if hits[number] >= needed and value / total >= FEEDBACK_THRESHOLD
        }
        if len(self._liked_cache) >= _CACHE_LIMIT:
            self._liked_cache.clear()
        self._liked_cache[key] = result
        return result

    # -- ranking -------------------------------------------------------------------------------------

    def _excluded(self, settings: ReaderSettings, exclude_ids: Collection[str]) -> set[int]:
        excluded = {self._number[i] for i in exclude_ids if i in self._number}
        for term in settings.excludes:
            excluded |= self._excluded_by(term)
        return excluded

    def rank(
        self,
        settings: ReaderSettings,
        feedback: Feedback,
        exclude_ids: Collection[str] = (),
        count: int | None = None,
    ) -> list[Pick]:
        limit = settings.count if count is None else count
        if limit <= 0 or not self._docs:
            return []
        excluded = self._excluded(settings, exclude_ids)
        topics = [topic for topic in settings.topics if _variants(topic)]
        focused = bool(topics or settings.categories)
        if not (focused or settings.authors or feedback.more or feedback.less):
            return self._plain_trending(excluded, limit)

        relevance: dict[int, float] = {}
        reasons: dict[int, list[str]] = {}
        pinned: dict[int, list[str]] = {}

        if topics:
            matched: dict[int, list[tuple[float, str]]] = {}
            for topic in topics:
                for number, score in self._topic(topic).items():
                    matched.setdefault(number, []).append((score, topic))
            for number, found in matched.items():
                found.sort(key=lambda item: -item[0])
                relevance[number] = found[0][0] + EXTRA_TOPIC_SHARE * sum(s for s, _ in found[1:])
                reasons[number] = ["matches: " + ", ".join(topic for _, topic in found)]
        for category in settings.categories:
            for number in self._by_category.get(category.strip().lower(), ()):
                relevance[number] = relevance.get(number, 0.0) + CATEGORY_SCORE
                reasons.setdefault(number, []).append(f"in {category}")
        for followed in settings.authors:
            for number, author in self._by(followed).items():
                pinned.setdefault(number, []).append(f"by {author}")
        liked_boost: dict[int, tuple[float, str]] = {}
        for liked in feedback.more[-FEEDBACK_RECENT:]:
            for number, similarity in self._likeness(liked).items():
                if self.papers[number].id != liked.id and similarity > liked_boost.get(number, (0.0, ""))[0]:
                    liked_boost[number] = (similarity, f'like "{_short(liked.title)}" you liked')
        disliked: dict[int, float] = {}
        for other in feedback.less[-FEEDBACK_RECENT:]:
            for number, similarity in self._likeness(other).items():
                disliked[number] = max(disliked.get(number, 0.0), similarity)

        if not focused:
            return self._adjusted_trending(excluded, pinned, liked_boost, disliked, limit)

        for number, (similarity, reason) in liked_boost.items():
            relevance[number] = relevance.get(number, 0.0) + FEEDBACK_MORE * similarity
            reasons.setdefault(number, []).append(reason)
        for number in pinned:
            relevance[number] = relevance.get(number, 0.0) + AUTHOR_SCORE
        scored: list[tuple[float, int]] = []
        for number, score in relevance.items():
            if number in excluded:
                continue
            score *= 1.0 - FEEDBACK_LESS * disliked.get(number, 0.0)
            score *= 1.0 + POPULARITY_LIFT * self._docs[number].popularity
            scored.append((score, number))
        scored.sort(key=lambda item: (-item[0], self._rank_of[item[1]]))
        return [
            Pick(
                paper=self.papers[number],
                score=round(score, 4),
                reasons=(*pinned.get(number, ()), *reasons.get(number, ())),
            )
            for score, number in scored[:limit]
        ]

    def _plain_trending(self, excluded: set[int], limit: int) -> list[Pick]:
        picks: list[Pick] = []
        for number in self._trending:
            if number in excluded:
                continue
            paper = self.papers[number]
            picks.append(Pick(paper=paper, score=float(paper.upvotes), reasons=(_upvotes(paper.upvotes),)))
            if len(picks) == limit:
                break
        return picks

    def _adjusted_trending(
        self,
        excluded: set[int],
        pinned: dict[int, list[str]],
        liked: dict[int, tuple[float, str]],
        disliked: dict[int, float],
        limit: int,
    ) -> list[Pick]:
        """Trending order, with followed authors first and papers like the liked ones lifted."""
        keyed: list[tuple[float, int, int]] = []
        for number in self._trending:
            if number in excluded:
                continue
            score = self._docs[number].popularity
            if number in liked:
                score += FEEDBACK_MORE * liked[number][0]
            score *= 1.0 - FEEDBACK_LESS * disliked.get(number, 0.0)
            keyed.append(
                (-(AUTHOR_SCORE if number in pinned else 0.0) - score, self._rank_of[number], number)
            )
        keyed.sort()
        picks: list[Pick] = []
        for _, _, number in keyed[:limit]:
            paper = self.papers[number]
            reasons = [*pinned.get(number, ()), _upvotes(paper.upvotes)]
            if number in liked:
                reasons.append(liked[number][1])
            picks.append(Pick(paper=paper, score=float(paper.upvotes), reasons=tuple(reasons)))
        return picks


def rank(
    index: RankingIndex,
    settings: ReaderSettings,
    feedback: Feedback,
    *,
    exclude_ids: Collection[str] = (),
    count: int | None = None,
) -> list[Pick]:
    """The reader's picks from the indexed papers, best first, each with its reasons.

    `count` defaults to the reader's own; `exclude_ids` are papers already sent.
    """
    return index.rank(settings, feedback, exclude_ids, count)
