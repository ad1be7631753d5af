"""The rows, the metrics and the threshold fit of `make eval` (see the package docstring)."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from paperboy.digests.ranking import RankingIndex, fusion
from paperboy.digests.ranking.text import query
from paperboy.digests.sender import CandidatePool, DigestSender
from paperboy.mail.inbound import commands
from paperboy.papers.model import Paper
from paperboy.papers.sources.hf import parse_items
from paperboy.readers.model import ReaderSettings, Status, Subscriber
from paperboy.semantic.embedding import paper_text
from paperboy.semantic.vectors import MODEL
from relevance_eval import learn

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "daily_papers"
PROFILES = ROOT / "tests" / "fixtures" / "relevance"
CACHE = ROOT / ".cache" / "relevance_eval"
# main before issue 9: the phrase-rule ranker and the comma-splitting topics parser.
OLD_REVISION = "0ef2162"
DAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
COUNT = 10
STYLES = ("sentence", "paragraph", "jargon", "broad", "niche", "list", "multi")
# Who wrote a profile when: "blind" ones were written before anyone read the corpus (issue 16), so no
# constant of the ranker was chosen while looking at them or at papers they match.
WRITTEN = ("after reading", "blind")
GROUPS = ("overall", *STYLES, *(f"written {when}" for when in WRITTEN))
# The cuts the trade-off curve shows (each applied to the held-out models' probabilities).
CURVE = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
WORST = 8


@dataclass(frozen=True)
class Profile:
    id: str
    style: str
    topics: str
    excludes: tuple[str, ...]
    written: str = "after reading"


@dataclass(frozen=True)
class Labelled:
    profiles: list[Profile]
    judgements: dict[str, dict[str, int]]

    @classmethod
    def load(cls, folder: str | Path) -> Labelled:
        folder = Path(folder)
        raw = json.loads((folder / "profiles.json").read_text())
        profiles = []
        for item in raw:
            topics = item["topics"] if isinstance(item["topics"], str) else ", ".join(item["topics"])
            excludes = item.get("excludes") or ()
            excludes = (excludes,) if isinstance(excludes, str) else tuple(excludes)
            written = item.get("written", "after reading")
            profiles.append(Profile(item["id"], item["style"], topics, excludes, written))
        return cls(profiles, json.loads((folder / "judgements.json").read_text()))


@cache
def corpus() -> tuple[Paper, ...]:
    """Every fixture paper once, all on DAY."""
    papers: dict[str, Paper] = {}
    for path in sorted(CORPUS.glob("*.json")):
        found, _ = parse_items(json.loads(path.read_text()), date.fromisoformat(path.stem))
        for paper in found:
            papers[paper.id] = paper.model_copy(update={"day": DAY})
    return tuple(papers.values())


class _Shelf:
    """The part of PaperStore a CandidatePool reads."""

    def __init__(self, papers: Sequence[Paper]) -> None:
        self._papers = list(papers)

    def papers_of_day(self, day: date) -> list[Paper]:
        return list(self._papers) if day == DAY else []

    def get(self, paper_id: str) -> Paper | None:
        return next((paper for paper in self._papers if paper.id == paper_id), None)


def _mail(profile: Profile) -> str:
    lines = [f"topics: {profile.topics}"]
    if profile.excludes:
        lines.append(f"exclude: {', '.join(profile.excludes)}")
    return "\n".join(lines)


def settings_of(profile: Profile, parser: ModuleType, settings_type: type) -> Any:
    """The reader's settings after mailing their interests, as `subscribe@` applies them."""
    parsed = parser.parse_commands(_mail(profile), today=DAY)
    settings, _ = parser.apply(settings_type(), parsed.commands)
    return settings.model_copy(update={"count": COUNT})


# -- vectors ------------------------------------------------------------------------------------------


def _embedder() -> Any | None:
    """The embedding model, where its files are present (`make model`); else None."""
    try:
        embedding = importlib.import_module("paperboy.semantic.embedding")
    except ImportError:
        return None
    if not (_model_dir() / "model.onnx").is_file():
        return None
    return embedding


def _model_dir() -> Path:
    return Path(os.environ.get("MODEL_DIR", ROOT / ".models" / "minilm"))


