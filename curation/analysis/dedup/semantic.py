"""Semantic duplicates: records whose inputs mean the same and whose outputs mean the same.

The input and the output are judged on their own vectors (:func:`semantic_verdicts`): a pair links
when the inputs' cosine ≥ ``threshold``, the outputs' cosine ≥ ``output_threshold``, their numbers do
not contradict and their system prompts are equal. The thresholds are calibrated on public gold
pairs (benchmarks/bench_dedup_gold.py, docs/benchmarks.md), not on the bundled example.

Candidates are each record's ``k`` nearest **inputs**.
Neighbours are exact (inner product, ``IndexFlatIP``) for small sets. For large ones (``index=auto``
above ``exact_max``) they come from **k-means cells** (:func:`cell_neighbour_links`), the order of
SemDeDup and NeMo Curator: cluster first (centroids fitted on a seeded sample, ~``cell_records``
records per cell), then each record joins its nearest cell and searches its ``cell_probes`` nearest
cells, as an inverted-file index does. The local run and the Ray engine (one cell per task) call
these same functions, so both find the same candidates. On ~22k real records (hashing vectors) the
cells find 99.85 % of the exact search's pairs. The cost per record stays constant and the total
grows linearly with n instead of n². A faiss inverted-file index (``ivf``: cells of ~``cell_size``
records, ``nprobe`` scanned) and HNSW remain available by name (on 384-d vectors and two cores HNSW
builds slower than IVF trains, measured in benchmarks/bench_semantic.py). No Python loop runs over pairs. Each record looks
at its ``k`` nearest neighbours only; grouping (:mod:`curation.analysis.dedup.groups`) then puts every
member within the threshold of its group's keeper, never in a group through a chain of neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from curation.analysis.dedup.links import DuplicatePair
from curation.analysis.dedup.sides import RecordSides, numbers_agree
from curation.errors import BadInputError

TIER = "semantic"


class SemanticSettings(BaseModel):
    """How the semantic tier links records; the defaults are calibrated for all-MiniLM-L6-v2."""

    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(default=0.85, ge=-1.0, le=1.0, description="Minimum cosine of the input vectors")
    output_threshold: float | None = Field(
        default=0.85,
        ge=-1.0,
        le=1.0,
        description="Minimum cosine of the output vectors; None skips the check",
    )
    same_specifics: bool = Field(
        default=True,
        description="Inputs whose numbers contradict (each holds one the other lacks) never link",
    )
    same_answer_threshold: float | None = Field(
        default=0.5,
        ge=-1.0,
        le=1.0,
        description="Input cosine enough when both give the same specific answer; None turns the rule off",
    )
    same_answer_max_share: int = Field(
        default=10, ge=2, description="A specific answer is given by at most this many records"
    )
    same_answer_min_words: int = Field(
        default=8, ge=1, description="A specific answer has at least this many words"
    )
    k: int = Field(default=10, ge=1, le=1000, description="Neighbours looked at per record")
    index: Literal["auto", "flat", "cells", "ivf", "hnsw"] = "auto"
    exact_max: int = Field(
        default=10_000, ge=0, description="With index=auto, up to this many records: exact; above: cells"
    )
    cell_records: int = Field(default=1000, ge=16, description="Cells: records per k-means cell on average")
    cell_probes: int = Field(
        default=5,
        ge=1,
        description="Cells: the nearest cells each record searches (its own and the next nearest)",
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


def uses_cells(n: int, settings: SemanticSettings) -> bool:
    """Whether the candidates of ``n`` records come from k-means cells (else from a faiss index)."""
    return settings.index == "cells" or (settings.index == "auto" and n > settings.exact_max)


def cells_wanted(n: int, settings: SemanticSettings) -> int:
    """How many k-means cells ``n`` records get (one cell: an exact search)."""
    return max(1, n // settings.cell_records) if uses_cells(n, settings) else 1


def sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    """Rows of a seeded sample (all rows, in order, when n <= size)."""
    if n <= size:
        return np.arange(n, dtype=np.int64)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False)).astype(np.int64)


def cell_sample_rows(n: int, settings: SemanticSettings) -> np.ndarray:
    """The rows the cells' centroids are fitted on (40 per cell, what faiss's k-means asks for)."""
    return sample_rows(n, 40 * cells_wanted(n, settings), settings.seed)


def fit_cells(sample: np.ndarray, cells: int, seed: int) -> np.ndarray:
    """k-means centroids of the sampled input vectors. Fitted on one thread, so every engine,
    whatever its workers' thread count, gets the same centroids from the same sample."""
    import faiss

    vectors = np.ascontiguousarray(sample, dtype=np.float32)
    cells = max(1, min(cells, len(vectors)))
    if cells == 1:
        return vectors.mean(axis=0, keepdims=True).astype(np.float32)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        kmeans = faiss.Kmeans(vectors.shape[1], cells, niter=20, seed=seed, spherical=True)
        kmeans.train(vectors)
    finally:
        faiss.omp_set_num_threads(threads)
    return np.asarray(kmeans.centroids, dtype=np.float32)


