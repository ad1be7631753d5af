"""The reader's profile vector, moved by `more N` / `less N` (issue 9).

Apart from ranking so that InboundMail, which applies the ratings, loads numpy but not the stemmer.
"""

from __future__ import annotations

import numpy as np

from paperboy.semantic import vectors

# Rocchio: a rating adds (more) or subtracts (less) the paper's vector, earlier ones decayed.
ROCCHIO_MORE = 1.0
ROCCHIO_LESS = 1.0
ROCCHIO_DECAY = 0.8


def moved_profile(profile: bytes | None, paper_vector: bytes, *, more: bool) -> bytes:
    """The reader's profile after `more N` (towards the paper) or `less N` (away from it).

    Rocchio's update without its query term (the topics stay the query, with their own vectors):
    the profile is the decayed sum of the rated papers' vectors, liked ones added and others
    subtracted, so recent ratings weigh most and one old rating fades rather than ruling for good.
    """
    moved = vectors.unpack(paper_vector) * (ROCCHIO_MORE if more else -ROCCHIO_LESS)
    if profile is not None:
        moved = moved + ROCCHIO_DECAY * vectors.unpack(profile)
    norm = float(np.linalg.norm(moved))
    if norm < 1e-6:
        # Rated once each way: nothing learned yet.
        return vectors.pack(vectors.unpack(paper_vector) * (1.0 if more else -1.0))
    return vectors.pack(moved / norm)
