"""Turns texts into sentence vectors with all-MiniLM-L6-v2 (int8 ONNX), where texts are embedded.

Only the Embed function (and operator tools) import this: onnxruntime and tokenizers live in the
Embed function's own layer, and the hot paths (SendDigests, FetchPapers, InboundMail) never pay for
loading the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from paperboy.semantic.vectors import DIM, normalise

if TYPE_CHECKING:
    from paperboy.papers.model import Paper

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
# The model was trained on at most 256 word pieces: title and the first ~180 words of an abstract.
# 128 would take a third less time but changes the vectors (mean cosine 0.905 with the 256-piece
# ones over the corpus, minimum 0.80), so 256.
MAX_TOKENS = 256
# Texts are embedded in groups of similar length so that little time is spent on padding.
BATCH = 16


class Embedder:
    """A loaded model: `embed` maps texts to unit vectors of DIM components."""

    def __init__(self, session: object, tokenizer: object, max_tokens: int = MAX_TOKENS) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._max_tokens = max_tokens

    @classmethod
    def load(cls, model_dir: str | Path, *, max_tokens: int = MAX_TOKENS, threads: int = 0) -> Embedder:
        """Load the model and tokenizer files (`make model` puts them in .models/minilm).

        `threads` = 0 lets onnxruntime use every core it sees (Lambda gives one vCPU per 1,769 MB).
        """
        import onnxruntime
        from tokenizers import Tokenizer

        folder = Path(model_dir)
        tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        tokenizer.enable_truncation(max_length=max_tokens)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a vocabulary token
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(
            str(folder / MODEL_FILE), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return cls(session, tokenizer, max_tokens)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit row per text, in order: mean of the token states under the attention mask."""
        result = np.zeros((len(texts), DIM), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            result[chunk] = self._embed_batch([texts[index] for index in chunk])
        return result

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)  # type: ignore[attr-defined]
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        states = self._session.run(  # type: ignore[attr-defined]
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (states * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return normalise(pooled)


def paper_text(paper: Paper) -> str:
    """What a paper is embedded from: its title, then its abstract."""
    title = " ".join(paper.title.split())
    summary = " ".join(paper.summary.split())
    return f"{title}. {summary}" if summary else title
