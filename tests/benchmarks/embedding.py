"""What embedding costs the Embed function: model load, a day's papers on one vCPU, stored bytes.

One vCPU is what Lambda gives a function at 1,769 MB (EmbedFunction's memory): onnxruntime runs
with one thread here. The day's papers are the corpus' first 60 (a busy Hugging Face day)."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

from local_stack.embeddings import local_model_dir
from local_stack.template import TEMPLATE
from paperboy.papers.model import Paper
from paperboy.papers.sources.hf import parse_items
from paperboy.semantic import vectors
from paperboy.semantic.embedding import Embedder, paper_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "daily_papers"
PAPERS = 60
# Item bytes DynamoDB counts for a stored vector: attribute names plus values.
PAPER_VECTOR_ATTRIBUTES = len("vector") + vectors.DIM + len("vector_model") + len(vectors.MODEL)


def _papers(count: int) -> list[Paper]:
    papers: list[Paper] = []
    for path in sorted(FIXTURES.glob("*.json")):
        found, _ = parse_items(json.loads(path.read_text()), date.fromisoformat(path.stem))
        papers.extend(found)
    return papers[:count]


def embed_function_limits() -> dict[str, int]:
    properties = yaml_parse(TEMPLATE.read_text())["Resources"]["EmbedFunction"]["Properties"]
    return {"timeout_s": int(properties["Timeout"]), "memory_mb": int(properties["MemorySize"])}


def run(papers: int = PAPERS) -> dict[str, Any]:
    started = time.perf_counter()
    model = Embedder.load(local_model_dir(), threads=1)
    load_ms = 1000 * (time.perf_counter() - started)
    texts = [paper_text(paper) for paper in _papers(papers)]
    started = time.perf_counter()
    model.embed(texts)
    seconds = time.perf_counter() - started
    topics = [
        "3D point clouds",
        "parameter-efficient fine-tuning, adapters, prompt tuning",
        "medical imaging",
    ]
    started = time.perf_counter()
    model.embed(topics * 5)
    topic_ms = 1000 * (time.perf_counter() - started) / (3 * 5)
    limits = embed_function_limits()
    return {
        "model": vectors.MODEL,
        "model_load_ms": round(load_ms),
        "papers": len(texts),
        "seconds_one_vcpu": round(seconds, 2),
        "ms_per_paper": round(1000 * seconds / len(texts), 1),
        "ms_per_topic": round(topic_ms, 1),
        "bytes_per_vector": vectors.DIM,
        "item_bytes_per_paper_vector": PAPER_VECTOR_ATTRIBUTES,
        "embed_timeout_s": limits["timeout_s"],
        "embed_memory_mb": limits["memory_mb"],
        # A full batch (100 new papers) with a cold start, against the function's timeout.
        "batch_of_100_share_of_timeout": round(
            (load_ms / 1000 + 100 * seconds / len(texts)) / limits["timeout_s"], 3
        ),
    }
