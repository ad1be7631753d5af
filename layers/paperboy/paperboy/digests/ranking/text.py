"""Words as the ranker matches them: folded, stemmed (Snowball English), split into the phrases a
reader separated, abbreviations and their expansions, and author names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

__all__ = ["Name", "fold", "forms", "phrases", "query", "spelled_out", "stems", "words"]

# A topic piece longer than this is a sentence: not quoted back as a phrase.
MAX_PHRASE_WORDS = 5

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
    folded = text.casefold()
    if folded.isascii():
        # Most abstracts: ASCII has no decomposition and no combining marks (a cold start's index
        # folds every abstract of the week, ~6 ms of it spent here character by character).
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=131072)
def _stem(word: str) -> str:
    if len(word) > 2 and word[-1] == "s" and not any(ch in "aeiouy" for ch in word[:-1]):
        # The plural of an acronym: "LLMs", "GNNs" (Snowball leaves words without vowels alone).
        return word[:-1]
    return _STEMMER.stemWord(word)


def words(text: str) -> tuple[list[str], list[str]]:
    """(content stems in order, joined compounds): "self-supervised pre-training" ->
    (["self", "supervis", "pre", "train"], ["selfsupervis", "pretrain"])."""
    sequence: list[str] = []
    joined: list[str] = []
    for token in _TOKEN.findall(fold(text)):
        parts = [token] if token.isalnum() else [part for part in _COMPOUND_SPLIT.split(token) if part]
        content = [part for part in parts if part not in _STOP]
        sequence.extend(_stem(part) for part in content)
        if len(parts) > 1:
            joined.append(_stem("".join(parts)))
    return sequence, joined


@lru_cache(maxsize=16384)
def stems(text: str) -> tuple[str, ...]:
    """The stems of a text's content words in order, then its joined compounds."""
    sequence, joined = words(text)
    return (*sequence, *joined)


@lru_cache(maxsize=16384)
def phrases(topic: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A topic split where people separate ideas (commas, brackets, slashes, "and"), each piece with
    its stems: "generative models (diffusion, GANs)" -> ("generative models", ("generat", "model")),
    ("diffusion", ("diffus",)), ("GANs", ("gan",))."""
    found: dict[tuple[str, ...], str] = {}
    for piece in _CHUNK_SPLIT.split(topic):
        shown = piece.strip(" .!?\"'“”‘’")
        sequence, _ = words(shown)
        if sequence and len(sequence) <= MAX_PHRASE_WORDS:
            found.setdefault(tuple(sequence), shown)
    return tuple((shown, sequence) for sequence, shown in found.items())


# A few abbreviations readers and abstracts both use, each way round: a topic naming one also
# searches the other.
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
    return {_stem(abbreviation): tuple(words(text)[0]) for abbreviation, text in _ABBREVIATIONS.items()}


@lru_cache(maxsize=16384)
def query(topic: str) -> tuple[str, ...]:
    """The stems a topic searches for: its words and joined compounds, each abbreviation's
    expansion and each expansion's abbreviation."""
    found = list(stems(topic))
    sequence = " " + " ".join(found) + " "
    for abbreviation, expansion in _abbreviation_stems().items():
        if abbreviation in found:
            found.extend(expansion)
        elif " " + " ".join(expansion) + " " in sequence:
            found.append(abbreviation)
    return tuple(found)


@lru_cache(maxsize=16384)
def spelled_out(topic: str) -> tuple[str, ...]:
    """A topic's content stems with every abbreviation spelled out: "RL agents" and "reinforcement
    learning agents" are the same words."""
    expansions = _abbreviation_stems()
    return tuple(stem for word in words(topic)[0] for stem in expansions.get(word, (word,)))


@lru_cache(maxsize=16384)
def forms(sequence: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    """A phrase's stems and its other spelling, where it is an abbreviation or the expansion of one:
    ("llm",) and ("larg", "languag", "model")."""
    found = {sequence}
    for abbreviation, expansion in _abbreviation_stems().items():
        if sequence == (abbreviation,):
            found.add(expansion)
        elif sequence == expansion:
            found.add((abbreviation,))
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Name:
    """An author name folded for matching: "Yann LeCun", "yann lecun", "Yann Le Cun", "Y. LeCun"."""

    whole: str
    first_last: str
    initial_last: str
    abbreviated: bool

    @classmethod
    def of(cls, name: str) -> Name | None:
        found = re.findall(r"[a-z0-9]+", fold(name))
        if not found:
            return None
        return cls(
            whole="".join(found),
            first_last=f"{found[0]} {found[-1]}",
            initial_last=f"{found[0][0]} {found[-1]}",
            abbreviated=len(found) >= 2 and len(found[0]) == 1,
        )

    def same_person(self, other: Name) -> bool:
        # Two full first names must agree; an initial agrees with any first name it abbreviates.
        if self.whole == other.whole or self.first_last == other.first_last:
            return True
        return (self.abbreviated or other.abbreviated) and self.initial_last == other.initial_last
