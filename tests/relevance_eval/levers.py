"""python -m relevance_eval.levers [--trees] [--json FILE]: the levers issue 16 asked to measure on
the signals this project can ship, each held out exactly as `make eval`'s "new, held out" row (every
profile ranked by a model fitted on the other 83, cut included), beside the shipped features.

- sentence-level paper vectors: each abstract sentence (and the title) embedded on its own, the
  topic's best cosine with any of them (MiniLM reads only the first ~180 words of an abstract whole);
- phrase vectors: each phrase the reader separated embedded on its own, its best cosine with the
  paper and with the paper's sentences;
- anchor terms: whether the paper uses the topic's rarest words (a reader's key term that no paper of
  the day uses marks a topic the day has nothing for);
- a cut that rises with the reader's topic count (each topic adds its own false positives), the cut
  and its step fitted together on the training profiles;
- with --trees, gradient-boosted trees (scikit-learn, a dev dependency) over the shipped and anchor
  features instead of the logistic regression, at fixed cuts: too slow for SendDigests' path as they
  stand (~0.8 ms a topic for 40 trees of depth 3 in numpy, against ~0.1 ms a reader today).

Every row, the first included, picks through learn.digest (top 10 by probability from the cut), the
path `make eval`'s trade-off curve takes; `DigestSender.pick` adds popularity and sections on top, so
the first row differs from "new, held out" by about 0.01. None of these is shipped; docs/ranking.md
gives the table and why.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from paperboy.digests.ranking import RankingIndex
from paperboy.digests.ranking.features import LEXICAL, NAMES
from paperboy.digests.ranking.fusion import FusionModel
from paperboy.digests.ranking.text import phrases, query, spelled_out
from paperboy.mail.inbound import commands
from paperboy.papers.model import Paper
from paperboy.readers.model import ReaderSettings
from paperboy.semantic import vectors as packing
from relevance_eval import evaluate, learn

SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")
CHUNK = ("chunk_max", "chunk_z", "chunk_z_over_2", "chunk_below_best")
PHRASE = ("phrase_cos_max", "phrase_chunk_max", "phrase_chunk_mean", "phrase_z_max")
ANCHOR = ("anchor_used", "top2_used", "top3_used", "phrase_cover_max", "anchor_day_share", "anchor_absent")
TABLE = (*NAMES, *CHUNK, *PHRASE, *ANCHOR)
STEPS = (0.0, 0.05, 0.1, 0.15, 0.2)
TREE_CUTS = (0.3, 0.4)


def _z(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / max(float(values.std()), 1e-6)


def _chunks(paper: Paper) -> list[str]:
    title = " ".join(paper.title.split())
    sentences = SENTENCE.split(" ".join(paper.summary.split()))
    return [title, *(sentence for sentence in sentences if len(sentence.split()) >= 4)]


class Extra:
    """The candidate features of one (topic, paper) pair over the labelled day, TABLE's tail."""

    def __init__(self, vectors: evaluate.Vectors, papers: Sequence[Paper], lexical: Any) -> None:
        self.vectors = vectors
        self.lexical = lexical
        self.count = len(papers)
        texts, owner = [], []
        for number, paper in enumerate(papers):
            found = _chunks(paper)
            texts += found
            owner += [number] * len(found)
        self.owner = np.array(owner)
        self.chunks = packing.matrix(vectors.of(texts))
        self.whole = packing.matrix(vectors.of([evaluate.paper_text(paper) for paper in papers]))

    def _best_chunk(self, queries: np.ndarray) -> np.ndarray:
        """Per paper and query vector, the best cosine over the paper's chunks."""
        best = np.full((self.count, len(queries)), -1.0)
        scores = self.chunks @ queries.T
        for column in range(len(queries)):
            np.maximum.at(best[:, column], self.owner, scores[:, column])
        return best

    def __call__(self, topic: str) -> np.ndarray:
        vector = packing.matrix(self.vectors.of([topic]))
        chunk = self._best_chunk(vector)[:, 0]
        z = _z(chunk)
        pieces = packing.matrix(self.vectors.of([shown for shown, _ in phrases(topic)] or [topic]))
        whole = self.whole @ pieces.T
        per_piece = self._best_chunk(pieces)
        piece_z = np.column_stack([_z(whole[:, column]) for column in range(whole.shape[1])])
        return np.column_stack(
            [
                chunk,
                z,
                np.maximum(z - 2, 0.0),
                chunk - chunk.max(),
                whole.max(axis=1),
                per_piece.max(axis=1),
                per_piece.mean(axis=1),
                piece_z.max(axis=1),
                self._anchors(topic),
            ]
        )

    def _uses(self, stem: str) -> np.ndarray:
        found = np.zeros(self.count, dtype=bool)
        found[self.lexical.having(stem)] = True
        return found

    def _anchors(self, topic: str) -> np.ndarray:
        stems = list(dict.fromkeys(spelled_out(topic)))
        weight = {stem: self.lexical.idf.get(stem, self.lexical.rare) for stem in stems}
        rarest = sorted(stems, key=lambda stem: -weight[stem])
        uses = {stem: self._uses(stem) for stem in stems}
        top = [np.mean([uses[stem] for stem in rarest[:k]], axis=0) for k in (1, 2, 3)]
        cover = np.zeros(self.count)
        for _, sequence in phrases(topic):
            total = sum(weight.get(stem, self.lexical.rare) for stem in sequence)
            found = sum(weight.get(stem, self.lexical.rare) * self._uses(stem) for stem in sequence)
            cover = np.maximum(cover, found / max(total, 1e-9))
        share = float(top[0].mean())
        return np.column_stack(
            [*top, cover, np.full(self.count, share), np.full(self.count, float(share == 0))]
        )


