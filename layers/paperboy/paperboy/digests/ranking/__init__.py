"""Ranking the candidate papers for one reader (brief section 5, issues 9 and 16).

`RankingIndex` (index.py) is built once per container and hour from the candidate papers: every title,
abstract and keyword list is stemmed once into BM25 postings (lexical.py) and the papers' stored
sentence vectors become one matrix. For each distinct topic a reader wrote (and its vector), the index
computes a few cheap features per candidate (features.py: cosine and how far it stands out that day,
BM25 of the topic and of each phrase the reader separated, which phrases and words the paper uses) and
a learned logistic model (fusion.py, weights in fusion.json, fitted by `make eval EVAL_ARGS=--fit`)
turns them into a calibrated probability that the paper is on the topic. That happens once per topic
per index, cached; each reader then costs a handful of numpy operations.

Rules a reader can rely on (`make eval` measures them on a labelled set, docs/ranking.md):
- No topics and no categories: the trending papers (upvotes, then comments, then recency). Followed
  authors come first and feedback lifts or lowers papers within that list; neither ever empties it.
- Topics or categories: only relevant papers are picked, possibly none (brief: "no matching papers:
  no email"). A paper is relevant when its probability for one of the reader's topics reaches the
  model's one cut (`FusionModel.cut`), or when it is in one of the reader's categories or by a
  followed author. Papers rank by probability; a paper matching a second topic adds a share of it.
- Popularity (log-scaled upvotes) lifts a relevant paper by at most POPULARITY_LIFT of its score, and
  feedback (`more N` / `less N`, the reader's Rocchio profile vector) moves it up or down; neither
  makes an irrelevant paper relevant.
- A paper by a followed author comes first.
- Exclusions win over everything: a paper mentioning an excluded term as a phrase (stemmed) in its
  title, abstract or keywords is never picked, nor is a paper in `exclude_ids` (already sent).
- Every pick says why, naming the reader's concept (reasons.py): "mentions “speech recognition”",
  "close to your interest “medical imaging”", "by Yann LeCun", "in cs.RO", 'like "X" you liked',
  "trending: 120 upvotes"; never a lone common word.
"""

from paperboy.digests.ranking.index import RankingIndex, rank
from paperboy.digests.ranking.text import phrases, stems

__all__ = ["RankingIndex", "phrases", "rank", "stems"]
