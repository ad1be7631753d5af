"""The papers a reader names by something other than a topic: a followed author, a category, an
excluded term. Many readers name the same, so each name or term is looked up once per index."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from paperboy.digests.ranking.candidates import Candidates
from paperboy.digests.ranking.memo import PER_INDEX, Memo
from paperboy.digests.ranking.text import Name, forms, phrases, words
from paperboy.readers.model import ReaderSettings


class Lookups:
    """Papers by an author, in a category or mentioning a term, among the candidates."""

    def __init__(self, candidates: Candidates) -> None:
        self._candidates = candidates
        self._by_surname: dict[str, list[tuple[int, str, Name]]] = {}
        by_category: dict[str, set[int]] = {}
        for number, paper in enumerate(candidates.papers):
            for author in paper.authors:
                name = Name.of(author)
                if name is not None:
                    # Candidates by initial and surname; `same_person` then decides.
                    self._by_surname.setdefault(name.initial_last, []).append((number, author, name))
            for category in paper.categories:
                key = category.strip().lower()
                # "cs" (a whole archive) as well as "cs.ro" (one subject class).
                for part in {key, key.split(".", 1)[0]}:
                    by_category.setdefault(part, set()).add(number)
        self._by_category = {category: frozenset(numbers) for category, numbers in by_category.items()}
        self._mentioning: Memo[str, frozenset[int]] = Memo(PER_INDEX)
        self._authors: Memo[str, dict[int, str]] = Memo(PER_INDEX)

    def in_category(self, category: str) -> frozenset[int]:
        return self._by_category.get(category.strip().lower(), frozenset())

    def by(self, followed: str) -> dict[int, str]:
        """Papers by a followed author, each with the paper's own spelling of the name."""
        return self._authors.get(followed, self._papers_by, followed)

    def excluded(self, settings: ReaderSettings, exclude_ids: Collection[str]) -> set[int]:
        """Papers already sent (`exclude_ids`) and papers mentioning one of the reader's excludes."""
        number = self._candidates.number
        excluded = {number[i] for i in exclude_ids if i in number}
        for term in settings.excludes:
            excluded |= self._mentioning.get(term, self._papers_mentioning, term)
        return excluded

    def _papers_by(self, followed: str) -> dict[int, str]:
        wanted = Name.of(followed)
        found: dict[int, str] = {}
        if wanted is not None:
            for number, author, name in self._by_surname.get(wanted.initial_last, ()):
                if number not in found and wanted.same_person(name):
                    found[number] = author
        return found

    def _papers_mentioning(self, term: str) -> frozenset[int]:
        """Papers that mention an excluded term (any of its phrases) as a phrase, never scattered."""
        sequences = {sequence for _, sequence in phrases(term)}
        whole, _ = words(term)
        if whole:
            sequences.add(tuple(whole))
        # An excluded abbreviation excludes its expansion and back: "LLMs" and "large language models".
        found = np.zeros(len(self._candidates), dtype=bool)
        for sequence in sequences:
            for form in forms(sequence):
                found |= self._candidates.lexical.with_phrase(form)
        return frozenset(np.flatnonzero(found).tolist())
