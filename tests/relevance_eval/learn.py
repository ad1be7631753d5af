"""Fitting the fusion model (paperboy/digests/ranking/fusion.py) on the labelled profiles.

What is fitted on what:
- Each profile's topics are parsed as the reader's mail would set them; every (topic, paper) pair of
  the 213-paper day gets the ranker's own features (`RankingIndex.features`), and the label "on topic"
  (graded 1 or 2; a 2 weighs GRADE_2_WEIGHT). A reader with several topics is judged per profile, not
  per topic, so a paper relevant to that reader is a positive for the topic the current model finds it
  closest to (refitted MIL_ROUNDS times), and a negative of every topic when it is relevant to none.
- Two L2-regularised logistic regressions (Newton's method, numpy): "semantic" over every feature and
  "lexical" over the lexical ones only (papers or topics without vectors). Each profile weighs the
  same whatever its topic count.
- One cut: the probability from which a paper is picked, chosen on the same profiles as the weights,
  as the value of CUTS closest to the issue 16 targets (the least summed shortfall of on-topic share,
  P@5 and nDCG@10 below their TARGETS).
- Held out: `held_out` refits all of the above once per profile without it (leave-one-profile-out);
  `make eval` reports those figures. The shipped fusion.json is the fit on every profile.
The feature list, GRADE_2_WEIGHT, L2 and the hinge points were chosen by comparing leave-one-profile-out
figures of the profiles written after reading the corpus only, never the blind ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from paperboy.digests.ranking.features import LEXICAL, NAMES
from paperboy.digests.ranking.fusion import FusionModel, Regression

L2 = 1.0
GRADE_2_WEIGHT = 2.0
MIL_ROUNDS = 2
NEWTON_STEPS = 40
CUTS = tuple(round(0.05 * step, 2) for step in range(2, 19))
TARGETS = {"precision": 0.90, "p@5": 0.80, "ndcg@10": 0.78}


@dataclass(frozen=True)
class Topic:
    table: np.ndarray  # candidates x features.NAMES
    semantic: np.ndarray  # per candidate: both vectors present


@dataclass(frozen=True)
class Example:
    """One labelled profile: its topics' feature tables, its grades, papers its exclusions remove."""

    topics: tuple[Topic, ...]
    grades: np.ndarray
    excluded: np.ndarray  # bool per candidate


Metrics = Callable[[list[int], str], dict[str, float]]


@dataclass(frozen=True)
class Columns:
    """What a topic's table holds (`table`) and which of it each regression reads: the shipped
    ranker's by default; `python -m relevance_eval.levers` appends candidate features."""

    table: tuple[str, ...] = NAMES
    semantic: tuple[str, ...] = NAMES
    lexical: tuple[str, ...] = LEXICAL


SHIPPED_COLUMNS = Columns()


def _standardise(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    return mean, np.where(scale > 1e-9, scale, 1.0)


def _logistic(rows: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression (bias unpenalised), by Newton."""
    design = np.column_stack([np.ones(len(rows)), rows])
    beta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], L2)
    penalty[0] = 0.0
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ beta, -30.0, 30.0)))
        gradient = design.T @ (weights * (p - labels)) + penalty * beta
        hessian = (design * (weights * p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-7:
            break
    return beta[1:], float(beta[0])


def _regression(
    rows: np.ndarray, labels: np.ndarray, weights: np.ndarray, names: Sequence[str], table: Sequence[str]
) -> Regression:
    columns = np.array([table.index(name) for name in names], dtype=np.intp)
    chosen = rows[:, columns]
    mean, scale = _standardise(chosen)
    coefficients, bias = _logistic((chosen - mean) / scale, labels, weights)
    return Regression(columns=columns, mean=mean, scale=scale, weights=coefficients, bias=bias)


def _rows(
    examples: Sequence[Example], owner: Mapping[int, np.ndarray] | None, semantic_only: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tables, labels, weights = [], [], []
    for number, example in enumerate(examples):
        relevant = example.grades > 0
        weight = np.where(example.grades == 2, GRADE_2_WEIGHT, 1.0) / len(example.topics)
        for place, topic in enumerate(example.topics):
            keep = np.ones(len(relevant), dtype=bool)
            if len(example.topics) > 1:
                # A paper this reader wants is a positive only for the topic that explains it best.
                keep = ~relevant if owner is None else (~relevant | (owner[number] == place))
            if semantic_only:
                keep &= topic.semantic
            tables.append(topic.table[keep])
            labels.append(relevant[keep].astype(np.float64))
            weights.append(weight[keep])
    return np.vstack(tables), np.concatenate(labels), np.concatenate(weights)


def _fit_regressions(examples: Sequence[Example], columns: Columns) -> tuple[Regression, Regression]:
    owner: dict[int, np.ndarray] | None = None
    semantic = lexical = None
    for _ in range(MIL_ROUNDS + 1):
        semantic = _regression(*_rows(examples, owner, semantic_only=True), columns.semantic, columns.table)
        lexical = _regression(*_rows(examples, owner, semantic_only=False), columns.lexical, columns.table)
        owner = {
            number: np.vstack([semantic.probability(t.table) for t in example.topics]).argmax(axis=0)
            for number, example in enumerate(examples)
            if len(example.topics) > 1
        }
    assert semantic is not None and lexical is not None
    return semantic, lexical


def reader_probability(model: FusionModel, example: Example) -> np.ndarray:
    """Per candidate, the probability the reader wants it: its best topic's (0 where excluded)."""
    if not example.topics:
        return np.zeros(len(example.grades))
    best = np.vstack([model.probability(t.table, t.semantic) for t in example.topics]).max(axis=0)
    return np.where(example.excluded, 0.0, best)


def digest(probability: np.ndarray, cut: float, count: int) -> list[int]:
    order = np.argsort(-probability, kind="stable")[:count]
    return [int(number) for number in order if probability[number] >= cut]


def shortfall(means: Mapping[str, float]) -> float:
    return sum(max(0.0, target - means[name]) for name, target in TARGETS.items())


def fit(
    examples: Mapping[str, Example],
    score: Callable[[str, list[int]], dict[str, float]],
    average: Callable[[list[dict[str, float]]], dict[str, float]],
    count: int,
    provenance: str,
    columns: Columns = SHIPPED_COLUMNS,
) -> FusionModel:
    """Weights and cut fitted on these profiles (`score` a profile's digest, `average` the means)."""
    semantic, lexical = _fit_regressions(list(examples.values()), columns)
    model = FusionModel(semantic=semantic, lexical=lexical, cut=0.5, provenance=provenance)
    probabilities = {pid: reader_probability(model, example) for pid, example in examples.items()}

    def missed(cut: float) -> float:
        return shortfall(average([score(pid, digest(p, cut, count)) for pid, p in probabilities.items()]))

    cut = min(CUTS, key=missed)
    return FusionModel(semantic=semantic, lexical=lexical, cut=cut, provenance=provenance)


def held_out(
    examples: Mapping[str, Example],
    score: Callable[[str, list[int]], dict[str, float]],
    average: Callable[[list[dict[str, float]]], dict[str, float]],
    count: int,
    columns: Columns = SHIPPED_COLUMNS,
) -> dict[str, FusionModel]:
    """Per profile, the model (weights and cut) fitted on every other profile."""
    return {
        held: fit(
            {pid: example for pid, example in examples.items() if pid != held},
            score,
            average,
            count,
            provenance=f"fitted without {held}",
            columns=columns,
        )
        for held in examples
    }
