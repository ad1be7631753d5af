"""A reader's liked papers (`like`, `unlike`, `me:`, `unfollow`): newest last, each once, bounded."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from paperboy.papers.model import Paper
from paperboy.readers.model import MAX_LIKES, LikedPaper, Subscriber


def liked(reader: Subscriber, papers: Iterable[Paper], author: str = "") -> Subscriber:
    """The reader with `papers` liked (moved to the newest end if liked before); the oldest go past
    MAX_LIKES. Ranking never picks a liked paper."""
    new = [LikedPaper(id=p.id, title=p.display_title, keywords=p.keywords, author=author) for p in papers]
    ids = {like.id for like in new}
    kept = [like for like in reader.likes if like.id not in ids]
    likes = (*kept, *new)[-MAX_LIKES:]
    return reader.model_copy(update={"likes": likes})


def unliked(
    reader: Subscriber, ids: Sequence[str] = (), author: str = ""
) -> tuple[Subscriber, list[LikedPaper]]:
    """The reader without the liked papers `ids` (or those `author` brought), and the ones removed."""
    wanted = set(ids)
    folded = author.casefold()
    gone = [
        like for like in reader.likes if like.id in wanted or (folded and like.author.casefold() == folded)
    ]
    if not gone:
        return reader, []
    left = tuple(like for like in reader.likes if like not in gone)
    return reader.model_copy(update={"likes": left}), gone
