"""A digest of several topics in sections, one per topic as the reader wrote it (issue 17).

Each pick goes once, under the topic it matches best; sections come in the order of their best pick;
picks that match no topic (a followed author's, a category's, one near a liked paper) close the digest
under OTHERS. Papers are numbered in the order shown, so `more 2` still means the second one read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from paperboy.digests.ranking import RankingIndex
from paperboy.papers.model import Pick
from paperboy.readers.model import ReaderSettings

OTHERS = "Also for you"


def wanted(settings: ReaderSettings) -> bool:
    return settings.sections and len(settings.topics) >= 2


def sectioned(
    index: RankingIndex, picks: Sequence[Pick], settings: ReaderSettings, topic_vectors: Mapping[str, bytes]
) -> list[tuple[str, list[Pick]]]:
    """The picks (best first) grouped by their best topic; sections in the order of their best pick."""
    _, per_topic = index.relevance(list(settings.topics), topic_vectors)
    groups: dict[str, list[Pick]] = {}
    for pick in picks:
        number = index.number_of(pick.paper.id)
        scored = (
            [(float(passing[number]), topic) for topic, passing in per_topic] if number is not None else []
        )
        best = max(scored, default=(0.0, OTHERS))
        groups.setdefault(best[1] if best[0] > 0 else OTHERS, []).append(pick)
    others = groups.pop(OTHERS, [])
    return [*groups.items(), *([(OTHERS, others)] if others else [])]