class Vectors:
    """Sentence vectors of texts, cached on disk by model and text."""

    def __init__(self) -> None:
        self.embedding = _embedder()
        self._model: Any = None
        self._cache: dict[str, str] = {}
        self._path: Path | None = None
        if self.embedding is not None:
            from paperboy.semantic import vectors

            self._path = CACHE / f"{vectors.MODEL}.json"
            if self._path.exists():
                self._cache = json.loads(self._path.read_text())

    @property
    def available(self) -> bool:
        return self.embedding is not None

    def of(self, texts: Sequence[str]) -> list[bytes]:
        from paperboy.semantic import vectors

        keys = [hashlib.sha256(text.encode()).hexdigest()[:32] for text in texts]
        missing = [text for key, text in zip(keys, texts, strict=True) if key not in self._cache]
        if missing:
            if self._model is None:
                self._model = self.embedding.Embedder.load(_model_dir())
            for start in range(0, len(missing), 16):
                chunk = missing[start : start + 16]
                for text, vector in zip(chunk, self._model.embed(chunk), strict=True):
                    key = hashlib.sha256(text.encode()).hexdigest()[:32]
                    self._cache[key] = vectors.pack(vector).hex()
            assert self._path is not None
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._path.write_text(json.dumps(self._cache))
        return [bytes.fromhex(self._cache[key]) for key in keys]


# -- rows ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def model_in_use(model: fusion.FusionModel) -> Iterator[None]:
    """Every RankingIndex built in the block ranks with this fusion model (a held-out fit)."""
    shipped = fusion.shipped
    fusion.shipped = lambda: model  # type: ignore[method-assign]
    try:
        yield
    finally:
        fusion.shipped = shipped  # type: ignore[method-assign]


class NewRow:
    """Today's ranker through DigestSender.pick, with or without sentence vectors, ranking each profile
    with the shipped fusion model or with `models[profile]` (fitted without that profile)."""

    def __init__(
        self, labelled: Labelled, vectors: Vectors | None, models: dict[str, fusion.FusionModel] | None = None
    ) -> None:
        papers = list(corpus())
        self.models = models
        self.readers: dict[str, Subscriber] = {}
        if vectors is not None:
            papers = with_vectors(vectors, papers)
        for profile in labelled.profiles:
            settings = settings_of(profile, commands, ReaderSettings)
            topic_vectors = {}
            if vectors is not None:
                topic_vectors = dict(zip(settings.topics, vectors.of(list(settings.topics)), strict=True))
            self.readers[profile.id] = Subscriber(
                id=f"eval-{profile.id}",
                email="reader@example.org",
                status=Status.ACTIVE,
                settings=settings,
                created_at=NOW,
                topic_vectors=topic_vectors,
                vector_model=MODEL if vectors is not None else "",
            )
        self.shelf = _Shelf(papers)
        self.sender = self._sender()

    def _sender(self) -> DigestSender:
        pool = CandidatePool(papers=self.shelf)  # type: ignore[arg-type]
        # Only `pick` is used: it reads nothing but the pool.
        return DigestSender(
            store=None,  # type: ignore[arg-type]
            ledger=None,  # type: ignore[arg-type]
            pool=pool,
            renderer=None,  # type: ignore[arg-type]
            mailer=None,  # type: ignore[arg-type]
            links=None,  # type: ignore[arg-type]
        )

    def __call__(self, profile: Profile) -> list[str]:
        if self.models is None:
            return self._pick(self.sender, profile)
        with model_in_use(self.models[profile.id]):
            return self._pick(self._sender(), profile)

    def _pick(self, sender: DigestSender, profile: Profile) -> list[str]:
        return [pick.paper.id for pick in sender.pick(self.readers[profile.id], NOW)]


def with_vectors(vectors: Vectors, papers: list[Paper]) -> list[Paper]:
    packed = vectors.of([paper_text(paper) for paper in papers])
    return [
        p.model_copy(update={"vector": v, "vector_model": MODEL}) for p, v in zip(papers, packed, strict=True)
    ]