def route_to_cells(
    vectors: np.ndarray, centroids: np.ndarray, probes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(index, cell, home): each row to its ``probes`` nearest cells, the nearest its home (home =
    True: the row joins that cell's index), the others as a visitor that only queries them, as an
    inverted-file index probes cells; ``index`` is the row's position in ``vectors``."""
    probes = max(1, min(probes, len(centroids)))
    if not len(vectors):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool)
    order = np.argsort(-(vectors @ centroids.T), axis=1, kind="stable")[:, :probes]
    index = np.repeat(np.arange(len(vectors), dtype=np.int64), probes)
    home = np.tile(np.arange(probes) == 0, len(vectors))
    return index, order.ravel().astype(np.int64), home


def links_in_cell(
    rows: np.ndarray, vectors: np.ndarray, home: np.ndarray, settings: SemanticSettings
) -> tuple[np.ndarray, np.ndarray]:
    """One cell: its home rows are the index, every row sent to it (home or visiting) queries its
    ``k`` nearest inputs; (query row, found row) links at or above the input threshold."""
    import faiss

    if home.sum() < 1:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors[home])
    home_rows = rows[home]
    k = min(settings.k + 1, int(home.sum()))
    scores, neighbours = index.search(vectors, k)
    query = rows[:, None].repeat(k, axis=1)
    found = np.where(neighbours >= 0, home_rows[np.maximum(neighbours, 0)], -1)
    keep = (neighbours >= 0) & (found != query) & (scores >= settings.threshold)
    return query[keep], found[keep]


def cell_neighbour_links(matrix: np.ndarray, settings: SemanticSettings) -> tuple[np.ndarray, np.ndarray]:
    """Every record's neighbours within k-means cells, in one process (the Ray engine runs the same
    steps with one cell per task)."""
    n = len(matrix)
    centroids = fit_cells(matrix[cell_sample_rows(n, settings)], cells_wanted(n, settings), settings.seed)
    index, cell, home = route_to_cells(matrix, centroids, settings.cell_probes)
    order = np.argsort(cell, kind="stable")
    index, cell, home = index[order], cell[order], home[order]
    edges = np.flatnonzero(np.concatenate(([True], cell[1:] != cell[:-1], [True])))
    lefts, rights = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for start, stop in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        rows = index[start:stop]
        left, right = links_in_cell(rows, matrix[rows], home[start:stop], settings)
        lefts.append(left)
        rights.append(right)
    left, right = np.concatenate(lefts), np.concatenate(rights)
    return np.minimum(left, right), np.maximum(left, right)


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


def same_answer(
    sides: RecordSides, left: np.ndarray, right: np.ndarray, settings: SemanticSettings
) -> np.ndarray:
    """Per pair: both records give the same *specific* answer: equal after normalisation, at least
    ``same_answer_min_words`` words, and given by at most ``same_answer_max_share`` records. A
    constant reply, a class label or a short answer ("Noted.", "18") never qualifies."""
    share = sides.output_share()
    return (
        (sides.output_keys[left] == sides.output_keys[right])
        & (share[left] <= settings.same_answer_max_share)
        & (sides.output_words[left] >= settings.same_answer_min_words)
    )


