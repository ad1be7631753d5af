"""Sentence vectors: embedding papers and topics, and the reader's profile vector."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperboy._exports import lazy

if TYPE_CHECKING:
    from paperboy.semantic import vectors
    from paperboy.semantic.embedding import Embedder
    from paperboy.semantic.indexing import Change, VectorIndexer
    from paperboy.semantic.profiles import moved_profile

__all__ = ["Change", "Embedder", "VectorIndexer", "moved_profile", "vectors"]
__getattr__, __dir__ = lazy(
    __name__,
    {
        "embedding": ("Embedder",),
        "indexing": ("Change", "VectorIndexer"),
        "profiles": ("moved_profile",),
        "vectors": ("vectors",),
    },
)