def examples(labelled: Labelled, vectors: Vectors) -> tuple[list[str], dict[str, learn.Example]]:
    """Every profile's (topic, paper) features as the ranker computes them, with its grades."""
    index = RankingIndex(with_vectors(vectors, list(corpus())))
    ids = [paper.id for paper in index.papers]
    found: dict[str, learn.Example] = {}
    for profile in labelled.profiles:
        settings = settings_of(profile, commands, ReaderSettings)
        topics = [topic for topic in settings.topics if query(topic)]
        packed = dict(zip(topics, vectors.of(topics), strict=True))
        excluded = np.zeros(len(ids), dtype=bool)
        excluded[list(index.excluded(settings, ()))] = True
        judged = labelled.judgements[profile.id]
        found[profile.id] = learn.Example(
            topics=tuple(learn.Topic(*index.features(topic, packed[topic])) for topic in topics),
            grades=np.array([judged.get(paper_id, 0) for paper_id in ids]),
            excluded=excluded,
        )
    return ids, found


def _old_modules() -> dict[str, ModuleType]:
    """The old readers, commands and ranking modules from git, as package `paperboy_old`."""
    folder = Path(tempfile.mkdtemp(prefix="paperboy-old-")) / "paperboy_old"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for name in ("readers", "commands", "ranking"):
        text = subprocess.run(
            ["git", "show", f"{OLD_REVISION}:layers/paperboy/paperboy/{name}.py"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        # The old modules import their siblings by the flat layout of that revision.
        text = text.replace("from paperboy.readers", "from paperboy_old.readers")
        (folder / f"{name}.py").write_text(text.replace("from paperboy.models", "from paperboy.papers.model"))
    sys.path.insert(0, str(folder.parent))
    return {
        name: importlib.import_module(f"paperboy_old.{name}") for name in ("readers", "commands", "ranking")
    }


class OldRow:
    def __init__(self, labelled: Labelled) -> None:
        old = _old_modules()
        self.ranking = old["ranking"]
        self.index = self.ranking.RankingIndex(list(corpus()))
        self.feedback = old["readers"].Feedback()
        self.settings = {
            p.id: settings_of(p, old["commands"], old["readers"].ReaderSettings) for p in labelled.profiles
        }

    def __call__(self, profile: Profile) -> list[str]:
        picks = self.ranking.rank(self.index, self.settings[profile.id], self.feedback, count=COUNT)
        return [pick.paper.id for pick in picks]


class Bm25Row:
    def __init__(self) -> None:
        import bm25s
        import Stemmer

        self.bm25s = bm25s
        self.stemmer = Stemmer.Stemmer("english")
        self.ids = [paper.id for paper in corpus()]
        texts = [" ".join([paper.title] * 3) + " " + paper.summary for paper in corpus()]
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, show_progress=False)
        self.retriever = bm25s.BM25()
        self.retriever.index(tokens, show_progress=False)

    def __call__(self, profile: Profile) -> list[str]:
        query = self.bm25s.tokenize(
            [profile.topics], stopwords="en", stemmer=self.stemmer, show_progress=False
        )
        found, _ = self.retriever.retrieve(query, k=COUNT, show_progress=False)
        return [self.ids[int(number)] for number in found[0]]


# -- metrics ------------------------------------------------------------------------------------------


def metrics(picked: Sequence[str], judged: dict[str, int]) -> dict[str, float]:
    gains = [judged.get(paper_id, 0) for paper_id in picked[:COUNT]]
    relevant = sum(1 for grade in judged.values() if grade > 0)
    ideal = sorted(judged.values(), reverse=True)[:COUNT]

    def dcg(grades: Sequence[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades))

    best = dcg(ideal)
    return {
        "p@5": sum(1 for g in gains[:5] if g > 0) / 5,
        "ndcg@10": dcg(gains) / best if best else 0.0,
        "recall@10": sum(1 for g in gains if g > 0) / min(COUNT, relevant) if relevant else 0.0,
        "precision": sum(1 for g in gains if g > 0) / len(gains) if gains else float(relevant == 0),
        "length": float(len(picked)),
        "empty": float(not picked),
        "empty_with_3_relevant": float(not picked and relevant >= 3),
        # Whether the day holds anything this reader wants: P@5, nDCG@10 and recall are undefined
        # without it, so they are averaged over the profiles that have one.
        "wanted": float(relevant > 0),
        # Papers mailed to a reader the day has nothing for: each one is off topic.
        "sent_when_none": float(len(picked)) if not relevant else 0.0,
    }


# Averaged only over profiles whose day holds a relevant paper; "empty…" and "sent_when_none" are
# counts (summed), everything else a mean over all profiles.
_RANKED = ("p@5", "ndcg@10", "recall@10")
_COUNTED = ("empty", "empty_with_3_relevant", "sent_when_none", "wanted")


def _mean(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {}
    wanted = [row for row in rows if row["wanted"]]
    summary: dict[str, float] = {}
    for key in rows[0]:
        if key in _COUNTED:
            summary[key] = sum(row[key] for row in rows)
        elif key in _RANKED:
            summary[key] = sum(row[key] for row in wanted) / len(wanted) if wanted else 0.0
        else:
            summary[key] = sum(row[key] for row in rows) / len(rows)
    summary["profiles"] = float(len(rows))
    return summary


def score_row(
    row: Callable[[Profile], list[str]], labelled: Labelled, only: Sequence[Profile] | None = None
) -> dict[str, dict[str, float]]:
    return {p.id: metrics(row(p), labelled.judgements[p.id]) for p in (only or labelled.profiles)}


def summarise(per_profile: dict[str, dict[str, float]], labelled: Labelled) -> dict[str, Any]:
    """Means overall, per style, and per who wrote the profile when (blind: held out from every
    choice made so far, since nobody had seen the corpus when writing them)."""
    groups = {p.id: (p.style, f"written {p.written}") for p in labelled.profiles}
    summary: dict[str, Any] = {"overall": _mean(list(per_profile.values()))}
    for group in GROUPS[1:]:
        rows = [m for pid, m in per_profile.items() if group in groups.get(pid, ())]
        if rows:
            summary[group] = _mean(rows)
    return summary


def _scorer(labelled: Labelled, ids: list[str]) -> Any:
    def score(profile_id: str, numbers: list[int]) -> dict[str, float]:
        return metrics([ids[number] for number in numbers], labelled.judgements[profile_id])

    return score


def curve(
    models: dict[str, fusion.FusionModel], found: dict[str, learn.Example], labelled: Labelled, ids: list[str]
) -> dict[str, dict[str, Any]]:
    """The held-out models' probabilities cut at each of CURVE (top COUNT by probability): how the
    on-topic share trades against P@5, nDCG@10 and digest length."""
    score = _scorer(labelled, ids)
    by_cut: dict[str, dict[str, Any]] = {}
    for cut in CURVE:
        per_profile = {
            pid: score(pid, learn.digest(learn.reader_probability(models[pid], example), cut, COUNT))
            for pid, example in found.items()
        }
        by_cut[f"{cut:.2f}"] = summarise(per_profile, labelled)
    return by_cut


# -- the run ------------------------------------------------------------------------------------------


def run(labelled: Labelled, *, fit: bool = False) -> dict[str, Any]:
    """Every row over every profile. The new rows are held out: each profile is ranked by a fusion
    model (weights and cut) fitted on all the other profiles (learn.py says what is fitted on what).
    With `fit`, the model fitted on every profile is written to fusion.json first."""
    vectors = Vectors()
    rows: dict[str, Callable[[Profile], list[str]]] = {"old": OldRow(labelled), "bm25": Bm25Row()}
    report: dict[str, Any] = {
        "profiles": len(labelled.profiles),
        "written": {p.id: f"{p.style}, written {p.written}" for p in labelled.profiles},
        "papers": len(corpus()),
        "semantic": vectors.available,
        "rows": {},
    }
    if vectors.available:
        ids, found = examples(labelled, vectors)
        score = _scorer(labelled, ids)
        if fit:
            provenance = (
                f"fitted on all {len(found)} profiles of tests/fixtures/relevance"
                " by `make eval EVAL_ARGS=--fit`"
            )
            learn.fit(found, score, _mean, COUNT, provenance).save()
            fusion.shipped.cache_clear()
        models = learn.held_out(found, score, _mean, COUNT)
        rows["new lexical only, held out"] = NewRow(labelled, None, models)
        rows["new, held out"] = NewRow(labelled, vectors, models)
        rows["new, fitted on all"] = NewRow(labelled, vectors)
        report["curve"] = curve(models, found, labelled, ids)
        report["cuts"] = sorted({model.cut for model in models.values()})
    else:
        rows["new lexical only, fitted on all"] = NewRow(labelled, None)
    report["shipped"] = {"cut": fusion.shipped().cut, "provenance": fusion.shipped().provenance}
    for name, row in rows.items():
        per_profile = score_row(row, labelled)
        report["rows"][name] = {"summary": summarise(per_profile, labelled), "per_profile": per_profile}
    return report


def save(report: dict[str, Any], path: str) -> None:
    """The figures as JSON, for the operator's records (`--json FILE`)."""
    Path(path).write_text(json.dumps(report, indent=2) + "\n")


def _line(name: str, m: dict[str, float]) -> str:
    return (
        f"{name:<30} {int(m.get('profiles', 1)):>4d} {m['p@5']:>6.3f} {m['ndcg@10']:>8.3f}"
        f" {m['recall@10']:>10.3f}"
        f" {m['precision']:>8.3f} {m['length']:>7.1f}"
        f" {int(m['empty']):>6d} {int(m['empty_with_3_relevant']):>9d} {int(m['sent_when_none']):>9d}"
    )


_HEADER = (
    f"{'':<30} {'n':>4} {'P@5':>6} {'nDCG@10':>8} {'recall@10':>10} {'on topic':>8} {'papers':>7}"
    f" {'empty':>6} {'empty≥3':>9} {'sent/none':>9}"
)


def _main_row(report: dict[str, Any]) -> str:
    rows = report["rows"]
    return next(name for name in ("new, held out", "new lexical only, fitted on all") if name in rows)


def table(report: dict[str, Any], *, per_profile: bool = False) -> str:
    lines = [
        f"{report['profiles']} profiles x {report['papers']} papers, {COUNT} per digest; semantic: "
        f"{'on' if report['semantic'] else 'OFF (no model files: make model)'}",
        f"shipped fusion model: cut {report['shipped']['cut']}, {report['shipped']['provenance']}",
        "held out: each profile ranked by weights and a cut fitted on the other profiles "
        f"(cuts chosen: {report.get('cuts', [])})",
    ]
    for group in GROUPS:
        if group not in report["rows"]["old"]["summary"]:
            continue
        lines += ["", f"== {group}", _HEADER]
        for name, row in report["rows"].items():
            lines.append(_line(name, row["summary"][group]))
    for group in ("overall", "written after reading", "written blind"):
        if "curve" not in report:
            break
        lines += ["", f"== trade-off, held out, {group}: the held-out probabilities cut at", _HEADER]
        for cut, summary in report["curve"].items():
            lines.append(_line(f"cut {cut}", summary[group]))
    main = report["rows"][_main_row(report)]["per_profile"]
    worst = sorted((pid for pid in main if main[pid]["wanted"]), key=lambda pid: (main[pid]["ndcg@10"], pid))[
        :WORST
    ]
    lines += ["", f"== worst profiles ({_main_row(report)}, by nDCG@10)", _HEADER]
    lines += [_line(pid, main[pid]) + f"  {report['written'][pid]}" for pid in worst]
    if per_profile:
        lines += ["", "== per profile"]
        for profile_id in report["rows"]["old"]["per_profile"]:
            lines.append(f"-- {profile_id}")
            for name, row in report["rows"].items():
                lines.append(_line(name, row["per_profile"][profile_id]))
    return "\n".join(lines)


def goals(report: dict[str, Any]) -> dict[str, bool]:
    """Held out: issue 16's targets, and the new ranker ahead of the old one and of BM25 per group."""
    rows = report["rows"]
    new = rows[_main_row(report)]
    found: dict[str, bool] = {"semantic signal present (model files found)": report["semantic"]}
    for group in ("overall", "written blind"):
        if group not in new["summary"]:
            continue
        for metric, target in learn.TARGETS.items():
            ours = new["summary"][group][metric]
            label = "on topic" if metric == "precision" else metric
            found[f"{group}: new {label} {ours:.3f} >= {target:.2f} (issue 16)"] = ours >= target
    for group in GROUPS:
        if group not in new["summary"]:
            continue
        for metric in ("p@5", "ndcg@10"):
            ours = new["summary"][group][metric]
            for other in ("old", "bm25"):
                theirs = rows[other]["summary"][group][metric]
                found[f"{group}: new {metric} {ours:.3f} > {other} {theirs:.3f}"] = ours > theirs
    empties = int(new["summary"]["overall"]["empty_with_3_relevant"])
    found[f"no empty digest where 3+ relevant papers exist ({empties})"] = empties == 0
    return found
