"""The Embed function's model in the local stack: the real model, with an on-disk cache of vectors.

On Lambda the model and tokenizer live in EmbedLayer at /opt/model; here they are the files
`make model` put in MODEL_DIR (.models/minilm). The demo, scenarios and tests fetch the same
corpus papers again and again, and embedding one costs ~0.25 s of CPU: every vector the local stack
computes is kept under .models/embed-cache (EMBED_CACHE_DIR), keyed by the sha256 of model, word-piece
limit and text, so only texts never seen before reach the model. Lambda has no such cache and needs
none (each paper and topic is embedded once, when it changes). A cached vector is the model's exact
float32 output, so a cache hit and a miss give the same digest; delete the folder to start afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from local_stack.template import ROOT
from paperboy.semantic import embedding
from paperboy.semantic.vectors import DIM, MODEL

# Loaded once per process, however many stacks a test session starts.
_MODELS: dict[tuple[Path, int], embedding.Embedder] = {}
# Taken before any stack replaces it.
_LOAD = embedding.Embedder.load


def local_model_dir() -> Path:
    """Where `make model` put the model files (MODEL_DIR, else the repository's .models/minilm)."""
    return Path(os.environ.get("MODEL_DIR") or ROOT / ".models" / "minilm")


def local_cache_dir() -> Path:
    return Path(os.environ.get("EMBED_CACHE_DIR") or ROOT / ".models" / "embed-cache")


class CachedEmbedder:
    """Embedder's interface; the real model is loaded on the first text the cache does not hold."""

    def __init__(self, model_dir: Path, cache_dir: Path, max_tokens: int) -> None:
        self._model_dir = model_dir
        self._cache = cache_dir
        self._max_tokens = max_tokens
        self.computed = 0

    def _path(self, text: str) -> Path:
        key = hashlib.sha256(f"{MODEL}\0{self._max_tokens}\0{text}".encode()).hexdigest()
        return self._cache / key[:2] / f"{key}.f32"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        result = np.zeros((len(texts), DIM), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for index, text in enumerate(texts):
            path = self._path(text)
            if path.is_file():
                result[index] = np.frombuffer(path.read_bytes(), dtype=np.float32)
            else:
                missing.setdefault(text, []).append(index)
        if missing:
            fresh = self._model().embed(list(missing))
            self.computed += len(missing)
            for (text, indexes), vector in zip(missing.items(), fresh, strict=True):
                result[indexes] = vector
                path = self._path(text)
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_suffix(f".{os.getpid()}.partial")
                partial.write_bytes(np.asarray(vector, dtype=np.float32).tobytes())
                partial.replace(path)
        return result

    def _model(self) -> embedding.Embedder:
        key = (self._model_dir, self._max_tokens)
        if key not in _MODELS:
            if not (self._model_dir / embedding.MODEL_FILE).is_file():
                raise FileNotFoundError(f"no model files in {self._model_dir}: run `make model`")
            _MODELS[key] = _LOAD(self._model_dir, max_tokens=self._max_tokens)
        return _MODELS[key]


@contextlib.contextmanager
def installed(model_dir: Path | None = None, cache_dir: Path | None = None) -> Iterator[None]:
    """While the stack runs, `Embedder.load` (whatever folder the template names) gives a
    CachedEmbedder over the local model files."""
    folder, cache = model_dir or local_model_dir(), cache_dir or local_cache_dir()

    def load(model_dir: Any = None, *, max_tokens: int = embedding.MAX_TOKENS, threads: int = 0) -> Any:
        return CachedEmbedder(folder, cache, max_tokens)

    with mock.patch.object(embedding.Embedder, "load", staticmethod(load)):
        yield