def extended(
    labelled: evaluate.Labelled, vectors: evaluate.Vectors
) -> tuple[list[str], dict[str, learn.Example]]:
    """`make eval`'s examples with TABLE's candidate columns appended to every topic's table."""
    ids, found = evaluate.examples(labelled, vectors)
    index = RankingIndex(evaluate.with_vectors(vectors, list(evaluate.corpus())))
    extra = Extra(vectors, index.papers, index._lexical)
    grown: dict[str, learn.Example] = {}
    for profile in labelled.profiles:
        settings = evaluate.settings_of(profile, commands, ReaderSettings)
        topics = [topic for topic in settings.topics if query(topic)]
        example = found[profile.id]
        tables = [
            learn.Topic(np.hstack([old.table, extra(topic)]), old.semantic)
            for topic, old in zip(topics, example.topics, strict=True)
        ]
        grown[profile.id] = learn.Example(tuple(tables), example.grades, example.excluded)
    return ids, grown


def _digest(per_topic: list[np.ndarray], excluded: np.ndarray, cut: float, step: float) -> list[int]:
    if not per_topic:
        return []
    best = np.where(excluded, 0.0, np.vstack(per_topic).max(axis=0))
    bar = cut + step * (len(per_topic) - 1)
    return [int(n) for n in np.argsort(-best, kind="stable")[: evaluate.COUNT] if best[n] >= bar]


def regression_row(
    found: dict[str, learn.Example], score: Callable, columns: learn.Columns, steps: Sequence[float]
) -> dict[str, dict[str, float]]:
    """Held out: per profile, weights, cut and step fitted on the others."""
    rows = {}
    for held in found:
        training = {pid: example for pid, example in found.items() if pid != held}
        semantic, lexical = learn._fit_regressions(list(training.values()), columns)
        model = FusionModel(semantic=semantic, lexical=lexical, cut=0.5)
        per_topic = {
            pid: [model.probability(topic.table, topic.semantic) for topic in example.topics]
            for pid, example in found.items()
        }

        choice = min(
            itertools.product(learn.CUTS, steps),
            key=lambda choice, per_topic=per_topic, training=training: learn.shortfall(
                evaluate._mean(
                    [score(pid, _digest(per_topic[pid], found[pid].excluded, *choice)) for pid in training]
                )
            ),
        )
        rows[held] = score(held, _digest(per_topic[held], found[held].excluded, *choice))
    return rows


