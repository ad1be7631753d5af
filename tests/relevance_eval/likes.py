"""`python -m relevance_eval.likes`: do liked papers help? (issue 17)

Each labelled profile with at least four relevant papers (grade 2 first, then 1, in corpus order) is
seeded with two of them as `like`s; those two are left out of the judgements and every ranker is
scored on the rest. Four rows: the profile's topics alone, its topics and likes, and a reader who
wrote no topics, before (the trending list) and with the likes; all through DigestSender.pick with
sentence vectors.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from paperboy.readers.model import LikedPaper
from relevance_eval import evaluate

SEEDS = 2
MIN_RELEVANT = SEEDS + 2


def seeds(judged: dict[str, int]) -> list[str]:
    order = list(judged)
    relevant = sorted(
        (paper for paper in order if judged[paper] > 0), key=lambda p: (-judged[p], order.index(p))
    )
    return relevant[:SEEDS] if len(relevant) >= MIN_RELEVANT else []


def run(labelled: evaluate.Labelled) -> dict[str, Any]:
    vectors = evaluate.Vectors()
    if not vectors.available:
        raise SystemExit("the likes evaluation needs the sentence model: make model")
    row = evaluate.NewRow(labelled, vectors)
    papers = {paper.id: paper for paper in row.shelf._papers}
    results: dict[str, dict[str, dict[str, float]]] = {
        "topics": {},
        "topics + likes": {},
        "trending": {},
        "likes only": {},
    }
    for profile in labelled.profiles:
        judged = labelled.judgements[profile.id]
        seeded = seeds(judged)
        if not seeded:
            continue
        rest = {paper: grade for paper, grade in judged.items() if paper not in seeded}
        reader = row.readers[profile.id]
        likes = tuple(LikedPaper(id=p, title=papers[p].title) for p in seeded)
        like_vectors = {p: papers[p].vector for p in seeded if papers[p].vector is not None}
        liked = reader.model_copy(update={"likes": likes, "like_vectors": like_vectors})
        # Topics alone never see the seeds either: they are already read.
        alone = reader.model_copy(update={"recent_papers": list(seeded)})
        no_topics = liked.model_copy(
            update={"settings": liked.settings.model_copy(update={"topics": ()}), "topic_vectors": {}}
        )
        trending = no_topics.model_copy(
            update={"likes": (), "like_vectors": {}, "recent_papers": list(seeded)}
        )
        rows = (
            ("topics", alone),
            ("topics + likes", liked),
            ("trending", trending),
            ("likes only", no_topics),
        )
        for name, subscriber in rows:
            picked = [pick.paper.id for pick in row.sender.pick(subscriber, evaluate.NOW)]
            assert not set(picked) & set(seeded), "a liked paper was sent back"
            results[name][profile.id] = evaluate.metrics(picked, rest)
    return {name: evaluate._mean(list(rows.values())) for name, rows in results.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="relevance_eval.likes", description=__doc__)
    parser.add_argument("--profiles", default=str(evaluate.PROFILES))
    parser.add_argument("--json", default="")
    arguments = parser.parse_args(argv)
    report = run(evaluate.Labelled.load(arguments.profiles))
    heads = ("profiles", "P@5", "nDCG@10", "recall", "prec", "len", "empty")
    print(f"{'ranker':16} " + " ".join(f"{head:>8}" for head in heads))
    for name, m in report.items():
        print(
            f"{name:16} {m['profiles']:8.0f} {m['p@5']:8.3f} {m['ndcg@10']:8.3f} {m['recall@10']:8.3f} "
            f"{m['precision']:8.3f} {m['length']:8.1f} {m['empty']:8.0f}"
        )
    if arguments.json:
        evaluate.save(report, arguments.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
