"""The learned fusion: a calibrated probability that a paper is on a reader's topic.

Two logistic regressions over `features.NAMES`, fitted offline by `make eval EVAL_ARGS=--fit`
(tests/relevance_eval/learn.py) on the labelled profiles and stored in fusion.json beside this module:
"semantic" where the paper and the topic both have sentence vectors, "lexical" where either lacks one.
A paper is relevant to a topic from one probability on, `FusionModel.cut`, fitted with the weights
(docs/ranking.md gives the protocol and the held-out figures).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from paperboy.digests.ranking.features import NAMES

SHIPPED = Path(__file__).with_name("fusion.json")


@dataclass(frozen=True)
class Regression:
    """Logistic regression over standardised features."""

    columns: np.ndarray  # indices into features.NAMES
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    @classmethod
    def of(cls, raw: dict) -> Regression:
        names = list(raw["features"])
        return cls(
            columns=np.array([NAMES.index(name) for name in names], dtype=np.intp),
            mean=np.array(raw["mean"], dtype=np.float64),
            scale=np.array(raw["scale"], dtype=np.float64),
            weights=np.array(raw["weights"], dtype=np.float64),
            bias=float(raw["bias"]),
        )

    def as_dict(self) -> dict:
        return {
            "features": [NAMES[number] for number in self.columns.tolist()],
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias,
        }

    def probability(self, table: np.ndarray) -> np.ndarray:
        logits = self.bias + ((table[:, self.columns] - self.mean) / self.scale) @ self.weights
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -30.0, 30.0)))


@dataclass(frozen=True)
class FusionModel:
    semantic: Regression
    lexical: Regression
    cut: float
    # How it was fitted (profiles, protocol), written by the fit and shown by `make eval`.
    provenance: str = ""

    @classmethod
    def load(cls, path: Path = SHIPPED) -> FusionModel:
        raw = json.loads(path.read_text())
        return cls(
            semantic=Regression.of(raw["semantic"]),
            lexical=Regression.of(raw["lexical"]),
            cut=float(raw["cut"]),
            provenance=raw.get("provenance", ""),
        )

    def save(self, path: Path = SHIPPED) -> None:
        raw = {
            "provenance": self.provenance,
            "cut": self.cut,
            "semantic": self.semantic.as_dict(),
            "lexical": self.lexical.as_dict(),
        }
        path.write_text(json.dumps(raw, indent=1) + "\n")

    def probability(self, table: np.ndarray, semantic: np.ndarray) -> np.ndarray:
        """Per paper, the probability it is on the topic: the semantic regression where `semantic`
        (both vectors present), the lexical one elsewhere."""
        lexical = self.lexical.probability(table)
        if not semantic.any():
            return lexical
        return np.where(semantic, self.semantic.probability(table), lexical)


@cache
def shipped() -> FusionModel:
    return FusionModel.load()
