"""Ranking the candidate papers for one reader (brief section 5, issue 9).

`RankingIndex` is built once per container and hour from the candidate papers: every title, abstract
and keyword list is stemmed once (Snowball English, PyStemmer) into BM25 weights, and the papers'
stored sentence vectors become one matrix. Ranking a reader is then a handful of numpy operations:
one BM25 query per topic (cached on the index, so the next reader asking for "reinforcement
learning" pays a dictionary lookup) and one matrix-vector product per topic vector.

Rules a reader can rely on (`make eval` measures them on a labelled set, docs/ranking.md):
- No topics and no categories: the trending papers (upvotes, then comments, then recency). Followed
  authors come first and feedback lifts or lowers papers within that list; neither ever empties it.
- Topics or categories: only relevant papers are picked, possibly none (brief: "no matching papers:
  no email"). A paper is relevant to a topic when its fused score passes one global threshold,
  FUSED_THRESHOLD: SEMANTIC_WEIGHT x how far the cosine between the paper's vector and the topic's
  stands out among the candidates, plus the rest x the topic's BM25 score over the candidates' best
  (title weighted TITLE_WEIGHT times the abstract); see `RankingIndex._fused`. A paper or reader
  without a vector yet is judged on BM25 alone against LEXICAL_THRESHOLD. A paper is also relevant
  when it is in one of the reader's categories or by a followed author.
- Popularity (log-scaled upvotes) lifts a relevant paper by at most POPULARITY_LIFT of its score, and
  feedback (`more N` / `less N`, the reader's Rocchio profile vector) moves it up or down; neither
  makes an irrelevant paper relevant.
- A paper by a followed author comes first.
- Exclusions win over everything: a paper mentioning an excluded term as a phrase (stemmed) in its
  title, abstract or keywords is never picked, nor is a paper in `exclude_ids` (already sent).
- Every pick says why ("close to your interest 'medical imaging'", "mentions 'speech recognition'",
  "by Yann LeCun", "in cs.RO", 'like "X" you liked', "trending: 120 upvotes").
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
import Stemmer

from paperboy.digests.likes import LIKE_WEIGHT, nearness
from paperboy.papers.model import Paper, Pick
from paperboy.readers.model import Feedback, LikedPaper, ReaderSettings
from paperboy.semantic import vectors

__all__ = ["RankingIndex", "phrases", "rank", "stems"]

# ---------------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------------

_STEMMER = Stemmer.Stemmer("english")
# Only function words: "based", "learning" or "model" carry little, but idf already discounts them.
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
    "yet", "you", "your", "like", "work", "working", "interested", "interest", "papers", "paper",
    "especially", "particularly", "etc", "e", "g", "eg", "ie", "using", "use",
))
# fmt: on
# A compound's parts are words of their own ("self-supervised" is "self" then "supervised") and its
# joined form one more ("pre-training" also reads as "pretraining").
_TOKEN = re.compile(r"[a-z0-9]+(?:[-‐‑–][a-z0-9]+)*")
_COMPOUND_SPLIT = re.compile(r"[-‐‑–]")
# Where a reader's interest splits into phrases for the "why" line and for exclusions' phrases.
_CHUNK_SPLIT = re.compile(r"\s*(?:[,;:()\[\]/&+|—–•]|\s-\s|\band\b|\bor\b|\bsuch as\b|\be\.g\.)\s*", re.I)


def fold(text: str) -> str:
    """Lower case without accents: "Schölkopf" and "Scholkopf" are one name, "Ré" is "re"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=131072)
def _stem(word: str) -> str:
    if len(word) > 2 and word[-1] == "s" and not any(ch in "aeiouy" for ch in word[:-1]):
        # The plural of an acronym: "LLMs", "GNNs" (Snowball leaves words without vowels alone).
        return word[:-1]
    return _STEMMER.stemWord(word)