def tree_rows(found: dict[str, learn.Example], score: Callable) -> dict[str, dict[str, dict[str, float]]]:
    """Held out: per profile, boosted trees fitted on the others' semantic pairs, at TREE_CUTS."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    columns = [TABLE.index(name) for name in (*NAMES, *ANCHOR)]
    owners = learn._fit_regressions(
        list(found.values()), learn.Columns(TABLE, (*NAMES, *ANCHOR), (*LEXICAL, *ANCHOR))
    )
    probabilities = {}
    for held in found:
        rows, labels, weights = learn._rows(
            [e for pid, e in found.items() if pid != held], None, semantic_only=True
        )
        trees = HistGradientBoostingClassifier(
            max_iter=40, learning_rate=0.15, max_depth=3, min_samples_leaf=60
        )
        trees.fit(rows[:, columns], labels, sample_weight=weights)
        example = found[held]
        per_topic = [trees.predict_proba(topic.table[:, columns])[:, 1] for topic in example.topics]
        lexical = [owners[1].probability(topic.table) for topic in example.topics]
        probabilities[held] = [
            np.where(topic.semantic, tree, lex)
            for topic, tree, lex in zip(example.topics, per_topic, lexical, strict=True)
        ]
    return {
        f"boosted trees + anchor terms, cut {cut} (fixed)": {
            pid: score(pid, _digest(probabilities[pid], found[pid].excluded, cut, 0.0)) for pid in found
        }
        for cut in TREE_CUTS
    }


def run(*, trees: bool) -> dict[str, Any]:
    labelled = evaluate.Labelled.load(evaluate.PROFILES)
    ids, found = extended(labelled, evaluate.Vectors())
    score = evaluate._scorer(labelled, ids)
    variants = {
        "shipped features": learn.Columns(TABLE),
        "+ sentence-level paper vectors": learn.Columns(TABLE, (*NAMES, *CHUNK)),
        "+ phrase vectors": learn.Columns(TABLE, (*NAMES, *PHRASE)),
        "+ anchor terms": learn.Columns(TABLE, (*NAMES, *ANCHOR), (*LEXICAL, *ANCHOR)),
        "+ all three": learn.Columns(TABLE, TABLE, (*LEXICAL, *ANCHOR)),
    }
    rows = {name: regression_row(found, score, columns, (0.0,)) for name, columns in variants.items()}
    rows["shipped features, cut rising per topic"] = regression_row(found, score, learn.Columns(TABLE), STEPS)
    if trees:
        rows.update(tree_rows(found, score))
    return {name: evaluate.summarise(per_profile, labelled) for name, per_profile in rows.items()}


def table(report: dict[str, Any]) -> str:
    head = ("P@5", "nDCG@10", "on topic", "papers", "blind P@5", "blind nDCG@10", "blind on topic")
    lines = [f"| lever (held out) | {' | '.join(head)} |", "|---" * (len(head) + 1) + "|"]
    for name, summary in report.items():
        every, blind = summary["overall"], summary["written blind"]
        cells = [every["p@5"], every["ndcg@10"], every["precision"], every["length"]]
        cells += [blind["p@5"], blind["ndcg@10"], blind["precision"]]
        shown = [f"{cell:.1f}" if place == 3 else f"{cell:.3f}" for place, cell in enumerate(cells)]
        lines.append(f"| {name} | " + " | ".join(shown) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="relevance_eval.levers", description=__doc__)
    parser.add_argument("--trees", action="store_true", help="also boosted trees (minutes per cut)")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    arguments = parser.parse_args(argv)
    report = run(trees=arguments.trees)
    print(table(report))
    if arguments.json:
        evaluate.save(report, arguments.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
