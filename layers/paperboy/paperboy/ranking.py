"""Ranking the candidate papers for one reader (brief section 5).

`RankingIndex` is built once per container and hour from the candidate papers: every title, abstract,
AI summary and keyword list is tokenised and stemmed once, each stem kept with its positions as an int
bit set. Ranking one reader then stems their few topic words and looks at the papers in the postings of
those stems; what a topic, exclusion, author or rated paper matched is cached on the index, so the next
reader asking for "reinforcement learning" pays a dictionary lookup.

Rules a reader can rely on:
- No topics and no categories: the trending papers (upvotes, then comments, then recency). Followed
  authors come first and `more`/`less` feedback lifts or lowers papers within that list; neither ever
  empties it.
- Topics or categories: only relevant papers are picked, possibly none (brief: "no matching papers:
  no email"). A paper is relevant when it matches a topic, is in one of the reader's categories, or
  is by a followed author. So an off-topic paper never outranks an on-topic one for its votes: it is
  not picked at all. Feedback reorders relevant papers; it never makes an irrelevant one relevant.
- A topic matches as a phrase (stemmed, stop words ignored; title above abstract), less when its
  words only stand close together, less again when only its distinctive part is in the title
  ("Contrastive ..." for "contrastive learning"); words scattered over a paper earn credit only in a
  paper relevant anyway. A known abbreviation ("RL", "LLM") stands for its expansion and back.
- Among relevant papers relevance leads and popularity (log-scaled upvotes) lifts a paper by at most
  half its relevance: a title match beats a passing mention in an abstract however popular.
- A paper by a followed author comes first.
- Exclusions win over everything: a paper mentioning an excluded term (as a phrase, stemmed) in its
  title, abstract or keywords is never picked, nor is a paper in `exclude_ids` (already sent).
- Every pick says why ("matches: speech recognition", "by Yann LeCun", "in cs.RO",
  'like "X" you liked', "trending: 120 upvotes").
"""

from __future__ import annotations

import itertools
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
# Where Porter2 and machine-learning usage disagree: "continual learning" is not "continuous
# control", and "recognizing speech" is "speech recognition".
_OVERRIDES = {
    "continual": "continual",
    "continually": "continual",
    "recognition": "recogn",
    "recognitions": "recogn",
}


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


# British spellings of verbs in -ize and their derivatives ("optimise", "normalisation",
# "recognised"), recognised by the letters before "is" so that "promise", "supervised", "precise" or
# "expertise" are left alone.
_BRITISH_IZE = re.compile(
    r"^(.{2,}(?:al|im|gn|en|ar|at|er|es|il|tr|or|it|in|yn))is(e|es|ed|ing|ation|ations|er|ers)$"
)
_BRITISH_OUR = re.compile(r"^(behavi|neighb|col|fav|lab)our")


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
    if word in _OVERRIDES:
        return _OVERRIDES[word]
    word = _BRITISH_OUR.sub(r"\1or", _BRITISH_IZE.sub(r"\1iz\2", word))
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
# Abbreviations that also mean something else in ML abstracts ("attack success rate (ASR)",
# "test-time scaling (TTS)", "quality assurance"): they match only beside their expansion's words.
_AMBIGUOUS = frozenset(("asr", "tts", "qa"))


