"""Semantic duplicates: pairs of records whose embeddings have a cosine at or above a threshold.

Neighbours come from a faiss index: exact inner product (``IndexFlatIP``) for small sets, and for
large ones an inverted-file index (IVF) whose cells hold ~``cell_size`` records each; a query scans a
fixed number of cells (``nprobe``), so the cost per record stays constant and the total grows linearly
with n instead of n². No Python loop runs over pairs. (HNSW is available too; on 384-d vectors and two
cores it builds slower than IVF trains, measured in benchmarks/bench_semantic.py.) Each record looks at its ``k`` nearest neighbours only; a denser clump of duplicates still
ends up in one group because grouping takes connected components over the pairs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from curation.analysis.dedup.links import DuplicatePair
from curation.errors import BadInputError

TIER = "semantic"

Check = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``check(i, j) -> bool mask``: keeps candidate links between rows i[n] and j[n]."""

_SPECIFIC = re.compile(r"\d(?:[\d.,:/-]*\d)?")


class SemanticSettings(BaseModel):
    """How the semantic tier links records; the defaults suit all-MiniLM-L6-v2 pair vectors."""

    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(
        default=0.82, ge=-1.0, le=1.0, description="Minimum cosine of the pair (input + output) vectors"
    )
    output_threshold: float | None = Field(
        default=0.95,
        ge=-1.0,
        le=1.0,
        description="Minimum cosine of the output vectors; None skips the check",
    )
    same_specifics: bool = Field(
        default=True, description="Require the same numbers (ids, amounts) in inputs"
    )
    k: int = Field(default=10, ge=1, le=1000, description="Neighbours looked at per record")
    index: Literal["auto", "flat", "ivf", "hnsw"] = "auto"
    exact_max: int = Field(
        default=10_000, ge=0, description="With index=auto, up to this many records: exact"
    )
    cell_size: int = Field(default=256, ge=16, description="IVF: records per cell on average")
    nprobe: int = Field(default=8, ge=1, description="IVF: cells scanned per query")
    hnsw_m: int = Field(default=16, ge=4, le=128)
    ef_construction: int = Field(default=40, ge=8)
    ef_search: int = Field(default=32, ge=8)
    seed: int = 0
    batch_size: int = Field(default=4096, ge=1, description="Queries per search call")


def build_index(vectors: np.ndarray, settings: SemanticSettings) -> object:
    """An inner-product faiss index over the rows of ``vectors`` (already L2-normalised)."""
    import faiss

    n, dim = vectors.shape
    kind = settings.index
    if kind == "auto":
        kind = "flat" if n <= settings.exact_max else "ivf"
    nlist = max(1, n // settings.cell_size)
    if kind == "ivf" and nlist > 1:
        quantizer = faiss.IndexFlatIP(dim)
        ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        # 40 points per cell is what faiss's k-means asks for; more only slows training down.
        rng = np.random.default_rng(settings.seed)
        ivf.train(vectors[rng.choice(n, size=min(n, 40 * nlist), replace=False)])
        ivf.nprobe = min(settings.nprobe, nlist)
        ivf.add(vectors)
        return ivf
    index: object
    if kind == "hnsw":
        hnsw = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = settings.ef_construction
        hnsw.hnsw.efSearch = max(settings.ef_search, settings.k + 1)
        index = hnsw
    else:
        index = faiss.IndexFlatIP(dim)
    index.add(vectors)
    return index


def neighbour_links(
    index: object, queries: np.ndarray, offset: int, settings: SemanticSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Links (i, j, cosine) with i < j from one batch of query rows starting at row ``offset``.

    A batch's result is independent of the others, so batches can run on separate workers and their
    links be concatenated.
    """
    k = min(settings.k + 1, int(index.ntotal))  # type: ignore[attr-defined]
    scores, neighbours = index.search(queries, k)  # type: ignore[attr-defined]
    rows = np.arange(offset, offset + len(queries))[:, None].repeat(k, axis=1)
    keep = (neighbours >= 0) & (neighbours != rows) & (scores >= settings.threshold)
    i, j, s = rows[keep], neighbours[keep], scores[keep]
    return np.minimum(i, j), np.maximum(i, j), s.astype(np.float32)


def specifics_key(text: str) -> int:
    """A 63-bit hash of the set of numbers in ``text`` (equal sets, equal keys; no numbers, one key)."""
    numbers = sorted({m for m in _SPECIFIC.findall(text)})
    digest = hashlib.blake2b("\x1f".join(numbers).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def agreement_check(
    output_vectors: np.ndarray | None, input_texts: Sequence[str] | None, settings: SemanticSettings
) -> Check | None:
    """The check of :class:`SemanticSettings`: outputs close and inputs' numbers equal (vectorised)."""
    outputs = None if settings.output_threshold is None else output_vectors
    keys = (
        np.array([specifics_key(t) for t in input_texts], dtype=np.int64)
        if settings.same_specifics and input_texts is not None
        else None
    )
    if outputs is None and keys is None:
        return None

    def check(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        keep = np.ones(len(i), dtype=bool)
        if outputs is not None and settings.output_threshold is not None:
            keep &= np.einsum("ij,ij->i", outputs[i], outputs[j]) >= settings.output_threshold
        if keys is not None:
            keep &= keys[i] == keys[j]
        return keep

    return check


def semantic_pairs(
    ids: Sequence[str],
    vectors: np.ndarray,
    settings: SemanticSettings | None = None,
    *,
    check: Check | None = None,
) -> list[DuplicatePair]:
    """Every pair of records among each one's k nearest neighbours with cosine ≥ the threshold.

    ``vectors`` holds one L2-normalised row per id (the pair vector in the pipeline); ``check``
    (e.g. :func:`agreement_check`) filters the candidate links.
    """
    settings = settings or SemanticSettings()
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != len(ids):
        raise BadInputError(
            f"semantic dedup: expected {len(ids)} vectors, got an array of shape {matrix.shape}"
        )
    if len(ids) < 2:
        return []
    index = build_index(matrix, settings)
    parts = [
        neighbour_links(index, matrix[start : start + settings.batch_size], start, settings)
        for start in range(0, len(ids), settings.batch_size)
    ]
    left = np.concatenate([p[0] for p in parts])
    right = np.concatenate([p[1] for p in parts])
    score = np.concatenate([p[2] for p in parts])
    if check is not None and len(left):
        keep = check(left, right)
        left, right, score = left[keep], right[keep], score[keep]
    if not len(left):
        return []
    # A link found from both ends appears twice; keep one, with the higher score.
    key = left.astype(np.int64) * len(ids) + right
    order = np.lexsort((-score, key))
    key, left, right, score = key[order], left[order], right[order], score[order]
    first = np.concatenate(([True], key[1:] != key[:-1]))
    pairs = []
    for i, j, s in zip(left[first].tolist(), right[first].tolist(), score[first].tolist(), strict=True):
        a, b = (ids[i], ids[j]) if ids[i] < ids[j] else (ids[j], ids[i])
        pairs.append(DuplicatePair(a=a, b=b, tier=TIER, score=round(min(float(s), 1.0), 6)))
    return pairs