def _words(text: str) -> tuple[list[str], list[str]]:
    """(content stems in order, joined compounds): "self-supervised pre-training" ->
    (["self", "supervis", "pre", "train"], ["selfsupervis", "pretrain"])."""
    sequence: list[str] = []
    joined: list[str] = []
    for token in _TOKEN.findall(fold(text)):
        parts = [part for part in _COMPOUND_SPLIT.split(token) if part]
        content = [part for part in parts if part not in _STOP]
        sequence.extend(_stem(part) for part in content)
        if len(parts) > 1:
            joined.append(_stem("".join(parts)))
    return sequence, joined


@lru_cache(maxsize=16384)
def stems(text: str) -> tuple[str, ...]:
    """The stems of a text's content words in order, then its joined compounds."""
    sequence, joined = _words(text)
    return (*sequence, *joined)


@lru_cache(maxsize=16384)
def phrases(topic: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A topic split where people separate ideas (commas, brackets, slashes, "and"), each piece with
    its stems: "generative models (diffusion, GANs)" -> ("generative models", ("generat", "model")),
    ("diffusion", ("diffus",)), ("GANs", ("gan",))."""
    found: dict[tuple[str, ...], str] = {}
    for piece in _CHUNK_SPLIT.split(topic):
        shown = piece.strip(" .!?\"'“”‘’")
        sequence, _ = _words(shown)
        if sequence and len(sequence) <= MAX_PHRASE_WORDS:
            found.setdefault(tuple(sequence), shown)
    return tuple((shown, sequence) for sequence, shown in found.items())


@lru_cache(maxsize=16384)
def _surface(topic: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """A topic's content stems, and for each the word the reader wrote ("clouds" for "cloud")."""
    sequence, _ = _words(topic)
    written = [w for t in _TOKEN.findall(fold(topic)) for w in _COMPOUND_SPLIT.split(t) if w]
    surface = {_stem(word): word for word in written}
    return tuple(sequence), {word: surface.get(word, word) for word in sequence}


# A few abbreviations readers and abstracts both use, each way round: a topic naming one also
# searches the other. Kept because `make eval` measures that it helps; a bonus
# for a topic's words standing together as a phrase was measured too, and hurt, so there is none.
_ABBREVIATIONS: dict[str, str] = {
    "rl": "reinforcement learning",
    "rlhf": "reinforcement learning from human feedback",
    "llm": "large language model",
    "vlm": "vision language model",
    "mllm": "multimodal large language model",
    "nlp": "natural language processing",
    "asr": "speech recognition",
    "tts": "text to speech",
    "gnn": "graph neural network",
    "gan": "generative adversarial network",
    "cnn": "convolutional neural network",
    "vit": "vision transformer",
    "moe": "mixture of experts",
    "kd": "knowledge distillation",
    "rag": "retrieval augmented generation",
    "peft": "parameter efficient fine tuning",
    "nerf": "neural radiance field",
    "vqa": "visual question answering",
    "nas": "neural architecture search",
    "cot": "chain of thought",
}


@lru_cache(maxsize=1)
def _abbreviation_stems() -> dict[str, tuple[str, ...]]:
    return {_stem(abbreviation): tuple(_words(text)[0]) for abbreviation, text in _ABBREVIATIONS.items()}


@lru_cache(maxsize=16384)
def _query(topic: str) -> tuple[str, ...]:
    """The stems a topic searches for: its words and joined compounds, each abbreviation's
    expansion and each expansion's abbreviation."""
    found = list(stems(topic))
    if EXPAND_ABBREVIATIONS:
        sequence = " " + " ".join(found) + " "
        for abbreviation, expansion in _abbreviation_stems().items():
            if abbreviation in found:
                found.extend(expansion)
            elif " " + " ".join(expansion) + " " in sequence:
                found.append(abbreviation)
    return tuple(found)


# ---------------------------------------------------------------------------------------------------
# Scoring constants. The fused rule's five and the lexical rule's two are fitted by
# `make eval EVAL_ARGS=--fit` on the labelled profiles (docs/ranking.md gives `make eval`'s
# figures); the rest are chosen.
# ---------------------------------------------------------------------------------------------------

# BM25 with a title counting TITLE_WEIGHT times the abstract (one long field of the title repeated).
BM25_K1 = 1.2
BM25_B = 0.75
TITLE_WEIGHT = 3
KEYWORD_WEIGHT = 1
EXPAND_ABBREVIATIONS = True
# The fused score (see RankingIndex._fused): this share semantic (cosine z-score / Z_SCALE, from
# MIN_COSINE on), the rest BM25 over the best candidate's; the semantic share shrinks when the
# topic's best cosine is below SEMANTIC_FLOOR.
SEMANTIC_WEIGHT = 0.6
Z_SCALE = 4.0
# A z-score alone always finds a few papers that stand out, even for a niche the day barely
# touches; MIN_COSINE is the absolute floor under it (at FUSED_THRESHOLD 0.35, raising it from 0.15
# to 0.3 took niche digests from 7.6 papers at 0.26 precision to 5.4 at 0.47).
MIN_COSINE = 0.3
SEMANTIC_FLOOR = 0.4
# A paper is relevant to a topic from this fused score on (both vectors present) ...
FUSED_THRESHOLD = 0.35
# ... or, without a vector on either side, from this share of the topic's best BM25 score on. Both
# ways, BM25 counts only from LEXICAL_FLOOR of what the topic scores with every word once in a title,
# so a topic nothing really matches does not crown a paper that only shares its commonest word.
LEXICAL_THRESHOLD = 0.45
LEXICAL_FLOOR = 0.1
# A paper's second and further matching topics add this share of their score.
EXTRA_TOPIC_SHARE = 0.25
# Above any topic score even after the lifts: a followed author's papers come first.
AUTHOR_SCORE = 3.0
# Alone, a category match weighs like a paper at the threshold; beside a topic match it lifts it.
CATEGORY_SCORE = 0.45
# Feedback: the cosine to the reader's profile vector (or, without vectors, BM25 likeness to the
# rated titles) moves a relevant paper's score by up to this much.
FEEDBACK_WEIGHT = 0.5
FEEDBACK_RECENT = 10
# A pick says "like X you liked" from this similarity on.
LIKENESS_SHOWN = 0.55
# Popularity (log upvotes, 0..1 over the index) lifts a relevant paper's score by at most this share.
POPULARITY_LIFT = 0.3
# A "why" line names at most this many matched words or phrases; phrases longer than this are
# sentences and are not quoted back as phrases.
MAX_REASONS = 2
MAX_PHRASE_WORDS = 5
# A topic shown in a reason is cut to this many characters.
SHOWN_TOPIC = 60
_CACHE_LIMIT = 4096


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


def _short(text: str, limit: int = 50) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,:;-") + "…"


def _upvotes(count: int) -> str:
    return f"trending: {count} upvote{'s' if count != 1 else ''}"


@dataclass(frozen=True, slots=True)
class _TopicMatch:
    """One topic's lexical view of the candidates: BM25 over the best candidate's, and over the ideal."""

    lexical: np.ndarray  # per paper, 0..1 (BM25 / the best candidate's)
    absolute: np.ndarray  # per paper, BM25 / ideal


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
        count = len(self.papers)
        self._number = {paper.id: number for number, paper in enumerate(self.papers)}
        # Each paper's content stems as one spaced string, title then abstract then keywords, for
        # phrase lookups (exclusions, "mentions ..."): " speech recogn robust ... ".
        self._text: list[str] = []
        frequencies: list[dict[str, float]] = []
        lengths = np.zeros(count, dtype=np.float64)
        self._by_surname: dict[str, list[tuple[int, str, _Name]]] = {}
        by_category: dict[str, set[int]] = {}
        for number, paper in enumerate(self.papers):
            counts: dict[str, float] = {}
            sequences: list[str] = []
            for text, weight in (
                (paper.title, TITLE_WEIGHT),
                (paper.summary, 1),
                # HF's AI summary restates the abstract in plainer words (absent from arXiv papers).
                (paper.ai_summary, 1),
                *((keyword, KEYWORD_WEIGHT) for keyword in paper.keywords),
            ):
                sequence, joined = _words(text)
                for word in (*sequence, *joined):
                    counts[word] = counts.get(word, 0.0) + weight
                lengths[number] += weight * len(sequence)
                sequences.append(" ".join(sequence))
            frequencies.append(counts)
            self._text.append(" " + " | ".join(sequences) + " ")
            for author in paper.authors:
                name = _Name.of(author)
                if name is not None:
                    # Candidates by initial and surname; `same_person` then decides.
                    self._by_surname.setdefault(name.initial_last, []).append((number, author, name))
            for category in paper.categories:
                key = category.strip().lower()
                # "cs" (a whole archive) as well as "cs.ro" (one subject class).
                for part in {key, key.split(".", 1)[0]}:
                    by_category.setdefault(part, set()).add(number)
        self._by_category = {category: frozenset(numbers) for category, numbers in by_category.items()}
        # BM25's per-(word, paper) weights, idf included: a query's score is then a sum of rows.
        average = float(lengths.mean()) if count else 1.0
        norms = BM25_K1 * (1 - BM25_B + BM25_B * lengths / max(average, 1.0))
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for number, counts in enumerate(frequencies):
            for word, tf in counts.items():
                where, weights = postings.setdefault(word, ([], []))
                where.append(number)
                weights.append(tf * (BM25_K1 + 1) / (tf + norms[number]))
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._idf: dict[str, float] = {}
        for word, (where, weights) in postings.items():
            idf = math.log(1.0 + (count - len(where) + 0.5) / (len(where) + 0.5))
            self._idf[word] = idf
            self._postings[word] = (np.array(where, dtype=np.intp), np.array(weights) * idf)
        # What a word once in a title (and nowhere else) scores in an average-length paper.
        self._ideal_tf = TITLE_WEIGHT * (BM25_K1 + 1) / (TITLE_WEIGHT + BM25_K1)
        # Sentence vectors: a paper without one (stored before embedding ran) is ranked lexically.
        # A vector another model made is no vector here (its space is not the readers').
        usable = [paper.vector if paper.vector_model == vectors.MODEL else None for paper in self.papers]
        self._has_vector = np.array([vector is not None for vector in usable], dtype=bool)
        self._matrix = np.zeros((count, vectors.DIM), dtype=np.float32)
        if self._has_vector.any():
            self._matrix[self._has_vector] = vectors.matrix(
                [vector for vector in usable if vector is not None]
            )
        top = max((paper.upvotes for paper in self.papers), default=0)
        scale = math.log1p(top) if top > 0 else 1.0
        self._popularity = np.array([math.log1p(max(p.upvotes, 0)) / scale for p in self.papers])
        self._trending = tuple(sorted(range(count), key=lambda n: _trending_key(self.papers[n])))
        self._newest = max((paper.day for paper in self.papers), default=None)
        self._older = frozenset(n for n, paper in enumerate(self.papers) if paper.day != self._newest)
        self._rank_of = np.zeros(count, dtype=np.int64)
        for place, number in enumerate(self._trending):
            self._rank_of[number] = place
        self._topic_cache: dict[str, _TopicMatch] = {}
        self._exclude_cache: dict[str, frozenset[int]] = {}
        self._author_cache: dict[str, dict[int, str]] = {}
        self._scored_cache: dict[tuple[str, bytes | None], tuple[np.ndarray, np.ndarray | None]] = {}
        self._mentions_cache: dict[tuple[int, str], list[str]] = {}
        self._reason_cache: dict[tuple[int, str, bool], str] = {}
        self._pick_cache: dict[tuple[int, float, tuple[str, ...]], Pick] = {}

    def __len__(self) -> int:
        return len(self.papers)

    def number_of(self, paper_id: str) -> int | None:
        """The paper's place among the candidates (the index of per-paper arrays)."""
        return self._number.get(paper_id)

    # -- lexical -------------------------------------------------------------------------------------

    def _bm25(self, words: Iterable[str]) -> tuple[np.ndarray, float]:
        """Every paper's BM25 score for the query, and what a paper with every query word once in its
        title would score."""
        scores = np.zeros(len(self.papers))
        ideal = 0.0
        rare = math.log(1.0 + (len(self.papers) + 0.5) / 0.5)
        for word in words:
            posting = self._postings.get(word)
            if posting is not None:
                where, weights = posting
                scores[where] += weights
            ideal += self._idf.get(word, rare) * self._ideal_tf
        return scores, ideal

    def _topic(self, topic: str) -> _TopicMatch:
        """One topic's lexical scores, cached for the next reader with the same words."""
        cached = self._topic_cache.get(topic)
        if cached is not None:
            return cached
        scores, ideal = self._bm25(_query(topic))
        best = float(scores.max()) if len(scores) else 0.0
        match = _TopicMatch(lexical=scores / max(best, 1e-9), absolute=scores / max(ideal, 1e-9))
        if len(self._topic_cache) >= _CACHE_LIMIT:
            self._topic_cache.clear()
        self._topic_cache[topic] = match
        return match

    def _mentions(self, number: int, topic: str) -> list[str]:
        """The topic's phrases the paper uses as phrases, or else its rarest words the paper uses."""
        key = (number, topic)
        cached = self._mentions_cache.get(key)
        if cached is not None:
            return cached
        text = self._text[number]
        found = [shown for shown, words in phrases(topic) if f" {' '.join(words)} " in text][:MAX_REASONS]
        if not found:
            stemmed, surface = _surface(topic)
            present = sorted(
                {word for word in stemmed if f" {word} " in text}, key=lambda word: -self._idf.get(word, 0.0)
            )
            found = [surface[word] for word in present[:MAX_REASONS]]
        if len(self._mentions_cache) >= _CACHE_LIMIT * 4:
            self._mentions_cache.clear()
        self._mentions_cache[key] = found
        return found

    def _excluded_by(self, term: str) -> frozenset[int]:
        """Papers that mention an excluded term (any of its phrases) as a phrase, never scattered."""
        cached = self._exclude_cache.get(term)
        if cached is not None:
            return cached
        sequences = {words for _, words in phrases(term)}
        sequence, _ = _words(term)
        if sequence:
            sequences.add(tuple(sequence))
        # An excluded abbreviation excludes its expansion and back: "LLMs" and "large language models".
        for abbreviation, expansion in _abbreviation_stems().items():
            if (abbreviation,) in sequences:
                sequences.add(expansion)
            elif expansion in sequences:
                sequences.add((abbreviation,))
        wanted = [" " + " ".join(words) + " " for words in sequences]
        found = frozenset(n for n, text in enumerate(self._text) if any(w in text for w in wanted))
        if len(self._exclude_cache) >= _CACHE_LIMIT:
            self._exclude_cache.clear()
        self._exclude_cache[term] = found
        return found

    # -- authors -------------------------------------------------------------------------------------

    def _by(self, followed: str) -> dict[int, str]:
        """Papers by a followed author, each with the paper's own spelling of the name."""
        cached = self._author_cache.get(followed)
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
        self._author_cache[followed] = found
        return found

    # -- feedback ------------------------------------------------------------------------------------

    def _similar(self, liked: LikedPaper) -> np.ndarray:
        """Per paper, its likeness to a rated paper: the cosine of their vectors where both have one,
        else its BM25 score for the rated title over the best other candidate's."""
        return self.likeness(liked)[0]

    def likeness(self, liked: LikedPaper, vector: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per paper, its likeness to `liked` and whether that is a cosine (else lexical): the cosine
        with `vector` or, for a paper among the candidates, its own; else BM25 for its title over the
        best other candidate's."""
        own = self._number.get(liked.id)
        scores, _ = self._bm25(_query(liked.title))
        if own is not None:
            scores[own] = 0.0
        lexical = scores / max(float(scores.max()) if len(scores) else 0.0, 1e-9)
        if own is not None:
            lexical[own] = 1.0
        target = None
        if vector is not None:
            target = vectors.unpack(vector)
        elif own is not None and self._has_vector[own]:
            target = self._matrix[own]
        if target is None:
            return lexical, np.zeros(len(self.papers), dtype=bool)
        return np.where(self._has_vector, self._matrix @ target, lexical), self._has_vector

    def _feedback(
        self, feedback: Feedback, profile: np.ndarray | None
    ) -> tuple[np.ndarray, list[tuple[LikedPaper, np.ndarray]]]:
        """Per paper, the feedback signal in -1..1, and each liked paper's likeness for the reasons."""
        signal = np.zeros(len(self.papers))
        liked = [(paper, self._similar(paper)) for paper in feedback.more[-FEEDBACK_RECENT:]]
        if profile is not None:
            signal = np.where(self._has_vector, self._matrix @ profile, 0.0)
            lexical_only = ~self._has_vector
        else:
            lexical_only = np.ones(len(self.papers), dtype=bool)
        if lexical_only.any():
            more = np.max([s for _, s in liked], axis=0) if liked else 0.0
            disliked = [self._similar(paper) for paper in feedback.less[-FEEDBACK_RECENT:]]
            less = np.max(disliked, axis=0) if disliked else 0.0
            signal = np.where(lexical_only, np.clip(more - less, -1.0, 1.0), signal)
        return signal, liked

    # -- ranking -------------------------------------------------------------------------------------

    def _excluded(self, settings: ReaderSettings, exclude_ids: Collection[str]) -> set[int]:
        excluded = {self._number[i] for i in exclude_ids if i in self._number}
        for term in settings.excludes:
            excluded |= self._excluded_by(term)
        return excluded

    def relevance(
        self, topics: Sequence[str], topic_vectors: Mapping[str, bytes]
    ) -> tuple[np.ndarray, list[tuple[str, np.ndarray, np.ndarray | None]]]:
        """Per paper, its relevance to the reader's topics (0 where it passes no threshold), and per
        topic (topic, fused score, cosines or None) for the reasons."""
        count = len(self.papers)
        per_topic: list[tuple[str, np.ndarray, np.ndarray | None]] = []
        for topic in topics:
            per_topic.append((topic, *self._scored(topic, topic_vectors.get(topic))))
        if not per_topic:
            return np.zeros(count), per_topic
        stacked = np.vstack([scores for _, scores, _ in per_topic])
        best = stacked.max(axis=0)
        return best + EXTRA_TOPIC_SHARE * (stacked.sum(axis=0) - best), per_topic

    def _scored(self, topic: str, packed: bytes | None) -> tuple[np.ndarray, np.ndarray | None]:
        """One topic's relevance per paper (0 below the threshold) and its cosines; cached, since
        readers who wrote the same topic the same way share its text and its vector."""
        key = (topic, packed)
        cached = self._scored_cache.get(key)
        if cached is not None:
            return cached
        match = self._topic(topic)
        lexical_pass = (match.lexical >= LEXICAL_THRESHOLD) & (match.absolute >= LEXICAL_FLOOR)
        lexical_score = np.where(lexical_pass, match.lexical, 0.0)
        if packed is None:
            result: tuple[np.ndarray, np.ndarray | None] = (lexical_score, None)
        else:
            cosines = self._matrix @ vectors.unpack(packed)
            fused = self._fused(cosines, match)
            fused = np.where(fused >= FUSED_THRESHOLD, fused, 0.0)
            result = (np.where(self._has_vector, fused, lexical_score), cosines)
        if len(self._scored_cache) >= _CACHE_LIMIT:
            self._scored_cache.clear()
        self._scored_cache[key] = result
        return result

    def _fused(self, cosines: np.ndarray, match: _TopicMatch) -> np.ndarray:
        """Per paper, one topic's semantic and lexical evidence on one scale.

        The cosine counts as a z-score over the day's candidates (how far a paper stands out from
        the rest, whatever the scale of cosines a terse jargon topic or a long sentence produces),
        and only from MIN_COSINE on. A topic the model does not know ("PEFT / LoRA & adapters":
        nothing comes close) leans on its words: the semantic share shrinks with the best cosine
        below SEMANTIC_FLOOR. BM25 counts over the best candidate's and from LEXICAL_FLOOR of the
        ideal on, so sharing only a topic's commonest word is no match.
        """
        known = cosines[self._has_vector]
        if len(known) > 1:
            spread = max(float(known.std()), 1e-6)
            semantic = (cosines - float(known.mean())) / spread / Z_SCALE
        else:
            semantic = np.zeros_like(cosines)
        semantic = np.where(cosines >= MIN_COSINE, semantic, 0.0)
        best = max(float(known.max()), 0.0) if len(known) else 0.0
        weight = SEMANTIC_WEIGHT * min(1.0, best / SEMANTIC_FLOOR)
        lexical = np.where(match.absolute >= LEXICAL_FLOOR, match.lexical, 0.0)
        return weight * semantic + (1 - weight) * lexical

    def rank(
        self,
        settings: ReaderSettings,
        feedback: Feedback,
        exclude_ids: Collection[str] = (),
        count: int | None = None,
        *,
        topic_vectors: Mapping[str, bytes] | None = None,
        profile_vector: bytes | None = None,
        likes: Sequence[LikedPaper] = (),
        like_vectors: Mapping[str, bytes] | None = None,
    ) -> list[Pick]:
        limit = settings.count if count is None else count
        if limit <= 0 or not self.papers:
            return []
        excluded = self._excluded(settings, exclude_ids)
        topics = [topic for topic in settings.topics if _query(topic)]
        categories = [
            (category, self._by_category.get(category.strip().lower(), frozenset()))
            for category in settings.categories
        ]
        authors = [self._by(name) for name in settings.authors]
        profile = vectors.unpack(profile_vector) if profile_vector is not None else None
        rated = bool(feedback.more or feedback.less or profile is not None)
        focused = bool(topics or categories)
        near = nearness(self, likes, like_vectors or {})
        if not (focused or any(authors) or rated or near):
            return self._plain_trending(excluded, limit)

        pinned = {number for found in authors for number in found}
        signal, liked = self._feedback(feedback, profile) if rated else (None, [])
        if focused:
            relevance, per_topic = self.relevance(topics, topic_vectors or {})
            for _, numbers in categories:
                relevance[list(numbers)] += CATEGORY_SCORE
            relevant = relevance > 0
            score = relevance * (1.0 + POPULARITY_LIFT * self._popularity)
            if signal is not None:
                score = score + FEEDBACK_WEIGHT * signal
            if near is not None:
                # Both signals: near a liked paper is relevant too, and nearness lifts a match.
                relevant |= near.near
                score = score + LIKE_WEIGHT * np.where(near.near, near.score, 0.0)
        elif near is not None:
            # Likes and no topics: the papers near them, not the trending list.
            per_topic = []
            relevant = near.near.copy()
            score = near.score * (1.0 + POPULARITY_LIFT * self._popularity)
            if signal is not None:
                score = score + FEEDBACK_WEIGHT * signal
        else:
            per_topic = []
            relevant = np.zeros(len(self.papers), dtype=bool)
            # Trending order, which log-scaled upvotes keep, moved by authors and feedback.
            score = self._popularity.copy()
            if signal is not None:
                score = score + FEEDBACK_WEIGHT * signal
            relevant[:] = True
        if pinned:
            pinned_list = list(pinned)
            relevant[pinned_list] = True
            score[pinned_list] += AUTHOR_SCORE
        if excluded:
            relevant[list(excluded)] = False
        candidates = np.flatnonzero(relevant)
        # Best score first; ties in trending order.
        order = candidates[np.lexsort((self._rank_of[candidates], -score[candidates]))][:limit].tolist()

        picks: list[Pick] = []
        for number in order:
            paper = self.papers[number]
            reasons = [f"by {found[number]}" for found in authors if number in found]
            reasons += self._topic_reasons(number, per_topic)
            reasons += [f"in {category}" for category, numbers in categories if number in numbers]
            liked_reason = near.reason(number) if near is not None else None
            if liked_reason is not None:
                reasons.append(liked_reason)
            elif liked:
                source, similar = max(liked, key=lambda item: float(item[1][number]))
                if similar[number] >= LIKENESS_SHOWN and source.id != paper.id:
                    reasons.append(f'like "{_short(source.title)}" you liked')
            if not focused and near is None:
                reasons.append(_upvotes(paper.upvotes))
            picks.append(self._pick(number, float(score[number]), tuple(reasons)))
        return picks

    def _pick(self, number: int, score: float, reasons: tuple[str, ...]) -> Pick:
        """The same picks recur all hour (the same papers, scores and reasons for many readers):
        each is validated once and shared, which saved a third of ranking's time. Picks are frozen."""
        key = (number, round(score, 4), reasons)
        pick = self._pick_cache.get(key)
        if pick is None:
            pick = Pick(paper=self.papers[number], score=key[1], reasons=reasons)
            if len(self._pick_cache) >= _CACHE_LIMIT * 4:
                self._pick_cache.clear()
            self._pick_cache[key] = pick
        return pick

    def _topic_reasons(
        self, number: int, per_topic: list[tuple[str, np.ndarray, np.ndarray | None]]
    ) -> list[str]:
        """What matched, best topic first: the words it mentions, or its closeness in meaning."""
        matched = [
            (-float(scores[number]), topic, cosines is not None)
            for topic, scores, cosines in per_topic
            if scores[number] > 0
        ]
        if len(matched) > 1:
            matched.sort()
        return [self._reason(number, topic, semantic) for _, topic, semantic in matched]

    def _reason(self, number: int, topic: str, semantic: bool) -> str:
        """Why a paper matched a topic, cached: the same papers match the same topics all hour."""
        key = (number, topic, semantic)
        cached = self._reason_cache.get(key)
        if cached is not None:
            return cached
        mentioned = self._mentions(number, topic)
        lexical = float(self._topic(topic).lexical[number])
        if mentioned and (not (semantic and self._has_vector[number]) or lexical >= LEXICAL_THRESHOLD):
            reason = "mentions " + ", ".join(f"“{_short(m, SHOWN_TOPIC)}”" for m in mentioned)
        else:
            reason = f"close to your interest “{_short(topic, SHOWN_TOPIC)}”"
        if len(self._reason_cache) >= _CACHE_LIMIT * 4:
            self._reason_cache.clear()
        self._reason_cache[key] = reason
        return reason

    def _plain_trending(self, excluded: set[int], limit: int) -> list[Pick]:
        picks: list[Pick] = []
        for number in self._trending:
            if number in excluded:
                continue
            paper = self.papers[number]
            score = round(float(self._popularity[number]), 4)
            picks.append(self._pick(number, score, (_upvotes(paper.upvotes),)))
            if len(picks) == limit:
                break
        return picks

    def also_trending(
        self, settings: ReaderSettings, exclude_ids: Collection[str], count: int = 3
    ) -> list[Pick]:
        """The day's most upvoted papers beside a reader's picks: none excluded, picked or sent.
        "The day" is the newest day among the candidates: older days' big papers were trending then."""
        excluded = self._excluded(settings, exclude_ids)
        excluded |= self._older
        return self._plain_trending(excluded, count)


def rank(
    index: RankingIndex,
    settings: ReaderSettings,
    feedback: Feedback,
    *,
    exclude_ids: Collection[str] = (),
    count: int | None = None,
    topic_vectors: Mapping[str, bytes] | None = None,
    profile_vector: bytes | None = None,
    likes: Sequence[LikedPaper] = (),
    like_vectors: Mapping[str, bytes] | None = None,
) -> list[Pick]:
    """The reader's picks from the indexed papers, best first, each with its reasons.

    `count` defaults to the reader's own; `exclude_ids` are papers already sent; `topic_vectors`
    (by topic, as stored) and `profile_vector` are the reader's sentence vectors, where they have any;
    `likes` are the papers the reader named (never picked) and `like_vectors` their vectors by id.
    """
    return index.rank(
        settings,
        feedback,
        {*exclude_ids, *(liked.id for liked in likes)},
        count,
        topic_vectors=topic_vectors,
        profile_vector=profile_vector,
        likes=likes,
        like_vectors=like_vectors,
    )