def fold(text: str) -> str:
    """Lower case without accents: "Schölkopf" and "Scholkopf" are one name, "Ré" is "re"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Positions: content words _STEP apart (one more across stop words); a sentence or field boundary
# jumps by _GAP, wider than any window `_near` looks across.
_STEP = 2
_GAP = 16


# Bounded: a container re-indexes mostly the same abstracts each hour, never thousands of new ones.
@lru_cache(maxsize=1024)
def _positions(text: str) -> tuple[tuple[str, int], ...]:
    """(stem, position) for every content word of a text.

    Content words stand two apart, three when stop words came between: "mixture of experts" is
    still the phrase "mixture experts", yet "distilling knowledge" reads as "knowledge distillation"
    while "to answer these questions" does not read as "question answering" (see `_near`).
    """
    out: list[tuple[str, int]] = []
    position = 0
    skipped = False
    for token in _TOKEN.findall(fold(text)):
        if token in _BREAKS:
            position += _GAP
            skipped = False
            continue
        parts: list[str] = []
        for part in _COMPOUND_SPLIT.split(token):
            if not part:
                continue
            if part in _STOP:
                skipped = True
                continue
            position += 1 if skipped else 0
            skipped = False
            out.append((stem(part), position))
            parts.append(part)
            position += _STEP
        if len(parts) > 1:
            # The joined form sits on the last part, so "self-supervised learning" is also the
            # phrase "selfsupervised learning".
            out.append((stem("".join(parts)), position - _STEP))
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


@dataclass(frozen=True, slots=True)
class _Variant:
    """One stem sequence that expresses a topic. An ambiguous abbreviation's match counts only where
    the paper also uses enough of one of its expansions' words (`corroboration`): in an abstract about
    jailbreaks "ASR" is an attack success rate, not speech recognition."""

    words: tuple[str, ...]
    corroboration: tuple[tuple[str, ...], ...] = ()
    # A topic's core ("reinforcement" of "reinforcement learning") says enough in a title; in an
    # abstract it is as often another sense ("mutual reinforcement").
    title_only: bool = False


@lru_cache(maxsize=1)
def _expansions() -> dict[str, tuple[tuple[str, ...], ...]]:
    """The abbreviation table with each expansion as stems, worked out once."""
    return {
        abbreviation: tuple(terms(expansion) for expansion in expansions)
        for abbreviation, expansions in _ABBREVIATIONS.items()
    }


@lru_cache(maxsize=16384)
def _variants(label: str) -> tuple[_Variant, ...]:
    """The stem sequences that express a topic: its words, their joined compounds and abbreviations.

    "RL" -> ("rl",) and ("reinforc", "learn"); "reinforcement learning" -> the same two;
    "pre-training" -> ("pre", "train") and ("pretrain",).
    """
    words = terms(label)
    found: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {}
    if words:
        found[words] = ()
    for token in _TOKEN.findall(fold(label)):
        parts = [part for part in _COMPOUND_SPLIT.split(token) if part and part not in _STOP]
        if len(parts) > 1:
            joined = stem("".join(parts))
            for start in range(len(words) - len(parts) + 1):
                if words[start : start + len(parts)] == tuple(stem(p) for p in parts):
                    found.setdefault((*words[:start], joined, *words[start + len(parts) :]), ())
                    break
    for abbreviation, expanded in _expansions().items():
        corroboration = expanded if abbreviation in _AMBIGUOUS else ()
        if words == (abbreviation,):
            found[words] = corroboration
            for sequence in expanded:
                found.setdefault(sequence, ())
        elif words in expanded:
            found[(abbreviation,)] = corroboration
    return tuple(_Variant(sequence, corroboration) for sequence, corroboration in found.items())


# ---------------------------------------------------------------------------------------------------
# Scoring constants. A topic's score is normalised so that the phrase in the title and once in the
# abstract scores 1.0 whatever the words' rarity: readers' several topics weigh alike.
# ---------------------------------------------------------------------------------------------------

TITLE_WEIGHT = 2.0
BODY_WEIGHT = 1.0
KEYWORD_WEIGHT = 0.5
_FULL = TITLE_WEIGHT + BODY_WEIGHT
# The words of a multi-word topic close together, not adjacent: "distill knowledge", "domain and
# task adaptation", "large pretrained language models" (each at most one word from the next).
NEAR_QUALITY = 0.6
# A topic's core (its words minus those in more than COMMON_SHARE of the papers) scores this share of
# the whole phrase, when it carries at least CORE_SHARE of the topic's idf.
CORE_QUALITY = 0.7
CORE_SHARE = 0.7
# An abbreviation counts where the paper uses at least this idf-weighted share of its expansion.
CORROBORATION = 0.5
# Each field's share of a multi-word topic's words, idf-weighted, counts this much when the paper is
# relevant anyway: "speech" in the title beside "speech recognition" in the abstract.
PARTIAL_QUALITY = 0.4
# A paper's second and further matching topics add this share of their score.
EXTRA_TOPIC_SHARE = 0.5
# Above any topic score even after the popularity lift: a followed author's papers come first.
AUTHOR_SCORE = 2.5
# Alone, a category match weighs like a passing mention of a topic; beside a topic match it lifts it.
CATEGORY_SCORE = 0.3
# Feedback: similarity is the idf-weighted share of a liked title's informative words found in a paper.
FEEDBACK_THRESHOLD = 0.45
FEEDBACK_SATURATION = 6.0
FEEDBACK_MORE = 0.6
FEEDBACK_LESS = 0.6
FEEDBACK_RECENT = 10
# Words in more than this share of the papers say little about a topic or a likeness ("model",
# "learning", "data").
COMMON_SHARE = 0.25
# Popularity (log upvotes, 0..1 over the index) lifts a relevant paper's score by at most this share.
POPULARITY_LIFT = 0.5
_CACHE_LIMIT = 4096


def _saturate(count: int) -> float:
    """1 for one occurrence, growing to at most 2: repetition says more, with diminishing returns."""
    return 2.0 * count / (count + 1.0)


@dataclass(frozen=True, slots=True)
class _Doc:
    """A paper's words, each with its positions as the set bits of one int. The title comes first,
    then the abstract and AI summary, then the keywords, so one shift-and-and finds a phrase in all
    fields at once and a mask tells which field it was in."""

    words: dict[str, int]
    title: int  # the title's bits
    body: int  # the abstract's and AI summary's bits
    keywords_from: int  # the first keyword bit
    popularity: float

    @classmethod
    def of(cls, paper: Paper, popularity: float) -> _Doc:
        words: dict[str, int] = {}
        offset = 0
        bounds: list[int] = []
        for field in ((paper.title,), (paper.summary, paper.ai_summary), paper.keywords):
            for text in field:
                last = offset
                for word, position in _positions(text):
                    words[word] = words.get(word, 0) | (1 << (offset + position))
                    last = offset + position
                offset = last + _GAP
            bounds.append(offset)
        title = (1 << bounds[0]) - 1
        return cls(words, title, ((1 << bounds[1]) - 1) ^ title, bounds[1], popularity)

    def in_title(self, word: str) -> bool:
        return bool(self.words.get(word, 0) & self.title)

    def in_body(self, word: str) -> bool:
        return bool(self.words.get(word, 0) & self.body)


def _phrase(masks: list[int]) -> int:
    """The positions where the phrase whose words have these masks ends (stop words between its
    words allowed)."""
    running = masks[0]
    for mask in masks[1:]:
        running = ((running << 2) | (running << 3)) & mask
    return running


def _near(masks: list[int], field: int) -> bool:
    """Whether, within one field, each word is followed by the next within one other word ("domain
    and task adaptation") or comes right after it ("distilling knowledge", "tuning prompts")."""
    for before, after in itertools.pairwise(masks):
        # Distances 2-3: adjacent; 4-5: one word between; -2: right before.
        reach = (before << 2) | (before << 3) | (before << 4) | (before << 5) | (before >> 2)
        if not reach & after & field:
            return False
    return True


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
        self._by_surname: dict[str, list[tuple[int, str, _Name]]] = {}
        by_category: dict[str, set[int]] = {}
        for number, paper in enumerate(self.papers):
            doc = _Doc.of(paper, math.log1p(max(paper.upvotes, 0)) / scale)
            self._docs.append(doc)
            for word, mask in doc.words.items():
                postings.setdefault(word, []).append(number)
                weighted.setdefault(word, []).append((number, 1.0 if mask & doc.title else 0.5))
            for author in paper.authors:
                name = _Name.of(author)
                if name is None:
                    continue
                # Candidates by initial and surname; `same_person` then decides.
                self._by_surname.setdefault(name.initial_last, []).append((number, author, name))
            for category in paper.categories:
                key = category.strip().lower()
                # "cs" (a whole archive) as well as "cs.ro" (one subject class).
                for part in {key, key.split(".", 1)[0]}:
                    by_category.setdefault(part, set()).add(number)
        self._by_category = {category: frozenset(numbers) for category, numbers in by_category.items()}
        self._postings = {word: tuple(where) for word, where in postings.items()}
        self._weighted = {word: tuple(where) for word, where in weighted.items()}
        total = max(len(self._docs), 1)
        self._idf = {word: math.log(1.0 + total / len(where)) for word, where in postings.items()}
        self._common = max(3, int(COMMON_SHARE * total))
        self._trending = tuple(sorted(range(len(self._docs)), key=lambda n: _trending_key(self.papers[n])))
        self._rank_of = [0] * len(self._docs)
        for place, number in enumerate(self._trending):
            self._rank_of[number] = place
        self._popularity = [doc.popularity for doc in self._docs]
        self._topic_cache: dict[str, dict[int, float]] = {}
        self._exclude_cache: dict[str, frozenset[int]] = {}
        self._author_cache: dict[str, dict[int, str]] = {}
        self._liked_cache: dict[tuple[str, str, tuple[str, ...]], dict[int, float]] = {}

    # -- topics -------------------------------------------------------------------------------------

    def _corroborated(self, number: int, expansions: tuple[tuple[str, ...], ...]) -> bool:
        doc = self._docs[number]
        rare = math.log(1.0 + len(self._docs))
        for expansion in expansions:
            weights = [self._idf.get(word, rare) for word in expansion]
            present = sum(
                weight for word, weight in zip(expansion, weights, strict=True) if word in doc.words
            )
            if present >= CORROBORATION * sum(weights):
                return True
        return False

    def _variant_scores(self, variant: _Variant) -> dict[int, float]:
        """Normalised relevance of every paper matching one variant of a topic."""
        phrase = variant.words
        lists = [self._postings.get(word) for word in phrase]
        if not all(lists):
            return {}
        scores: dict[int, float] = {}
        if len(phrase) == 1:
            word = phrase[0]
            for number in lists[0]:
                if variant.corroboration and not self._corroborated(number, variant.corroboration):
                    continue
                doc = self._docs[number]
                mask = doc.words[word]
                if variant.title_only and not mask & doc.title:
                    continue
                title = TITLE_WEIGHT if mask & doc.title else 0.0
                body = BODY_WEIGHT * _saturate((mask & doc.body).bit_count())
                keyword = KEYWORD_WEIGHT if mask >> doc.keywords_from else 0.0
                scores[number] = (title + body + keyword) / _FULL
            return scores
        idf = dict(zip(phrase, (self._idf[word] for word in phrase), strict=False))
        total_idf = sum(idf.values())
        shortest = min(lists, key=len)
        for number in set(shortest).intersection(*lists):
            doc = self._docs[number]
            masks = [doc.words[word] for word in phrase]
            ends = _phrase(masks)
            in_title = (ends & doc.title).bit_count()
            if variant.title_only and not in_title:
                continue
            in_body = (ends & doc.body).bit_count()
            in_keywords = ends >> doc.keywords_from
            if in_title:
                title = 1.0
            elif _near(masks, doc.title):
                title = NEAR_QUALITY
            else:
                # Partial credit (negative: it never makes a paper relevant on its own). Even every
                # word in the title, apart, is only that: "Recognition of Objects in Speech-Free Scenes".
                share = sum(weight for word, weight in idf.items() if doc.in_title(word)) / total_idf
                title = -PARTIAL_QUALITY * share
            if in_body:
                body = _saturate(in_body)
            elif _near(masks, doc.body):
                body = NEAR_QUALITY
            else:
                share = sum(weight for word, weight in idf.items() if doc.in_body(word)) / total_idf
                body = -PARTIAL_QUALITY * share
            if title <= 0 and body <= 0 and not in_keywords:
                continue
            keyword = 1.0 if in_keywords else 0.0
            score = TITLE_WEIGHT * abs(title) + BODY_WEIGHT * abs(body) + KEYWORD_WEIGHT * keyword
            scores[number] = score / _FULL
        return scores

    def _with_cores(self, variants: Iterable[_Variant]) -> list[tuple[_Variant, float]]:
        """The variants, each followed by its core at a discount: the words left when the ones most
        papers use are dropped ("contrastive learning" -> "contrastive", "vision language models" ->
        "vision language"), provided they carry most of the topic's weight."""
        out: list[tuple[_Variant, float]] = []
        for variant in variants:
            out.append((variant, 1.0))
            words = variant.words
            if len(words) < 2 or not all(word in self._postings for word in words):
                continue
            core = tuple(word for word in words if len(self._postings[word]) <= self._common)
            if not core or len(core) == len(words):
                continue
            if sum(self._idf[word] for word in core) >= CORE_SHARE * sum(self._idf[word] for word in words):
                out.append((_Variant(core, title_only=True), CORE_QUALITY))
        return out

    def _topic(self, label: str) -> dict[int, float]:
        """Papers matching a topic, by their best variant's score; cached for the next reader."""
        # Keyed by the text as given: readers mostly write a topic the same way, and a miss only
        # costs the computation.
        key = label
        cached = self._topic_cache.get(key)
        if cached is not None:
            return cached
        best: dict[int, float] = {}
        for variant, factor in self._with_cores(_variants(label)):
            for number, score in self._variant_scores(variant).items():
                if score * factor > best.get(number, 0.0):
                    best[number] = score * factor
        if len(self._topic_cache) >= _CACHE_LIMIT:
            self._topic_cache.clear()
        self._topic_cache[key] = best
        return best

    def _excluded_by(self, term: str) -> frozenset[int]:
        """Papers that mention an excluded term: as a phrase (or abbreviation) anywhere, not scattered."""
        key = term
        cached = self._exclude_cache.get(key)
        if cached is not None:
            return cached
        found: set[int] = set()
        # Abbreviations need no corroboration here: a reader who excluded "ASR" would rather miss a
        # paper about attack success rates than see one about speech recognition.
        for variant in _variants(term):
            lists = [self._postings.get(word) for word in variant.words]
            if not all(lists):
                continue
            if len(lists) == 1:
                found.update(lists[0])
                continue
            for number in set(min(lists, key=len)).intersection(*lists):
                doc = self._docs[number]
                if _phrase([doc.words[word] for word in variant.words]):
                    found.add(number)
        result = frozenset(found)
        if len(self._exclude_cache) >= _CACHE_LIMIT:
            self._exclude_cache.clear()
        self._exclude_cache[key] = result
        return result

    # -- authors, categories, feedback -----------------------------------------------------------------

    def _by(self, followed: str) -> dict[int, str]:
        """Papers by a followed author, each with the paper's own spelling of the name."""
        key = followed
        cached = self._author_cache.get(key)
        if cached is not None:
            return cached
        wanted = _Name.of(followed)
        found: dict[int, str] = {}
        if wanted is not None:
            for number, author, name in self._by_surname.get(wanted.initial_last, ()):
                if number not in found and wanted.same_person(name):
                    found[number] = author
        if len(self._author_cache) >= _CACHE_LIMIT:
            self._author_cache.clear()
        self._author_cache[key] = found
        return found

    def _likeness(self, liked: LikedPaper) -> dict[int, float]:
        """Papers resembling one the reader rated: the idf-weighted share of its title's and keywords'
        informative words they contain, a word in their title counting double one in their abstract."""
        key = (liked.id, liked.title, liked.keywords)
        cached = self._liked_cache.get(key)
        if cached is not None:
            return cached
        sequences = [terms(liked.title), *(terms(keyword) for keyword in liked.keywords)]
        words = {word for sequence in sequences for word in sequence}
        itself = self._number.get(liked.id)
        own = self._docs[itself] if itself is not None else None

        def others_using(word: str) -> int:
            count = len(self._postings.get(word, ()))
            if own is not None and word in own.words:
                count -= 1
            return count

        # Words no other paper uses (the liked paper's own method name) can't tell candidates apart,
        # and words most papers use say nothing: both are left out of the share.
        informative = {word for word in words if 0 < others_using(word) <= self._common}
        # A long title's many words dilute no likeness: two rare words shared is a full match.
        total = min(sum(self._idf[word] for word in informative), FEEDBACK_SATURATION)
        shared: dict[int, float] = {}
        hits: dict[int, int] = {}
        for word in informative:
            weight = self._idf[word]
            for number, place in self._weighted[word]:
                shared[number] = shared.get(number, 0.0) + weight * place
                hits[number] = hits.get(number, 0) + 1
        # One shared word is a coincidence ("perspective") unless it comes with its neighbour in the
        # liked title ("continual learning"); two are a likeness.
        pairs = [
            pair
            for sequence in sequences
            for pair in itertools.pairwise(sequence)
            if pair[0] in informative or pair[1] in informative
        ]
        result: dict[int, float] = {}
        for number, value in shared.items():
            if number == itself or value < FEEDBACK_THRESHOLD * total:
                continue
            if hits[number] < 2:
                doc = self._docs[number]
                if not any(
                    all(word in doc.words for word in pair) and _phrase([doc.words[w] for w in pair])
                    for pair in pairs
                ):
                    continue
            result[number] = min(value / total, 1.0)
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
        # A topic with no searchable word ("the") can neither match nor narrow anything.
        topics = [(topic, self._topic(topic)) for topic in settings.topics if _variants(topic)]
        categories = [
            (category, self._by_category.get(category.strip().lower(), frozenset()))
            for category in settings.categories
        ]
        authors = [self._by(name) for name in settings.authors]
        liked = [(paper, self._likeness(paper)) for paper in feedback.more[-FEEDBACK_RECENT:]]
        disliked = [self._likeness(paper) for paper in feedback.less[-FEEDBACK_RECENT:]]
        focused = bool(topics or categories)
        if not (focused or any(authors) or liked or disliked):
            return self._plain_trending(excluded, limit)

        pinned = {number for found in authors for number in found}
        likeness = _strongest(found for _, found in liked)
        unlikeness = _strongest(disliked)
        if focused:
            relevance = _relevance([matches for _, matches in topics], [numbers for _, numbers in categories])
            for number in pinned:
                relevance.setdefault(number, 0.0)
        else:
            relevance = dict.fromkeys(range(len(self._docs)), 0.0)
        popularity, rank_of = self._popularity, self._rank_of
        scored: list[tuple[float, int, int]] = []
        for number, score in relevance.items():
            if number in excluded:
                continue
            if number in likeness:
                score += FEEDBACK_MORE * likeness[number]
            if number in pinned:
                score += AUTHOR_SCORE
            if focused:
                score *= 1.0 + POPULARITY_LIFT * popularity[number]
            else:
                # Trending order, which log-scaled upvotes keep, moved by authors and feedback.
                score += popularity[number]
            if number in unlikeness:
                score *= 1.0 - FEEDBACK_LESS * unlikeness[number]
            scored.append((-score, rank_of[number], number))
        scored.sort()

        picks: list[Pick] = []
        for negative, _, number in scored[:limit]:
            paper = self.papers[number]
            reasons = [f"by {found[number]}" for found in authors if number in found]
            matching = sorted((-matches[number], topic) for topic, matches in topics if number in matches)
            if matching:
                reasons.append("matches: " + ", ".join(topic for _, topic in matching))
            reasons += [f"in {category}" for category, numbers in categories if number in numbers]
            if number in likeness:
                source = max(liked, key=lambda item: item[1].get(number, 0.0))[0]
                reasons.append(f'like "{_short(source.title)}" you liked')
            if not focused:
                reasons.append(_upvotes(paper.upvotes))
            picks.append(Pick(paper=paper, score=round(-negative, 4), reasons=tuple(reasons)))
        return picks

    def _plain_trending(self, excluded: set[int], limit: int) -> list[Pick]:
        picks: list[Pick] = []
        for number in self._trending:
            if number in excluded:
                continue
            paper = self.papers[number]
            score = round(self._popularity[number], 4)
            picks.append(Pick(paper=paper, score=score, reasons=(_upvotes(paper.upvotes),)))
            if len(picks) == limit:
                break
        return picks


def _strongest(found: Iterable[dict[int, float]]) -> dict[int, float]:
    """Per paper, its highest similarity to any of the rated papers."""
    strongest: dict[int, float] = {}
    for similarities in found:
        for number, similarity in similarities.items():
            if similarity > strongest.get(number, 0.0):
                strongest[number] = similarity
    return strongest


def _relevance(topics: list[dict[int, float]], categories: list[frozenset[int]]) -> dict[int, float]:
    """Per relevant paper: its best topic's score, half of each further topic's, plus its categories."""
    if len(topics) == 1:
        relevance = dict(topics[0])
    else:
        best: dict[int, float] = {}
        total: dict[int, float] = {}
        for matches in topics:
            for number, score in matches.items():
                total[number] = total.get(number, 0.0) + score
                if score > best.get(number, 0.0):
                    best[number] = score
        relevance = {n: best[n] + EXTRA_TOPIC_SHARE * (total[n] - best[n]) for n in best}
    for numbers in categories:
        for number in numbers:
            relevance[number] = relevance.get(number, 0.0) + CATEGORY_SCORE
    return relevance


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