def semantic_verdicts(
    in_sim: np.ndarray,
    out_sim: np.ndarray | None,
    numbers_ok: np.ndarray | None,
    same_system: np.ndarray | None,
    settings: SemanticSettings,
    answer: np.ndarray | None = None,
) -> np.ndarray:
    """The semantic tier's rule on candidate pairs: input cosine ≥ ``threshold`` **and** output
    cosine ≥ ``output_threshold`` **and** numbers that do not contradict **and** the same system
    prompt. Each side is judged on its own vector, so a constant or near-constant output (a template
    reply, a class label) leaves the decision to the inputs, exactly as a plain input cosine would
    decide it. The benchmark scores gold pairs with this same function.

    ``answer`` (from :func:`same_answer`) marks pairs giving the same specific answer; for those an
    input cosine ≥ ``same_answer_threshold`` is enough: an identical, rare, worded answer is itself
    evidence that the two questions are one.
    """
    keep = in_sim >= settings.threshold
    if out_sim is not None and settings.output_threshold is not None:
        keep &= out_sim >= settings.output_threshold
    if answer is not None and settings.same_answer_threshold is not None:
        keep |= answer & (in_sim >= settings.same_answer_threshold)
    if numbers_ok is not None and settings.same_specifics:
        keep &= numbers_ok
    if same_system is not None:
        keep &= same_system
    return keep


def same_answer_candidates(sides: RecordSides, settings: SemanticSettings) -> tuple[np.ndarray, np.ndarray]:
    """(i, j), i < j: every pair of records giving the same specific answer (see :func:`same_answer`)."""
    share = sides.output_share()
    rows = np.flatnonzero(
        (share >= 2)
        & (share <= settings.same_answer_max_share)
        & (sides.output_words >= settings.same_answer_min_words)
    )
    order = rows[np.argsort(sides.output_keys[rows], kind="stable")]
    lefts: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    rights: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    keys = sides.output_keys[order]
    edges = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1], [True])))
    for start, stop in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        members = np.sort(order[start:stop])
        iu, ju = np.triu_indices(len(members), k=1)
        lefts.append(members[iu])
        rights.append(members[ju])
    return np.concatenate(lefts), np.concatenate(rights)


@dataclass(frozen=True)
class CandidatePairs:
    """Row pairs (left < right, unique) that may be semantic duplicates: each record's nearest
    inputs at or above the threshold, plus every pair giving the same specific answer; with the
    inputs' cosine. Found from the input vectors alone, before any output is embedded."""

    left: np.ndarray
    right: np.ndarray
    input_similarity: np.ndarray

    def __len__(self) -> int:
        return len(self.left)

    def rows_to_compare(self, settings: SemanticSettings, sides: RecordSides | None = None) -> CandidatePairs:
        """The pairs whose outputs the rule will compare: inputs at or above ``threshold``, or, giving
        the same specific answer, at or above ``same_answer_threshold`` (others fail on the input)."""
        keep = self.input_similarity >= settings.threshold
        if sides is not None and settings.same_answer_threshold is not None:
            answer = same_answer(sides, self.left, self.right, settings)
            keep |= answer & (self.input_similarity >= settings.same_answer_threshold)
        return CandidatePairs(self.left[keep], self.right[keep], self.input_similarity[keep])


def _check_inputs(ids: Sequence[str], vectors: np.ndarray) -> np.ndarray:
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != len(ids):
        raise BadInputError(
            f"semantic dedup: expected {len(ids)} vectors, got an array of shape {matrix.shape}"
        )
    return matrix


def semantic_candidates(
    ids: Sequence[str],
    vectors: np.ndarray,
    settings: SemanticSettings | None = None,
    *,
    sides: RecordSides | None = None,
) -> CandidatePairs:
    """The candidate pairs among ``ids`` from their L2-normalised **input** vectors (one row per id).

    Needs no output vector, so the analysis can embed outputs for these pairs' records only.
    """
    settings = settings or SemanticSettings()
    matrix = _check_inputs(ids, vectors)
    empty = np.zeros(0, dtype=np.int64)
    if len(ids) < 2:
        return CandidatePairs(empty, empty, np.zeros(0, dtype=np.float32))
    if uses_cells(len(ids), settings):
        found = cell_neighbour_links(matrix, settings)
        lefts, rights = [found[0]], [found[1]]
    else:
        index = build_index(matrix, settings)
        parts = [
            neighbour_links(index, matrix[start : start + settings.batch_size], start, settings)
            for start in range(0, len(ids), settings.batch_size)
        ]
        lefts = [p[0] for p in parts]
        rights = [p[1] for p in parts]
    if sides is not None and settings.same_answer_threshold is not None:
        # Every pair of records giving the same specific answer is a candidate, however far apart
        # their inputs rank among each other's neighbours.
        extra = same_answer_candidates(sides, settings)
        lefts.append(extra[0])
        rights.append(extra[1])
    left = np.concatenate(lefts).astype(np.int64)
    right = np.concatenate(rights).astype(np.int64)
    if not len(left):
        return CandidatePairs(empty, empty, np.zeros(0, dtype=np.float32))
    # A link found from both ends (or by both routes) appears more than once; keep one.
    key = np.unique(left * len(ids) + right)
    left, right = key // len(ids), key % len(ids)
    return CandidatePairs(left, right, np.einsum("ij,ij->i", matrix[left], matrix[right]))


