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


def in_force(reader: Subscriber) -> tuple[LikedPaper, ...]:
    """The liked papers that shape the reader's digest: those `me:` brought count while the reader
    still follows that name (`unfollow` sets them aside; following it again brings them back)."""
    followed = {name.casefold() for name in reader.settings.authors}
    return tuple(like for like in reader.likes if not like.author or like.author.casefold() in followed)


def unliked(reader: Subscriber, ids: Sequence[str]) -> tuple[Subscriber, list[LikedPaper]]:
    """The reader without the liked papers `ids`, and the ones removed."""
    wanted = set(ids)
    gone = [like for like in reader.likes if like.id in wanted]
    if not gone:
        return reader, []
    left = tuple(like for like in reader.likes if like not in gone)
    return reader.model_copy(update={"likes": left}), gone
