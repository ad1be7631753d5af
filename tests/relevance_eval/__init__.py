"""`make eval`: the ranker against labelled reader profiles (issue 9, item 5).

The corpus is the 213 papers of tests/fixtures/daily_papers, all treated as one day; the profiles and
their 2/1/0 judgements of every paper are tests/fixtures/relevance/. Each profile goes through the
digest path a reader's mail goes through: its topics line (and exclusions) parsed by the `topics:` /
`exclude:` command parser and applied to default settings, then `DigestSender.pick`, as SendDigests
calls it, over a `CandidatePool` serving the corpus, 10 papers per digest.

Rows:
- new, held out: today's ranker (lexical + semantic, with the sentence vectors the embedding model gives
  the corpus and the profile's topics; cached in .cache/relevance_eval/, git-ignored), each profile
  ranked by a fusion model whose weights and cut were fitted on the other 83 profiles (learn.py says
  exactly what is fitted on what). These are the figures the goals are checked on.
- new lexical only, held out: the same without vectors (how a paper or reader not embedded yet fares).
- new, fitted on all: the shipped fusion.json, fitted on every profile (`--fit` writes it): in-sample.
- old: the ranker and parser as they were at revision OLD_REVISION, read with `git show` into a
  temporary package at run time. Nothing of it is kept in the product or vendored in the tests: the
  only copy is git history, so it cannot drift, and it goes away when the eval no longer needs it.
  Its pick is `rank(index, settings, feedback, exclude_ids, count)`, which is all the old
  `DigestSender.pick` did.
- bm25: a plain reference, bm25s with PyStemmer (English), title x3 + abstract, top 10, no threshold,
  the profile's raw topics line as the query.
Then the trade-off curve (the held-out probabilities cut at several values: on topic against P@5,
nDCG@10 and papers per digest) and the worst profiles.

Metrics, per profile, per style, per who wrote the profile when (`written blind`: held out from
every choice made so far) and overall (mean over profiles): P@5 (papers judged 1 or 2 among the
first five slots; an empty slot counts as a miss), nDCG@10 (gains 2^g - 1), recall@10 (relevant papers
in the digest over min(10, relevant papers in the corpus)), on topic (the share of a
digest's papers judged relevant), digest length, empty digests (and which of them had 3 or more
relevant papers: the goal says none may), and sent/none (papers mailed to a reader for whom the corpus
holds nothing relevant). P@5, nDCG@10 and recall@10 are averaged over the profiles with at least one
relevant paper.
"""