def output_similarity(
    output_vectors: np.ndarray | None, left: np.ndarray, right: np.ndarray, known: np.ndarray | None = None
) -> np.ndarray | None:
    """The outputs' cosine per row pair (None without output vectors). With ``known`` (rows whose
    output was embedded), a pair with an unembedded side scores -inf: its outputs were judged apart
    before the model ran (curation/analysis/embeddings/plan.py)."""
    if output_vectors is None:
        return None
    cosine = np.einsum("ij,ij->i", output_vectors[left], output_vectors[right])
    if known is None:
        return cosine
    return np.where(known[left] & known[right], cosine, -np.inf)


def pairs_from_candidates(
    ids: Sequence[str],
    candidates: CandidatePairs,
    settings: SemanticSettings | None = None,
    *,
    output_vectors: np.ndarray | None = None,
    output_known: np.ndarray | None = None,
    sides: RecordSides | None = None,
) -> list[DuplicatePair]:
    """The candidates that pass :func:`semantic_verdicts`. ``output_vectors`` (rows as ``ids``) may be
    known for some rows only (``output_known``): the rows :meth:`CandidatePairs.rows_to_compare` names."""
    settings = settings or SemanticSettings()
    if output_vectors is not None and len(output_vectors) != len(ids):
        raise BadInputError(f"semantic dedup: expected {len(ids)} output vectors, got {len(output_vectors)}")
    left, right, score = candidates.left, candidates.right, candidates.input_similarity
    if not len(left):
        return []
    out_sim = output_similarity(output_vectors, left, right, output_known)
    numbers_ok = numbers_agree(sides.numbers, left, right) if sides is not None else None
    same_system = sides.systems[left] == sides.systems[right] if sides is not None else None
    answer = same_answer(sides, left, right, settings) if sides is not None else None
    keep = semantic_verdicts(score, out_sim, numbers_ok, same_system, settings, answer)
    pairs = []
    outs = out_sim[keep].tolist() if out_sim is not None else [None] * int(keep.sum())
    for i, j, s, o in zip(left[keep].tolist(), right[keep].tolist(), score[keep].tolist(), outs, strict=True):
        a, b = (ids[i], ids[j]) if ids[i] < ids[j] else (ids[j], ids[i])
        pairs.append(
            DuplicatePair(
                a=a,
                b=b,
                tier=TIER,
                score=round(min(float(s), 1.0), 6),
                output_score=None if o is None or not np.isfinite(o) else round(min(float(o), 1.0), 6),
            )
        )
    return pairs


def semantic_pairs(
    ids: Sequence[str],
    vectors: np.ndarray,
    settings: SemanticSettings | None = None,
    *,
    output_vectors: np.ndarray | None = None,
    sides: RecordSides | None = None,
) -> list[DuplicatePair]:
    """Pairs among each record's k nearest inputs that pass :func:`semantic_verdicts`.

    ``vectors`` holds one L2-normalised **input** vector per id; ``output_vectors`` (same rows) the
    output vectors; ``sides`` the inputs' numbers and system prompts. A pair's ``score`` is the
    inputs' cosine and ``output_score`` the outputs'. (:func:`semantic_candidates` then
    :func:`pairs_from_candidates`, for callers that have every output vector.)
    """
    settings = settings or SemanticSettings()
    if output_vectors is not None and len(output_vectors) != len(ids):
        raise BadInputError(f"semantic dedup: expected {len(ids)} output vectors, got {len(output_vectors)}")
    candidates = semantic_candidates(ids, vectors, settings, sides=sides)
    return pairs_from_candidates(ids, candidates, settings, output_vectors=output_vectors, sides=sides)
